"""The real programmes, their funding rules and the real pairings of `domain/facts.md`, as reference data.

Everything here is a fact found in a public source, and every programme, rule and pairing row carries that source
in its `source` field (the sentence of facts.md it comes from and the bracketed source named there). Where facts.md
leaves something open (a start date without a day, a rate given as a range) the choice made is stated in the same
`source` or in the rule's `reason`, so that nobody reads a choice as a fact.

`load_reference()` writes through `pairings.services` and `accounts.services` as the system (`by=None`), so every
row gets its history. It is idempotent: a programme is found by its code, a rule by its content, a pairing by its
programme, parties and parent, an organization by its name, a region by its code; nothing is written twice and a
second run records no history.

The assisting organizations that the demo (`accounts/demo.py`) also creates are made from the demo's own
specification (same name, English name, kind, region and parent), so that `seed_demo` finds and reuses them
whichever runs first. Every other assisting province gets "<province>人民政府".
"""

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from accounts import services as account_services
from accounts.demo import ORGANIZATIONS as DEMO_ORGANIZATIONS
from accounts.models import Organization, OrganizationKind
from core.models import Region, RegionLevel
from core.region_names import english_name

from . import services
from .models import FundingRule, Pairing, PairingStatus, Program

FACTS = "domain/facts.md"

# --- programmes and rules ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSpec:
    rate: str
    reason: str
    source: str
    escalation: str | None = None
    escalation_years: int | None = None
    min_county_share: str | None = None
    min_livelihood_share: str | None = None
    basis: str = "fiscal_revenue"
    effective_from_year: int | None = None


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
    source: str
    rules: tuple[RuleSpec, ...]


XIZANG = "xizang-1994"
WENCHUAN = "wenchuan-2008"
XINJIANG = "xinjiang-2010"

PROGRAMS: tuple[ProgramSpec, ...] = (
    ProgramSpec(
        code=XIZANG,
        name="对口支援西藏",
        name_en="Xizang (Tibet) paired assistance",
        model="border_governance",
        start_year=1994,
        end_year=None,
        policy_reference="Third Tibet Work Forum, 1994",
        principles=(
            "分片负责、对口支援、定期轮换 (each assisting side answers for its area; paired assistance; regular "
            "rotation). From 2014 the “two 80 %s”: at least 80 % of funds to the grassroots (county level and below) "
            "and at least 80 % to livelihood. Group-style (组团式) medical aid from 2015 and education aid from 2016. "
            "Cadres are sent in batches (10 batches, about 12,000 cadres over 30 years; the 10th batch in 2022 had "
            "2,558 people)."
        ),
        source=(
            f"{FACTS}, Programmes and their rules, Xizang (Tibet) paired assistance: “border governance | since 1994 "
            "(Third Tibet Work Forum: “分片负责、对口支援、定期轮换”) | 0.1 % of the assisting province's fiscal revenue "
            "[People's Daily 2011] | from 2014 the “two 80 %s” …; group-style (组团式) medical aid from 2015 and "
            "education aid from 2016; cadres sent in batches (10 batches, about 12,000 cadres over 30 years; the 10th "
            "batch in 2022 had 2,558 people)”. No end year: the programme continues."
        ),
        rules=(
            RuleSpec(
                rate="0.001",
                reason=(
                    "0.1 % of the assisting province's fiscal revenue, as People's Daily (2011) reports it. facts.md "
                    "does not say from which year the share applied."
                ),
                source=(f"{FACTS}, Xizang: “0.1 % of the assisting province's fiscal revenue [People's Daily 2011]”."),
            ),
            RuleSpec(
                rate="0.001",
                min_county_share="0.8",
                min_livelihood_share="0.8",
                effective_from_year=2014,
                reason=(
                    "From 2014 the “two 80 %s”: at least 80 % of funds to the grassroots (county level and below) and "
                    "at least 80 % to livelihood; the share of revenue is unchanged (0.1 %)."
                ),
                source=(
                    f"{FACTS}, Xizang: “0.1 % of the assisting province's fiscal revenue [People's Daily 2011]”; "
                    "“from 2014 the “two 80 %s”: at least 80 % of funds to the grassroots (county level and below) "
                    "and at least 80 % to livelihood”."
                ),
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
        policy_reference="State Council plan, June 2008",
        principles=(
            "One province helps one severely affected county; at least 1 % of the previous year's local fiscal "
            "revenue a year, delivered as physical workload (实物工作量); party and government office buildings "
            "excluded; content agreed with the recipient."
        ),
        source=(
            f"{FACTS}, Programmes and their rules, Wenchuan earthquake reconstruction: “disaster response | 2008–2010 "
            "(three years) | at least 1 % of the previous year's local fiscal revenue, delivered as physical workload "
            "(实物工作量) [State Council plan, June 2008] | “one province helps one severely affected county”; party "
            "and government office buildings excluded; content agreed with the recipient”."
        ),
        rules=(
            RuleSpec(
                rate="0.01",
                reason=(
                    "At least 1 % of the previous year's local fiscal revenue, delivered as physical workload "
                    "(实物工作量); the rule records the minimum. No yearly escalation."
                ),
                source=(
                    f"{FACTS}, Wenchuan: “at least 1 % of the previous year's local fiscal revenue, delivered as "
                    "physical workload (实物工作量) [State Council plan, June 2008]”."
                ),
            ),
        ),
    ),
    ProgramSpec(
        code=XINJIANG,
        name="对口支援新疆",
        name_en="Xinjiang paired assistance",
        model="development",
        start_year=2011,
        end_year=None,
        policy_reference="National work conference on Xinjiang, March 2010",
        principles=(
            "Over the decade more than 70 % of funds to livelihood and more than 80 % to county level and below; "
            "each assisting province runs a front-line headquarters (前方指挥部) in the recipient area."
        ),
        source=(
            f"{FACTS}, Programmes and their rules, Xinjiang paired assistance: “development | from 2010 (national "
            "work conference, March 2010) | 0.3–0.6 % of fiscal revenue 2011–2020, rising about 8 % a year over the "
            "first five years [China Daily] | over the decade more than 70 % of funds to livelihood and more than "
            "80 % to county level and below [Xinhua]; each assisting province runs a front-line headquarters "
            "(前方指挥部) in the recipient area”. The programme began in 2010 (its pairings date from then); the "
            "start year 2011 is the first year of the 2011–2020 funding rule, from which the rule's escalation "
            "counts. No end year: the programme continues."
        ),
        rules=(
            RuleSpec(
                rate="0.005",
                escalation="0.08",
                escalation_years=4,
                min_county_share="0.8",
                min_livelihood_share="0.7",
                reason=(
                    "facts.md gives a range, 0.3–0.6 % of fiscal revenue (it differed between assisting provinces); "
                    "a programme holds one rate, and 0.5 % is the one chosen inside that range. “Rising about 8 % a "
                    "year over the first five years”: escalation 0.08 for the 4 steps after 2011 (2012–2015), then "
                    "held. “More than 80 % to county level and below” and “more than 70 % to livelihood” are "
                    "recorded as minimum shares 0.8 and 0.7. facts.md gives the rule for 2011–2020 only."
                ),
                source=(
                    f"{FACTS}, Xinjiang: “0.3–0.6 % of fiscal revenue 2011–2020, rising about 8 % a year over the "
                    "first five years [China Daily]”; “over the decade more than 70 % of funds to livelihood and more "
                    "than 80 % to county level and below [Xinhua]”."
                ),
            ),
        ),
    ),
)

# --- pairings ----------------------------------------------------------------------------------------------

#: facts.md dates the Wenchuan plan "June 2008" without a day, the Xinjiang conference "March 2010" without a day,
#: and gives no date for the Xizang pairings beyond the programme's start in 1994.
WENCHUAN_START = dt.date(2008, 6, 1)
WENCHUAN_END = dt.date(2010, 12, 31)
WENCHUAN_END_COMMENT = "Programme period ended (2008–2010)"
XINJIANG_START = dt.date(2010, 3, 1)
XIZANG_START = dt.date(1994, 1, 1)

WENCHUAN_SOURCE = (
    f"{FACTS}, Real pairings, Wenchuan 2008: “{{fact}}” [china.org.cn; State Council plan]. Start: the State "
    "Council plan is dated June 2008 with no day in facts.md, so 2008-06-01 is used; end: the programme ran "
    "2008–2010, so 2010-12-31."
)
XINJIANG_SOURCE = (
    f"{FACTS}, Real pairings, Xinjiang 2010: “{{fact}}” [China Daily; Xinhua; the seed]. Start: the national work "
    "conference of March 2010 (no day in facts.md, so 2010-03-01 is used)."
)
XIZANG_SOURCE = (
    f"{FACTS}, Real pairings, Xizang: “{{fact}}” [People's Daily; Xinhua]. Start: facts.md gives no date for the "
    "pairing; the programme's start year (1994) is used, with 1994-01-01 as a placeholder day."
)


@dataclass(frozen=True)
class PairingSpec:
    program: str
    assisting: str  # the region code of the assisting government (a province, or a city for Shenzhen, Zhuhai)
    province: str  # the recipient is looked up by name within this province-level region
    recipient: str  # the recipient's Chinese name in the region data
    fact: str  # the words of facts.md this pairing comes from
    note: str = ""
    parent: tuple[str, str] | None = None  # (assisting code, recipient name) of the parent pairing


def _wenchuan(assisting: str, recipient: str, fact: str, note: str = "") -> PairingSpec:
    return PairingSpec(WENCHUAN, assisting, "510000", recipient, fact, note)


WENCHUAN_PAIRINGS = (
    _wenchuan("370000", "北川羌族自治县", "Shandong → Beichuan"),
    _wenchuan(
        "440000",
        "汶川县",
        "Guangdong → Wenchuan",
        "Guangdong → Wenchuan in all: about 8.2 billion yuan, 702 projects; the mandate was broken down further, "
        "13 Guangdong cities each taking one of Wenchuan's 13 towns [China Today 2010].",
    ),
    _wenchuan("330000", "青川县", "Zhejiang → Qingchuan"),
    _wenchuan("320000", "绵竹市", "Jiangsu → Mianzhu"),
    _wenchuan("110000", "什邡市", "Beijing → Shifang"),
    _wenchuan("310000", "都江堰市", "Shanghai → Dujiangyan"),
    _wenchuan("130000", "平武县", "Hebei → Pingwu"),
    _wenchuan(
        "210000",
        "安州区",
        "Liaoning → An County (now Anzhou district, 510705)",
        "An County (安县) in 2008; now Anzhou district (安州区, 510705), the name in the region data.",
    ),
    _wenchuan("410000", "江油市", "Henan → Jiangyou"),
    _wenchuan("350000", "彭州市", "Fujian → Pengzhou"),
    _wenchuan("140000", "茂县", "Shanxi → Mao County"),
    _wenchuan("430000", "理县", "Hunan → Li County"),
    _wenchuan("220000", "黑水县", "Jilin → Heishui"),
    _wenchuan("340000", "松潘县", "Anhui → Songpan"),
    _wenchuan("360000", "小金县", "Jiangxi → Xiaojin"),
    _wenchuan("420000", "汉源县", "Hubei → Hanyuan"),
    _wenchuan("500000", "崇州市", "Chongqing → Chongzhou"),
    _wenchuan("230000", "剑阁县", "Heilongjiang → Jiange"),
    PairingSpec(
        WENCHUAN,
        "440000",
        "620000",
        "甘肃省",
        "Guangdong (mainly Shenzhen) → the hard-hit areas of Gansu",
        "The hard-hit areas of Gansu (recorded against the province: facts.md names no counties); Guangdong, "
        "mainly Shenzhen.",
    ),
    PairingSpec(
        WENCHUAN,
        "120000",
        "610000",
        "陕西省",
        "Tianjin → the hard-hit areas of Shaanxi",
        "The hard-hit areas of Shaanxi (recorded against the province: facts.md names no counties).",
    ),
)

MIANSI_CODE = "513221109"
MIANSI_REGION_SOURCE = (
    "NBS statistical division code 513221109 (统计用区划代码), via modood/Administrative-divisions-of-China "
    "dist/streets.csv; added by load_programs"
)
MIANSI = PairingSpec(
    WENCHUAN,
    "440400",
    "510000",
    "绵虒镇",
    "13 Guangdong cities each took one of Wenchuan's 13 towns (Zhuhai → Miansi: 55 projects, 340 million yuan, "
    "88 % livelihood-related …)",
    "Zhuhai → Miansi: 55 projects, 340 million yuan, 88 % livelihood-related [China Today 2010]. Broken down from "
    "Guangdong → Wenchuan.",
    parent=("440000", "汶川县"),
)


def _xinjiang(assisting: str, recipient: str, fact: str, note: str = "") -> PairingSpec:
    return PairingSpec(XINJIANG, assisting, "650000", recipient, fact, note)


BEIJING_FACT = "Beijing → Hotan city, Hotan, Moyu and Luopu counties and the XPCC 14th division"
XINJIANG_PAIRINGS = (
    _xinjiang("110000", "和田市", BEIJING_FACT),
    _xinjiang("110000", "和田县", BEIJING_FACT),
    _xinjiang("110000", "墨玉县", BEIJING_FACT),
    _xinjiang("110000", "洛浦县", BEIJING_FACT),
    _xinjiang("440000", "疏附县", "Guangdong → Shufu and Jiashi"),
    _xinjiang("440000", "伽师县", "Guangdong → Shufu and Jiashi"),
    _xinjiang("440300", "喀什市", "Shenzhen → Kashgar city and Tashkurgan"),
    _xinjiang("440300", "塔什库尔干塔吉克自治县", "Shenzhen → Kashgar city and Tashkurgan"),
    _xinjiang(
        "310000",
        "莎车县",
        "Shanghai → Shache (and other Kashgar counties)",
        "Shanghai also assists other Kashgar counties, which facts.md does not name.",
    ),
    _xinjiang("340000", "皮山县", "Anhui → Pishan"),
    _xinjiang(
        "220000",
        "阿勒泰地区",
        "Jilin → Altay (named in the seed article, a diagonal pairing)",
        "Named in the seed article; a diagonal pairing (province → prefecture).",
    ),
)


def _xizang(assisting: str, recipient: str, fact: str, note: str = "") -> PairingSpec:
    return PairingSpec(XIZANG, assisting, "540000", recipient, fact, note)


XIZANG_PAIRINGS = (
    _xizang("320000", "拉萨市", "Jiangsu → Lhasa"),
    _xizang("120000", "昌都市", "Tianjin → Chamdo"),
    _xizang(
        "330000",
        "那曲地区",
        "Zhejiang → Nagqu",
        "Nagqu appears as 那曲地区 (542400) in the region data (about 2020 vintage).",
    ),
    _xizang("610000", "阿里地区", "Shaanxi → Ngari"),
    _xizang(
        "310000",
        "日喀则市",
        "Shanghai → Shigatse",
        "People's Daily (2011): Shanghai → Ngamring (in Shigatse) at least 150 million yuan for 2010–2012.",
    ),
    _xizang("350000", "林芝市", "Fujian and Zhuhai → Nyingchi"),
    _xizang(
        "220000",
        "萨嘎县",
        "Jilin → Saga county",
        "People's Daily (2011): Jilin → Saga county 20 million yuan for 2010–2012.",
    ),
)

#: Facts that cannot be loaded, with the reason (printed by the command).
SKIPPED = (
    "Beijing → XPCC 14th division (Xinjiang): the division is not in the region data (core/data/adcodes.csv has "
    "no row for it), so there is no recipient region to pair; skipped.",
    "Zhuhai → Nyingchi (Xizang): Fujian → Nyingchi already holds Nyingchi's one active pairing in the Xizang "
    "programme (invariant: at most one active pairing per recipient region per programme); skipped. facts.md gives "
    "“Fujian and Zhuhai → Nyingchi”; recording Zhuhai would need it as a breakdown of a Guangdong pairing, which "
    "facts.md does not describe.",
)

MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000"})


class ReferenceDataError(Exception):
    """The reference data cannot be loaded (missing regions, a conflict with existing rows)."""


@dataclass
class Report:
    created: Counter[str] = field(default_factory=Counter)
    existing: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def add(self, kind: str, created: bool) -> None:
        (self.created if created else self.existing)[kind] += 1


# --- loading -----------------------------------------------------------------------------------------------


class _Loader:
    def __init__(self) -> None:
        self.report = Report()
        self.orgs: dict[str, Organization] = {}
        self.programs: dict[str, Program] = {}
        self.pairings: dict[tuple[str, str, str], Pairing] = {}

    # Regions and organizations --------------------------------------------------------------------------------

    def region_by_code(self, code: str) -> Region:
        region = Region.objects.filter(code=code).first()
        if region is None:
            raise ReferenceDataError(f"Region {code} is missing: load the regions first (manage.py load_regions).")
        return region

    def region_by_name(self, province_code: str, name: str) -> Region:
        province = self.region_by_code(province_code)
        if province.name == name:
            return province
        found = list(Region.objects.filter(path__startswith=province.path, name=name))
        if len(found) != 1:
            raise ReferenceDataError(
                f"Expected one region named {name} within {province.name} ({province_code}), found {len(found)}: "
                "load the regions first (manage.py load_regions)."
            )
        return found[0]

    def miansi(self) -> Region:
        wenchuan = self.region_by_name("510000", "汶川县")
        region = Region.objects.filter(code=MIANSI_CODE).first()
        if region is not None:
            if region.parent_id != wenchuan.pk or region.name != "绵虒镇":
                raise ReferenceDataError(
                    f"Region {MIANSI_CODE} exists as {region.name}, not as Miansi town (绵虒镇) under Wenchuan."
                )
            self.report.add("township regions", False)
            return region
        region = Region(
            code=MIANSI_CODE,
            name="绵虒镇",
            name_en="Miansi Town",
            level=RegionLevel.TOWNSHIP,
            parent=wenchuan,
            source=MIANSI_REGION_SOURCE,
        )
        region.save()
        self.report.add("township regions", True)
        self.report.notes.append(
            "Added Miansi town (绵虒镇) as a township region under Wenchuan with its NBS statistical division code "
            "513221109 (modood/Administrative-divisions-of-China, dist/streets.csv; in that list 513221102 is "
            "Yingxiu, 映秀镇)."
        )
        return region

    def organization(self, region_code: str) -> Organization:
        """The government of REGION_CODE: the demo's specification where the demo has one, else <province>人民政府."""
        if region_code in self.orgs:
            return self.orgs[region_code]
        demo = next(
            (
                o
                for o in DEMO_ORGANIZATIONS
                if o.region == region_code
                and o.kind in (OrganizationKind.PROVINCIAL_GOVERNMENT, OrganizationKind.MUNICIPAL_GOVERNMENT)
            ),
            None,
        )
        region = self.region_by_code(region_code)
        parent: Organization | None = None
        if demo is not None:
            name, name_en, kind = demo.name, demo.name_en, demo.kind
            if demo.parent:
                parent_spec = next(o for o in DEMO_ORGANIZATIONS if o.key == demo.parent)
                assert parent_spec.region is not None
                parent = self.organization(parent_spec.region)
        elif region.level == RegionLevel.PROVINCE:
            name = f"{region.name}人民政府"
            english = english_name(region.code, region.name)
            name_en = f"{english} {'Municipal' if region_code in MUNICIPALITIES else 'Provincial'} Government"
            kind = OrganizationKind.PROVINCIAL_GOVERNMENT
        else:
            raise ReferenceDataError(f"No organization specification for region {region_code}.")
        org = Organization.objects.filter(name=name).first()
        if org is None:
            org = account_services.organization_create(
                by=None, name=name, name_en=name_en, kind=kind, region=region, parent=parent
            )
            self.report.add("organizations", True)
        else:
            self.report.add("organizations", False)
        self.orgs[region_code] = org
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
            "source": spec.source,
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
        for rule in spec.rules:
            self.rule(program, rule)
        self.programs[spec.code] = program
        return program

    def rule(self, program: Program, spec: RuleSpec) -> FundingRule:
        def dec(value: str | None) -> Decimal | None:
            return Decimal(value) if value is not None else None

        match = FundingRule.objects.filter(
            program=program,
            basis=spec.basis,
            rate=dec(spec.rate),
            escalation=dec(spec.escalation),
            escalation_years=spec.escalation_years,
            min_county_share=dec(spec.min_county_share),
            min_livelihood_share=dec(spec.min_livelihood_share),
            source=spec.source,
        ).first()
        if match is not None:
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
            reason=spec.reason,
            source=spec.source,
        )

    # Pairings -----------------------------------------------------------------------------------------------

    def pairing(
        self,
        spec: PairingSpec,
        *,
        start: dt.date,
        source_template: str,
        recipient: Region | None = None,
        end: dt.date | None = None,
    ) -> Pairing:
        program = self.programs[spec.program]
        assisting = self.organization(spec.assisting)
        recipient = recipient or self.region_by_name(spec.province, spec.recipient)
        parent = self.pairings[(spec.program, *spec.parent)] if spec.parent else None
        source = source_template.format(fact=spec.fact)
        pairing = Pairing.objects.filter(
            program=program, assisting_organization=assisting, recipient_region=recipient, parent=parent
        ).first()
        if pairing is None:
            pairing = services.pairing_create(
                by=None,
                program=program,
                assisting_organization=assisting,
                recipient_region=recipient,
                start_date=start,
                end_date=end,
                parent=parent,
                source=source,
                note=spec.note,
            )
            self.report.add("pairings", True)
        else:
            if pairing.source != source or pairing.note != spec.note:
                pairing = services.pairing_update(by=None, pairing=pairing, source=source, note=spec.note)
            self.report.add("pairings", False)
        self.pairings[(spec.program, spec.assisting, spec.recipient)] = pairing
        return pairing

    def end(self, pairing: Pairing) -> None:
        if pairing.status == PairingStatus.ACTIVE:
            services.pairing_end(by=None, pairing=pairing, end_date=WENCHUAN_END, comment=WENCHUAN_END_COMMENT)
            self.report.created["pairings ended"] += 1

    def run(self) -> Report:
        for spec in PROGRAMS:
            self.program(spec)

        wenchuan = [
            self.pairing(p, start=WENCHUAN_START, end=WENCHUAN_END, source_template=WENCHUAN_SOURCE)
            for p in WENCHUAN_PAIRINGS
        ]
        miansi_source = (
            f"{FACTS}, Real pairings, Wenchuan 2008: “The mandate was broken down further: {{fact}}” [China Today "
            "2010]. Dates as Guangdong → Wenchuan's: start 2008-06-01 (the State Council plan is dated June 2008 with no day in facts.md), end 2010-12-31 (the programme ran 2008–2010). The recipient, Miansi town, carries its NBS statistical "
            f"division code {MIANSI_CODE}."
        )
        miansi = self.pairing(
            MIANSI, start=WENCHUAN_START, end=WENCHUAN_END, source_template=miansi_source, recipient=self.miansi()
        )
        # A pairing ends after the pairings it was broken down into.
        self.end(miansi)
        for pairing in wenchuan:
            self.end(pairing)

        for p in XINJIANG_PAIRINGS:
            self.pairing(p, start=XINJIANG_START, source_template=XINJIANG_SOURCE)
        for p in XIZANG_PAIRINGS:
            self.pairing(p, start=XIZANG_START, source_template=XIZANG_SOURCE)
        self.report.notes.extend(SKIPPED)
        return self.report


@transaction.atomic
def load_reference() -> Report:
    """Load the programmes, rules, assisting organizations and pairings of facts.md (one transaction)."""
    return _Loader().run()
