"""`manage.py load_regions`: the administrative-division tree from the cpca adcodes file."""

import csv
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from core.management.commands.load_regions import DEFAULT_FILE, DEFAULT_SOURCE
from core.models import Region, RegionLevel
from core.region_names import english_name, romanise
from tests.factories import RegionFactory

pytestmark = pytest.mark.django_db

XPCC_CITIES_IN_FILE = {
    "659001": "石河子市",
    "659002": "阿拉尔市",
    "659003": "图木舒克市",
    "659004": "五家渠市",
    "659006": "铁门关市",
}


def load(*args: str) -> str:
    out = StringIO()
    call_command("load_regions", *args, stdout=out)
    return out.getvalue()


def write_csv(
    path: Path, rows: list[tuple[str, ...]], header: tuple[str, ...] = ("adcode", "name", "longitude", "latitude")
) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def province_rows_in_bundled_file() -> int:
    with DEFAULT_FILE.open(encoding="utf-8") as handle:
        return sum(1 for row in csv.DictReader(handle) if row["adcode"][2:6] == "0000")


def test_the_bundled_file_loads_34_provinces_and_the_prefectures_and_counties_under_them():
    output = load()

    assert province_rows_in_bundled_file() == 34
    assert Region.objects.filter(level=RegionLevel.PROVINCE).count() == 34
    assert Region.objects.filter(level=RegionLevel.PREFECTURE).count() == 339
    assert Region.objects.filter(level=RegionLevel.COUNTY).count() == 2846
    assert Region.objects.count() == 3219
    assert "province" in output and "34" in output and "2846" in output
    assert "Skipped 292 placeholder rows" in output


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


def test_xpcc_division_cities_are_flagged_prefectures_directly_under_xinjiang():
    load()

    xpcc = Region.objects.filter(is_xpcc=True).select_related("parent")
    assert {r.code: r.name for r in xpcc} == XPCC_CITIES_IN_FILE
    for region in xpcc:
        assert region.level == RegionLevel.PREFECTURE
        assert region.parent.code == "650000"
        assert region.path == f"/650000/{region.code}/"
    assert Region.objects.get(code="659001").name_en == "Shihezi City"


def test_every_region_but_the_provinces_has_a_parent_one_level_up_and_a_consistent_path():
    load()

    assert not Region.objects.filter(parent__isnull=True).exclude(level=RegionLevel.PROVINCE).exists()
    assert not Region.objects.filter(parent__isnull=False, level=RegionLevel.PROVINCE).exists()
    order = {RegionLevel.PROVINCE: 0, RegionLevel.PREFECTURE: 1, RegionLevel.COUNTY: 2}
    for region in Region.objects.select_related("parent"):
        assert region.path == region.compute_path()
        if region.parent:
            assert order[region.parent.level] < order[region.level]
            assert region.code[:2] == region.parent.code[:2]


def test_placeholder_rows_are_skipped_and_their_children_hang_on_the_province():
    load()

    assert not Region.objects.filter(name__in=["市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"]).exists()
    assert not Region.objects.filter(code__in=["110100", "500100", "500200", "429000", "469000", "659000"]).exists()
    parents = dict(
        Region.objects.filter(
            code__in=["110101", "310115", "500233", "429021", "469001", "419001", "139001"]
        ).values_list("code", "parent__code")
    )
    assert parents == {
        "110101": "110000",  # 东城区 under Beijing
        "310115": "310000",  # 浦东新区 under Shanghai
        "500233": "500000",  # 忠县 under Chongqing (its 500200 "县" row is a placeholder)
        "429021": "420000",  # 神农架林区, administered by Hubei
        "469001": "460000",  # 五指山市, administered by Hainan
        "419001": "410000",  # 济源市, administered by Henan
        "139001": "130000",  # 定州市, administered by Hebei
    }
    assert Region.objects.get(code="429021").level == RegionLevel.COUNTY


def test_every_region_carries_the_cpca_source_and_an_english_name():
    load()

    assert set(Region.objects.values_list("source", flat=True)) == {DEFAULT_SOURCE}
    assert not Region.objects.filter(name_en="").exists()
    names = dict(
        Region.objects.filter(
            code__in=["540000", "810000", "820000", "653100", "653131", "542400", "110101", "500233", "510726"]
        ).values_list("code", "name_en")
    )
    assert names == {
        "540000": "Xizang",
        "810000": "Hong Kong",
        "820000": "Macao",
        "653100": "Kashgar Prefecture",
        "653131": "Tashkurgan Tajik Autonomous County",
        "542400": "Nagqu Prefecture",
        "110101": "Dongcheng District",
        "500233": "Zhong County",
        "510726": "Beichuan Qiang Autonomous County",
    }
    assert Region.objects.get(code="659003").latitude is not None
    assert Region.objects.get(code="139001").longitude is None  # no coordinates in the file


def test_running_twice_updates_in_place_and_duplicates_nothing():
    load()
    ids = dict(Region.objects.values_list("code", "pk"))
    Region.objects.filter(code="513221").update(name="改过的名字", name_en="Changed")

    output = load()

    assert Region.objects.count() == 3219
    assert dict(Region.objects.values_list("code", "pk")) == ids
    wenchuan = Region.objects.get(code="513221")
    assert (wenchuan.name, wenchuan.name_en) == ("汶川县", "Wenchuan County")
    assert "0 created, 1 updated, 2845 unchanged" in output
    assert "0 created, 0 updated, 34 unchanged" in output


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
    assert Region.objects.count() == 3219

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
            ("659009000000", "昆玉市", "79.291083", "37.209642"),  # an XPCC city absent from the bundled file
        ],
    )

    output = load("--file", str(path))

    regions = {r.code: r for r in Region.objects.select_related("parent")}
    assert set(regions) == {"510000", "513200", "513221", "510181", "650000", "659009"}
    assert regions["513221"].path == "/510000/513200/513221/"
    assert regions["510181"].parent.code == "510000"
    assert regions["510181"].level == RegionLevel.COUNTY
    assert (regions["659009"].level, regions["659009"].is_xpcc, regions["659009"].parent.code) == (
        RegionLevel.PREFECTURE,
        True,
        "650000",
    )
    assert regions["659009"].name_en == "Kunyu City"
    assert regions["513200"].longitude is None
    assert {r.source for r in regions.values()} == {"regions.csv"}
    assert "Skipped 1 placeholder rows" in output

    load("--file", str(path), "--source", "Hand-made test list")
    assert set(Region.objects.values_list("source", flat=True)) == {"Hand-made test list"}


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
