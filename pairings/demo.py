"""Synthetic demo figures for `make run`, on top of the real programmes and pairings of `pairings.reference`.

Nothing here is a real figure. Every row written is flagged `is_synthetic=True` (fiscal revenues also carry the
source 合成演示数字, "synthetic demo figure"), so that nobody mistakes it for data. The texts it writes (sources,
notes, topics, batches) are stored in Chinese and shown in English on an English page (`demo_texts`,
core/demo_texts.py). It writes:

- fiscal revenues of the assisting governments for the years the funding rules need, loosely realistic in scale
  (a 2007 level per government, grown by a fixed yearly rate per period, with a small seeded jitter);
- annual mandates computed by `services.mandate_compute` from those revenues, for every pairing and programme
  year up to `LAST_YEAR`; Zhuhai → Miansi's mandate is set by hand as an allocation from Guangdong → Wenchuan's;
- fund flows (pledges, some of them committed, commitments, disbursements, expenditures) whose fulfilment varies
  between pairings (from about 40 % to about 110 % of the mandate), with Wenchuan's received ÷ committed at about
  68 % over all its pairings, as the published figure of April 2010 (521.53 of 762.02 亿 yuan);
- people deployed (cadre batches; teachers and doctors, group-style in Xizang from 2015/2016) and trainings.

Everything is deterministic (fixed tables and `random.Random` seeded with fixed strings) and idempotent: a revenue
or mandate that exists is left alone, and a pairing that already has synthetic flows, deployments or trainings
gets none added.

The Wenchuan pairings ended in 2010, and the services refuse new flows on an ended pairing. Their synthetic flows
are therefore backfilled here directly, with the same validations and the same history events that
`services.fund_flow_record` writes (see `_backfill_flow`).
"""

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Organization
from core.services import history_record

from . import demo_texts, rules, services
from .models import (
    AnnualMandate,
    Deployment,
    FiscalRevenue,
    FlowKind,
    FlowSource,
    FundFlow,
    FundingBasis,
    Pairing,
    PairingStatus,
    Program,
    Training,
)
from .reference import MIANSI_CODE, WENCHUAN, XINJIANG, XIZANG

SYNTHETIC_SOURCE = demo_texts.SYNTHETIC_SOURCE[0]
#: Mandates and flows are generated up to this year for programmes that have no end year.
LAST_YEAR = 2020
YI = Decimal(100_000_000)  # 亿 yuan
WAN = Decimal(10_000)  # flows are rounded to 万 yuan

#: A 2007 level of general public budget revenue, in 亿 yuan, per assisting government (by its region code).
#: Loosely realistic in scale; not a statistic.
REVENUE_2007 = {
    "110000": 1490,  # Beijing
    "120000": 540,  # Tianjin
    "130000": 790,  # Hebei
    "140000": 600,  # Shanxi
    "210000": 1080,  # Liaoning
    "220000": 320,  # Jilin
    "230000": 440,  # Heilongjiang
    "310000": 2070,  # Shanghai
    "320000": 2240,  # Jiangsu
    "330000": 1650,  # Zhejiang
    "340000": 540,  # Anhui
    "350000": 700,  # Fujian
    "360000": 390,  # Jiangxi
    "370000": 1680,  # Shandong
    "410000": 860,  # Henan
    "420000": 590,  # Hubei
    "430000": 610,  # Hunan
    "440000": 2790,  # Guangdong
    "440300": 660,  # Shenzhen
    "440400": 95,  # Zhuhai
    "500000": 440,  # Chongqing
    "610000": 480,  # Shaanxi
}
DEFAULT_REVENUE_2007 = 500


def _growth(year: int) -> float:
    """The synthetic growth of revenue from YEAR − 1 to YEAR."""
    if year <= 2012:
        return 1.16
    if year <= 2015:
        return 1.11
    return 1.06


def synthetic_revenue(region_code: str, year: int) -> Decimal:
    """A loosely realistic revenue for the government of REGION_CODE in YEAR, in yuan (deterministic)."""
    level = float(REVENUE_2007.get(region_code, DEFAULT_REVENUE_2007))
    for y in range(2008, year + 1):
        level *= _growth(y)
    for y in range(year + 1, 2008):
        level /= _growth(y)
    level *= random.Random(f"duikou-revenue:{region_code}:{year}").uniform(0.97, 1.03)  # noqa: S311 — deterministic synthetic/demo data, not security
    return (Decimal(str(round(level, 2))) * YI).quantize(WAN)


# --- the plan of a pairing's synthetic figures -------------------------------------------------------------

#: Mandate fulfilment (received ÷ required) aimed at, pairing by pairing, in turn.
FULFILMENT_TARGETS = (0.42, 1.1, 0.78, 0.95, 0.6, 1.05, 0.88, 0.5, 0.7, 1.0)
#: Wenchuan's received ÷ committed over all its pairings (Economic Daily, 30 April 2010: 521.53 ÷ 762.02).
WENCHUAN_RECEIVED_SHARE = Decimal("0.684")
#: Zhuhai → Miansi's allocation from Guangdong → Wenchuan, by year (340 million yuan in all, as published).
MIANSI_ALLOCATION = {2008: Decimal(120_000_000), 2009: Decimal(150_000_000), 2010: Decimal(70_000_000)}
MIANSI_REASON = demo_texts.MIANSI_REASON[0]


@dataclass
class PlannedFlow:
    kind: str
    amount: Decimal
    date: dt.date
    source: str = FlowSource.ASSISTING_FISCAL
    fulfils: "PlannedFlow | None" = None  # a commitment's pledge
    note: str = ""
    saved: FundFlow | None = None


@dataclass
class Report:
    created: Counter[str] = field(default_factory=Counter)
    skipped: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


def _money(value: Decimal) -> Decimal:
    return (value / WAN).quantize(Decimal(1), rounding=ROUND_HALF_UP) * WAN


def _window(pairing: Pairing, year: int) -> tuple[dt.date, dt.date]:
    """The part of YEAR in which the pairing ran (and which is not in the future)."""
    start = max(dt.date(year, 1, 1), pairing.start_date)
    end = min(dt.date(year, 12, 31), pairing.end_date or dt.date(year, 12, 31), timezone.localdate())
    return start, end


def _on(window: tuple[dt.date, dt.date], fraction: float) -> dt.date:
    start, end = window
    return start + dt.timedelta(days=int((end - start).days * fraction))


def mandate_years(pairing: Pairing) -> list[int]:
    """The years in which the programme's rule gives PAIRING a mandate (none where no rule version applies)."""
    if not pairing.mandate_from_rule:
        return []
    program = pairing.program
    first = max(program.start_year, pairing.start_date.year)
    last = min(program.end_year or LAST_YEAR, pairing.end_date.year if pairing.end_date else LAST_YEAR, LAST_YEAR)
    return [
        year
        for year in range(first, last + 1)
        if services.current_rule(program, year, pairing.assisting_organization) is not None
    ]


def plan_flows(pairing: Pairing, mandates: dict[int, Decimal], target: float, rng: random.Random) -> list[PlannedFlow]:
    """Synthetic flows for PAIRING's mandate years that reach about TARGET × the mandate in received money."""
    wenchuan = pairing.program.code == WENCHUAN
    if wenchuan:  # commitments above the mandate, received about 68 % of committed (scaled later)
        received_share = rng.choice((0.6, 0.68, 0.76, 0.84))
        committed_share = max(target / received_share, 0.7)
    else:
        committed_share = max(rng.uniform(0.95, 1.25), target / 0.95)
        received_share = target / committed_share
    flows: list[PlannedFlow] = []
    for year, required in sorted(mandates.items()):
        if required <= 0:
            continue
        window = _window(pairing, year)
        if window[1] < window[0]:
            continue
        jitter = Decimal(str(round(rng.uniform(0.9, 1.1), 3)))
        committed = _money(required * Decimal(str(committed_share)) * jitter)
        received = _money(committed * Decimal(str(received_share)))
        spent = _money(received * Decimal(str(round(rng.uniform(0.7, 0.95), 3))))
        source = FlowSource.ENTERPRISE if (not wenchuan and rng.random() < 0.15) else FlowSource.ASSISTING_FISCAL
        if rng.random() < 0.5:  # a pledge made early in the year, committed later
            pledged = _money(committed * Decimal("0.6"))
            pledge = PlannedFlow(FlowKind.PLEDGE, pledged, _on(window, 0.05), source, note=demo_texts.PLEDGE_NOTE[0])
            flows += [
                pledge,
                PlannedFlow(FlowKind.COMMITMENT, pledged, _on(window, 0.2), source, fulfils=pledge),
                PlannedFlow(FlowKind.COMMITMENT, committed - pledged, _on(window, 0.35), source),
            ]
        else:
            flows.append(PlannedFlow(FlowKind.COMMITMENT, committed, _on(window, 0.15), source))
        if rng.random() < 0.3:  # a pledge still outstanding at the end of the year
            flows.append(
                PlannedFlow(
                    FlowKind.PLEDGE,
                    _money(required * Decimal("0.1")),
                    _on(window, 0.85),
                    source,
                    note=demo_texts.OPEN_PLEDGE_NOTE[0],
                )
            )
        flows += [
            PlannedFlow(FlowKind.DISBURSEMENT, _money(received * Decimal("0.55")), _on(window, 0.45), source),
            PlannedFlow(FlowKind.DISBURSEMENT, received - _money(received * Decimal("0.55")), _on(window, 0.8), source),
            PlannedFlow(FlowKind.EXPENDITURE, _money(spent * Decimal("0.5")), _on(window, 0.6), source),
            PlannedFlow(FlowKind.EXPENDITURE, spent - _money(spent * Decimal("0.5")), _on(window, 0.95), source),
        ]
    return [f for f in flows if f.amount > 0]


def scale_received(plans: list[list[PlannedFlow]], share: Decimal) -> None:
    """Scale the disbursements (and with them the expenditures) of PLANS so that received ÷ committed = SHARE."""
    committed = sum((f.amount for p in plans for f in p if f.kind == FlowKind.COMMITMENT), Decimal(0))
    received = sum((f.amount for p in plans for f in p if f.kind == FlowKind.DISBURSEMENT), Decimal(0))
    if not committed or not received:
        return
    factor = share * committed / received
    for plan in plans:
        for flow in plan:
            if flow.kind in (FlowKind.DISBURSEMENT, FlowKind.EXPENDITURE):
                flow.amount = max(_money(flow.amount * factor), WAN)


# --- writing -----------------------------------------------------------------------------------------------


def _backfill_flow(pairing: Pairing, flow: PlannedFlow) -> FundFlow:
    """Record FLOW on an ended pairing, as `services.fund_flow_record` would have while it was active: the date
    within the pairing's term, a positive amount, a pledge of the same pairing committed once, and the same two
    history events (with a comment saying it was backfilled)."""
    assert pairing.status == PairingStatus.ENDED  # noqa: S101 — an invariant of our own code, not a check of input
    assert flow.amount > 0 and pairing.start_date <= flow.date <= (pairing.end_date or flow.date)  # noqa: PT018, S101 — an invariant of our own code, not a check of input
    pledge = flow.fulfils.saved if flow.fulfils else None
    assert pledge is None or (pledge.pairing_id == pairing.pk and pledge.kind == FlowKind.PLEDGE)  # noqa: S101 — an invariant of our own code, not a check of input
    saved = FundFlow.objects.create(
        pairing=pairing,
        kind=flow.kind,
        amount=flow.amount,
        date=flow.date,
        source=flow.source,
        pledge=pledge,
        note=flow.note,
        is_synthetic=True,
    )
    comment = demo_texts.BACKFILLED[0]
    history_record(
        obj=pairing,
        action="flow_recorded",
        changes={
            "kind": (None, flow.kind),
            "amount": (None, flow.amount),
            "date": (None, flow.date),
            "source": (None, flow.source),
        },
        comment=comment,
    )
    history_record(obj=saved, action="created", changes={"amount": (None, flow.amount)}, comment=comment)
    return saved


def _write_flows(pairing: Pairing, plan: list[PlannedFlow]) -> int:
    for flow in plan:
        if pairing.status == PairingStatus.ACTIVE:
            flow.saved = services.fund_flow_record(
                by=None,
                pairing=pairing,
                kind=flow.kind,
                amount=flow.amount,
                date=flow.date,
                source=flow.source,
                pledge=flow.fulfils.saved if flow.fulfils else None,
                note=flow.note,
                is_synthetic=True,
            )
        else:
            flow.saved = _backfill_flow(pairing, flow)
    return len(plan)


XIZANG_CADRE_BATCHES = [(n, 1995 + 3 * (n - 1)) for n in range(1, 11)]  # the 10th batch in 2022
XINJIANG_CADRE_BATCHES = [(n, 2010 + 3 * (n - 1)) for n in range(1, 5)]
TRAINING_TOPICS = tuple(chinese for chinese, _english in demo_texts.TRAINING_TOPICS)


def _deploy(pairing: Pairing, rng: random.Random) -> int:
    """Cadre batches every three years; teachers and doctors (group-style in Xizang from 2015/2016); technicians."""
    today = timezone.localdate()
    xizang = pairing.program.code == XIZANG
    rows: list[dict[str, Any]] = []
    for number, year in XIZANG_CADRE_BATCHES if xizang else XINJIANG_CADRE_BATCHES:
        start = max(dt.date(year, 7, 1), pairing.start_date)
        if start > today:
            continue
        rows.append(
            {
                "kind": "cadre",
                "batch": demo_texts.cadre_batch(number)[0],
                "headcount": rng.randint(25, 60) + 3 * number,
                "start_date": start,
                "end_date": start.replace(year=start.year + 3) - dt.timedelta(days=1),
            }
        )
    for year in range(max(pairing.start_date.year, 2005), LAST_YEAR + 1, 1 if xizang else 2):
        if xizang and year < 2015 and year % 5:
            continue
        rows.append(
            {
                "kind": "doctor",
                "batch": f"{year}",
                "headcount": rng.randint(8, 25),
                "start_date": dt.date(year, 8, 1),
                "end_date": dt.date(year + 1, 7, 31),
                "group_style": xizang and year >= 2015,
            }
        )
        rows.append(
            {
                "kind": "teacher",
                "batch": f"{year}",
                "headcount": rng.randint(10, 40),
                "start_date": dt.date(year, 9, 1),
                "end_date": dt.date(year + 1, 7, 15),
                "group_style": xizang and year >= 2016,
            }
        )
    if not xizang:
        rows.append(
            {
                "kind": "technician",
                "batch": "2012",
                "headcount": rng.randint(5, 20),
                "start_date": dt.date(2012, 4, 1),
                "end_date": dt.date(2012, 10, 31),
            }
        )
    rows = [row for row in rows if pairing.start_date <= row["start_date"] <= today]
    for row in rows:
        services.deployment_record(
            by=None, pairing=pairing, note=demo_texts.SYNTHETIC_NOTE[0], is_synthetic=True, **row
        )
    return len(rows)


def _train(pairing: Pairing, rng: random.Random) -> int:
    years = range(max(pairing.start_date.year, 2008), LAST_YEAR + 1, 2)
    written = 0
    for i, year in enumerate(years):
        day = max(dt.date(year, rng.randint(3, 10), rng.randint(1, 28)), pairing.start_date)
        services.training_record(
            by=None,
            pairing=pairing,
            topic=TRAINING_TOPICS[i % len(TRAINING_TOPICS)],
            people_trained=rng.randint(30, 300),
            days=Decimal(rng.choice((2, 3, 5, 7, 10))),
            start_date=day,
            note=demo_texts.SYNTHETIC_NOTE[0],
            is_synthetic=True,
        )
        written += 1
    return written


class MissingReferenceData(Exception):
    pass


#: The demo's own walk (accounts.demo) is in Guangdong's pairings: they all get figures.
DEMO_PARTY = "440000"


def demo_pairings(pairings: list[Pairing]) -> list[Pairing]:
    """The pairings that get synthetic figures: every Wenchuan pairing (the programme is small and closed), every
    pairing of Guangdong and its cities (the demo users' own), and one pairing per other assisting party and
    programme (its first by recipient code), so that every party has figures to rank while `make run` stays quick.
    A breakdown pairing goes with its parent."""
    chosen: dict[int, Pairing] = {}
    first_of_party: set[tuple[int, int]] = set()
    for pairing in sorted(pairings, key=lambda p: (p.program_id, p.recipient_region.code)):
        org = pairing.assisting_organization
        region = org.region.code if org.region else ""
        if pairing.parent_id is not None:
            continue
        key = (pairing.program_id, org.pk)
        if pairing.program.code == WENCHUAN or region[:2] == DEMO_PARTY[:2] or key not in first_of_party:
            chosen[pairing.pk] = pairing
            first_of_party.add(key)
    children = [p for p in pairings if p.parent_id in chosen]
    return [p for p in pairings if p.pk in chosen] + children


@transaction.atomic
def seed_pairings_demo() -> Report:
    report = Report()
    programs = {p.code: p for p in Program.objects.filter(code__in=[XIZANG, WENCHUAN, XINJIANG])}
    if len(programs) < 3:
        raise MissingReferenceData("the programmes are not loaded")
    pairings = list(
        Pairing.objects.filter(program__in=programs.values())
        .select_related("program", "assisting_organization__region", "recipient_region", "parent")
        .order_by("program__start_year", "id")
    )
    pairings = demo_pairings(pairings)
    top = [p for p in pairings if p.parent_id is None]

    # 1. Revenues for the years the rules need.
    needed: set[tuple[Organization, int]] = set()
    for pairing in top:
        for year in mandate_years(pairing):
            rule = services.current_rule(pairing.program, year, pairing.assisting_organization)
            if rule is None or rule.basis != FundingBasis.FISCAL_REVENUE:
                continue
            spec = rules.Rule(basis=rule.basis, rate=rule.rate, escalation=rule.escalation)
            needed.add((pairing.assisting_organization, rules.basis_year(spec, year, rule.first_year)))
    existing = set(FiscalRevenue.objects.values_list("organization_id", "year"))
    for org, year in sorted(needed, key=lambda item: (item[0].pk, item[1])):
        if (org.pk, year) in existing:
            report.skipped["fiscal revenues"] += 1
            continue
        region_code = org.region.code if org.region else ""
        services.fiscal_revenue_record(
            by=None,
            organization=org,
            year=year,
            amount=synthetic_revenue(region_code, year),
            source=SYNTHETIC_SOURCE,
            is_synthetic=True,
        )
        report.created["fiscal revenues"] += 1

    # 2. Mandates: computed from the rule; the Miansi breakdown allocated by hand.
    have = set(AnnualMandate.objects.filter(pairing__in=pairings).values_list("pairing_id", "year"))
    for pairing in top:
        for i, year in enumerate(mandate_years(pairing)):
            if (pairing.pk, year) in have:
                report.skipped["mandates"] += 1
                continue
            quota = None
            if pairing.program.code != WENCHUAN:
                quota = 40 + 5 * (i % 4)
            services.mandate_compute(by=None, pairing=pairing, year=year, personnel_quota=quota)
            report.created["mandates"] += 1
    for pairing in pairings:
        if pairing.parent_id is None or pairing.recipient_region.code != MIANSI_CODE:
            continue
        for year, amount in MIANSI_ALLOCATION.items():
            if (pairing.pk, year) in have:
                report.skipped["mandates"] += 1
                continue
            services.mandate_set(by=None, pairing=pairing, year=year, funds_required=amount, reason=MIANSI_REASON)
            report.created["mandates"] += 1

    # 3. Flows, planned for every pairing first so that Wenchuan's received ÷ committed can be set over all of it.
    required: dict[int, dict[int, Decimal]] = {}
    for m in AnnualMandate.objects.filter(pairing__in=pairings):
        required.setdefault(m.pairing_id, {})[m.year] = m.funds_required
    allocated: dict[tuple[int, int], Decimal] = {}
    for pairing in pairings:
        if pairing.parent_id:
            for year, amount in required.get(pairing.pk, {}).items():
                allocated[(pairing.parent_id, year)] = allocated.get((pairing.parent_id, year), Decimal(0)) + amount
    with_flows = set(FundFlow.objects.filter(is_synthetic=True).values_list("pairing_id", flat=True).distinct())
    plans: dict[int, list[PlannedFlow]] = {}
    for index, pairing in enumerate(pairings):
        if pairing.pk in with_flows:
            report.skipped["pairings with flows"] += 1
            continue
        # A parent's own flows cover what it did not allocate to the pairings broken down from it.
        own = {
            y: amount - allocated.get((pairing.pk, y), Decimal(0)) for y, amount in required.get(pairing.pk, {}).items()
        }
        rng = random.Random(  # noqa: S311 — deterministic synthetic/demo data, not security
            f"duikou-flows:{pairing.program.code}:{pairing.assisting_organization.name}:{pairing.recipient_region.code}"
        )
        target = FULFILMENT_TARGETS[index % len(FULFILMENT_TARGETS)]
        plans[pairing.pk] = plan_flows(pairing, own, target, rng)
    wenchuan_plans = [plans[p.pk] for p in pairings if p.pk in plans and p.program.code == WENCHUAN]
    if len(wenchuan_plans) == sum(1 for p in pairings if p.program.code == WENCHUAN):
        scale_received(wenchuan_plans, WENCHUAN_RECEIVED_SHARE)
    for pairing in pairings:
        if pairing.pk in plans:
            report.created["fund flows"] += _write_flows(pairing, plans[pairing.pk])

    # 4. People: deployments and trainings on the running pairings (the services refuse them on ended ones).
    deployed = set(Deployment.objects.filter(is_synthetic=True).values_list("pairing_id", flat=True).distinct())
    trained = set(Training.objects.filter(is_synthetic=True).values_list("pairing_id", flat=True).distinct())
    for pairing in pairings:
        if pairing.status != PairingStatus.ACTIVE:
            continue
        rng = random.Random(  # noqa: S311 — deterministic synthetic/demo data, not security
            f"duikou-people:{pairing.program.code}:{pairing.assisting_organization.name}:{pairing.recipient_region.code}"
        )
        if pairing.pk in deployed:
            report.skipped["pairings with deployments"] += 1
        else:
            report.created["deployments"] += _deploy(pairing, rng)
        if pairing.pk in trained:
            report.skipped["pairings with trainings"] += 1
        else:
            report.created["trainings"] += _train(pairing, rng)
    return report
