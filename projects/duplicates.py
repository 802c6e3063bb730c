"""Duplicate projects across pairings: which projects may be the same undertaking as one project (or as the fields
of one being created or edited), in any pairing and programme, with a score in [0, 1] and its reasons.

Four signals are combined, because none decides alone (a trigram score of 0.25 between "疏附县二幼" and
"疏附县第二幼儿园" is below any usual threshold, while every kindergarten of a county shares the county's name):

- the place: the two locations are one region or one lies within the other (`same_county`), or both projects have
  points within NEARBY_KM (`nearby`). Only such projects are candidates at all: they are read by the indexed
  location (the county's subtree and the regions above it) and, on PostgreSQL, the partial index on the points —
  a county's few hundred projects rather than the portfolio;
- the title, compared after normalising (place names of the region tree and common filler taken out, the usual
  short forms of institutions applied: 幼儿园 → 幼) by character bigrams and trigrams (`similar_title`). A title
  with nothing in common is never flagged, whatever else matches: two projects of one county in one sector in one
  year are common and different;
- the sector (`same_sector`) and the periods (`overlapping_period`: planned or, once known, actual dates).

Cancelled and rejected projects are left out on both sides: they take no money and will not be built, so they
duplicate nothing; a rejected proposal put forward again is a new project that is meant to look like the old one.
PostgreSQL's pg_trgm is not the similarity here: it scores the whole Chinese title as one word (0.25 for the pair
above) and knows nothing of place names or short forms; the candidates are few enough once restricted by place
that scoring them in Python costs less than the list API's first page (bench/duplicates.py), on PostgreSQL and on
SQLite alike.
"""

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.models import Region, RegionLevel
from pairings.selectors import pairing_scope_q

from .models import DuplicateDismissal, Project, State

#: A candidate is shown from this score on (tuned on the pairs of tests/projects/test_duplicates.py).
THRESHOLD = 0.6
#: ... and only when the titles share at least this much: place and dates alone make no duplicate.
TITLE_MIN = 0.34
#: Two points at most this far apart are "nearby".
NEARBY_KM = 2.0
#: The states whose projects duplicate nothing (see the module's docstring).
EXCLUDED_STATES = (State.CANCELLED, State.REJECTED)

WEIGHTS = {"title": 0.5, "place": 0.25, "sector": 0.1, "period": 0.15}

#: The reasons, in the order they are shown; the codes are the API's.
REASONS: dict[str, str | Promise] = {
    "same_county": _("Same or overlapping location"),
    "nearby": _("Within 2 km"),
    "similar_title": _("Similar title"),
    "same_sector": _("Same sector"),
    "overlapping_period": _("Overlapping period"),
}


def reason_label(code: str) -> str:
    return str(REASONS.get(code, code))


# --- titles --------------------------------------------------------------------------------------------------

#: The usual short forms of institutions, applied to both titles so that "二幼" meets "第二幼儿园".
SHORT_FORMS = (
    ("幼儿园", "幼"),
    ("中学", "中"),
    ("小学", "小"),
    ("卫生院", "卫"),
    ("职业技术学校", "职校"),
    ("职业学校", "职校"),
)
#: Words of no weight in a project's title: ordinal and counting characters, and "construction project".
FILLER = re.compile(r"建设项目|建设工程|项目|工程|建设|第|号|所|座|期|县")
#: What follows a place's proper name, to find its short form too (疏附县 → 疏附).
PLACE_SUFFIX = re.compile(r"(维吾尔自治区|壮族自治区|回族自治区|自治区|自治州|自治县|地区|省|市|县|区|州|盟|旗|镇|乡)$")


def place_names(names: Iterable[str]) -> list[str]:
    """NAMES and their short forms (without the administrative suffix, when two characters or more are left),
    longest first so that 疏附县 goes before 疏附."""
    found: set[str] = set()
    for name in names:
        name = unicodedata.normalize("NFKC", name or "").strip()
        if not name:
            continue
        found.add(name)
        short = PLACE_SUFFIX.sub("", name)
        if len(short) >= 2:
            found.add(short)
    return sorted(found, key=lambda n: (-len(n), n))


#: A year in a title ("（2026年）", "2025年度") tells when, not what: two projects of one year share it.
YEAR = re.compile(r"(?:19|20)\d{2}(?:年度|年)?")
_SHORT = re.compile("|".join(long for long, _short in SHORT_FORMS))
_SHORT_OF = dict(SHORT_FORMS)
_NOT_ALNUM = re.compile(r"[\W_]+")


#: What NFKC changes in a Chinese title that the comparison keeps: full-width letters and digits, circled and
#: compatibility characters (full-width punctuation is dropped with the rest of the punctuation).
_NEEDS_NFKC = re.compile(r"[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a\u2460-\u24ff\u3200-\u33ff\uf900-\ufaff]")


def _fold(title: str, places: re.Pattern[str] | None) -> str:
    """TITLE width- and case-folded, with the places PLACES finds taken out."""
    text = title or ""
    if _NEEDS_NFKC.search(text):
        text = unicodedata.normalize("NFKC", text)
    text = text.lower()
    return places.sub("", text) if places is not None else text


def place_pattern(places: Iterable[str]) -> re.Pattern[str] | None:
    """One expression that finds any of PLACES (longest first, as place_names orders them)."""
    names = [re.escape(p.lower()) for p in places if p]
    return re.compile("|".join(names)) if names else None


def normalise(title: str, places: Iterable[str] | re.Pattern[str] | None = ()) -> str:
    """TITLE as it is compared: width and case folded, the place names PLACES (longest first, or their
    place_pattern) taken out, every character that is not a letter or digit dropped, the short forms applied,
    years and filler taken out."""
    pattern = places if isinstance(places, re.Pattern) or places is None else place_pattern(places)
    text = YEAR.sub("", _fold(title, pattern))
    text = _NOT_ALNUM.sub("", text)
    text = _SHORT.sub(lambda m: _SHORT_OF[m.group(0)], text)
    return FILLER.sub("", text)


def grams(text: str) -> frozenset[str]:
    """The character bigrams and trigrams of TEXT (a single character is its own gram)."""
    if len(text) <= 1:
        return frozenset([text]) if text else frozenset()
    found = {text[i : i + 2] for i in range(len(text) - 1)}
    found.update(text[i : i + 3] for i in range(len(text) - 2))
    return frozenset(found)


def gram_similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice's coefficient of two gram sets, or (a little less) the share of the smaller found in the larger: a
    short form inside the full name counts nearly as the same name."""
    if not a or not b:
        return 0.0
    common = len(a & b)
    return max(2 * common / (len(a) + len(b)), 0.9 * common / min(len(a), len(b)))


def sharing_pattern(title: str, places: re.Pattern[str] | None, mine: frozenset[str]) -> str:
    """A regular expression that a title sharing a gram with TITLE (whose normalised grams are MINE) matches: one
    of the bigrams of TITLE's normalised text, or of its text with only the places, years and punctuation taken
    out (so "三号楼" still meets "三号楼", whose normalised "三楼" is in neither). The database applies it to the
    candidates of a place (PostgreSQL's `~*`, SQLite's REGEXP), so only the titles that may be alike are read and
    normalised: most of a county's projects are about something else. (A title written in full-width letters or
    digits is not folded here, and may be missed on them.)"""
    plain = _NOT_ALNUM.sub("", YEAR.sub("", _fold(title, places)))
    wanted = {g for g in mine if len(g) == 2} | {plain[i : i + 2] for i in range(len(plain) - 1)}
    if not wanted:
        wanted = set(mine) | set(plain)
    return "|".join(re.escape(g) for g in sorted(wanted))


def title_similarity(a: str, b: str, places: Iterable[str] = ()) -> float:
    names = place_names(places)
    return gram_similarity(grams(normalise(a, names)), grams(normalise(b, names)))


# --- what is compared ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """The fields of a project that are compared: a stored one's, or those of a form not saved yet (pk None)."""

    title: str
    location: Region | None
    sector: str = ""
    latitude: Decimal | float | None = None
    longitude: Decimal | float | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    pk: int | None = None
    state: str = State.DRAFT


def subject_of(project: Project, **changed: Any) -> Subject:
    """PROJECT as compared, with CHANGED (a form's values) over its stored fields."""

    def value(name: str) -> Any:
        return changed[name] if name in changed else getattr(project, name)

    return Subject(
        title=value("title") or "",
        location=value("location"),
        sector=value("sector") or "",
        latitude=value("latitude"),
        longitude=value("longitude"),
        start=project.actual_start or value("planned_start"),
        end=project.actual_end or value("planned_end"),
        pk=project.pk,
        state=project.state,
    )


def subject_from(values: Mapping[str, Any]) -> Subject:
    """The fields of a project not created yet (a create form's or an API body's)."""
    return Subject(
        title=values.get("title") or "",
        location=values.get("location"),
        sector=values.get("sector") or "",
        latitude=values.get("latitude"),
        longitude=values.get("longitude"),
        start=values.get("planned_start"),
        end=values.get("planned_end"),
    )


#: The states in which a project's pages warn of its duplicates: until construction starts, while a duplicate can
#: still be stopped before money is spent on it (the API's `similar/` answers in every state, and the national list
#: keeps the pairs of every project).
WARN_STATES = frozenset({State.DRAFT, State.PROPOSED, State.APPROVED})

#: The fields of a project the check compares: an edit of others does not ask again.
COMPARED = frozenset({"title", "location", "sector", "latitude", "longitude", "planned_start", "planned_end"})


#: The columns a stored project is compared by (with its location's place in the region tree).
COMPARED_COLUMNS = (
    "title",
    "sector",
    "state",
    "latitude",
    "longitude",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "pairing_id",
    "location__code",
    "location__path",
    "location__level",
    "location__name",
)


# --- scoring -------------------------------------------------------------------------------------------------


@dataclass
class Match:
    project_id: int
    pairing_id: int
    score: float
    reasons: list[str]
    title_similarity: float
    #: For the user find_matches was asked for: whether they see it, and whether either side confirmed the two
    #: different (None when no user was given).
    visible: bool | None = None
    confirmed: bool | None = None


def distance_km(lat1: Any, lon1: Any, lat2: Any, lon2: Any) -> float:
    """The great-circle distance between two points (haversine), in kilometres."""
    p1, p2 = math.radians(float(lat1)), math.radians(float(lat2))
    dp, dl = p2 - p1, math.radians(float(lon2) - float(lon1))
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def _period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date] | None:
    if start is None and end is None:
        return None
    return (start or dt.date.min, end or dt.date.max)


def score_pair(
    *,
    title_sim: float,
    overlapping_place: bool,
    km: float | None,
    sectors: tuple[str, str],
    periods: tuple[tuple[dt.date, dt.date] | None, tuple[dt.date, dt.date] | None],
) -> tuple[float, list[str]]:
    """The combined score of two projects and its reasons, from the signals (module docstring)."""
    reasons: list[str] = []
    if overlapping_place:
        reasons.append("same_county")
    if km is not None and km <= NEARBY_KM:
        reasons.append("nearby")
    # Points far apart within one county weigh less than one place; unknown points leave the place as it is.
    place = 1.0 if (km is not None and km <= NEARBY_KM) else (0.5 if km is not None and km > 5 * NEARBY_KM else 0.9)
    if not overlapping_place and (km is None or km > NEARBY_KM):
        place = 0.0
    if title_sim >= TITLE_MIN:
        reasons.append("similar_title")
    a, b = sectors
    sector = 0.5 if not (a and b) else (1.0 if a == b else 0.0)
    if a and a == b:
        reasons.append("same_sector")
    pa, pb = periods
    if pa is None or pb is None:
        period = 0.5
    else:
        period = 1.0 if pa[0] <= pb[1] and pb[0] <= pa[1] else 0.0
        if period:
            reasons.append("overlapping_period")
    score = (
        WEIGHTS["title"] * title_sim
        + WEIGHTS["place"] * place
        + WEIGHTS["sector"] * sector
        + WEIGHTS["period"] * period
    )
    return round(min(score, 1.0), 3), reasons


# --- candidates ----------------------------------------------------------------------------------------------

_COUNTY_LEVELS = (RegionLevel.COUNTY, RegionLevel.XPCC_DIVISION)
CANDIDATE_FIELDS = (
    "pk",
    "title",
    "sector",
    "location_id",
    "latitude",
    "longitude",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "pairing_id",
)


@dataclass
class Places:
    """The regions a location overlaps: its county's subtree and the regions above it, by id, with their paths and
    names."""

    anchor: str = ""
    ids: set[int] = field(default_factory=set)
    paths: dict[int, str] = field(default_factory=dict)
    names: list[str] = field(default_factory=list)


def overlapping_places(location: Region) -> Places:
    """The regions whose projects may be at LOCATION's place: those it lies within, and the whole subtree of its
    county (a township's county is its parent). Above county level, the region and those above it only: its
    subtree's projects meet it when their own counties are checked. One query, on the region table's indexes."""
    codes = [c for c in location.path.strip("/").split("/") if c]
    if location.level in _COUNTY_LEVELS:
        anchor = location.path
    elif location.level == RegionLevel.TOWNSHIP and len(codes) > 1:
        anchor = location.path[: -len(codes[-1]) - 1]
    else:
        anchor = ""
    where = Q(code__in=codes) | (Q(path__startswith=anchor) if anchor else Q(pk__in=[]))
    found = Places(anchor=anchor or location.path)
    for pk, name, path in Region.objects.filter(where).values_list("pk", "name", "path"):
        found.ids.add(pk)
        found.paths[pk] = path
        found.names.append(name)
    return found


def _overlap(path_a: str | None, path_b: str | None) -> bool:
    return bool(path_a and path_b and (path_a.startswith(path_b) or path_b.startswith(path_a)))


def find_matches(subject: Subject, *, threshold: float = THRESHOLD, user: User | None = None) -> list[Match]:
    """Every project that may be SUBJECT's undertaking, whoever may see it, best first. Nothing for a subject with
    neither location nor point, a cancelled or rejected one, or one without a title. With USER, each match also
    says whether USER sees it and whether it was confirmed different — read in the same query, for the few rows
    whose titles may be alike."""
    if subject.state in EXCLUDED_STATES or not subject.title.strip():
        return []
    has_point = subject.latitude is not None and subject.longitude is not None
    if subject.location is None and not has_point:
        return []
    where = Q()
    places = Places()
    if subject.location is not None:
        places = overlapping_places(subject.location)
        where |= Q(location_id__in=sorted(places.ids))
    if has_point:
        lat, lon = float(subject.latitude), float(subject.longitude)  # type: ignore[arg-type]
        dlat = NEARBY_KM / 111.0
        dlon = NEARBY_KM / max(111.0 * math.cos(math.radians(lat)), 1e-6)
        where |= Q(latitude__range=(lat - dlat, lat + dlat), longitude__range=(lon - dlon, lon + dlon))
    names = place_pattern(place_names(places.names))
    mine = grams(normalise(subject.title, names))
    if not mine:
        return []
    rows = Project.objects.filter(where, title__iregex=sharing_pattern(subject.title, names, mine))
    rows = rows.exclude(state__in=EXCLUDED_STATES)
    if subject.pk is not None:
        rows = rows.exclude(pk=subject.pk)
    my_path = places.paths.get(subject.location.pk) if subject.location is not None else None
    my_period = _period(subject.start, subject.end)
    extra: tuple[str, ...] = ()
    if user is not None:
        scope = pairing_scope_q(user, "pairing__")
        rows = rows.annotate(
            seen=Value(True) if scope == Q() else Case(When(scope, then=Value(True)), default=Value(False)),
            confirmed=Exists(DuplicateDismissal.objects.filter(dismissed_between(subject.pk, OuterRef("pk"))))
            if subject.pk is not None
            else Value(False),
        )
        extra = ("seen", "confirmed")
    matches = []
    for row in rows.values_list(*CANDIDATE_FIELDS, *extra):
        pk, title, sector, location_id, lat2, lon2, ps, pe, as_, ae, pairing_id = row[:11]
        sim = gram_similarity(mine, grams(normalise(title, names)))
        if sim < TITLE_MIN:
            continue
        km = distance_km(subject.latitude, subject.longitude, lat2, lon2) if has_point and lat2 is not None else None
        if km is not None and lon2 is None:
            km = None
        score, reasons = score_pair(
            title_sim=sim,
            overlapping_place=_overlap(my_path, places.paths.get(location_id)),
            km=km,
            sectors=(subject.sector, sector or ""),
            periods=(my_period, _period(as_ or ps, ae or pe)),
        )
        if score >= threshold:
            flags = (bool(row[11]), bool(row[12])) if extra else (None, None)
            matches.append(Match(pk, pairing_id, score, reasons, round(sim, 3), *flags))
    matches.sort(key=lambda m: (-m.score, -m.project_id))
    return matches


# --- what one user is shown ----------------------------------------------------------------------------------


@dataclass
class Candidate:
    project: Project
    score: float
    reasons: list[str]
    dismissal: DuplicateDismissal | None = None

    @property
    def reason_labels(self) -> list[tuple[str, str]]:
        return [(code, reason_label(code)) for code in self.reasons]


@dataclass
class Similar:
    """What USER is shown of a subject's matches: those in their scope in full (the best of them in
    `candidates`), the others only counted."""

    candidates: list[Candidate]
    hidden: int
    visible: int = 0
    confirmed: int = 0

    @property
    def unconfirmed(self) -> int:
        """Matches nobody has yet said are different undertakings (the hidden ones among them)."""
        return self.hidden + self.visible - self.confirmed

    def __bool__(self) -> bool:
        return bool(self.visible or self.hidden)


#: The names a candidate is shown with.
NAMES = ("pairing__program", "pairing__assisting_organization", "pairing__recipient_region", "location")
#: ... and the columns read for it (a candidate is a line of text, not a whole project).
SHOWN = (
    "code",
    "title",
    "state",
    "sector",
    "pairing__program__code",
    "pairing__program__name",
    "pairing__program__name_en",
    "pairing__assisting_organization__name",
    "pairing__assisting_organization__name_en",
    "pairing__recipient_region__name",
    "pairing__recipient_region__name_en",
    "location__code",
    "location__name",
    "location__name_en",
)


def dismissed_between(a: Any, b: Any) -> Q:
    """A "not a duplicate" recorded between projects A and B (ids or outer references), either way round."""
    return Q(project_id=a, candidate_id=b) | Q(project_id=b, candidate_id=a)


def dismissals_between(project_id: int, others: Iterable[int]) -> dict[int, DuplicateDismissal]:
    """The "not a duplicate" recorded between PROJECT_ID and each of OTHERS, whichever side recorded it, by the
    other project's id (the latest when both sides did)."""
    ids = list(others)
    if not ids:
        return {}
    found: dict[int, DuplicateDismissal] = {}
    rows = (
        DuplicateDismissal.objects.filter(
            Q(project_id=project_id, candidate_id__in=ids) | Q(candidate_id=project_id, project_id__in=ids)
        )
        .select_related("by")
        .order_by("at", "pk")
    )
    for d in rows:
        found[d.candidate_id if d.project_id == project_id else d.project_id] = d
    return found


def similar_for(user: User, subject: Subject, *, limit: int = 10) -> Similar:
    """SUBJECT's matches as USER may see them: the candidates in their scope (LIMIT of them, best first) with
    their score, reasons and any "not a duplicate" recorded; the others only counted (no id, title, code or
    pairing of theirs leaves this function)."""
    matches = find_matches(subject, user=user)
    if not matches:
        return Similar([], 0)
    visible = [m for m in matches if m.visible]
    shown = visible[:limit]
    projects = (
        Project.objects.select_related(*NAMES).only(*SHOWN).in_bulk([m.project_id for m in shown]) if shown else {}
    )
    confirmed = [m.project_id for m in shown if m.confirmed]
    dismissals = dismissals_between(subject.pk, confirmed) if subject.pk is not None and confirmed else {}
    candidates = [
        Candidate(projects[m.project_id], m.score, m.reasons, dismissals.get(m.project_id))
        for m in shown
        if m.project_id in projects
    ]
    return Similar(candidates, len(matches) - len(visible), len(visible), sum(1 for m in visible if m.confirmed))


def hidden_message(hidden: int) -> str:
    """What a user is told of matches in pairings they do not see: that they exist, nothing else."""
    from django.utils.translation import gettext, ngettext

    if not hidden:
        return ""
    if hidden == 1:
        return gettext("A similar project exists in another pairing.")
    return ngettext(
        "%(n)s similar project exists in other pairings.", "%(n)s similar projects exist in other pairings.", hidden
    ) % {"n": hidden}


def is_match(subject: Subject, candidate_id: int) -> bool:
    return any(m.project_id == candidate_id for m in find_matches(subject))


# --- the whole portfolio -------------------------------------------------------------------------------------

#: The scan reads what a candidate check reads, but the pairing (it compares every pairing's projects).
_SCAN_FIELDS = tuple(f for f in CANDIDATE_FIELDS if f != "pairing_id")


def portfolio_pairs() -> Iterable[tuple[int, int, float, list[str]]]:
    """Every suspected pair of the portfolio, (lower id, higher id, score, reasons), each once. County by county:
    the projects of a county's subtree with those of the regions above it, so that memory holds one county at a
    time; within it an inverted index of the title grams finds the pairs that share any, so the titles are not
    compared two by two. (Projects with points but no location are left to the check on their own page.)"""
    located = set(
        Project.objects.exclude(state__in=EXCLUDED_STATES)
        .filter(location__isnull=False)
        .values_list("location_id", flat=True)
        .distinct()
    )
    groups: dict[str, Region] = {}
    for region in Region.objects.filter(pk__in=located).only("pk", "path", "level", "code"):
        places = overlapping_places(region)
        groups.setdefault(places.anchor, region)
    done: set[tuple[int, int]] = set()
    for region in groups.values():
        places = overlapping_places(region)
        yield from _pairs_in(places, done)


def _pairs_in(places: Places, done: set[tuple[int, int]]) -> Iterable[tuple[int, int, float, list[str]]]:
    rows = list(
        Project.objects.filter(location_id__in=sorted(places.ids))
        .exclude(state__in=EXCLUDED_STATES)
        .order_by("pk")
        .values_list(*_SCAN_FIELDS)
    )
    names = place_pattern(place_names(places.names))
    gram_sets = [grams(normalise(r[1], names)) for r in rows]
    periods = [_period(r[8] or r[6], r[9] or r[7]) for r in rows]
    postings: dict[str, list[int]] = {}
    for i, gs in enumerate(gram_sets):
        for g in gs:
            postings.setdefault(g, []).append(i)
    for i, a in enumerate(rows):
        common: dict[int, int] = {}
        for g in gram_sets[i]:
            for j in postings[g]:
                if j > i:
                    common[j] = common.get(j, 0) + 1
        for j, c in common.items():
            la, lb = len(gram_sets[i]), len(gram_sets[j])
            sim = max(2 * c / (la + lb), 0.9 * c / min(la, lb))
            if sim < TITLE_MIN:
                continue
            b = rows[j]
            pair = (a[0], b[0])
            if pair in done:
                continue
            km = None
            if None not in (a[4], a[5], b[4], b[5]):
                km = distance_km(a[4], a[5], b[4], b[5])
            score, reasons = score_pair(
                title_sim=sim,
                overlapping_place=_overlap(places.paths.get(a[3]), places.paths.get(b[3])),
                km=km,
                sectors=(a[2] or "", b[2] or ""),
                periods=(periods[i], periods[j]),
            )
            if score >= THRESHOLD:
                done.add(pair)
                yield pair[0], pair[1], score, reasons
