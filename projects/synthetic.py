"""A deterministic synthetic data set of projects at scale (`manage.py generate_projects --projects 100000`).

What it is for: trying the list, the pages and the API with realistic volumes, and the benchmark in `bench/`.
Nothing here is a real project. Every row written is marked:

- `Project.is_synthetic` and `FundFlow.is_synthetic` are true;
- every HistoryEvent written carries the comment ``"合成数据"`` (`MARK`, "synthetic"), a handover's refusal its
  reason, which ends in it;
- progress reports, inspections, rectifications, handovers and operation reports belong to synthetic projects
  (and say "合成数据" in their narrative, findings, notes or reason for refusal). These texts are stored in Chinese and shown in English on an English page
  (`synthetic_texts`, core/demo_texts.py);
- the actors are inactive users named ``synthetic-<organization id>-<role>`` (no usable password), one officer,
  approver and supervisor per assisting organization, and ``synthetic-<organization id>-recipient``, a recipient
  officer per organization of the directory that receives handovers. They are created once and kept.

**The services are bypassed for speed**: rows are built in Python and written with `bulk_create` in batches (a
service call per transition would take hours at 100k projects). In exchange this module writes only rows that the
services could have written, and the test (`tests/projects/test_generate.py`) checks it:

- the database constraints and the models' validation (dates in order, amounts positive, percentages, choices);
- the lifecycle of DESIGN.md: a project reached its state through the table's transitions, each one a history event
  (``created``, then ``submit``, ``approve``... with from/to states and the changed fields as the services record
  them), with ``proposed_by`` set from ``proposed`` on, ``approved_budget`` from ``approved`` on (a reduced budget
  is common, a larger one comes with the approver's comment), ``actual_start`` from ``in_construction`` on,
  ``actual_end`` from ``completed`` on; the approver is never the proposer; every project past ``draft`` passes the
  readiness check (title, category, sector, budget > 0, planned dates in order, a location within the recipient
  region); a completed or accepted project has a progress report at 100 %; an accepted one has a passed acceptance
  inspection as its latest acceptance inspection and no open rectification; routine inspections happen during
  construction, acceptance inspections after completion;
- every date lies between the pairing's start and its end (ended pairings, such as Wenchuan's, hold only finished,
  rejected or cancelled projects) and no later than `AS_OF`; fund flows of a project (commitment, disbursements,
  expenditure) sit in its pairing, never exceed what was committed, and are only recorded once it was approved;
- after acceptance (`handover_services`): most accepted projects have a handover, dated some days after the
  acceptance, with an asset value at most the approved budget, received by an organization of the project's location
  or the recipient region when the directory has one (its synthetic recipient officer answers), else by a body named
  by hand (the location's competent bureau; the answer then has no actor). Most are confirmed (a few after one
  refusal, round 2), recent ones often still pending, a few refused with a reason; each step is a history event
  (``handover_recorded``, ``handover_refused``, ``handover_confirmed``, with the changes the services record). A
  confirmed handover has one operation report a year from its year to the year before `AS_OF`'s (a status that
  drifts from in use to under-used, idle or closed, utilisation, running costs and their payer, revenue mostly for
  self-sustaining projects, jobs, people served), filed early the next year, with a year missing now and then and
  last year's not yet filed by some (the "missing reports" tasks). Operation reports run past the pairing's end: the
  assets outlive the pairing.

What is *not* synthesised: evaluations (the `evaluated` state needs a final score from the evaluation app), milestones,
documents (files: a handover has no asset register, an operation report no photos), and the history events of
progress reports, inspections, reviews, closures, fund flows and operation reports — the
history of a synthetic project is its lifecycle and its handover (about 5 events per project at this mix of states:
``created``, one per transition, one per step of a handover), which keeps the history table in proportion (service-made projects would have about 10).

Determinism: each project is drawn from its own `random.Random` seeded with the seed and its index, over the
pairings sorted by programme code, assisting organization name and recipient region code, with dates laid out
against the fixed `AS_OF` date rather than today. The same seed over the same reference data gives the same
titles, states, dates and amounts, and the same codes: codes are ``<PREFIX>-<id:06d>`` (the prefix as
`services.project_create` makes it) over an id range reserved before the insert, starting after the highest project
id still referred to (by a project, a fund flow or a history event), so a `--replace` run gives the same ids again.

Replacing: synthetic projects and everything hanging from them are deleted first (`delete_synthetic`), with SQL
DELETE statements. HistoryEvent is append-only through the ORM (its queryset refuses `delete()`); this is **the one
place in the code base that deletes history events**, and only those of synthetic projects, because a synthetic
project's history is as synthetic as the project.
"""

import datetime as dt
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Organization, Role, RoleAssignment, User
from core import rollups
from core.models import HistoryEvent, Region
from core.services import history_record
from pairings.models import FlowKind, FlowSource, FundFlow, Pairing, PairingStatus

from . import synthetic_texts
from .models import (
    Category,
    CostPayer,
    Document,
    DuplicateDismissal,
    ExecutionMode,
    Handover,
    HandoverStatus,
    Inspection,
    InspectionKind,
    InspectionResult,
    Milestone,
    OperationReport,
    OperationStatus,
    ProgressReport,
    Project,
    Rectification,
    RectificationStatus,
    ReviewStatus,
    Sector,
    SuspectedDuplicate,
)
from .services import _prefix

#: Dates are laid out against this day, not today, so that a seed gives the same data whenever it is run.
AS_OF = dt.date(2026, 10, 31)
FIRST_YEAR, LAST_YEAR = 2008, 2026
MARK = synthetic_texts.MARK[0]
#: Rows per INSERT statement, and projects built and written at a time (memory stays flat at any size).
BATCH_SIZE = 1000
CHUNK = 5000
TZ = ZoneInfo(settings.TIME_ZONE)
WAN = 10_000  # amounts are whole 万 yuan

# --- the mix -------------------------------------------------------------------------------------------------

SECTOR_WEIGHTS: dict[str, float] = {
    Sector.EDUCATION: 16,
    Sector.HEALTH: 12,
    Sector.HOUSING: 13,
    Sector.INFRASTRUCTURE: 17,
    Sector.INDUSTRY: 10,
    Sector.AGRICULTURE: 10,
    Sector.EMPLOYMENT: 6,
    Sector.CULTURE: 5,
    Sector.GOVERNANCE: 4,
    Sector.ECOLOGY: 5,
    Sector.OTHER: 2,
}
LIVELIHOOD_SECTORS = {Sector.EDUCATION, Sector.HEALTH, Sector.HOUSING, Sector.EMPLOYMENT}
CAPACITY_SECTORS = {Sector.INDUSTRY, Sector.EMPLOYMENT, Sector.AGRICULTURE}

#: The state a project has reached, by how many years ago it was drafted: old ones are mostly finished.
STATE_MIX_BY_AGE: dict[int, dict[str, float]] = {
    0: {"draft": 24, "proposed": 28, "approved": 15, "in_construction": 18, "suspended": 2, "completed": 2,
        "accepted": 1, "rejected": 6, "cancelled": 4},
    1: {"draft": 4, "proposed": 9, "approved": 12, "in_construction": 38, "suspended": 3, "completed": 12,
        "accepted": 11, "rejected": 6, "cancelled": 5},
    2: {"draft": 1, "proposed": 2, "approved": 4, "in_construction": 27, "suspended": 3, "completed": 19,
        "accepted": 33, "rejected": 6, "cancelled": 5},
    3: {"proposed": 1, "approved": 2, "in_construction": 12, "suspended": 2, "completed": 15, "accepted": 56,
        "rejected": 7, "cancelled": 5},
    4: {"approved": 1, "in_construction": 3, "suspended": 1, "completed": 11, "accepted": 71, "rejected": 7,
        "cancelled": 6},
}  # fmt: skip
#: On an ended pairing (Wenchuan's) only what could finish within its term.
STATE_MIX_ENDED: dict[str, float] = {"accepted": 80, "completed": 6, "rejected": 8, "cancelled": 6}
#: The state a cancelled project was in when it was cancelled.
CANCELLED_FROM: dict[str, float] = {"draft": 30, "proposed": 30, "approved": 20, "in_construction": 15, "suspended": 5}

#: The lifecycle path to each state (DESIGN.md): (action, from, to).
PATHS: dict[str, list[tuple[str, str, str]]] = {
    "draft": [],
    "proposed": [("submit", "draft", "proposed")],
    "rejected": [("submit", "draft", "proposed"), ("reject", "proposed", "rejected")],
    "approved": [("submit", "draft", "proposed"), ("approve", "proposed", "approved")],
}
PATHS["in_construction"] = [*PATHS["approved"], ("start", "approved", "in_construction")]
PATHS["suspended"] = [*PATHS["in_construction"], ("suspend", "in_construction", "suspended")]
PATHS["completed"] = [*PATHS["in_construction"], ("complete", "in_construction", "completed")]
PATHS["accepted"] = [*PATHS["completed"], ("accept", "completed", "accepted")]

#: Days between the previous event and this one (low, high).
GAPS = {
    "submit": (3, 60),
    "return": (7, 40),
    "approve": (10, 120),
    "reject": (10, 90),
    "start": (15, 180),
    "suspend": (30, 300),
    "resume": (20, 200),
    "complete": (120, 900),
    "accept": (15, 120),
    "cancel": (10, 200),
}
ACTOR_OF = {
    "created": "officer",
    "submit": "officer",
    "return": "approver",
    "approve": "approver",
    "reject": "approver",
    "start": "officer",
    "suspend": "officer",
    "resume": "officer",
    "complete": "officer",
    "accept": "supervisor",
    "cancel": "approver",
}
ACTOR_NAMES = {key: chinese for key, (chinese, _english) in synthetic_texts.ACTOR_NAMES.items()}
ROLE_OF = {"officer": Role.ASSISTING_OFFICER, "approver": Role.APPROVER, "supervisor": Role.SUPERVISOR}

TITLES: dict[str, tuple[str, ...]] = {
    Sector.EDUCATION: ("{loc}第{n}中学教学楼", "{loc}第{n}小学改扩建", "{loc}双语幼儿园", "{loc}职业技术学校实训楼",
                       "{loc}中学学生宿舍", "{loc}教师周转宿舍"),
    Sector.HEALTH: ("{loc}人民医院门诊楼", "{loc}妇幼保健院", "{loc}乡镇卫生院标准化建设", "{loc}远程医疗系统",
                    "{loc}疾控中心实验室", "{loc}藏医院住院楼"),
    Sector.HOUSING: ("{loc}安居富民房（{n}00户）", "{loc}农牧民定居工程", "{loc}保障性住房{n}期", "{loc}周转房"),
    Sector.INFRASTRUCTURE: ("{loc}县乡公路改建（{n}0公里）", "{loc}城镇供水管网", "{loc}{n}号桥", "{loc}污水处理厂",
                            "{loc}供暖管网改造", "{loc}农村饮水安全工程"),
    Sector.INDUSTRY: ("{loc}农产品加工园区", "{loc}纺织服装产业园标准厂房", "{loc}工业园区基础设施",
                      "{loc}特色手工艺品加工厂"),
    Sector.AGRICULTURE: ("{loc}高标准农田（{n}000亩）", "{loc}设施农业大棚", "{loc}草场改良", "{loc}节水灌溉工程",
                         "{loc}良种繁育基地"),
    Sector.EMPLOYMENT: ("{loc}就业培训中心", "{loc}扶贫车间", "{loc}劳动力转移就业服务站"),
    Sector.CULTURE: ("{loc}文化活动中心", "{loc}图书馆", "{loc}全民健身中心", "{loc}非物质文化遗产保护"),
    Sector.GOVERNANCE: ("{loc}便民服务中心", "{loc}村级组织活动场所", "{loc}政务服务信息化"),
    Sector.ECOLOGY: ("{loc}防护林建设", "{loc}河道综合治理", "{loc}生态修复工程"),
    Sector.OTHER: ("{loc}对口支援综合项目", "{loc}交往交流交融活动中心"),
}  # fmt: skip
AGENCIES: dict[str, str] = {
    Sector.EDUCATION: "教育局",
    Sector.HEALTH: "卫生健康委员会",
    Sector.HOUSING: "住房和城乡建设局",
    Sector.INFRASTRUCTURE: "交通运输局",
    Sector.INDUSTRY: "工业和信息化局",
    Sector.AGRICULTURE: "农业农村局",
    Sector.EMPLOYMENT: "人力资源和社会保障局",
    Sector.CULTURE: "文化和旅游局",
    Sector.GOVERNANCE: "人民政府办公室",
    Sector.ECOLOGY: "林业和草原局",
    Sector.OTHER: "人民政府",
}
FINDINGS = synthetic_texts.FINDINGS

# --- after acceptance: the handover and the yearly operation reports ---------------------------------------------

#: The share of accepted projects handed over, by how long ago they were accepted (a recent one may not be yet).
HANDOVER_SHARE = {"recent": 0.55, "older": 0.85}
RECENT_DAYS = 365
#: Where the handover stands: recent ones often still wait for the recipient side's confirmation.
HANDOVER_MIX: dict[str, dict[str, float]] = {
    "recent": {HandoverStatus.CONFIRMED: 50, HandoverStatus.PENDING: 44, HandoverStatus.REFUSED: 6},
    "older": {HandoverStatus.CONFIRMED: 91, HandoverStatus.PENDING: 5, HandoverStatus.REFUSED: 4},
}
#: The share of confirmed handovers that were refused once and recorded again before the confirmation.
REFUSED_FIRST = 0.08
#: Days from acceptance to the handover, from a step of the handover to the next (low, high).
HANDOVER_GAP = (5, 90)
ANSWER_GAP = (2, 40)
#: The operating status of the first reported year, and the chance of each status the next year.
OPERATION_FIRST: dict[str, float] = {OperationStatus.IN_USE: 88, OperationStatus.UNDER_USED: 12}
OPERATION_NEXT: dict[str, dict[str, float]] = {
    OperationStatus.IN_USE: {OperationStatus.IN_USE: 95, OperationStatus.UNDER_USED: 4, OperationStatus.IDLE: 0.7,
                             OperationStatus.CLOSED: 0.3},
    OperationStatus.UNDER_USED: {OperationStatus.UNDER_USED: 76, OperationStatus.IN_USE: 14, OperationStatus.IDLE: 7,
                                 OperationStatus.CLOSED: 3},
    OperationStatus.IDLE: {OperationStatus.IDLE: 66, OperationStatus.UNDER_USED: 20, OperationStatus.CLOSED: 12,
                           OperationStatus.DEMOLISHED: 2},
    OperationStatus.CLOSED: {OperationStatus.CLOSED: 97, OperationStatus.DEMOLISHED: 3},
    OperationStatus.DEMOLISHED: {OperationStatus.DEMOLISHED: 100},
}  # fmt: skip
#: Utilisation (%) and the share of the running costs spent, by operating status.
UTILISATION: dict[str, tuple[int, int]] = {
    OperationStatus.IN_USE: (65, 100),
    OperationStatus.UNDER_USED: (20, 60),
    OperationStatus.IDLE: (0, 15),
    OperationStatus.CLOSED: (0, 0),
    OperationStatus.DEMOLISHED: (0, 0),
}
RUNNING: dict[str, float] = {
    OperationStatus.IN_USE: 1.0,
    OperationStatus.UNDER_USED: 0.7,
    OperationStatus.IDLE: 0.2,
    OperationStatus.CLOSED: 0.0,
    OperationStatus.DEMOLISHED: 0.0,
}
#: A year left unreported now and then; and recipients that have not filed last year's report yet.
MISSING_YEAR = 0.04
LATE_FILER = 0.12


class MissingReferenceData(Exception):
    pass


class AlreadyGenerated(Exception):
    """Synthetic projects exist and replacing them was not asked for."""

    def __init__(self, count: int):
        super().__init__(f"{count} synthetic projects exist")
        self.count = count


@dataclass
class Report:
    created: Counter[str] = field(default_factory=Counter)
    deleted: Counter[str] = field(default_factory=Counter)
    states: Counter[str] = field(default_factory=Counter)
    timings: dict[str, float] = field(default_factory=dict)
    first_id: int = 0
    last_id: int = 0


# --- the reference world the projects are spread over --------------------------------------------------------


@dataclass
class Slot:
    """A pairing with what a project in it needs: where it may be, who acts, in which years."""

    pairing: Pairing
    prefix: str
    locations: list[Region]
    years: list[int]
    start: dt.date
    end: dt.date  # the last day anything may happen: the pairing's end, or AS_OF
    ended: bool
    actors: dict[str, User]
    label: str
    #: location id → the organization of the recipient side that receives a handover there (of the location's
    #: region, else of the recipient region) and its synthetic recipient officer; none where the directory has none.
    receivers: dict[int, tuple[Organization, User]] = field(default_factory=dict)


def _actors(orgs: list[Organization]) -> dict[int, dict[str, User]]:
    """The synthetic officer, approver and supervisor of each assisting organization (created once, kept)."""
    wanted = {f"synthetic-{org.pk}-{key}": (org, key) for org in orgs for key in ROLE_OF}
    found = {u.username: u for u in User.objects.filter(username__in=list(wanted))}
    unusable = make_password(None)
    for username, (org, key) in wanted.items():
        if username in found:
            continue
        user = User.objects.create(
            username=username,
            organization=org,
            first_name=ACTOR_NAMES[key],
            is_active=False,
            password=unusable,
        )
        RoleAssignment.objects.create(user=user, role=ROLE_OF[key])
        history_record(
            obj=user,
            action="created",
            changes={"organization": (None, org), "roles": (None, [ROLE_OF[key]])},
            comment=MARK,
        )
        found[username] = user
    result: dict[int, dict[str, User]] = {}
    for username, (org, key) in wanted.items():
        result.setdefault(org.pk, {})[key] = found[username]
    return result


def _recipient_actors(orgs: list[Organization]) -> dict[int, User]:
    """The synthetic recipient officer of each recipient organization that receives handovers (created once, kept)."""
    wanted = {f"synthetic-{org.pk}-recipient": org for org in orgs}
    found = {u.username: u for u in User.objects.filter(username__in=list(wanted))}
    unusable = make_password(None)
    for username, org in wanted.items():
        if username in found:
            continue
        user = User.objects.create(
            username=username,
            organization=org,
            first_name=synthetic_texts.RECIPIENT_NAME[0],
            is_active=False,
            password=unusable,
        )
        RoleAssignment.objects.create(user=user, role=Role.RECIPIENT_OFFICER)
        history_record(
            obj=user,
            action="created",
            changes={"organization": (None, org), "roles": (None, [Role.RECIPIENT_OFFICER])},
            comment=MARK,
        )
        found[username] = user
    return {org.pk: found[username] for username, org in wanted.items()}


def _receivers(slot_list: list[Slot]) -> None:
    """Fill each slot's `receivers`: an active organization of the project's location, else of the recipient
    region (the lowest id when there are several), with its synthetic recipient officer."""
    by_region: dict[int, Organization] = {}
    for org in Organization.objects.filter(is_active=True, region__isnull=False).order_by("-pk"):
        assert org.region_id is not None  # noqa: S101 — filtered above
        by_region[org.region_id] = org
    wanted: dict[int, dict[int, Organization]] = {}
    for i, slot in enumerate(slot_list):
        region_org = by_region.get(slot.pairing.recipient_region_id)
        for location in slot.locations:
            receiver = by_region.get(location.pk) or region_org
            if receiver is not None:
                wanted.setdefault(i, {})[location.pk] = receiver
    used = sorted({org.pk: org for found in wanted.values() for org in found.values()}.values(), key=lambda o: o.pk)
    officers = _recipient_actors(used)
    for i, found in wanted.items():
        slot_list[i].receivers = {pk: (org, officers[org.pk]) for pk, org in found.items()}


def slots() -> list[Slot]:
    pairings = list(
        Pairing.objects.select_related("program", "assisting_organization", "recipient_region").order_by(
            "program__code", "assisting_organization__name", "recipient_region__code", "start_date"
        )
    )
    if not pairings:
        raise MissingReferenceData("no pairings are loaded")
    actors = _actors(sorted({p.assisting_organization for p in pairings}, key=lambda o: o.name))
    result = []
    for pairing in pairings:
        program = pairing.program
        end = min(AS_OF, pairing.end_date or AS_OF)
        first = max(FIRST_YEAR, program.start_year, pairing.start_date.year)
        last = min(LAST_YEAR, program.end_year or LAST_YEAR, end.year)
        years = list(range(first, last + 1))
        if not years or pairing.start_date > end:
            continue
        region = pairing.recipient_region
        within = list(Region.objects.within(region).order_by("code"))
        # Most projects sit in a county (or town) of the recipient region; a few in the region as a whole.
        below = [r for r in within if r.pk != region.pk and r.level in ("county", "township")] or [region]
        result.append(
            Slot(
                pairing=pairing,
                prefix=_prefix(pairing),
                locations=below,
                years=years,
                start=pairing.start_date,
                end=end,
                ended=pairing.status != PairingStatus.ACTIVE,
                actors=actors[pairing.assisting_organization_id],
                label=f"{pairing.assisting_organization.name} → {region.name}",
            )
        )
    if not result:
        raise MissingReferenceData("no pairing runs between 2008 and 2026")
    _receivers(result)
    return result


# --- drawing one project -------------------------------------------------------------------------------------


def _pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _money(yuan: float) -> Decimal:
    return Decimal(max(1, round(yuan / WAN)) * WAN).quantize(Decimal("0.01"))


def _at(day: dt.date, rng: random.Random) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(rng.randint(8, 18), rng.randint(0, 59)), tzinfo=TZ)


def _yuan(yuan: float) -> Decimal:
    """A running amount: whole hundreds of yuan."""
    return Decimal(max(0, round(yuan / 100)) * 100).quantize(Decimal("0.01"))


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@dataclass
class Drawn:
    """One project and everything that hangs from it, before it is written."""

    project: Project
    events: list[HistoryEvent]
    reports: list[ProgressReport]
    inspections: list[tuple[Inspection, list[Rectification]]]
    flows: list[FundFlow]
    handover: Handover | None = None
    operation: list[OperationReport] = field(default_factory=list)


class Drawer:
    def __init__(self, seed: int, slot_list: list[Slot], project_ct: ContentType):
        self.seed = seed
        self.slots = slot_list
        self.project_ct = project_ct
        # A pairing-year is drawn in proportion to the money of its time: 5 % more each year (assistance grew with
        # the assisting sides' revenue), a disaster-response programme's (short and intense) 2.5 times as much.
        self.choices = [(s, y) for s in slot_list for y in s.years]
        weights = [
            2.5 if s.pairing.program.model == "disaster_response" else 1.05 ** (y - FIRST_YEAR) for s, y in self.choices
        ]
        self.cum = [sum(weights[: i + 1]) for i in range(len(weights))]

    def draw(self, index: int, pk: int) -> Drawn:
        rng = random.Random(f"duikou-synthetic:{self.seed}:{index}")  # noqa: S311 — deterministic synthetic/demo data, not security
        slot, year = rng.choices(self.choices, cum_weights=self.cum)[0]
        age = AS_OF.year - year
        mix = STATE_MIX_ENDED if slot.ended else STATE_MIX_BY_AGE[min(age, 4)]
        state = _pick(rng, mix)
        cancelled_from = _pick(rng, CANCELLED_FROM) if state == "cancelled" else ""

        # Who, where, what.
        sector = _pick(rng, SECTOR_WEIGHTS)
        location = rng.choice(slot.locations)
        if sector == Sector.INFRASTRUCTURE:
            category = _pick(rng, {"infrastructure": 80, "non_reimbursable": 15, "reimbursable": 5})
        elif sector in CAPACITY_SECTORS:
            category = _pick(rng, {"collaborative": 40, "non_reimbursable": 45, "reimbursable": 15})
        else:
            category = _pick(rng, {"non_reimbursable": 85, "infrastructure": 8, "collaborative": 4, "reimbursable": 3})
        title = rng.choice(TITLES[sector]).format(loc=location.name, n=rng.randint(1, 9))
        if rng.random() < 0.5:
            title += f"（{year}年）"
        code = f"{slot.prefix}-{pk:06d}"
        officer, approver, supervisor = (slot.actors[k] for k in ("officer", "approver", "supervisor"))

        # When: drafted in YEAR within the pairing's term, the path to STATE laid out after it (compressed to fit
        # before the pairing ended or AS_OF).
        lo = max(dt.date(year, 1, 1), slot.start)
        hi = min(dt.date(year, 12, 31), slot.end)
        created = lo + dt.timedelta(days=rng.randint(0, max(0, (hi - lo).days)))
        path = list(PATHS[cancelled_from or state])
        if path and rng.random() < 0.05:  # returned for changes once, then submitted again
            path[1:1] = [("return", "proposed", "draft"), ("submit", "draft", "proposed")]
        if state == "in_construction" and rng.random() < 0.1:
            path += [("suspend", "in_construction", "suspended"), ("resume", "suspended", "in_construction")]
        if state == "cancelled":
            path.append(("cancel", cancelled_from, "cancelled"))
        gaps = [rng.randint(*GAPS[action]) for action, _, _ in path]
        room = (slot.end - created).days
        if sum(gaps) > room:
            gaps = [math.floor(g * room / sum(gaps)) for g in gaps]
        dates: list[dt.date] = []
        day = created
        for gap in gaps:
            day += dt.timedelta(days=gap)
            dates.append(day)
        when = {action: d for (action, _, _), d in zip(path, dates, strict=True)}

        # Money and plans.
        budget = _money(math.exp(rng.gauss(math.log(8_000_000), 1.0)) * (2 if category == "reimbursable" else 1))
        budget = min(budget, Decimal("900000000.00"))
        planned_start = created + dt.timedelta(days=rng.randint(30, 180))
        planned_end = planned_start + dt.timedelta(days=rng.randint(180, 1080))
        approved_budget = None
        if "approve" in when:
            r = rng.random()
            if r < 0.62:
                approved_budget = budget
            elif r < 0.95:
                approved_budget = min(budget, _money(float(budget) * rng.uniform(0.7, 0.99)))
            else:
                approved_budget = _money(float(budget) * rng.uniform(1.02, 1.15))
        funded = approved_budget or budget
        matching = _money(float(funded) * rng.choice((0.1, 0.15, 0.2))) if rng.random() < 0.3 else Decimal(0)
        matching = min(matching, funded - Decimal(WAN)) if funded > WAN else Decimal(0)
        assisting_share = funded - matching
        funding_sources = [{"source": FlowSource.ASSISTING_FISCAL, "amount": str(assisting_share)}]
        if matching > 0:
            funding_sources.append({"source": FlowSource.RECIPIENT_MATCHING, "amount": str(matching)})
        actual_start = when.get("start")
        actual_end = when.get("complete")
        expected = rng.choice((1, 2, 5, 10, 20, 50)) * rng.randint(100, 1000)
        reached = int(expected * rng.uniform(0.8, 1.1)) if actual_end else None
        lat, lon = location.latitude, location.longitude
        point = lat is not None and lon is not None and rng.random() < 0.5
        project = Project(
            pk=pk,
            code=code,
            title=title,
            pairing=slot.pairing,
            category=category,
            sector=sector,
            execution_mode=ExecutionMode.TURNKEY if rng.random() < 0.6 else ExecutionMode.FUNDS_TRANSFER,
            location=location,
            latitude=(lat + Decimal(rng.randint(-50000, 50000)) / 1_000_000) if point and lat is not None else None,
            longitude=(lon + Decimal(rng.randint(-50000, 50000)) / 1_000_000) if point and lon is not None else None,
            is_livelihood=rng.random() < (0.85 if sector in LIVELIHOOD_SECTORS else 0.3),
            is_self_sustaining=(sector in CAPACITY_SECTORS or category == Category.COLLABORATIVE)
            and rng.random() < 0.8,
            budget_requested=budget,
            approved_budget=approved_budget,
            funding_sources=funding_sources,
            planned_start=planned_start,
            planned_end=planned_end,
            actual_start=actual_start,
            actual_end=actual_end,
            expected_beneficiaries=expected,
            reached_beneficiaries=reached,
            implementing_agency=(
                f"{slot.pairing.assisting_organization.name}对口支援前方指挥部"
                if rng.random() < 0.3
                else f"{location.name}{AGENCIES[sector]}"
            ),
            description=synthetic_texts.description()[0],
            repayment_terms=(
                f"{rng.choice((5, 8, 10, 15))}年期，年利率{rng.choice(('1.2', '1.5', '2.0'))}%，按年还本付息"
                if category == Category.REIMBURSABLE
                else ""
            ),
            state=state,
            proposed_by=officer if "submit" in when else None,
            created_by=officer,
            is_synthetic=True,
            created_at=_at(created, rng),
        )

        # History: created, then one event per transition, as the services record them.
        users = {"officer": officer, "approver": approver, "supervisor": supervisor}
        label = f"{code} {title}"[:200]
        events = [
            HistoryEvent(
                actor=officer,
                at=project.created_at,
                content_type=self.project_ct,
                object_id=pk,
                object_repr=label,
                action="created",
                to_state="draft",
                changes={
                    "title": {"old": None, "new": title},
                    "pairing": {"old": None, "new": {"id": slot.pairing.pk, "label": slot.label}},
                },
                comment=MARK,
            )
        ]
        last_at = project.created_at
        for (action, src, dst), d in zip(path, dates, strict=True):
            # Events of one day keep their order.
            last_at = max(_at(d, rng), last_at + dt.timedelta(minutes=rng.randint(1, 30)))
            changes: dict[str, Any] = {}
            if action == "approve":
                changes = {"approved_budget": {"old": None, "new": _json(approved_budget)}}
            elif action == "start":
                changes = {"actual_start": {"old": None, "new": _json(d)}}
            elif action == "complete":
                changes = {"actual_end": {"old": None, "new": _json(d)}}
            events.append(
                HistoryEvent(
                    actor=users[ACTOR_OF[action]],
                    at=last_at,
                    content_type=self.project_ct,
                    object_id=pk,
                    object_repr=label,
                    action=action,
                    from_state=src,
                    to_state=dst,
                    changes=changes,
                    comment=MARK,
                )
            )

        # Construction: progress reports, inspections, rectifications.
        reports: list[ProgressReport] = []
        inspections: list[tuple[Inspection, list[Rectification]]] = []
        flows: list[FundFlow] = []
        built_until = {"completed": actual_end, "accepted": actual_end, "suspended": when.get("suspend")}.get(
            state, when.get("cancel", slot.end)
        )
        assert built_until is not None  # noqa: S101 — an invariant of our own code, not a check of input
        spend_factor = rng.uniform(0.85, 1.0)
        if actual_start is not None:
            span = max(0, (built_until - actual_start).days)
            n_reports = rng.choice((1, 1, 2, 2, 3)) if not (state == "cancelled" and rng.random() < 0.5) else 0
            planned_days = max(1, (planned_end - planned_start).days)
            progress = 0
            for i in range(n_reports):
                period_end = actual_start + dt.timedelta(days=span * (i + 1) // n_reports)
                last = i == n_reports - 1
                if actual_end is not None and last:
                    progress = 100
                else:
                    share = (period_end - actual_start).days / planned_days
                    progress = max(progress, min(95, int(100 * share * rng.uniform(0.6, 1.0)) + 5 * (i + 1)))
                pending = last and actual_end is None and rng.random() < 0.5
                reported = period_end + dt.timedelta(days=rng.randint(0, 10))
                reports.append(
                    ProgressReport(
                        project_id=pk,
                        period_end=period_end,
                        physical_progress=progress,
                        spend_to_date=(
                            funded * Decimal(progress) / 100 * Decimal(str(round(spend_factor, 3)))
                        ).quantize(Decimal("0.01")),
                        narrative=synthetic_texts.narrative(i + 1)[0],
                        reported_by=officer,
                        reported_at=_at(min(reported, slot.end), rng),
                        review_status=ReviewStatus.PENDING if pending else ReviewStatus.ACCEPTED,
                        reviewed_by=None if pending else approver,
                        reviewed_at=None if pending else _at(min(reported + dt.timedelta(days=7), slot.end), rng),
                    )
                )
            # A routine inspection during construction for about one project in four.
            if rng.random() < 0.25:
                on = actual_start + dt.timedelta(days=rng.randint(0, span))
                failed = rng.random() < 0.15
                rects = []
                if failed:
                    deadline = on + dt.timedelta(days=rng.randint(30, 90))
                    closed = state in ("completed", "accepted") or (deadline <= slot.end and rng.random() < 0.7)
                    closed_on = min(deadline + dt.timedelta(days=rng.randint(-20, 20)), slot.end) if closed else None
                    if closed_on is not None and actual_end is not None:
                        closed_on = min(closed_on, actual_end)
                    rects.append(self._rectification(pk, rng, on, deadline, closed_on, supervisor))
                inspections.append((self._inspection(pk, rng, on, InspectionKind.ROUTINE, failed, supervisor), rects))
        if actual_end is not None:
            accepted_on = when.get("accept")
            if accepted_on is not None:
                if rng.random() < 0.12 and (accepted_on - actual_end).days >= 2:
                    failed_on = actual_end + dt.timedelta(days=rng.randint(1, (accepted_on - actual_end).days - 1))
                    deadline = failed_on + dt.timedelta(days=rng.randint(20, 60))
                    closed_on = failed_on + dt.timedelta(days=rng.randint(0, (accepted_on - failed_on).days))
                    rect = self._rectification(pk, rng, failed_on, deadline, closed_on, supervisor)
                    insp = self._inspection(pk, rng, failed_on, InspectionKind.ACCEPTANCE, True, supervisor)
                    inspections.append((insp, [rect]))
                passed = self._inspection(pk, rng, accepted_on, InspectionKind.ACCEPTANCE, False, supervisor)
                inspections.append((passed, []))
            elif rng.random() < 0.35 and actual_end < slot.end:
                on = actual_end + dt.timedelta(days=rng.randint(1, min(90, (slot.end - actual_end).days)))
                deadline = on + dt.timedelta(days=rng.randint(20, 90))
                rect = self._rectification(pk, rng, on, deadline, None, supervisor)
                inspections.append((self._inspection(pk, rng, on, InspectionKind.ACCEPTANCE, True, supervisor), [rect]))

        # Money linked to the project: committed once approved, disbursed and spent as it is built.
        if approved_budget is not None and (state != "cancelled" or rng.random() < 0.5):
            committed_on = min(when["approve"] + dt.timedelta(days=rng.randint(5, 40)), when.get("cancel", slot.end))
            source = FlowSource.ENTERPRISE if rng.random() < 0.1 else FlowSource.ASSISTING_FISCAL
            flows.append(self._flow(slot, pk, FlowKind.COMMITMENT, assisting_share, committed_on, source, officer))
            if actual_start is not None:
                finished = actual_end is not None
                share = rng.uniform(0.85, 1.0) if finished else rng.uniform(0.3, 0.7)
                disbursed = min(assisting_share, _money(float(assisting_share) * share))
                first = disbursed
                if finished and rng.random() < 0.5:
                    first = _money(float(disbursed) * 0.6)
                paid_on = min(actual_start + dt.timedelta(days=rng.randint(0, 30)), slot.end)
                paid_on = max(paid_on, committed_on)
                flows.append(self._flow(slot, pk, FlowKind.DISBURSEMENT, first, paid_on, source, officer))
                if disbursed > first:
                    flows.append(
                        self._flow(slot, pk, FlowKind.DISBURSEMENT, disbursed - first, max(actual_end or paid_on, paid_on),
                                   source, officer)
                    )  # fmt: skip
                if reports:
                    spent = min(disbursed, _money(float(disbursed) * rng.uniform(0.8, 1.0)))
                    flows.append(
                        self._flow(slot, pk, FlowKind.EXPENDITURE, spent, max(reports[-1].period_end, paid_on),
                                   source, officer)
                    )  # fmt: skip
        # After acceptance: the handover's steps (drawn last, so the rest of a seed's data is as it was).
        handover, steps, operation = self._handover(slot, project, rng, when.get("accept"), officer, last_at, label)
        events.extend(steps)
        return Drawn(project, events, reports, inspections, flows, handover, operation)

    def _handover(
        self,
        slot: Slot,
        project: Project,
        rng: random.Random,
        accepted_on: dt.date | None,
        officer: User,
        last_at: dt.datetime,
        label: str,
    ) -> tuple[Handover | None, list[HistoryEvent], list[OperationReport]]:
        """The handover of an accepted project, as handover_services record it (recorded, refused once maybe,
        confirmed or refused or still pending, each step a history event), and the yearly operation reports of a
        confirmed one from its year to the year before AS_OF's, a year missing now and then."""
        if accepted_on is None or project.approved_budget is None:
            return None, [], []
        age = "recent" if (slot.end - accepted_on).days < RECENT_DAYS else "older"
        if rng.random() >= HANDOVER_SHARE[age]:
            return None, [], []
        status = _pick(rng, HANDOVER_MIX[age])
        refused_first = status == HandoverStatus.CONFIRMED and rng.random() < REFUSED_FIRST
        assert project.location is not None  # noqa: S101 — every synthetic project has one
        receiver = slot.receivers.get(project.location.pk)
        org = receiver[0] if receiver else None
        recipient = receiver[1] if receiver else None
        name = "" if org is not None else f"{project.location.name}{AGENCIES[project.sector]}"
        day = min(accepted_on + dt.timedelta(days=rng.randint(*HANDOVER_GAP)), slot.end)
        value = min(project.approved_budget, _money(float(project.approved_budget) * rng.uniform(0.88, 1.0)))
        handover = Handover(
            project_id=project.pk,
            date=day,
            receiving_organization=org,
            receiving_name=name,
            asset_value=value,
            status=HandoverStatus.PENDING,
            recorded_by=officer,
            round=0,
        )
        # The steps: (action, actor, status before, status after, comment), each some days after the last.
        plan: list[tuple[str, User | None, str | None, str, str]] = []
        reason = synthetic_texts.marked(rng.choice(synthetic_texts.REFUSALS))[0]
        plan.append(("handover_recorded", officer, None, HandoverStatus.PENDING, MARK))
        if refused_first:
            plan.append(("handover_refused", recipient, HandoverStatus.PENDING, HandoverStatus.REFUSED, reason))
            plan.append(("handover_recorded", officer, HandoverStatus.REFUSED, HandoverStatus.PENDING, MARK))
        if status == HandoverStatus.CONFIRMED:
            plan.append(("handover_confirmed", recipient, HandoverStatus.PENDING, HandoverStatus.CONFIRMED, MARK))
        elif status == HandoverStatus.REFUSED:
            plan.append(("handover_refused", recipient, HandoverStatus.PENDING, HandoverStatus.REFUSED, reason))
        received_by = {"id": org.pk, "label": org.name} if org is not None else name
        events: list[HistoryEvent] = []
        on, at = day, last_at
        for i, (action, actor, old, new, comment) in enumerate(plan):
            if i:
                on = min(on + dt.timedelta(days=rng.randint(*ANSWER_GAP)), slot.end)
            at = max(_at(on, rng), at + dt.timedelta(minutes=rng.randint(1, 30)))
            if action == "handover_recorded":
                changes = {
                    "handover_status": {"old": old, "new": new},
                    "handover_date": {"old": None, "new": day.isoformat()},
                    "receiving_organization": {"old": None, "new": received_by},
                    "asset_value": {"old": None, "new": str(value)},
                }
                handover.round += 1
                handover.recorded_at = at
            else:
                changes = {"handover_status": {"old": old, "new": new}}
            if action == "handover_refused":
                handover.refused_by, handover.refused_at, handover.refusal_reason = actor, at, reason
            if action == "handover_confirmed":
                handover.confirmed_by, handover.confirmed_at = actor, at
            handover.status = new
            events.append(
                HistoryEvent(
                    actor=actor,
                    at=at,
                    content_type=self.project_ct,
                    object_id=project.pk,
                    object_repr=label,
                    action=action,
                    changes=changes,
                    comment=comment,
                )
            )
        if handover.status != HandoverStatus.CONFIRMED:
            return handover, events, []
        return handover, events, self._operation(project, rng, handover, recipient)

    @staticmethod
    def _operation(
        project: Project, rng: random.Random, handover: Handover, recipient: User | None
    ) -> list[OperationReport]:
        assert project.approved_budget is not None  # noqa: S101 — an accepted project was approved
        budget = float(project.approved_budget)
        running = budget * rng.uniform(0.01, 0.04)  # a year's operating cost when fully in use
        upkeep = budget * rng.uniform(0.003, 0.012)
        earns = project.is_self_sustaining or rng.random() < 0.1
        # A self-sustaining project's revenue covers its running costs more often than not; fees elsewhere less.
        covers = rng.uniform(0.6, 1.6) if project.is_self_sustaining else rng.uniform(0.05, 0.3)
        payer = (
            CostPayer.OPERATOR
            if project.is_self_sustaining and rng.random() < 0.8
            else _pick(
                rng,
                {CostPayer.RECIPIENT_GOVERNMENT: 80, CostPayer.ASSISTING_SIDE: 12, CostPayer.OTHER: 8},
            )
        )
        staff = rng.randint(20, 300) if project.is_self_sustaining else rng.randint(2, 40)
        served = project.reached_beneficiaries or project.expected_beneficiaries or 0
        late = rng.random() < LATE_FILER
        assert handover.confirmed_at is not None  # noqa: S101 — only a confirmed handover is reported on
        confirmed_on = timezone.localtime(handover.confirmed_at, TZ).date() + dt.timedelta(days=1)
        last_year = AS_OF.year - 1
        status = _pick(rng, OPERATION_FIRST)
        reports = []
        for year in range(handover.date.year, last_year + 1):
            if year > handover.date.year:
                status = _pick(rng, OPERATION_NEXT[status])
            skipped = rng.random() < MISSING_YEAR or (late and year == last_year)
            use = RUNNING[status]
            utilisation = rng.randint(*UTILISATION[status])
            drift = rng.uniform(0.9, 1.1)
            if skipped:
                continue
            operating = _yuan(running * use * drift) if use else None
            maintenance = _yuan(upkeep * max(use, 0.3) * drift) if status != OperationStatus.DEMOLISHED else None
            costs = float(operating or 0) + float(maintenance or 0)
            revenue = _yuan(costs * covers * drift) if earns and use and costs else None
            filed = max(dt.date(year + 1, 1, 1) + dt.timedelta(days=rng.randint(0, 90)), confirmed_on)
            reports.append(
                OperationReport(
                    project_id=project.pk,
                    year=year,
                    status=status,
                    utilisation=utilisation,
                    operating_cost=operating,
                    maintenance_cost=maintenance,
                    cost_payer=payer if costs else "",
                    revenue=revenue,
                    jobs=round(staff * use),
                    people_served=round(served * utilisation / 100 * drift),
                    notes=synthetic_texts.marked(synthetic_texts.OPERATION_NOTES[status])[0],
                    filed_by=recipient,
                    filed_at=_at(min(filed, AS_OF), rng),
                )
            )
        return reports

    @staticmethod
    def _inspection(pk: int, rng: random.Random, on: dt.date, kind: str, failed: bool, by: User) -> Inspection:
        return Inspection(
            project_id=pk,
            date=on,
            kind=kind,
            result=InspectionResult.FAILED if failed else InspectionResult.PASSED,
            findings=synthetic_texts.marked(rng.choice(FINDINGS))[0] if failed else "",
            inspector=by,
            recorded_at=_at(on, rng),
        )

    @staticmethod
    def _rectification(
        pk: int, rng: random.Random, on: dt.date, deadline: dt.date, closed_on: dt.date | None, by: User
    ) -> Rectification:
        return Rectification(
            project_id=pk,
            finding=synthetic_texts.marked(rng.choice(FINDINGS))[0],
            deadline=deadline,
            closed_on=closed_on,
            status=RectificationStatus.VERIFIED if closed_on else RectificationStatus.OPEN,
            closure_note=synthetic_texts.marked(synthetic_texts.CLOSED)[0] if closed_on else "",
            created_by=by,
            closed_by=by if closed_on else None,
            created_at=_at(on, rng),
        )

    @staticmethod
    def _flow(slot: Slot, pk: int, kind: str, amount: Decimal, on: dt.date, source: str, by: User) -> FundFlow:
        return FundFlow(
            pairing=slot.pairing,
            project_id=pk,
            kind=kind,
            amount=amount,
            date=min(on, slot.end),
            source=source,
            note=MARK,
            is_synthetic=True,
            recorded_by=by,
        )


# --- writing -------------------------------------------------------------------------------------------------


def _tables() -> list[tuple[str, str]]:
    """(what, DELETE statement) in an order the foreign keys allow, for synthetic projects and their rows."""
    synthetic = f"SELECT id FROM {Project._meta.db_table} WHERE is_synthetic"  # noqa: S608 — SQL built from our own identifiers; values are bound parameters
    rows = [
        ("fund flows", f"DELETE FROM {FundFlow._meta.db_table} WHERE is_synthetic AND project_id IN ({synthetic})"),  # noqa: S608 — SQL built from our own identifiers; values are bound parameters
        (
            "operation report photos (links)",
            f"DELETE FROM {OperationReport.photos.through._meta.db_table} WHERE operationreport_id IN "  # noqa: S608 — SQL built from our own identifiers; values are bound parameters
            f"(SELECT id FROM {OperationReport._meta.db_table} WHERE project_id IN ({synthetic}))",
        ),
        (
            "suspected duplicates",
            f"DELETE FROM {SuspectedDuplicate._meta.db_table} WHERE project_a_id IN ({synthetic})"  # noqa: S608 — SQL built from our own identifiers; values are bound parameters
            f" OR project_b_id IN ({synthetic})",
        ),
        (
            "duplicate dismissals",
            f"DELETE FROM {DuplicateDismissal._meta.db_table} WHERE project_id IN ({synthetic})"  # noqa: S608 — SQL built from our own identifiers; values are bound parameters
            f" OR candidate_id IN ({synthetic})",
        ),
    ]
    for what, model in (
        ("operation reports", OperationReport),
        ("handovers", Handover),
        ("rectifications", Rectification),
        ("documents (rows; files stay in storage)", Document),
        ("progress reports", ProgressReport),
        ("inspections", Inspection),
        ("milestones", Milestone),
    ):
        rows.append((what, f"DELETE FROM {model._meta.db_table} WHERE project_id IN ({synthetic})"))  # noqa: S608 — SQL built from our own identifiers; values are bound parameters
    rows.append(("projects", f"DELETE FROM {Project._meta.db_table} WHERE is_synthetic"))  # noqa: S608 — SQL built from our own identifiers; values are bound parameters
    return rows


def delete_synthetic(report: Report) -> None:
    """Delete the synthetic projects and everything hanging from them, history included (see the module's
    docstring: the one place that deletes history events, and only a synthetic project's)."""
    ct = ContentType.objects.get_for_model(Project)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {HistoryEvent._meta.db_table} WHERE content_type_id = %s AND object_id IN "  # noqa: S608 — SQL built from our own identifiers; values are bound parameters
            f"(SELECT id FROM {Project._meta.db_table} WHERE is_synthetic)",
            [ct.pk],
        )
        report.deleted["history events"] = cursor.rowcount
        # Flows someone recorded by hand against a synthetic project stay, unlinked.
        cursor.execute(
            f"UPDATE {FundFlow._meta.db_table} SET project_id = NULL WHERE NOT is_synthetic AND project_id IN "  # noqa: S608 — SQL built from our own identifiers; values are bound parameters
            f"(SELECT id FROM {Project._meta.db_table} WHERE is_synthetic)"
        )
        report.deleted["fund flows unlinked (not synthetic)"] = cursor.rowcount
        for what, sql in _tables():
            cursor.execute(sql)
            report.deleted[what] = cursor.rowcount


def _reserve_ids(n: int) -> int:
    """The first of N consecutive project ids for this run: after every project id still referred to (by a
    project, a fund flow or a history event), so the same data gives the same ids. On PostgreSQL the table is
    locked against other writers until the end of the transaction and the id sequence moved past the range."""
    table = Project._meta.db_table
    ct = ContentType.objects.get_for_model(Project)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(
            f"SELECT GREATEST(COALESCE((SELECT MAX(id) FROM {table}), 0),"  # noqa: S608 — SQL built from our own identifiers; values are bound parameters
            f" COALESCE((SELECT MAX(project_id) FROM {FundFlow._meta.db_table}), 0),"
            f" COALESCE((SELECT MAX(object_id) FROM {HistoryEvent._meta.db_table} WHERE content_type_id = %s), 0))"
            if connection.vendor == "postgresql"
            else f"SELECT MAX(COALESCE((SELECT MAX(id) FROM {table}), 0),"  # noqa: S608 — SQL built from our own identifiers; values are bound parameters
            f" COALESCE((SELECT MAX(project_id) FROM {FundFlow._meta.db_table}), 0),"
            f" COALESCE((SELECT MAX(object_id) FROM {HistoryEvent._meta.db_table} WHERE content_type_id = %s), 0))",
            [ct.pk],
        )
        first = int(cursor.fetchone()[0]) + 1
        if connection.vendor == "postgresql":
            # Never moves the sequence back: ids handed out before are never handed out again.
            cursor.execute(
                "SELECT setval(s::regclass, GREATEST(%s, COALESCE(pg_sequence_last_value(s::regclass), 1)))"
                " FROM pg_get_serial_sequence(%s, 'id') AS s",
                [first + n - 1, table],
            )
    return first


def _chunks(n: int, size: int) -> Iterator[range]:
    for start in range(0, n, size):
        yield range(start, min(n, start + size))


def generate(
    *,
    projects: int,
    seed: int = 1,
    replace: bool = False,
    progress: Callable[[str], None] | None = None,
) -> Report:
    """Write PROJECTS synthetic projects with their history, reports, inspections, rectifications and flows.

    Refuses when synthetic projects exist unless REPLACE, which deletes them (and their rows) first. One
    transaction: all or nothing."""
    say = progress or (lambda message: None)
    report = Report()
    started = time.perf_counter()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The foreign keys are DEFERRABLE INITIALLY DEFERRED: checked at the commit, each inserted row would
            # wait in the server's queue of pending checks until then, and that queue grows with the projects
            # (about 0.45 MB of the backend's memory per 1 000 projects, some 450 MB at a million). Checked at
            # the end of each statement instead, the same checks run and the queue never holds more than a batch.
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        existing = Project.objects.filter(is_synthetic=True).count()
        if existing and not replace:
            raise AlreadyGenerated(existing)
        if existing:
            delete_synthetic(report)
            report.timings["delete"] = time.perf_counter() - started
            say(f"Deleted {existing} synthetic projects and their rows in {report.timings['delete']:.1f} s.")
        drawer = Drawer(seed, slots(), ContentType.objects.get_for_model(Project))
        first = _reserve_ids(projects)
        report.first_id, report.last_id = first, first + projects - 1
        t_draw = t_write = 0.0
        for chunk in _chunks(projects, CHUNK):
            t0 = time.perf_counter()
            drawn = [drawer.draw(i, first + i) for i in chunk]
            t1 = time.perf_counter()
            _write(drawn, report)
            t_draw += t1 - t0
            t_write += time.perf_counter() - t1
            say(f"  {chunk.stop:>8} / {projects} projects")
        report.timings["draw"], report.timings["write"] = t_draw, t_write
        if connection.vendor == "postgresql":
            # Back to the foreign keys' own timing, for a caller whose transaction goes on (the project declares
            # no constraint deferrable but initially immediate, so ALL DEFERRED is exactly that).
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    if connection.vendor == "postgresql" and connection.get_autocommit():
        # Statistics for the planner, and the visibility map: without it a fresh table is counted by reading
        # every row (COUNT(*) of 100k projects: ~45 ms instead of ~10 ms with an index-only scan).
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            for model in (
                Project,
                HistoryEvent,
                ProgressReport,
                Inspection,
                Rectification,
                FundFlow,
                Handover,
                OperationReport,
            ):
                cursor.execute(f"VACUUM (ANALYZE) {model._meta.db_table}")
            # The rollups' few thousand rows were rewritten by every statement above (a row version each time):
            # written again compactly, or the pages that read them scan megabytes of dead versions (the flows'
            # rollup: 16 MB for 6 509 rows after 100 000 projects; 0.5 MB compact, its grouped sum 5.5 → 1 ms).
            for rollup in rollups.registered():
                cursor.execute(f"VACUUM (FULL, ANALYZE) {rollup.model._meta.db_table}")
        report.timings["vacuum"] = time.perf_counter() - t0
    report.timings["total"] = time.perf_counter() - started
    return report


def _write(drawn: list[Drawn], report: Report) -> None:
    Project.objects.bulk_create([d.project for d in drawn], batch_size=BATCH_SIZE)
    HistoryEvent.objects.bulk_create([e for d in drawn for e in d.events], batch_size=BATCH_SIZE * 2)
    ProgressReport.objects.bulk_create([r for d in drawn for r in d.reports], batch_size=BATCH_SIZE * 2)
    inspections = [i for d in drawn for i, _ in d.inspections]
    Inspection.objects.bulk_create(inspections, batch_size=BATCH_SIZE * 2)
    rects = []
    for d in drawn:
        for inspection, items in d.inspections:
            for rect in items:
                rect.inspection_id = inspection.pk
                rects.append(rect)
    Rectification.objects.bulk_create(rects, batch_size=BATCH_SIZE * 2)
    FundFlow.objects.bulk_create([f for d in drawn for f in d.flows], batch_size=BATCH_SIZE * 2)
    handovers = [d.handover for d in drawn if d.handover is not None]
    Handover.objects.bulk_create(handovers, batch_size=BATCH_SIZE * 2)
    operation = [r for d in drawn for r in d.operation]
    OperationReport.objects.bulk_create(operation, batch_size=BATCH_SIZE * 2)
    report.created["projects"] += len(drawn)
    report.created["history events"] += sum(len(d.events) for d in drawn)
    report.created["progress reports"] += sum(len(d.reports) for d in drawn)
    report.created["inspections"] += len(inspections)
    report.created["rectifications"] += len(rects)
    report.created["fund flows"] += sum(len(d.flows) for d in drawn)
    report.created["handovers"] += len(handovers)
    report.created["operation reports"] += len(operation)
    report.states.update(d.project.state for d in drawn)
