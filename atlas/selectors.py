"""What the map shows: a programme's recipient regions as areas of one level, each with the figures of the pairings
whose recipients lie in it, the lines from the assisting parties to them, and the projects' points.

Every figure comes from the figures layer — `pairings.figures` (money, by group of pairings as a scope counts it),
`projects.figures` (projects by stage, from the rollup) and `evaluation.selectors` (the latest run's scorecards) —
for the pairings the user may see; nothing is summed here. An area is the feature of the chosen level that holds a
pairing's recipient region (its own code or its ancestors'); a recipient coarser than the level (a whole-prefecture
pairing on the county map) keeps its own, coarser feature, and the finer features inside it take its shading.
A fixed number of queries, however many regions and pairings.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.models import Region
from evaluation.models import EvaluationRun
from evaluation.selectors import latest_run, scorecards_visible_to
from pairings import figures as pairing_figures
from pairings.models import Pairing, Program
from pairings.selectors import pairings_visible_to, programs_visible_to
from projects import figures as project_figures
from projects.figures import StageCounts
from projects.selectors import projects_visible_to

from . import boundaries
from .boundaries import COUNTY, LEVELS, PREFECTURE, PROVINCE, Feature

LEVEL_LABELS = {PROVINCE: _("Province"), PREFECTURE: _("Prefecture"), COUNTY: _("County")}
FULFILMENT, RECEIVED, PROJECTS, SCORE = "fulfilment", "received", "projects", "score"
MEASURES = {
    FULFILMENT: _("Mandate fulfilment"),
    RECEIVED: _("Funds received"),
    PROJECTS: _("Projects"),
    SCORE: _("Latest score"),
}
#: The most project points drawn for one programme: beyond it the map says so and draws the first ones by id.
MAX_POINTS = 2000
#: The level a programme's map opens at.
DEFAULT_LEVEL = COUNTY


@dataclass
class Area:
    """A shaded feature: the pairings whose recipients lie in it and their figures."""

    feature: Feature
    region: Region | None
    pairings: list[Pairing]
    money: pairing_figures.Money = field(default_factory=pairing_figures.Money)
    projects: StageCounts = field(default_factory=StageCounts)
    #: The latest run's score of each pairing that has one, by pairing id.
    scores: dict[int, float] = field(default_factory=dict)
    value: Any = None

    @property
    def code(self) -> str:
        return self.feature.code

    @property
    def name(self) -> str:
        return self.region.display_name if self.region else self.feature.name

    @property
    def name_zh(self) -> str:
        return self.region.name if self.region else self.feature.name

    @property
    def name_en(self) -> str:
        return self.region.name_en if self.region else ""

    @property
    def score(self) -> float | None:
        """The lowest of the pairings' latest scores: an area with several pairings is shaded by its weakest."""
        return min(self.scores.values()) if self.scores else None

    @property
    def assisting(self) -> list[str]:
        return sorted({str(p.assisting_organization) for p in self.pairings})

    @property
    def url(self) -> str:
        if len(self.pairings) == 1:
            return reverse("pairings:pairing_detail", args=[self.pairings[0].pk])
        query = {"program": self.pairings[0].program.code, "recipient_region": self.code}
        return reverse("pairings:pairing_list") + "?" + urlencode(query)


@dataclass(frozen=True)
class Line:
    """From an assisting party's place to the area it assists."""

    organization: str
    start: tuple[float, float]  # lon, lat
    area: str  # the area's code


@dataclass(frozen=True)
class Point:
    project_id: int
    title: str
    state: str
    lon: float
    lat: float

    @property
    def url(self) -> str:
        return reverse("projects:project_detail", args=[self.project_id])


@dataclass
class MapData:
    program: Program
    level: str
    measure: str
    areas: list[Area]
    lines: list[Line]
    points: list[Point]
    points_total: int
    run: EvaluationRun | None
    #: Pairings whose recipient has no feature on the map (a region the boundary data does not know).
    unplaced: list[Pairing]

    @property
    def capped(self) -> bool:
        return self.points_total > len(self.points)

    @property
    def provinces(self) -> list[str]:
        """The provinces the programme's areas lie in: where the finer layers are drawn."""
        return sorted({a.feature.province_code for a in self.areas})


def programs_for(user: User) -> list[Program]:
    return list(programs_visible_to(user).order_by("start_year", "code"))


def _codes(region: Region) -> list[str]:
    """The region's code and its ancestors', deepest first (an XPCC division: its city's, where it has one)."""
    if region.city_id and region.city is not None:
        region = region.city
    return [code for code in reversed(region.path.strip("/").split("/")) if code]


def _feature_for(region: Region, level: str) -> Feature | None:
    """The feature of LEVEL holding REGION, or the region's own coarser one when it lies above LEVEL. None when
    the boundary data do not know the region (a division without a city, a county set up after the data): it
    is not put on its province, which would shade the whole province for it."""
    codes = _codes(region)
    feature = boundaries.feature_at(level, codes)
    if feature is not None:
        return feature
    for coarser in LEVELS[: LEVELS.index(level)][::-1]:
        feature = boundaries.feature_at(coarser, codes[:1])
        if feature is not None:
            return feature
    return None


def value_of(area: Area, measure: str) -> Any:
    if measure == FULFILMENT:
        return area.money.fulfilment
    if measure == RECEIVED:
        return area.money.received
    if measure == PROJECTS:
        return area.projects.total
    return area.score


def place_of(pairing: Pairing) -> tuple[float, float] | None:
    """Where the pairing's assisting party is: its region's coordinates, else the centroid of the region's
    feature; None when the party has no region (an enterprise)."""
    region = pairing.assisting_organization.region
    if region is None:
        return None
    if region.longitude is not None and region.latitude is not None:
        return float(region.longitude), float(region.latitude)
    codes = _codes(region)
    for level in LEVELS[::-1]:
        feature = boundaries.feature_at(level, codes)
        if feature is not None:
            return feature.label_point
    return None


def map_data(user: User, program: Program, level: str, measure: str) -> MapData:
    pairings = list(
        pairings_visible_to(user)
        .filter(program=program)
        .select_related(
            "program",
            "assisting_organization__region",
            "recipient_region__city",
        )
        .order_by("recipient_region__code", "id")
    )
    groups: dict[str, list[Pairing]] = {}
    features: dict[str, Feature] = {}
    unplaced = []
    for pairing in pairings:
        feature = _feature_for(pairing.recipient_region, level)
        if feature is None:
            unplaced.append(pairing)
            continue
        features[feature.code] = feature
        groups.setdefault(feature.code, []).append(pairing)

    ids = {code: [p.pk for p in members] for code, members in groups.items()}
    money = pairing_figures.money_by_group(ids)
    projects = project_figures.scope_stage_counts_by_group(ids)
    run = latest_run(program)
    scores: dict[int, float] = {}
    if run is not None:
        visible = scorecards_visible_to(user).filter(run=run, pairing__in=[p.pk for p in pairings])
        scores = {pk: s for pk, s in visible.values_list("pairing_id", "score") if s is not None}
    regions = {r.code: r for r in Region.objects.filter(code__in=list(groups))}

    areas = []
    for code, members in groups.items():
        area = Area(
            feature=features[code],
            region=regions.get(code),
            pairings=members,
            money=money[code],
            projects=projects[code],
            scores={p.pk: scores[p.pk] for p in members if p.pk in scores},
        )
        area.value = value_of(area, measure)
        areas.append(area)
    areas.sort(key=lambda a: a.code)

    lines = []
    seen = set()
    for area in areas:
        for p in area.pairings:
            org = p.assisting_organization
            start = place_of(p)
            if start is None or (org.pk, area.code) in seen:
                continue
            seen.add((org.pk, area.code))
            lines.append(Line(organization=str(org), start=start, area=area.code))

    located = (
        projects_visible_to(user)
        .filter(pairing__program=program, latitude__isnull=False, longitude__isnull=False)
        .order_by("id")
    )
    rows = list(located.values_list("id", "title", "state", "longitude", "latitude")[: MAX_POINTS + 1])
    points_total = len(rows) if len(rows) <= MAX_POINTS else located.count()
    points = [
        Point(pk, title, state, float(lon or 0), float(lat or 0)) for pk, title, state, lon, lat in rows[:MAX_POINTS]
    ]
    return MapData(
        program=program,
        level=level,
        measure=measure,
        areas=areas,
        lines=lines,
        points=points,
        points_total=points_total,
        run=run,
        unplaced=unplaced,
    )


# --- classes -----------------------------------------------------------------------------------------------

#: A sequential, colour-blind-safe palette (ColorBrewer YlGnBu, 5 classes), light = low.
PALETTE = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")


@dataclass(frozen=True)
class Class:
    low: Decimal | float | int | None
    high: Decimal | float | int | None  # None: open above
    colour: str

    def holds(self, value: Any) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value < self.high)


#: Fixed classes where the figure has a meaning of its own: fulfilment by quarters of the mandate (the last:
#: fulfilled), scores by tens from 60.
FIXED: dict[str, list[Any]] = {
    FULFILMENT: [Decimal("0"), Decimal("0.25"), Decimal("0.5"), Decimal("0.75"), Decimal("1")],
    SCORE: [0, 60, 70, 80, 90],
}


def classes(measure: str, values: Iterable[Any]) -> list[Class]:
    """The legend's classes for MEASURE: fixed bounds for fulfilment and scores, quantiles of the values shown for
    money and counts (fewer classes when there are fewer distinct values)."""
    if measure in FIXED:
        bounds: list[Any] = FIXED[measure]
    else:
        known = sorted({v for v in values if v is not None})
        if not known:
            return []
        k = min(len(PALETTE), len(known))
        bounds = sorted({known[(len(known) * i) // k] for i in range(k)})
    out = []
    for i, low in enumerate(bounds):
        high = bounds[i + 1] if i + 1 < len(bounds) else None
        # Fewer classes than colours: spread over the palette, so two classes are light and dark.
        colour = PALETTE[round(i * (len(PALETTE) - 1) / max(len(bounds) - 1, 1))]
        out.append(Class(low=None if i == 0 else low, high=high, colour=colour))
    return out


def colour_of(value: Any, legend: list[Class]) -> str | None:
    if value is None:
        return None
    for c in legend:
        if c.holds(value):
            return c.colour
    return None
