"""`GET /api/v1/iati/activities.xml`: the IATI 2.03 activity file of the projects in the caller's scope.

The export of a generated data set validates against the official XSD shipped in exchange/iati_schema/, writes only
codes of the shipped code lists (none withdrawn), and each activity's transactions add up to the project's fund
flows; callers see only their scope's projects, the filters work and malformed ones are refused, and the number of
queries does not grow with the number of projects.
"""

import datetime as dt
import functools
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext
from lxml import etree

from accounts.models import OrganizationKind, Role
from exchange import iati
from pairings.models import FlowKind, FundFlow, Pairing
from projects import figures, selectors
from projects.models import Project
from tests.conftest import api_as
from tests.factories import DocumentFactory, FundFlowFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/iati/activities.xml"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
CODELISTS = iati.SCHEMA_DIR / "codelists"


@functools.cache
def schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(iati.SCHEMA_DIR / "iati-activities-schema.xsd")))


@functools.cache
def codelist(name: str) -> dict[str, str]:
    """The codes of the shipped code list NAME, each with its status (`active` unless the list says otherwise)."""
    root = etree.parse(str(CODELISTS / f"{name}.xml")).getroot()
    return {item.findtext("code"): item.get("status", "active") for item in root.iter("codelist-item")}


#: Where each code the export writes lives (an XPath from an activity, the attribute), and its code list.
CODED: list[tuple[str, str, str]] = [
    ("self::iati-activity", "default-currency", "Currency"),
    (".//narrative", XML_LANG, "Language"),
    ("self::iati-activity", XML_LANG, "Language"),
    ("reporting-org", "type", "OrganisationType"),
    (".//participating-org", "role", "OrganisationRole"),
    (".//participating-org", "type", "OrganisationType"),
    (".//provider-org", "type", "OrganisationType"),
    (".//receiver-org", "type", "OrganisationType"),
    ("activity-status", "code", "ActivityStatus"),
    ("activity-date", "type", "ActivityDateType"),
    ("location/administrative", "vocabulary", "GeographicVocabulary"),
    ("sector", "vocabulary", "SectorVocabulary"),
    ("sector", "code", "Sector"),
    ("default-finance-type", "code", "FinanceType"),
    ("transaction/finance-type", "code", "FinanceType"),
    ("default-aid-type", "code", "AidType"),
    ("budget", "type", "BudgetType"),
    (".//value", "currency", "Currency"),
    ("transaction/transaction-type", "code", "TransactionType"),
    ("document-link/category", "code", "DocumentCategory"),
]
#: Codes from lists IATI does not embed and the reference copy does not ship: ISO 3166-1 `CN` (the Country list,
#: and GeographicVocabulary A4 "ISO Country"), and a document's IANA media type (FileFormat).
UNSHIPPED: list[tuple[str, str, set[str]]] = [
    ("recipient-country", "code", {"CN"}),
    ("location/administrative", "code", {"CN"}),
    (
        "document-link",
        "format",
        {"application/pdf", "image/jpeg", "image/png"}
        | {
            f"application/vnd.openxmlformats-officedocument.{t}"
            for t in ("wordprocessingml.document", "spreadsheetml.sheet")
        },
    ),
]
#: Attributes that hold codes; any of them found outside CODED and UNSHIPPED is a code nobody checked.
CODE_ATTRIBUTES = {"code", "type", "role", "vocabulary", "currency", "format", XML_LANG}


def export(user, **params) -> tuple[int, bytes, str]:
    response = api_as(user).get(URL, params)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    return response.status_code, body, response["Content-Type"]


def activities(body: bytes) -> list[etree._Element]:
    root = etree.fromstring(body)
    assert root.tag == "iati-activities"
    assert root.get("version") == "2.03"
    return root.findall("iati-activity")


def by_code(body: bytes) -> dict[str, etree._Element]:
    """The activities by project code (the identifier is `CN-DUIKOU-<organization id>-<code>`)."""
    return {a.findtext("iati-identifier").split("-", 3)[3]: a for a in activities(body)}


def assert_valid(body: bytes) -> None:
    document = etree.fromstring(body)
    if not schema().validate(document):
        errors = "\n".join(str(e) for e in list(schema().error_log)[:10])
        raise AssertionError(f"not valid against the IATI 2.03 schema:\n{errors}")


def assert_listed_codes(body: bytes) -> int:
    """Every code in the document is in its shipped list and not withdrawn; returns how many were checked."""
    # lxml makes a new proxy each time an element is reached: elements are known by their path.
    checked: set[tuple[str, str]] = set()
    count = 0
    for activity in activities(body):
        for path, attribute, name in CODED:
            for element in activity.xpath(path):
                value = element.get(attribute)
                if value is None:
                    continue
                listed = codelist(name)
                assert value in listed, f"{path}/@{attribute}={value} is not in {name}"
                assert listed[value] != "withdrawn", f"{path}/@{attribute}={value} is withdrawn from {name}"
                checked.add((element.getroottree().getpath(element), attribute))
                count += 1
        for path, attribute, allowed in UNSHIPPED:
            for element in activity.xpath(path):
                if element.get(attribute) is not None:
                    assert element.get(attribute) in allowed
                    checked.add((element.getroottree().getpath(element), attribute))
        for element in activity.iter():
            for attribute in set(element.attrib) & CODE_ATTRIBUTES:
                assert (element.getroottree().getpath(element), attribute) in checked, (
                    f"{element.tag}/@{attribute} is a code nobody checked"
                )
    return count


def transaction_sums(activity: etree._Element) -> dict[str, Decimal]:
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for transaction in activity.findall("transaction"):
        sums[transaction.find("transaction-type").get("code")] += Decimal(transaction.findtext("value"))
    return sums


def coordinator():
    national = OrganizationFactory(name="国家协调办公室", kind=OrganizationKind.CENTRAL_OFFICE)
    return UserFactory(username="iati-coordinator", organization=national, roles=[Role.NATIONAL_COORDINATOR])


# --- the generated data set --------------------------------------------------------------------------------------


@pytest.fixture
def generated():
    call_command("generate_projects", "--projects", "300", "--seed", "5", verbosity=0)
    projects = list(Project.objects.order_by("pk"))
    # Documents of every kind on a few projects (the generator makes none), and a title in English.
    for i, kind in enumerate(["report", "contract", "acceptance", "photo", "evidence", "other"]):
        DocumentFactory(project=projects[i], kind=kind, title=f"文件{i}" if i % 2 else f"File {i}")
    Project.objects.filter(pk=projects[0].pk).update(title="Vocational school \x01workshop", description="")
    return projects


def test_the_export_of_the_generated_data_set_is_valid_listed_and_adds_up(generated):
    user = coordinator()
    status, body, content_type = export(user)
    assert status == 200
    assert content_type.startswith("application/xml")
    assert_valid(body)
    assert assert_listed_codes(body) > 300 * 10

    found = by_code(body)
    assert set(found) == {p.code for p in generated}
    flows = FundFlow.objects.filter(project_id__isnull=False)
    assert flows.values("project_id").distinct().count() > 100, "the data set should link flows to many projects"
    pledged = dict(flows.filter(kind=FlowKind.PLEDGE).values_list("project_id").annotate(t=Sum("amount")))
    for project in Project.objects.select_related("pairing__assisting_organization"):
        activity = found[project.code]
        assert (
            activity.findtext("iati-identifier")
            == f"CN-DUIKOU-{project.pairing.assisting_organization_id}-{project.code}"
        )
        money = figures.project_money(project)
        sums = transaction_sums(activity)
        assert sums.get("2", Decimal(0)) == money.committed
        assert sums.get("3", Decimal(0)) == money.disbursed
        assert sums.get("4", Decimal(0)) == money.spent
        assert sums.get("12", Decimal(0)) == pledged.get(project.pk, Decimal(0))
        assert len(activity.findall("transaction")) == FundFlow.objects.filter(project_id=project.pk).count()
        budget = activity.find("budget/value")
        if budget is not None:
            assert Decimal(budget.text) == figures.budget_of(project)
        assert activity.find("activity-status").get("code") == str(project.iati_activity_status)
        titles = {n.get(XML_LANG): n.text for n in activity.findall("title/narrative")}
        assert set(titles) == {"zh", "en"}, titles
        assert {n.get(XML_LANG) for n in activity.findall("description/narrative")} == {"zh", "en"}
        assert (
            activity.find("location").get("ref")
            == f"GB2260-{(project.location or project.pairing.recipient_region).code}"
        )

    first = found[generated[0].code]
    titles = {n.get(XML_LANG): n.text for n in first.findall("title/narrative")}
    assert titles["en"] == "Vocational school workshop"  # the control character dropped
    assert generated[0].code in titles["zh"]  # the Chinese one made from the project's facts
    # Reports, contracts and acceptance records are linked; photos, evidence and other files are not.
    linked = [
        (link.find("category").get("code"), link.get("url"))
        for p in generated[:6]
        for link in found[p.code].findall("document-link")
    ]
    assert sorted(code for code, _ in linked) == ["A07", "A08", "A11"]
    assert all("/api/v1/projects/" in url and url.endswith("/download/") for _, url in linked)


def test_a_caller_sees_only_their_scope_and_the_queries_do_not_grow(generated):
    pairing = Pairing.objects.filter(projects__isnull=False).order_by("pk").first()
    officer = UserFactory(
        username="iati-officer", organization=pairing.assisting_organization, roles=[Role.ASSISTING_OFFICER]
    )
    status, body, _ = export(officer)
    assert status == 200
    assert_valid(body)
    assert set(by_code(body)) == set(selectors.projects_visible_to(officer).values_list("code", flat=True))
    assert 0 < len(by_code(body)) < len(generated)

    # The same number of queries for one pairing's projects as for all 300 (one chunk; each chunk's extras are
    # read in one query apiece).
    user = coordinator()
    counts = []
    for params in ({"pairing": pairing.pk}, {}):
        with CaptureQueriesContext(connection) as queries:
            status, body, _ = export(user, **params)
        assert status == 200
        counts.append((len(activities(body)), len(queries)))
    (few, few_queries), (many, many_queries) = counts
    assert few < 20 < many == 300
    assert many_queries == few_queries <= 10, counts


def test_the_export_is_read_in_chunks(generated):
    projects = Project.objects.all()
    with CaptureQueriesContext(connection) as queries:
        pieces = iati.activities_xml(projects, document_url=lambda d: f"https://duikou.invalid/{d.pk}", chunk=40)
        body = b"".join(pieces)
    assert len(activities(body)) == 300
    assert_valid(body)
    # 8 chunks (the last one short): the projects, their flows and their documents, and the governments of
    # regions not met before.
    assert len(queries) <= 8 * 4, len(queries)


# --- a small world -----------------------------------------------------------------------------------------------


@pytest.fixture
def shufu_projects(world, pw):
    from tests.evaluation.conftest import make_project

    building = make_project(
        pw.shufu, "in_construction", title="疏附县第二中学教学楼", actual_start=dt.date(2015, 3, 10)
    )
    loan = make_project(pw.shufu, "approved", category="reimbursable", execution_mode="funds_transfer")
    other = make_project(pw.jiashi, "accepted", actual_start=dt.date(2015, 4, 1), actual_end=dt.date(2015, 11, 30))
    FundFlowFactory(pairing=pw.shufu, project_id=building.pk, kind="commitment", amount=Decimal("5000000.00"))
    FundFlowFactory(pairing=pw.shufu, project_id=building.pk, kind="disbursement", amount=Decimal("1234567.89"))
    FundFlowFactory(pairing=pw.shufu, project_id=loan.pk, kind="disbursement", source="loan")
    FundFlowFactory(pairing=pw.shufu)  # not linked to a project
    return building, loan, other


def test_officials_see_their_own_projects_and_an_outsider_an_empty_document(world, pw, shufu_projects):
    building, loan, other = shufu_projects
    for user, expected in [
        (world.assisting, {building.code, loan.code}),
        (world.recipient, {building.code, loan.code}),
        (world.outsider, {other.code}),
    ]:
        status, body, _ = export(user)
        assert status == 200
        assert_valid(body)
        assert set(by_code(body)) == expected, user

    nobody = UserFactory(username="iati-nobody", organization=OrganizationFactory(), roles=[Role.ASSISTING_OFFICER])
    status, body, _ = export(nobody)
    # IATI's schema wants at least one activity in a file: an empty scope gets a well-formed, empty document.
    assert status == 200
    assert activities(body) == []

    assert api_as(world.assisting).get(URL).status_code == 200
    from rest_framework.test import APIClient

    assert APIClient().get(URL).status_code == 401


def test_what_an_activity_says(world, pw, shufu_projects):
    building, loan, _ = shufu_projects
    _, body, _ = export(world.assisting)
    found = by_code(body)
    activity = found[building.code]
    assert activity.find("reporting-org").get("ref") == f"CN-DUIKOU-{world.guangdong_gov.pk}"
    roles = {(o.get("role"), o.get("ref")) for o in activity.findall("participating-org")}
    gd, sf = f"CN-DUIKOU-{world.guangdong_gov.pk}", f"CN-DUIKOU-{world.shufu_gov.pk}"
    assert roles == {("1", gd), ("3", gd), ("2", sf), ("4", gd)}  # turnkey: the assisting side builds
    assert {n.get(XML_LANG): n.text for n in activity.findall("reporting-org/narrative")} == {
        "zh": "广东省人民政府",
        "en": "Guangdong",
    }
    assert activity.find("sector").get("code") == "11120"
    assert activity.find("default-finance-type").get("code") == "110"
    assert activity.find("recipient-country").get("code") == "CN"
    assert [n.text for n in activity.findall("location/name/narrative")] == ["疏附县", "Shufu County"]
    values = sorted(Decimal(v.text) for v in activity.findall("transaction/value"))
    assert values == [Decimal("1234567.89"), Decimal("5000000.00")]
    disbursement = next(t for t in activity.findall("transaction") if t.find("transaction-type").get("code") == "3")
    assert disbursement.find("receiver-org").get("ref") == sf
    assert disbursement.find("provider-org").get("ref") == gd

    loan_activity = found[loan.code]
    assert loan_activity.find("default-finance-type").get("code") == "421"  # 410 is withdrawn
    assert ("4", sf) in {(o.get("role"), o.get("ref")) for o in loan_activity.findall("participating-org")}
    assert loan_activity.find("transaction/finance-type") is None  # a loan's flow on a loan project: the default


def test_the_filters(world, pw, shufu_projects):
    building, loan, other = shufu_projects
    user = world.coordinator
    everything = {building.code, loan.code, other.code}
    cases = [
        ({}, everything),
        ({"program": pw.program.code}, everything),
        ({"program": str(pw.program.pk)}, everything),
        ({"program": "nothing-like-it"}, set()),
        ({"pairing": pw.jiashi.pk}, {other.code}),
        ({"organization": world.guangdong_gov.pk}, {building.code, loan.code}),
        ({"organization": world.shufu_gov.pk}, {building.code, loan.code}),  # as the recipient side
        ({"organization": world.kashgar_gov.pk}, everything),  # both counties lie in Kashgar
        ({"organization": world.jiangsu_gov.pk, "pairing": pw.shufu.pk}, set()),
        ({"organization": 999_999}, set()),
    ]
    for params, expected in cases:
        status, body, _ = export(user, **params)
        assert status == 200, params
        assert set(by_code(body)) == expected, params

    for query, name in [
        ("organization=abc", "organization"),
        ("pairing=0", "pairing"),
        ("pairing=", "pairing"),
        ("pairing=1.5", "pairing"),
        ("organization=99999999999999999999", "organization"),
        ("program=a&program=b", "program"),
    ]:
        response = api_as(user).get(f"{URL}?{query}", HTTP_ACCEPT="application/xml")
        assert response.status_code == 400, query
        assert response["Content-Type"].startswith("application/json")
        assert [e["field"] for e in response.json()["errors"]] == [name], query


def test_the_projects_page_links_the_export_with_its_programme(client, world, pw, shufu_projects):
    client.force_login(world.assisting)
    page = client.get("/projects/", {"program": pw.program.code})
    assert page.status_code == 200
    href = f"{URL}?program={pw.program.code}"
    assert href.encode() in page.content
    response = client.get(href)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="iati-activities.xml"'
    assert len(activities(b"".join(response.streaming_content))) == 2
    assert b'href="/api/v1/iati/activities.xml"' in client.get("/projects/").content
    # In Chinese too.
    world.assisting.preferred_language = "zh-hans"
    world.assisting.save(update_fields=["preferred_language"])
    assert "下载您范围内" in client.get("/projects/").content.decode()
