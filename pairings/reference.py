"""The real programmes, their funding rules and every published pairing, as reference data.

What is loaded and where it comes from:

- `PROGRAMS` below: the three programmes and their rule versions, each citing the keys of `data/sources.csv`.
- `data/sources.csv`: the publications (title in its own language, publisher, date, address, whether the address
  is a mirror copy). Officials see a source as its title inside `<cite lang>` and its date; nothing else.
- `data/pairings.csv`: one row per pairing as `shared/domain/pairings.md` gives it: the assisting party (a region's
  government by its code, or a central enterprise), the recipient (a GB/T 2260 code, an XPCC division key such as
  `XPCC-14`, or a township's 9-digit statistical code), start (with its precision) and end, the evidence
  (sourced / secondary / unverified), whether it is a prefecture recorded only because its counties are not
  sourced, the parent of a breakdown pairing, its sources and an English working note (the `comment` column, for
  the code's readers only: it is never stored on the pairing).
- `data/townships.csv`: the townships that breakdown pairings name, with their statistical codes.

Choices that the sources leave open are made here, with the reason beside them, so that nobody reads a choice as a
fact: the Xinjiang rate (one rate inside the published 0.3–0.6 %, flagged unverified), the Xinjiang base year
(the year before the rule's first year, unverified), and which pairing holds Wenchuan's Gansu areas (Shenzhen,
whose share is Guangdong's: see `MANDATE_BY_HAND`).

`load_reference()` writes through `pairings.services` and `accounts.services` as the system (`by=None`), so every
row gets its history, in one transaction. It is idempotent: a programme is found by its code, a rule by its content,
a pairing by its programme, parties and parent, an organization by its name, a region by its code.
"""

import csv
import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from accounts import services as account_services
from accounts.demo import ORGANIZATIONS as DEMO_ORGANIZATIONS
from accounts.models import Organization, OrganizationKind
from core.models import Region, RegionLevel
from core.region_names import english_name

from . import services
from .models import DatePrecision, Evidence, FundingRule, Pairing, PairingStatus, Program, Source

DATA = Path(__file__).resolve().parent / "data"
SOURCES_FILE = DATA / "sources.csv"
PAIRINGS_FILE = DATA / "pairings.csv"
TOWNSHIPS_FILE = DATA / "townships.csv"

XIZANG = "xizang-1994"
WENCHUAN = "wenchuan-2008"
XINJIANG = "xinjiang-2010"

MIANSI_CODE = "513221109"

# --- programmes and rules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSpec:
    rate: str
    sources: tuple[str, ...]
    effective_from_year: int | None = None
    effective_to_year: int | None = None
    escalation: str | None = None
    escalation_years: int | None = None
    min_county_share: str | None = None
    min_livelihood_share: str | None = None
    is_unverified: bool = False
    basis: str = "fiscal_revenue"


@dataclass(frozen=True)
class ProgramSpec:
    code: str
    name: str
    name_en: str
    model: str
    start_year: int
    end_year: int | None
    policy_reference: str
    principles: str
    principles_en: str
    sources: tuple[str, ...]
    rules: tuple[RuleSpec, ...]


PROGRAMS: tuple[ProgramSpec, ...] = (
    ProgramSpec(
        code=XIZANG,
        name="对口支援西藏",
        name_en="Xizang (Tibet) paired assistance",
        model="border_governance",
        # The Third Tibet Work Forum of 20–23 July 1994 set "分片负责、对口支援、定期轮换" [T19].
        start_year=1994,
        end_year=None,
        policy_reference="中央第三次西藏工作座谈会（1994年）",
        principles=(
            "分片负责、对口支援、定期轮换。2010年起，援藏省市每年援助实物工作量为本省市上年地方一般预算收入的千分之一。"
            "2014年起“两个80%”：80%以上资金投向县及县以下基层，80%以上用于民生。"
            "2015年起组团式医疗援藏，2016年起组团式教育援藏。"
        ),
        principles_en=(
            "Each assisting side answers for its area; paired assistance; regular rotation. From 2010 each assisting "
            "province gives aid in kind worth 0.1 % of its previous-year local general budget revenue a year. From "
            "2014 the “two 80 %s”: at least 80 % of funds to county level and below and at least 80 % to "
            "livelihood. Group-style medical aid from 2015, education aid from 2016."
        ),
        sources=("T19b", "T2", "T21"),
        rules=(
            # The Fifth Tibet Work Forum (2010) set the 1 ‰ of the previous year's local general budget revenue and
            # extended the programme to 2020 [T2]; no source gives a rate before 2010 or after 2020, so the rule
            # gives no mandate outside 2010–2020.
            RuleSpec(rate="0.001", effective_from_year=2010, effective_to_year=2020, sources=("T2",)),
            # The "two 80 %s" from 2014 [T21]; the share of revenue is unchanged.
            RuleSpec(
                rate="0.001",
                effective_from_year=2014,
                effective_to_year=2020,
                min_county_share="0.8",
                min_livelihood_share="0.8",
                sources=("T2", "T21"),
            ),
        ),
    ),
    ProgramSpec(
        code=WENCHUAN,
        name="汶川地震灾后恢复重建对口支援",
        name_en="Wenchuan earthquake reconstruction paired assistance",
        model="disaster_response",
        start_year=2008,
        end_year=2010,
        policy_reference="国办发〔2008〕53号",
        principles=(
            "一省帮一重灾县；对口支援期限按三年安排；各支援省市每年对口支援实物工作量按不低于本省市上年地方财政收入的1%考虑；"
            "党政机关办公楼不在支援范围；支援内容与受援方商定。"
        ),
        principles_en=(
            "One province helps one severely affected county, for three years; each supporter gives aid in kind "
            "worth at least 1 % of its previous-year local fiscal revenue a year; Party and government office "
            "buildings are excluded; the content is agreed with the recipient."
        ),
        sources=("W1", "W2", "W3"),
        rules=(
            # "不低于本省市上年地方财政收入的1%" [W1]: the rule records the minimum.
            RuleSpec(rate="0.01", effective_from_year=2008, effective_to_year=2010, sources=("W1", "W2")),
        ),
    ),
    ProgramSpec(
        code=XINJIANG,
        name="对口支援新疆",
        name_en="Xinjiang paired assistance",
        model="development",
        # The national work conference of 29–30 March 2010 decided the pairings [X3]; the funding rule runs
        # 2011–2020 [X25].
        start_year=2010,
        end_year=None,
        policy_reference="中央新疆工作座谈会（2010年3月）",
        principles=(
            "19个省市对口支援新疆12个地（州）市的82个县（市）和新疆生产建设兵团12个师。"
            "2011—2020年各支援省市按上年财政收入的0.3%—0.6%安排援疆资金，前五年每年递增约8%。"
            "70%以上资金用于民生，80%以上投向县及县以下基层。各支援省市在受援地设前方指挥部。"
        ),
        principles_en=(
            "19 provinces and municipalities assist 82 counties of 12 prefectures and 12 divisions of the Xinjiang "
            "Production and Construction Corps. From 2011 to 2020 each gives 0.3–0.6 % of its fiscal revenue, "
            "rising about 8 % a year over the first five years; more than 70 % of funds to livelihood and more than "
            "80 % to county level and below. Each runs a front-line headquarters in the recipient area."
        ),
        sources=("X3", "X25", "X27"),
        rules=(
            # 0.3–0.6 % by province [X25]; no source found gives each province's rate or the base year, so one rate
            # inside the range (0.5 %) is kept and flagged unverified on the rule, its mandates and scorecards. The
            # base year is taken as the year before the rule's first year (2010). "Rising about 8 % a year over the
            # first five years": four rises after 2011 (2012–2015), then held. Shares: >80 % to county level and
            # below, >70 % to livelihood [X27].
            RuleSpec(
                rate="0.005",
                effective_from_year=2011,
                effective_to_year=2020,
                escalation="0.08",
                escalation_years=4,
                min_county_share="0.8",
                min_livelihood_share="0.7",
                is_unverified=True,
                sources=("X25", "X27"),
            ),
        ),
    ),
)

#: Pairings whose party's share of the rule is counted under another pairing, so the rule gives them no mandate
#: of their own (they are set by hand if at all). The Wenchuan plan gives the Gansu areas to "广东省（主要是深圳市）"
#: [W1][W2]: Guangdong's 1 % was Wenchuan's, so Shenzhen holds the Gansu pairing and takes no share of it.
MANDATE_BY_HAND = frozenset({(WENCHUAN, "440300", "620000")})

#: Why a pairing ended, as recorded in its history (the reference loader ends pairings whose end date has passed).
END_COMMENTS = {
    WENCHUAN: "国办发〔2008〕53号：对口支援期限三年（2008—2010年）",
    (XIZANG, "350000", "540400"): "福建省对口支援调整为昌都市（2016年7月起）",
}

#: Central enterprises that hold pairings (name, English name).
ENTERPRISES = {
    "enterprise:baowu": ("中国宝武钢铁集团有限公司", "China Baowu Steel Group"),
    "enterprise:sinochem": ("中国中化控股有限责任公司", "Sinochem Holdings"),
}

#: Rows of pairings.md that are not loaded, with the reason (printed by load_programs and check_reference).
NOT_LOADED = (
    "Xinjiang: 山西省 → 兵团第十二师 222团 and 湖南省 → 兵团第十二师 221团 support one regiment each; regiments are "
    "not regions here.",
    "Xinjiang: 兵团第十一师 (建工师): no assisting province found.",
    "Xinjiang: 和康县 653228 and 和安县 653229 (set up 2024): their assisting party is unknown.",
    "Xinjiang: 霍尔果斯市 654004 and 阿拉山口市 652702 (set up after 2010) are not named for Jiangsu's or Hubei's "
    "units; a whole-prefecture pairing covers 阿拉山口 all the same.",
    "Xizang: the other central enterprises (17 in 2014; 22 with financial institutions in 2024) are not named.",
    "Xizang: 中粮 (COFCO) in 洛扎: unverified as a pairing.",
    "Xizang: counties marked unverified in pairings.md (江苏省 → 曲水) and 天津市's other Chamdo counties.",
)

MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000"})


class ReferenceDataError(Exception):
    """The reference data cannot be loaded (missing regions, a bad data file, a conflict with existing rows)."""


@dataclass
class Report:
    created: Counter[str] = field(default_factory=Counter)
    existing: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def add(self, kind: str, created: bool) -> None:
        (self.created if created else self.existing)[kind] += 1


# --- the data files ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairingRow:
    line: int
    program: str
    assisting: str
    recipient: str
    start: dt.date
    start_precision: str
    end: dt.date | None
    evidence: str
    covers_unsourced: bool
    parent: tuple[str, str] | None
    sources: tuple[str, ...]

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.program, self.assisting, self.recipient)


def _rows(path: Path, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise ReferenceDataError(f"Cannot read {path.name}: {exc.strerror or exc}.") from exc
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in columns if c not in (reader.fieldnames or [])]
        if missing:
            raise ReferenceDataError(f"{path.name} lacks the column(s) {', '.join(missing)}.")
        return [(line, {k: (v or "").strip() for k, v in row.items()}) for line, row in enumerate(reader, start=2)]


def read_pairings() -> list[PairingRow]:
    """The rows of pairings.csv, every problem reported at once."""
    problems: list[str] = []
    rows: list[PairingRow] = []
    columns = (
        "programme",
        "assisting",
        "recipient",
        "start",
        "start_precision",
        "end",
        "evidence",
        "covers_unsourced",
        "parent_assisting",
        "parent_recipient",
        "sources",
    )
    programmes = {p.code for p in PROGRAMS}
    for line, raw in _rows(PAIRINGS_FILE, columns):
        try:
            start = dt.date.fromisoformat(raw["start"])
            end = dt.date.fromisoformat(raw["end"]) if raw["end"] else None
        except ValueError:
            problems.append(f"line {line}: a date is not ISO (YYYY-MM-DD)")
            continue
        if raw["programme"] not in programmes:
            problems.append(f"line {line}: unknown programme {raw['programme']!r}")
        if raw["start_precision"] not in DatePrecision.values:
            problems.append(f"line {line}: unknown precision {raw['start_precision']!r}")
        if raw["evidence"] not in Evidence.values:
            problems.append(f"line {line}: unknown evidence {raw['evidence']!r}")
        if not raw["sources"]:
            problems.append(f"line {line}: no source")
        parent = (raw["parent_assisting"], raw["parent_recipient"]) if raw["parent_assisting"] else None
        rows.append(
            PairingRow(
                line=line,
                program=raw["programme"],
                assisting=raw["assisting"],
                recipient=raw["recipient"],
                start=start,
                start_precision=raw["start_precision"],
                end=end,
                evidence=raw["evidence"],
                covers_unsourced=raw["covers_unsourced"] == "1",
                parent=parent,
                sources=tuple(raw["sources"].split()),
            )
        )
    keys = Counter(row.key for row in rows)
    problems += [f"the pairing {key} appears {n} times" for key, n in keys.items() if n > 1]
    if problems:
        raise ReferenceDataError(f"{PAIRINGS_FILE.name}: " + "; ".join(problems))
    return rows


# --- loading -----------------------------------------------------------------------------------------------


class _Loader:
    def __init__(self) -> None:
        self.report = Report()
        self.orgs: dict[str, Organization] = {}
        self.programs: dict[str, Program] = {}
        self.sources: dict[str, Source] = {}
        self.pairings: dict[tuple[str, str, str], Pairing] = {}

    # Sources, regions and organizations ----------------------------------------------------------------------

    def load_sources(self) -> None:
        columns = ("key", "title", "language", "publisher", "published", "url", "mirror")
        for _line, raw in _rows(SOURCES_FILE, columns):
            values = {
                "title": raw["title"],
                "language": raw["language"] or "zh",
                "publisher": raw["publisher"],
                "published": raw["published"],
                "url": raw["url"],
                "is_mirror": raw["mirror"] == "1",
            }
            source, created = Source.objects.get_or_create(key=raw["key"], defaults=values)
            if not created and any(getattr(source, k) != v for k, v in values.items()):
                Source.objects.filter(pk=source.pk).update(**values)
                source.refresh_from_db()
            self.sources[source.key] = source
            self.report.add("sources", created)

    def cited(self, keys: tuple[str, ...]) -> list[Source]:
        missing = [k for k in keys if k not in self.sources]
        if missing:
            raise ReferenceDataError(f"Unknown source key(s) {', '.join(missing)}: add them to {SOURCES_FILE.name}.")
        return [self.sources[k] for k in keys]

    def region(self, code: str) -> Region:
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise ReferenceDataError(f"Region {code} is missing: load the regions first (manage.py load_regions).")
        return region

    def load_townships(self) -> None:
        for _line, raw in _rows(TOWNSHIPS_FILE, ("code", "name", "parent", "source")):
            parent = self.region(raw["parent"])
            region = Region.objects.filter(code=raw["code"]).first()
            if region is not None:
                if region.parent_id != parent.pk or region.name != raw["name"]:
                    raise ReferenceDataError(
                        f"Region {raw['code']} exists as {region.name}, not as {raw['name']} under {parent.name}."
                    )
                self.report.add("township regions", False)
                continue
            Region(
                code=raw["code"],
                name=raw["name"],
                name_en=english_name(raw["code"], raw["name"]),
                level=RegionLevel.TOWNSHIP,
                parent=parent,
                source=f"NBS statistical division code (统计用区划代码), source {raw['source']}",
            ).save()
            self.report.add("township regions", True)

    def organization(self, key: str) -> Organization:
        """The party KEY names: a central enterprise, or the government of a region (the demo's specification where
        the demo has one, so that `seed_demo` reuses it; else "<region>人民政府", under its province for a city)."""
        if key in self.orgs:
            return self.orgs[key]
        parent: Organization | None = None
        region: Region | None = None
        kind: str
        if key in ENTERPRISES:
            name, name_en = ENTERPRISES[key]
            kind = OrganizationKind.CENTRAL_ENTERPRISE
        else:
            region = self.region(key)
            demo = next(
                (
                    o
                    for o in DEMO_ORGANIZATIONS
                    if o.region == key
                    and o.kind in (OrganizationKind.PROVINCIAL_GOVERNMENT, OrganizationKind.MUNICIPAL_GOVERNMENT)
                ),
                None,
            )
            english = english_name(region.code, region.name)
            if demo is not None:
                name, name_en, kind = demo.name, demo.name_en, demo.kind
            elif region.level == RegionLevel.PROVINCE:
                name = f"{region.name}人民政府"
                name_en = f"{english} {'Municipal' if key in MUNICIPALITIES else 'Provincial'} Government"
                kind = OrganizationKind.PROVINCIAL_GOVERNMENT
            elif region.level == RegionLevel.PREFECTURE:
                name = f"{region.name}人民政府"
                name_en = f"{english.removesuffix(' City')} Municipal Government"
                kind = OrganizationKind.MUNICIPAL_GOVERNMENT
            else:
                raise ReferenceDataError(f"No organization specification for region {key}.")
            if region.level != RegionLevel.PROVINCE and region.parent is not None:
                parent = self.organization(region.code[:2] + "0000")
        org = Organization.objects.filter(name=name).first()
        if org is None:
            org = account_services.organization_create(
                by=None, name=name, name_en=name_en, kind=kind, region=region, parent=parent
            )
            self.report.add("organizations", True)
        else:
            self.report.add("organizations", False)
        self.orgs[key] = org
        return org

    # Programmes and rules -----------------------------------------------------------------------------------

    def program(self, spec: ProgramSpec) -> Program:
        values = {
            "name": spec.name,
            "name_en": spec.name_en,
            "model": spec.model,
            "start_year": spec.start_year,
            "end_year": spec.end_year,
            "policy_reference": spec.policy_reference,
            "principles": spec.principles,
            "principles_en": spec.principles_en,
            "source": "",
        }
        program = Program.objects.filter(code=spec.code).first()
        if program is None:
            program = services.program_create(by=None, code=spec.code, **values)  # type: ignore[arg-type]
            self.report.add("programmes", True)
        else:
            changed = {k: v for k, v in values.items() if getattr(program, k) != v}
            if changed:
                program = services.program_update(by=None, program=program, **changed)
                self.report.notes.append(f"Updated programme {spec.code}: {', '.join(sorted(changed))}.")
            self.report.add("programmes", False)
        program.sources.set(self.cited(spec.sources))
        for rule in spec.rules:
            self.rule(program, rule)
        self.programs[spec.code] = program
        return program

    def rule(self, program: Program, spec: RuleSpec) -> FundingRule:
        def dec(value: str | None) -> Decimal | None:
            return Decimal(value) if value is not None else None

        match = FundingRule.objects.filter(
            program=program,
            organization=None,
            basis=spec.basis,
            rate=dec(spec.rate),
            escalation=dec(spec.escalation),
            escalation_years=spec.escalation_years,
            min_county_share=dec(spec.min_county_share),
            min_livelihood_share=dec(spec.min_livelihood_share),
            effective_from_year=spec.effective_from_year,
            effective_to_year=spec.effective_to_year,
            is_unverified=spec.is_unverified,
        ).first()
        if match is not None:
            match.sources.set(self.cited(spec.sources))
            self.report.add("funding rules", False)
            return match
        self.report.add("funding rules", True)
        return services.funding_rule_set(
            by=None,
            program=program,
            basis=spec.basis,
            rate=spec.rate,
            escalation=spec.escalation,
            escalation_years=spec.escalation_years,
            min_county_share=spec.min_county_share,
            min_livelihood_share=spec.min_livelihood_share,
            effective_from_year=spec.effective_from_year,
            effective_to_year=spec.effective_to_year,
            is_unverified=spec.is_unverified,
            sources=self.cited(spec.sources),
        )

    # Pairings -----------------------------------------------------------------------------------------------

    def pairing(self, row: PairingRow) -> Pairing:
        program = self.programs[row.program]
        assisting = self.organization(row.assisting)
        recipient = self.region(row.recipient)
        parent = self.pairings[(row.program, *row.parent)] if row.parent else None
        sources = self.cited(row.sources)
        pairing = Pairing.objects.filter(
            program=program, assisting_organization=assisting, recipient_region=recipient, parent=parent
        ).first()
        if pairing is None:
            pairing = services.pairing_create(
                by=None,
                program=program,
                assisting_organization=assisting,
                recipient_region=recipient,
                start_date=row.start,
                start_precision=row.start_precision,
                end_date=row.end,
                parent=parent,
                evidence=row.evidence,
                covers_unsourced=row.covers_unsourced,
                mandate_from_rule=row.key not in MANDATE_BY_HAND,
                sources=sources,
            )
            self.report.add("pairings", True)
        else:
            pairing.sources.set(sources)
            self.report.add("pairings", False)
        self.pairings[row.key] = pairing
        return pairing

    def end(self, row: PairingRow) -> None:
        pairing = self.pairings[row.key]
        if pairing.status != PairingStatus.ACTIVE or row.end is None or row.end >= dt.date.today():
            return
        comment = END_COMMENTS.get(row.key) or END_COMMENTS[row.program]
        self.pairings[row.key] = services.pairing_end(by=None, pairing=pairing, end_date=row.end, comment=comment)
        self.report.created["pairings ended"] += 1

    def run(self) -> Report:
        self.load_sources()
        self.load_townships()
        for spec in PROGRAMS:
            self.program(spec)
        rows = read_pairings()
        # Pairings that end are ended before their successors start (the invariant holds at every step), and a
        # breakdown pairing ends before its parent.
        ended_first = sorted(rows, key=lambda r: (r.end is None, r.end or dt.date.max, r.parent is None, r.line))
        for row in sorted(rows, key=lambda r: (r.start, r.parent is not None, r.line)):
            # A successor may claim what its predecessor held: end the predecessors whose end is before its start.
            for earlier in ended_first:
                if earlier.key in self.pairings and earlier.end is not None and earlier.end < row.start:
                    self.end(earlier)
            self.pairing(row)
        for row in ended_first:
            self.end(row)
        self.report.notes.extend(NOT_LOADED)
        return self.report


@transaction.atomic
def load_reference() -> Report:
    """Load the sources, programmes, rules, assisting parties and pairings (one transaction)."""
    return _Loader().run()
