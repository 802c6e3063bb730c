"""What the published sources say about the three programmes, checked against the data loaded.

Each check is a `Check` with what was expected (the published figure and its source) and what the data gives. A
check that fails says by how much; a published total that the data cannot reach (projects, money recorded in this
database) is reported as a comparison, never faked. `manage.py check_reference` prints them; the tests assert them.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Q, Sum

from accounts.models import Organization
from core.models import COUNTY_LEVEL_AND_BELOW, Region, RegionLevel

from .models import FlowKind, FundFlow, Pairing, PairingStatus, Program
from .reference import WENCHUAN, XINJIANG, XIZANG

YI = Decimal(100_000_000)

#: The 82 county-level units of the 2010 Xinjiang pairings (pairings.md §1, current codes), by prefecture.
XINJIANG_UNITS_2010 = frozenset(
    [
        "653201",
        "653221",
        "653222",
        "653224",
        "653225",
        "653226",
        "653227",
        "652801",
        "652822",
        "652823",
        "652824",
        "652825",
        "652826",
        "652827",
        "652828",
        "652829",
        "652302",
        "652301",
        "652323",
        "652324",
        "652325",
        "652327",
        "652328",
        "654201",
        "654202",
        "654203",
        "654221",
        "654224",
        "654225",
        "654226",
        "654301",
        "654321",
        "654324",
        "654326",
        "654323",
        "654322",
        "654325",
        "653125",
        "653124",
        "653126",
        "653130",
        "653122",
        "653123",
        "653127",
        "653128",
        "653121",
        "653129",
        "653101",
        "653131",
        "653001",
        "653023",
        "653024",
        "653022",
        "654002",
        "654003",
        "654021",
        "654022",
        "654023",
        "654024",
        "654025",
        "654026",
        "654027",
        "654028",
        "652901",
        "652902",
        "652922",
        "652924",
        "652925",
        "652926",
        "652927",
        "652928",
        "652929",
        "653223",
        "650502",
        "650521",
        "650522",
        "652701",
        "652722",
        "652723",
        "650402",
        "650421",
        "650422",
    ]  # Turpan: Hunan
)
XINJIANG_DIVISIONS_2010 = frozenset({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14})
#: The assisting provinces named in pairings.md's sourced Xizang rows (by region code).
XIZANG_PROVINCES = frozenset(
    [
        "110000",
        "120000",
        "130000",
        "210000",
        "220000",
        "230000",
        "310000",
        "320000",
        "330000",
        "340000",
        "350000",
        "370000",
        "420000",
        "430000",
        "440000",
        "500000",
        "610000",
    ]
)
#: Published totals the data can be compared with (pairings.md §4), in projects and 亿 yuan.
PUBLISHED_TOTALS = (
    (WENCHUAN, "19 provinces: 4,121 projects, 843 亿 yuan arranged (announced 2011-05-10) [W6]", 4121, Decimal(843)),
    (XINJIANG, "2010–2019: more than 10,000 projects, 96.4 billion yuan [X27]", 10000, Decimal(964)),
    (XIZANG, "30 years to 2024: 8,204 projects, 643 亿 yuan [T22]", 8204, Decimal(643)),
)


@dataclass
class Check:
    name: str
    expected: str
    found: str
    passed: bool
    informational: bool = False  # a comparison with a published total: reported, never failed


def _party(org: Organization) -> Organization:
    """The party as a programme counts it: a city's government counts under its province (Shenzhen's Gansu pairing
    is Guangdong's)."""
    while org.parent_id is not None and org.kind == "municipal_government" and org.parent is not None:
        org = org.parent
    return org


def _top(program: str) -> list[Pairing]:
    return list(
        Pairing.objects.filter(program__code=program, parent__isnull=True).select_related(
            "assisting_organization__parent", "assisting_organization__region", "recipient_region"
        )
    )


def _active_on(pairings: list[Pairing], day: dt.date) -> list[Pairing]:
    return [p for p in pairings if p.start_date <= day and (p.end_date is None or p.end_date >= day)]


def covered_units(pairings: list[Pairing]) -> set[str]:
    """The county-level units the PAIRINGS claim, directly or through a whole-prefecture pairing (a prefecture
    recorded with its counties not sourced claims none)."""
    claiming = [p for p in pairings if not p.covers_unsourced]
    paths = [p.recipient_region.path for p in claiming]
    if not paths:
        return set()
    q = Q()
    for path in paths:
        q |= Q(path__startswith=path)
    return set(
        Region.objects.current()
        .filter(q, level__in=COUNTY_LEVEL_AND_BELOW)
        .exclude(level=RegionLevel.TOWNSHIP)
        .values_list("code", flat=True)
    )


def run_checks() -> list[Check]:
    checks: list[Check] = []

    def check(name: str, expected: str, found: str, passed: bool, informational: bool = False) -> None:
        checks.append(Check(name, expected, found, passed, informational))

    programmes = set(Program.objects.values_list("code", flat=True))
    missing = {WENCHUAN, XINJIANG, XIZANG} - programmes
    check("programmes", "Wenchuan, Xinjiang and Xizang loaded", ", ".join(sorted(programmes)) or "none", not missing)
    if missing:
        return checks

    # Wenchuan: 20 pairings from 19 provinces (Shenzhen's Gansu pairing counted under Guangdong) [W1][W4].
    wenchuan = _top(WENCHUAN)
    parties = {_party(p.assisting_organization).pk for p in wenchuan}
    check("Wenchuan pairings", "20 [W4]", str(len(wenchuan)), len(wenchuan) == 20)
    check("Wenchuan supporting provinces", "19 [W1]", str(len(parties)), len(parties) == 19)
    # Guangdong's 1 % was Wenchuan's: the Gansu areas ("广东省（主要是深圳市）") take no share of it.
    sharing = sorted(
        p.recipient_region.code
        for p in wenchuan
        if p.mandate_from_rule and _party(p.assisting_organization).name == "广东省人民政府"
    )
    check(
        "Guangdong's 1 % goes to Wenchuan alone",
        "only Guangdong → 汶川县 513221 takes a share of Guangdong's rule [W1]",
        ", ".join(sharing) or "none",
        sharing == ["513221"],
    )
    ended = all(p.status == PairingStatus.ENDED and p.end_date == dt.date(2010, 12, 31) for p in wenchuan)
    check("Wenchuan term", "ended 2010-12-31 (three years)", "all ended" if ended else "not all ended", ended)

    # Xinjiang: 19 parties → the 82 county-level units of 2010 and divisions 1–10, 13, 14 [X3].
    xinjiang = _top(XINJIANG)
    as_of_2010 = _active_on(xinjiang, dt.date(2010, 12, 31))
    parties_x = {p.assisting_organization_id for p in xinjiang}
    check(
        "Xinjiang assisting parties",
        "19 (18 provinces and municipalities and Shenzhen) [X3]",
        str(len(parties_x)),
        len(parties_x) == 19,
    )
    units = covered_units(as_of_2010)
    missed = sorted(XINJIANG_UNITS_2010 - units)
    check(
        "Xinjiang county-level units of 2010",
        "82 [X3]",
        f"{len(XINJIANG_UNITS_2010 & units)} of the 82 listed"
        + (f"; not covered: {', '.join(missed)}" if missed else "")
        + f"; {len({u for u in units - XINJIANG_UNITS_2010 if not u.startswith('XPCC-')})} more through "
        "whole-prefecture pairings (units set up later)",
        not missed,
    )
    divisions = {
        p.recipient_region.division_number for p in as_of_2010 if p.recipient_region.level == RegionLevel.XPCC_DIVISION
    }
    check(
        "Xinjiang XPCC divisions of 2010",
        "12: 1–10, 13, 14 [X3]",
        ", ".join(str(n) for n in sorted(d for d in divisions if d)),
        divisions == XINJIANG_DIVISIONS_2010,
    )
    later = {
        p.recipient_region.division_number for p in xinjiang if p.recipient_region.level == RegionLevel.XPCC_DIVISION
    }
    check(
        "Xinjiang divisions after 2015",
        "the 12th added (Shandong, 2015-08) [X21]",
        "12th present" if 12 in later else "12th missing",
        12 in later,
    )

    # Xizang: every assisting province of the sourced rows, plus the central enterprises named [T1].
    xizang = _top(XIZANG)
    provinces = {p.assisting_organization.region.code for p in xizang if p.assisting_organization.region}
    missing_x = sorted(XIZANG_PROVINCES - provinces)
    check(
        "Xizang assisting provinces",
        f"{len(XIZANG_PROVINCES)} [pairings.md §2]",
        f"{len(provinces & XIZANG_PROVINCES)}" + (f"; missing {', '.join(missing_x)}" if missing_x else ""),
        not missing_x,
    )
    enterprises = sorted(
        p.assisting_organization.name for p in xizang if p.assisting_organization.kind == "central_enterprise"
    )
    check(
        "Xizang central enterprises named",
        "中国宝武, 中化 in Shigatse [T1]",
        ", ".join(sorted(set(enterprises))),
        len(set(enterprises)) == 2,
    )
    fujian = [p for p in xizang if p.assisting_organization.region and p.assisting_organization.region.code == "350000"]
    moved = any(p.recipient_region.code == "540400" and p.end_date == dt.date(2016, 6, 30) for p in fujian) and any(
        p.start_date == dt.date(2016, 7, 1) and p.recipient_region.code.startswith("5403") for p in fujian
    )
    check(
        "Fujian moved from Nyingchi to Chamdo",
        "ends 2016-06-30, Chamdo from 2016-07-01 [T3]",
        "yes" if moved else "no",
        moved,
    )

    # Every recipient exists and is current; the invariant holds over every day a pairing starts.
    stale = Pairing.objects.filter(recipient_region__superseded_by__isnull=False).count()
    check("recipients use current codes", "0 retired codes", str(stale), stale == 0)
    nagqu = (
        Region.objects.filter(code="540600").exists()
        and Region.objects.filter(code="542400", superseded_by__code="540600").exists()
    )
    check("那曲市 540600", "present, with 542400 kept as its alias", "yes" if nagqu else "no", nagqu)
    clashes = invariant_violations()
    check(
        "one active pairing per programme per county-level unit",
        "no overlap",
        "; ".join(clashes[:5]) + (f" … {len(clashes)} in all" if len(clashes) > 5 else "") if clashes else "none",
        not clashes,
    )

    # Published totals: compare, never fail.
    for code, text, projects, yi in PUBLISHED_TOTALS:
        flows = FundFlow.objects.filter(pairing__program__code=code, kind=FlowKind.COMMITMENT).aggregate(
            t=Sum("amount")
        )["t"] or Decimal(0)
        counted = _project_count(code)
        check(
            f"published total, {code}",
            text,
            f"{counted} projects ({counted - projects:+d}); {flows / YI:.2f} 亿 committed ({flows / YI - yi:+.2f} 亿)",
            True,
            informational=True,
        )
    return checks


# Projects live in an app above this one, which registers how to count a programme's projects (projects.apps).
_project_counter: Callable[[str], int] | None = None


def register_project_counter(counter: Callable[[str], int]) -> None:
    global _project_counter
    _project_counter = counter


def _project_count(program: str) -> int:
    return _project_counter(program) if _project_counter is not None else 0


def invariant_violations() -> list[str]:
    """Pairs of claiming pairings of one programme whose regions overlap while both run."""
    problems: list[str] = []
    rows = list(
        Pairing.objects.filter(covers_unsourced=False).select_related("recipient_region", "program").order_by("pk")
    )
    by_program: dict[int, list[Pairing]] = {}
    for p in rows:
        by_program.setdefault(p.program_id, []).append(p)
    for pairings in by_program.values():
        for i, a in enumerate(pairings):
            for b in pairings[i + 1 :]:
                if a.parent_id == b.pk or b.parent_id == a.pk:
                    continue
                pa, pb = a.recipient_region.path, b.recipient_region.path
                if not (pa.startswith(pb) or pb.startswith(pa)):
                    continue
                a_end, b_end = a.end_date or dt.date.max, b.end_date or dt.date.max
                if a.start_date <= b_end and b.start_date <= a_end and _unrelated(a, b):
                    problems.append(f"{a.program.code}: {a} and {b}")
    return problems


def _unrelated(a: Pairing, b: Pairing) -> bool:
    """Neither pairing is broken down (at any depth) from the other."""
    for child, ancestor in ((a, b), (b, a)):
        node = child.parent
        while node is not None:
            if node.pk == ancestor.pk:
                return False
            node = node.parent
    return True
