"""The map's projection and its SVG path data, computed in Python: the page draws an inline SVG with no script and
no library, so it loads nothing from outside, works without JavaScript and prints.

The projection is the Albers equal-area conic China's national maps use (standard parallels 25° N and 47° N,
central meridian 105° E). The main frame runs from the westernmost point to the easternmost and from Hainan's
southern tip to the northernmost point; the South China Sea islands and the maritime boundary line are drawn in
an inset at the bottom right, as on the national maps in landscape format. Path data are whole units of a frame
2 000 units wide — finer than a pixel at any width a screen or a printed page gives the map — computed once per
process and layer (the boundaries never change while it runs).
"""

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass

from . import boundaries
from .boundaries import Feature

WIDTH = 2000
#: The main frame's southern edge: below it, only the South China Sea (drawn in the inset).
MAIN_SOUTH = 17.9
#: The inset's extent (lon, lat): the South China Sea islands and the maritime boundary line.
INSET_WEST, INSET_EAST, INSET_SOUTH, INSET_NORTH = 105.5, 123.5, 2.5, 24.5
#: The inset's width as a share of the frame's.
INSET_SHARE = 0.16
#: A feature smaller than this (units²) is also drawn as a dot, so that Macao stays visible at the national scale.
TINY_AREA = 30.0

_LON0 = math.radians(105.0)
_PHI1, _PHI2, _PHI0 = math.radians(25.0), math.radians(47.0), math.radians(0.0)
_N = (math.sin(_PHI1) + math.sin(_PHI2)) / 2
_C = math.cos(_PHI1) ** 2 + 2 * _N * math.sin(_PHI1)
_RHO0 = math.sqrt(_C - 2 * _N * math.sin(_PHI0)) / _N


def albers(lon: float, lat: float) -> tuple[float, float]:
    """Albers equal-area conic on the unit sphere: x eastwards, y northwards."""
    theta = _N * (math.radians(lon) - _LON0)
    rho = math.sqrt(_C - 2 * _N * math.sin(math.radians(lat))) / _N
    return rho * math.sin(theta), _RHO0 - rho * math.cos(theta)


@dataclass(frozen=True)
class Frame:
    """Where the projected map sits: unit coordinates → the SVG's (y downwards)."""

    min_x: float
    max_y: float
    scale: float
    width: int
    height: int

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        x, y = albers(lon, lat)
        return (x - self.min_x) * self.scale, (self.max_y - y) * self.scale

    def box(self, west: float, east: float, south: float, north: float) -> tuple[float, float, float, float]:
        """The SVG box (x, y, width, height) that holds the lon/lat box given."""
        corners = [self.point(lon, lat) for lon in (west, east, (west + east) / 2) for lat in (south, north)]
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


@functools.cache
def frame() -> Frame:
    points = [
        albers(lon, lat)
        for feature in boundaries.layer(boundaries.PROVINCE).values()
        for polygon in feature.polygons
        for lon, lat in polygon[0]
        if lat >= MAIN_SOUTH
    ]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    pad = (max(xs) - min(xs)) * 0.01
    min_x, max_x, min_y, max_y = min(xs) - pad, max(xs) + pad, min(ys) - pad, max(ys) + pad
    scale = WIDTH / (max_x - min_x)
    return Frame(min_x=min_x, max_y=max_y, scale=scale, width=WIDTH, height=round((max_y - min_y) * scale))


def _ring(points: Iterable[tuple[float, float]], f: Frame) -> str:
    out: list[tuple[int, int]] = []
    for lon, lat in points:
        x, y = f.point(lon, lat)
        p = (round(x), round(y))
        if not out or out[-1] != p:
            out.append(p)
    if len(out) > 1 and out[0] == out[-1]:
        out.pop()
    if len(out) < 3:
        return ""
    return "M" + " ".join(f"{x},{y}" for x, y in out) + "Z"


def _area(feature: Feature, f: Frame) -> float:
    total = 0.0
    for polygon in feature.polygons:
        ring = [f.point(lon, lat) for lon, lat in polygon[0]]
        total += abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True)))
    return total / 2


@dataclass(frozen=True)
class Shape:
    """A feature as the SVG draws it: its path data, its label point, and a dot for a tiny one."""

    code: str
    name: str
    d: str
    x: float
    y: float
    tiny: bool
    box: tuple[float, float, float, float]  # min x, min y, max x, max y in the frame


@functools.cache
def shapes(level: str) -> dict[str, Shape]:
    """Every feature of LEVEL as SVG path data in the frame, by code."""
    f = frame()
    out = {}
    for code, feature in boundaries.layer(level).items():
        d = "".join(_ring(ring, f) for polygon in feature.polygons for ring in polygon)
        x, y = f.point(*feature.label_point)
        points = [f.point(lon, lat) for polygon in feature.polygons for lon, lat in polygon[0]]
        box = (
            min(p[0] for p in points),
            min(p[1] for p in points),
            max(p[0] for p in points),
            max(p[1] for p in points),
        )
        out[code] = Shape(code, feature.name, d, round(x, 1), round(y, 1), tiny=_area(feature, f) < TINY_AREA, box=box)
    return out


@dataclass(frozen=True)
class Inset:
    """The South China Sea inset: a box at the frame's bottom right showing the frame's own coordinates of the
    inset's extent (a nested SVG's viewBox), so the provinces' path data serve both."""

    x: float
    y: float
    width: float
    height: float
    view_box: str
    provinces: tuple[str, ...]  # the province codes whose shapes reach into the inset
    islands: tuple[tuple[float, float], ...]  # dots: the islands too small to draw at the inset's scale
    dashes: tuple[str, ...]  # the maritime boundary line's dashes as path data
    dot: float  # an island's dot radius, in the frame's units


@functools.cache
def inset() -> Inset:
    f = frame()
    bx, by, bw, bh = f.box(INSET_WEST, INSET_EAST, INSET_SOUTH, INSET_NORTH)
    width = f.width * INSET_SHARE
    height = width * bh / bw
    margin = f.width * 0.006
    reach = []
    islands = []
    for code, feature in boundaries.layer(boundaries.PROVINCE).items():
        inside = False
        for polygon in feature.polygons:
            lons = [p[0] for p in polygon[0]]
            lats = [p[1] for p in polygon[0]]
            if max(lons) >= INSET_WEST and min(lons) <= INSET_EAST and min(lats) <= INSET_NORTH:
                inside = True
                if max(lats) < MAIN_SOUTH:  # an island of the South China Sea
                    islands.append(f.point(sum(lons) / len(lons), sum(lats) / len(lats)))
        if inside:
            reach.append(code)
    dashes = tuple(
        "M" + " ".join(f"{x:.0f},{y:.0f}" for x, y in (f.point(lon, lat) for lon, lat in line))
        for line in boundaries.maritime_lines()
    )
    return Inset(
        x=round(f.width - width - margin, 1),
        y=round(f.height - height - margin, 1),
        width=round(width, 1),
        height=round(height, 1),
        view_box=f"{bx:.0f} {by:.0f} {bw:.0f} {bh:.0f}",
        provinces=tuple(reach),
        islands=tuple((round(x), round(y)) for x, y in islands),
        dashes=dashes,
        dot=round(bw / width * 2.2, 1),
    )


def main_dashes() -> tuple[str, ...]:
    """The maritime boundary's dashes that fall in the main frame (east of Taiwan)."""
    return tuple(
        d for d, line in zip(inset().dashes, boundaries.maritime_lines(), strict=True) if line[0][1] >= MAIN_SOUTH
    )


def view_box(shapes: Iterable[Shape], margin: float = 0.04) -> str:
    """The SVG viewBox that holds SHAPES (the programme's area zoomed), with a margin; the whole frame when none."""
    boxes = [s.box for s in shapes]
    if not boxes:
        f = frame()
        return f"0 0 {f.width} {f.height}"
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    pad = max(x1 - x0, y1 - y0) * margin
    return f"{x0 - pad:.0f} {y0 - pad:.0f} {x1 - x0 + 2 * pad:.0f} {y1 - y0 + 2 * pad:.0f}"


def curve(start: tuple[float, float], end: tuple[float, float]) -> str:
    """A line from an assisting party to its recipient as a gentle arc (path data), so that lines from one
    party to neighbouring recipients stay apart."""
    (x0, y0), (x1, y1) = start, end
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    dx, dy = x1 - x0, y1 - y0
    cx, cy = mx - dy * 0.15, my + dx * 0.15
    return f"M{x0:.0f},{y0:.0f}Q{cx:.0f},{cy:.0f} {x1:.0f},{y1:.0f}"
