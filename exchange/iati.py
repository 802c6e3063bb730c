"""Projects as an IATI 2.03 activity file: one `iati-activities` document, one `iati-activity` per project.

The document is written as a stream (`activities_xml` yields bytes): projects are read in chunks of `CHUNK` by id,
each chunk with its fund flows, documents and recipient governments in one query apiece, so the number of queries
grows with the chunks, never with the projects, and memory holds one chunk at a time.

What each activity says, and where it comes from:

- `iati-identifier`: the reporting organisation's ref, a hyphen and the project's code (stable: neither changes).
- `reporting-org`, `participating-org` (roles of the OrganisationRole list): the pairing's assisting organization
  reports, funds (1) and extends (3); the recipient region's government, where Duikou knows it, is accountable (2);
  the implementing agency named on the project implements (4) — where none is named, the side that builds it by its
  execution mode (turnkey: the assisting side; funds transfer: the recipient government).
- `title`, `description`: a narrative in Chinese and one in English. Duikou records a title and a description in
  one language (Chinese as a rule): that one is written as it is, and the other language gets a sentence made from
  the project's coded facts (sector, place, programme, parties), translated as the pages are.
- `activity-status` from the lifecycle state (`Project.iati_activity_status`), `activity-date` from the planned and
  actual dates.
- `recipient-country` CN and a `location` for the project's region (its location, else the pairing's recipient
  region): its GB/T 2260 code as the location's `ref` and in its description, its names, the country as the
  administrative area (GeographicVocabulary A4, ISO 3166-1), and the project's coordinates where it has them. IATI
  lists no vocabulary for China's GB/T 2260 codes, so the code is not written as an `administrative` code.
- `sector`: the DAC 5-digit purpose code of the project's sector (`SECTOR_DAC5`, vocabulary 1).
- `default-finance-type` (grant or loan), `default-aid-type` C01 (project-type interventions).
- `budget`: the project's budget (`projects.figures.budget_of`) over its planned period.
- `transaction`: one per fund flow linked to the project, typed by `TRANSACTION_TYPE`, its amount as the flow
  holds it, in yuan (CNY, the activities' default currency).
- `document-link`: the project's reports, contracts and acceptance records (`DOCUMENT_CATEGORY`), linked to the
  API's download of the file (which answers only callers who may see the project).

Every code written is in the code lists shipped in `iati_schema/codelists/` (tests/exchange checks it, and that
the document validates against the official schema in `iati_schema/`).
"""

import functools
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import cast

from django.conf import settings
from django.db.models import QuerySet, TextChoices
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import Organization, OrganizationKind
from core.models import Region
from pairings.models import FlowKind, FlowSource, FundFlow
from projects.figures import budget_of
from projects.models import Category, Document, DocumentKind, ExecutionMode, Project, Sector

IATI_VERSION = "2.03"
#: The official schema (`iati-activities-schema.xsd`) and the code lists, as IATI publishes them (see README there).
SCHEMA_DIR = Path(__file__).resolve().parent / "iati_schema"
#: Projects read (and written) at a time.
CHUNK = 500
CURRENCY = "CNY"
COUNTRY = "CN"
#: The narratives' languages (Language code list) and the Django language each is made in.
LANGUAGES = {"zh": "zh-hans", "en": "en"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
#: IATI organisation identifiers are `<registration agency>-<number>`. Duikou holds no registration numbers, so an
#: organization's ref is this prefix and its id (stable), unless a deployment sets its own prefix in the settings.
DEFAULT_ORGANISATION_PREFIX = "CN-DUIKOU"

# --- the mappings: every code the export writes comes from here or from the models' helpers ---------------------

#: Duikou's sectors as OECD DAC CRS purpose codes (Sector list, SectorVocabulary 1 = DAC 5-digit).
SECTOR_DAC5: dict[str, str] = {
    # Schools, boarding and teachers' housing, vocational training buildings: "educational buildings, equipment,
    # materials; subsidiary services to education (boarding facilities, staff housing)".
    Sector.EDUCATION: "11120",
    # County and township hospitals and clinics: "district-level hospitals, clinics and dispensaries".
    Sector.HEALTH: "12230",
    # Settlement housing for farmers and herders, affordable housing.
    Sector.HOUSING: "16040",
    # County roads, water and heating networks, bridges, sewage works: "urban infrastructure and services" (the
    # sector mixes them; no single transport or water code covers it).
    Sector.INFRASTRUCTURE: "43030",
    # Industrial parks, processing plants, standard factory buildings.
    Sector.INDUSTRY: "32120",
    # Farmland, greenhouses, irrigation, seed bases, grassland: "integrated projects; farm development".
    Sector.AGRICULTURE: "31120",
    # Training centres, poverty-alleviation workshops, job placement: "employment creation and income generation".
    Sector.EMPLOYMENT: "16020",
    # Cultural centres, libraries, sports centres, intangible heritage: "culture and recreation, including libraries".
    Sector.CULTURE: "16061",
    # Service centres and premises of village organisations, e-government: "strengthening local authorities".
    Sector.GOVERNANCE: "15185",
    # Shelter forests, river management, ecological restoration: the general environment protection code that takes
    # the conservation measures no narrower code covers (afforestation alone would be 31220).
    Sector.ECOLOGY: "41010",
    # Comprehensive assistance projects and exchange centres: several sectors at once.
    Sector.OTHER: "43010",
}
SECTOR_VOCABULARY_DAC5 = "1"

#: Fund flows as IATI transactions, from the reporting (assisting) organisation's side.
TRANSACTION_TYPE: dict[str, str] = {
    FlowKind.PLEDGE: "12",  # Outgoing Pledge: promised, not yet a firm commitment
    FlowKind.COMMITMENT: "2",  # Outgoing Commitment
    FlowKind.DISBURSEMENT: "3",  # Disbursement: what the recipient received (到位)
    FlowKind.EXPENDITURE: "4",  # Expenditure
}

#: Finance types. `Project.iati_finance_type` tells a grant (110) from a loan (410, reimbursable projects); 410 "Aid
#: loan excluding debt reorganisation" was withdrawn from the list on 2015-12-31, replaced by 421 "Standard loan",
#: which is what the export writes for it.
FINANCE_GRANT = "110"
FINANCE_LOAN = "421"
_WITHDRAWN_FINANCE = {410: FINANCE_LOAN}

#: Every Duikou project is a project: C01 "Project-type interventions" (AidType, OECD DAC vocabulary).
AID_TYPE = "C01"

#: The project's budget is its original one, approved or requested (BudgetType 1 "Original").
BUDGET_ORIGINAL = "1"

#: OrganisationRole codes.
ROLE_FUNDING, ROLE_ACCOUNTABLE, ROLE_EXTENDING, ROLE_IMPLEMENTING = "1", "2", "3", "4"

#: Organizations as OrganisationType codes: the national office and agencies are central government (10); provinces,
#: cities and counties are sub-national governments (11 "Local Government"); central enterprises are state-owned
#: (15 "Other Public Sector").
ORGANISATION_TYPE: dict[str, str] = {
    OrganizationKind.CENTRAL_OFFICE: "10",
    OrganizationKind.AGENCY: "10",
    OrganizationKind.PROVINCIAL_GOVERNMENT: "11",
    OrganizationKind.MUNICIPAL_GOVERNMENT: "11",
    OrganizationKind.COUNTY_GOVERNMENT: "11",
    OrganizationKind.CENTRAL_ENTERPRISE: "15",
}
#: The kinds that can be a recipient region's government (the accountable party, the receiver of disbursements).
GOVERNMENT_KINDS = (
    OrganizationKind.PROVINCIAL_GOVERNMENT,
    OrganizationKind.MUNICIPAL_GOVERNMENT,
    OrganizationKind.COUNTY_GOVERNMENT,
)

#: ActivityDateType codes.
DATE_PLANNED_START, DATE_ACTUAL_START, DATE_PLANNED_END, DATE_ACTUAL_END = "1", "2", "3", "4"

#: The documents published as links, by kind (DocumentCategory). Photos, rectification evidence and "other" files
#: are working material, not documents of the activity: left out.
DOCUMENT_CATEGORY: dict[str, str] = {
    DocumentKind.REPORT: "A07",  # Review of project performance and evaluation
    DocumentKind.CONTRACT: "A11",  # Contract
    DocumentKind.ACCEPTANCE: "A08",  # Results, outcomes and outputs
}

#: The administrative area written for every location: the country, ISO 3166-1 (GeographicVocabulary A4), level 0.
COUNTRY_VOCABULARY = "A4"
#: A point's reference system as IATI requires it (WGS 84), a name, not something fetched.
WGS84 = "http://www.opengis.net/def/crs/EPSG/0/4326"

# Characters XML 1.0 cannot carry, even escaped (a control character typed into a title would make the document
# unreadable): dropped from every text written.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_CJK = re.compile("[\u3400-\u9fff\uf900-\ufaff]")


def _text(value: object) -> str:
    return _NOT_XML.sub("", str(value)).strip()


def organisation_prefix() -> str:
    return getattr(settings, "IATI_ORGANISATION_PREFIX", DEFAULT_ORGANISATION_PREFIX)


def organisation_ref(organization: Organization) -> str:
    return f"{organisation_prefix()}-{organization.pk}"


def activity_identifier(project: Project) -> str:
    """The activity's IATI identifier: the reporting (assisting) organisation's ref, `-`, the project's code."""
    return f"{organisation_ref(project.pairing.assisting_organization)}-{project.code}"


def finance_type(project: Project) -> str:
    code = project.iati_finance_type
    return _WITHDRAWN_FINANCE.get(code, str(code))


# --- building -------------------------------------------------------------------------------------------------


def _sub(parent: ET.Element, tag: str, **attrs: str) -> ET.Element:
    return ET.SubElement(parent, tag, {k.replace("_", "-"): v for k, v in attrs.items()})


def _narratives(parent: ET.Element, texts: dict[str, str]) -> None:
    """A narrative per language (`zh`, `en`) whose text is not empty."""
    for lang, text in texts.items():
        cleaned = _text(text)
        if cleaned:
            _sub(parent, "narrative", **{XML_LANG: lang}).text = cleaned


def _in_each_language(make: Callable[[], str]) -> dict[str, str]:
    """MAKE's text in Chinese and in English (gettext and the models' display names follow the active language)."""
    texts = {}
    for lang, django_lang in LANGUAGES.items():
        with translation.override(django_lang):
            texts[lang] = make()
    return texts


def _label(choices: type[TextChoices], value: str) -> str:
    """VALUE's label in the active language (a model's `get_…_display` builds its choices anew at each call: too slow
    for a hundred thousand activities)."""
    return _labels(translation.get_language() or "", choices)[value]


@functools.cache
def _labels(language: str, choices: type[TextChoices]) -> dict[str, str]:
    with translation.override(language):
        return {value: str(label) for value, label in choices.choices}


def _org_names(organization: Organization) -> dict[str, str]:
    return {"zh": organization.name, "en": organization.name_en}


def _region_names(region: Region) -> dict[str, str]:
    return {"zh": region.name, "en": region.name_en}


def _one_language(recorded: str, composed: dict[str, str]) -> dict[str, str]:
    """RECORDED (a title or description typed in one language) in its own language, COMPOSED in the other."""
    if not _text(recorded):
        return composed
    if _CJK.search(recorded):
        return {"zh": recorded, "en": composed["en"]}
    return {"zh": composed["zh"], "en": recorded}


def _place(project: Project) -> Region:
    return project.location or project.pairing.recipient_region


def _composed_title(project: Project) -> dict[str, str]:
    def make() -> str:
        return _("Paired assistance project %(code)s: %(sector)s, %(place)s") % {
            "code": project.code,
            "sector": _label(Sector, project.sector) if project.sector else _("no sector"),
            "place": _place(project).display_name,
        }

    return _in_each_language(make)


def _composed_description(project: Project) -> dict[str, str]:
    pairing = project.pairing

    def make() -> str:
        return _(
            "%(assisting)s assists %(recipient)s under the programme %(program)s. Category: %(category)s. "
            "Execution: %(mode)s."
        ) % {
            "assisting": pairing.assisting_organization.display_name,
            "recipient": pairing.recipient_region.display_name,
            "program": pairing.program.display_name,
            "category": _label(Category, project.category) if project.category else "—",
            "mode": _label(ExecutionMode, project.execution_mode),
        }

    return _in_each_language(make)


def _org(parent: ET.Element, tag: str, organization: Organization, **attrs: str) -> ET.Element:
    element = _sub(parent, tag, ref=organisation_ref(organization), type=ORGANISATION_TYPE[organization.kind], **attrs)
    _narratives(element, _org_names(organization))
    return element


@dataclass
class _Chunk:
    """What a chunk of projects needs beyond their own rows, read in one query each."""

    flows: dict[int, list[FundFlow]]
    documents: dict[int, list[Document]]
    governments: dict[int, Organization | None]


def _activity(project: Project, chunk: _Chunk, document_url: Callable[[Document], str]) -> ET.Element:
    pairing = project.pairing
    assisting = pairing.assisting_organization
    government = chunk.governments.get(pairing.recipient_region_id)
    activity = ET.Element(
        "iati-activity",
        {
            "last-updated-datetime": project.updated_at.isoformat(timespec="seconds"),
            XML_LANG: "zh",
            "default-currency": CURRENCY,
        },
    )
    _sub(activity, "iati-identifier").text = activity_identifier(project)
    _org(activity, "reporting-org", assisting)
    _narratives(_sub(activity, "title"), _one_language(project.title, _composed_title(project)))
    _narratives(_sub(activity, "description"), _one_language(project.description, _composed_description(project)))

    _org(activity, "participating-org", assisting, role=ROLE_FUNDING)
    _org(activity, "participating-org", assisting, role=ROLE_EXTENDING)
    if government is not None:
        _org(activity, "participating-org", government, role=ROLE_ACCOUNTABLE)
    if _text(project.implementing_agency):
        implementing = _sub(activity, "participating-org", role=ROLE_IMPLEMENTING)
        _narratives(implementing, {"zh": project.implementing_agency})
    elif project.execution_mode == ExecutionMode.FUNDS_TRANSFER and government is not None:
        _org(activity, "participating-org", government, role=ROLE_IMPLEMENTING)
    elif project.execution_mode == ExecutionMode.TURNKEY:
        _org(activity, "participating-org", assisting, role=ROLE_IMPLEMENTING)

    _sub(activity, "activity-status", code=str(project.iati_activity_status))
    _dates(activity, project)
    _sub(activity, "recipient-country", code=COUNTRY, percentage="100")
    _location(activity, project)
    if project.sector in SECTOR_DAC5:
        sector = _sub(
            activity, "sector", vocabulary=SECTOR_VOCABULARY_DAC5, code=SECTOR_DAC5[project.sector], percentage="100"
        )
        _narratives(sector, _in_each_language(lambda: _label(Sector, project.sector)))
    _sub(activity, "default-finance-type", code=finance_type(project))
    _sub(activity, "default-aid-type", code=AID_TYPE)
    _budget(activity, project)
    for flow in chunk.flows.get(project.pk, []):
        _transaction(activity, project, flow, government)
    for document in chunk.documents.get(project.pk, []):
        _document_link(activity, document, document_url)
    return activity


def _dates(activity: ET.Element, project: Project) -> None:
    dates = [
        (DATE_PLANNED_START, project.planned_start),
        (DATE_ACTUAL_START, project.actual_start),
        (DATE_PLANNED_END, project.planned_end),
        (DATE_ACTUAL_END, project.actual_end),
    ]
    written = [(kind, day) for kind, day in dates if day is not None]
    for kind, day in written:
        _sub(activity, "activity-date", type=kind, iso_date=day.isoformat())
    if not written:
        # IATI requires a date; a draft may have none yet. The day it was recorded stands in as the planned start,
        # and says so.
        recorded = _sub(
            activity,
            "activity-date",
            type=DATE_PLANNED_START,
            iso_date=timezone.localdate(project.created_at).isoformat(),
        )
        _narratives(recorded, _in_each_language(lambda: _("No planned start yet: the day the project was recorded.")))


def _location(activity: ET.Element, project: Project) -> None:
    region = _place(project)
    location = _sub(activity, "location", ref=f"GB2260-{region.code}")
    _narratives(_sub(location, "name"), _region_names(region))
    _narratives(
        _sub(location, "description"),
        _in_each_language(
            lambda: (
                _("Administrative division %(code)s (GB/T 2260): %(name)s")
                % {"code": region.code, "name": region.display_name}
            )
        ),
    )
    _sub(location, "administrative", vocabulary=COUNTRY_VOCABULARY, code=COUNTRY, level="0")
    if project.latitude is not None and project.longitude is not None:
        point = _sub(location, "point", srsName=WGS84)
        _sub(point, "pos").text = f"{project.latitude} {project.longitude}"


def _budget(activity: ET.Element, project: Project) -> None:
    amount = budget_of(project)
    if amount is None or project.planned_start is None or project.planned_end is None:
        return
    budget = _sub(activity, "budget", type=BUDGET_ORIGINAL)
    _sub(budget, "period-start", iso_date=project.planned_start.isoformat())
    _sub(budget, "period-end", iso_date=project.planned_end.isoformat())
    _sub(budget, "value", currency=CURRENCY, value_date=project.planned_start.isoformat()).text = str(amount)


def _transaction(activity: ET.Element, project: Project, flow: FundFlow, government: Organization | None) -> None:
    pairing = project.pairing
    transaction = _sub(activity, "transaction", ref=str(flow.pk))
    _sub(transaction, "transaction-type", code=TRANSACTION_TYPE[flow.kind])
    _sub(transaction, "transaction-date", iso_date=flow.date.isoformat())
    _sub(transaction, "value", currency=CURRENCY, value_date=flow.date.isoformat()).text = str(flow.amount)
    _narratives(_sub(transaction, "description"), _in_each_language(lambda: _label(FlowSource, flow.source)))
    # Who the money comes from, where Duikou knows the party: the assisting side's budget, or the recipient's
    # matching funds. Enterprises, donors and lenders are not recorded by name.
    if flow.source == FlowSource.ASSISTING_FISCAL:
        _org(transaction, "provider-org", pairing.assisting_organization)
    elif flow.source == FlowSource.RECIPIENT_MATCHING and government is not None:
        _org(transaction, "provider-org", government)
    if flow.kind == FlowKind.DISBURSEMENT and government is not None:
        _org(transaction, "receiver-org", government)
    if flow.source == FlowSource.LOAN and finance_type(project) != FINANCE_LOAN:
        _sub(transaction, "finance-type", code=FINANCE_LOAN)


def _document_link(activity: ET.Element, document: Document, document_url: Callable[[Document], str]) -> None:
    link = _sub(activity, "document-link", url=document_url(document), format=document.content_type)
    # The title as typed, in the activity's language unless it has no Chinese in it.
    title = _sub(link, "title")
    text = document.title or document.get_kind_display()
    _narratives(title, {"zh" if _CJK.search(text) else "en": text})
    _sub(link, "category", code=DOCUMENT_CATEGORY[document.kind])
    _sub(link, "document-date", iso_date=timezone.localdate(document.uploaded_at).isoformat())


# --- reading --------------------------------------------------------------------------------------------------


def _governments(region_ids: Iterable[int], known: dict[int, Organization | None]) -> None:
    """Add to KNOWN the government of each region of REGION_IDS not in it yet (None where Duikou has none): the
    active government organization of that region, the top-most one if several."""
    wanted = set(region_ids) - known.keys()
    if not wanted:
        return
    for region_id in wanted:
        known[region_id] = None
    rows = Organization.objects.filter(region_id__in=wanted, kind__in=GOVERNMENT_KINDS, is_active=True).order_by(
        "region_id", "path", "pk"
    )
    for org in rows:
        region_id = cast(int, org.region_id)  # filtered on it: never null here
        if known[region_id] is None:
            known[region_id] = org


def _chunk_of(page: list[Project], governments: dict[int, Organization | None]) -> _Chunk:
    ids = [p.pk for p in page]
    flows: dict[int, list[FundFlow]] = defaultdict(list)
    for flow in FundFlow.objects.filter(project_id__in=ids).order_by("project_id", "date", "id"):
        flows[flow.project_id].append(flow)  # type: ignore[index]
    documents: dict[int, list[Document]] = defaultdict(list)
    for document in Document.objects.filter(project_id__in=ids, kind__in=list(DOCUMENT_CATEGORY)).order_by(
        "project_id", "uploaded_at", "id"
    ):
        documents[document.project_id].append(document)
    _governments({p.pairing.recipient_region_id for p in page}, governments)
    return _Chunk(flows=flows, documents=documents, governments=governments)


def activities_xml(
    projects: QuerySet[Project],
    *,
    document_url: Callable[[Document], str],
    generated: datetime | None = None,
    chunk: int = CHUNK,
) -> Iterator[bytes]:
    """The `iati-activities` document of PROJECTS (a scope: `projects.selectors.projects_visible_to(user)`, filtered
    as wished), UTF-8, in pieces. DOCUMENT_URL gives a document's absolute address."""
    generated = generated or timezone.now()
    yield (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<iati-activities version="{IATI_VERSION}" generated-datetime="{generated.isoformat(timespec="seconds")}">\n'
    ).encode()
    rows = projects.order_by("pk").select_related(
        "pairing__program", "pairing__assisting_organization", "pairing__recipient_region", "location"
    )
    governments: dict[int, Organization | None] = {}
    last = 0
    while True:
        page = list(rows.filter(pk__gt=last)[:chunk])
        if not page:
            break
        extra = _chunk_of(page, governments)
        for project in page:
            yield ET.tostring(_activity(project, extra, document_url), encoding="unicode").encode() + b"\n"
        last = page[-1].pk
        if len(page) < chunk:
            break
    yield b"</iati-activities>\n"
