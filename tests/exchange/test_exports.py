"""Exports of the lists (`/api/v1/exports/` and the Export button of every list page).

A file holds exactly the rows the API lists for the same caller and filters (compared row by row, for every kind
of list, as the national coordinator and as a scoped official, in both languages); money is a number in yuan;
headers follow the creator's language; CSV starts with a byte-order mark. A long list is made by the Celery task
with its progress counted and its creator told by e-mail; only the creator downloads it, until it expires. Every
malformed request is a 400 naming the field, and nothing is made.
"""

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import OrganizationKind, Role
from evaluation.models import EvaluationRun, RunStatus
from exchange import exports, services
from exchange.models import Export, ExportStatus
from pairings.models import Pairing, Program
from projects.models import Project
from projects.selectors import projects_visible_to
from tests.conftest import api_as
from tests.evaluation.conftest import run_eagerly
from tests.factories import OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/exports/"


def coordinator(email: str = ""):
    national = OrganizationFactory(name="国家协调办公室", kind=OrganizationKind.CENTRAL_OFFICE)
    return UserFactory(
        username="export-coordinator", organization=national, roles=[Role.NATIONAL_COORDINATOR], email=email
    )


@pytest.fixture
def generated():
    """A generated portfolio (120 projects with flows, people, revenues) and a finished evaluation run."""
    call_command("generate_projects", "--projects", "120", "--seed", "7", verbosity=0)
    program = Program.objects.order_by("pk").first()
    year = Project.objects.filter(pairing__program=program).order_by("-planned_start").first().planned_start.year
    run = run_eagerly(program, year)
    assert run.status == RunStatus.SUCCEEDED


def api_rows(user, path: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every row the API lists for USER at PATH with PARAMS, page by page."""
    client = api_as(user)
    rows: list[dict[str, Any]] = []
    page = 1
    while True:
        response = client.get(path, {**params, "page": page, "page_size": 200})
        assert response.status_code == 200, response.content
        body = response.json()
        if isinstance(body, list):
            return body
        rows += body["results"]
        if not body.get("next"):
            return rows
        page += 1


def export_file(user, kind: str, fmt: str, filters: dict[str, Any], *, language: str = "zh-hans") -> bytes:
    client = api_as(user)
    response = client.post(
        URL, {"kind": kind, "format": fmt, "filters": filters}, format="json", HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code in (201, 202), response.content
    body = response.json()
    export = Export.objects.get(pk=body["id"])
    assert export.status == ExportStatus.DONE, export.error
    download = client.get(f"{URL}{body['id']}/download/")
    assert download.status_code == 200
    return b"".join(download.streaming_content)


def sheet_rows(content: bytes) -> tuple[list[str], list[tuple]]:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    sheet = workbook.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    return [str(h) for h in rows[0]], rows[1:]


#: Each kind: the API list it mirrors, the filters to try, the key of a row and the column it sits in.
def cases() -> list[tuple[str, str, dict[str, Any], str]]:
    program = Program.objects.order_by("pk").first()
    pairing = Pairing.objects.filter(program=program, fund_flows__isnull=False).order_by("pk").first()
    project = Project.objects.filter(pairing=pairing).order_by("pk").first()
    run = EvaluationRun.objects.filter(status=RunStatus.SUCCEEDED).first()
    return [
        ("projects", "/api/v1/projects/", {"program": program.code}, "id"),
        ("projects", "/api/v1/projects/", {"state": ["approved", "in_construction"]}, "id"),
        ("pairings", "/api/v1/pairings/", {"program": program.code}, "id"),
        ("mandates", f"/api/v1/pairings/{pairing.pk}/mandates/", {"pairing": pairing.pk}, "year"),
        ("fund_flows", "/api/v1/fund-flows/", {"pairing": pairing.pk}, "id"),
        ("fund_flows", "/api/v1/fund-flows/", {}, "id"),
        ("deployments", "/api/v1/deployments/", {}, "id"),
        ("trainings", "/api/v1/trainings/", {}, "id"),
        ("fiscal_revenues", "/api/v1/fiscal-revenues/", {}, "id"),
        ("project_scores", "/api/v1/evaluation/project-scores/", {"run": run.pk}, "project"),
        ("scorecards", "/api/v1/evaluation/scorecards/", {"run": run.pk}, "pairing"),
        ("rankings", "/api/v1/evaluation/rankings/", {"run": run.pk}, "rank"),
        ("history", f"/api/v1/projects/{project.pk}/history/", {"project": project.pk}, "at"),
    ]


def scoped_users():
    """The national coordinator and an assisting official of one province (who sees only its pairings)."""
    pairing = Pairing.objects.filter(fund_flows__isnull=False).order_by("pk").first()
    official = UserFactory(
        username="export-assisting",
        organization=pairing.assisting_organization,
        roles=[Role.ASSISTING_OFFICER],
    )
    return [coordinator(), official]


def _key(kind: str, key: str, row: dict[str, Any]) -> Any:
    if key == "at":
        return dt.datetime.fromisoformat(row["at"]).replace(microsecond=0)
    return row[key]


def test_every_list_exports_the_rows_the_api_lists(generated):
    checked = 0
    for user in scoped_users():
        for kind, path, filters, key in cases():
            api_params = {
                k: v
                for k, v in filters.items()
                if not (kind in ("mandates", "history") and k in ("pairing", "project"))
            }
            expected = api_rows(user, path, api_params)
            headers, rows = sheet_rows(export_file(user, kind, "xlsx", filters))
            columns = exports.LISTS[kind].columns
            assert len(headers) == len(columns)
            index = [c.key for c in columns].index(key)
            got = [row[index] for row in rows]
            if key == "at":
                got = [value.replace(microsecond=0) for value in got]
                want = [timezone.localtime(_key(kind, key, r)).replace(tzinfo=None) for r in expected]
            else:
                want = [_key(kind, key, r) for r in expected]
            assert got == want, f"{kind} {filters} as {user.username}"
            # Money columns are numbers equal to the API's amounts.
            for column_index, column in enumerate(columns):
                if column.type == "money":
                    for row, api_row in zip(rows, expected, strict=True):
                        value = api_row.get(column.key)
                        assert (row[column_index] is None) == (value in (None, "")), (kind, column.key)
                        if value not in (None, ""):
                            assert isinstance(row[column_index], int | float)
                            assert Decimal(str(row[column_index])).quantize(Decimal("0.01")) == Decimal(value)
            checked += len(rows)
    assert checked > 500


def test_an_official_exports_only_their_scope(generated):
    coordinator_, official = scoped_users()
    everyone = sheet_rows(export_file(coordinator_, "projects", "xlsx", {}))[1]
    theirs = sheet_rows(export_file(official, "projects", "xlsx", {}))[1]
    assert 0 < len(theirs) < len(everyone)
    assert {row[0] for row in theirs} == set(projects_visible_to(official).values_list("pk", flat=True))


def test_headers_follow_the_language_and_csv_opens_in_excel(generated):
    user = coordinator()
    zh_headers, _ = sheet_rows(export_file(user, "fund_flows", "xlsx", {}, language="zh-hans"))
    en_headers, _ = sheet_rows(export_file(user, "fund_flows", "xlsx", {}, language="en"))
    assert "金额 (元)" in zh_headers
    assert "amount (yuan)" in en_headers
    content = export_file(user, "projects", "csv", {"program": Program.objects.order_by("pk").first().code})
    assert content.startswith(b"\xef\xbb\xbf"), "Excel needs the byte-order mark to read UTF-8"
    reader = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert reader[0][:3] == ["ID", "代码", "名称"]
    titles = {row[2] for row in reader[1:]}
    assert titles == set(Project.objects.filter(pk__in=[int(r[0]) for r in reader[1:]]).values_list("title", flat=True))
    assert any("\u4e00" <= ch <= "\u9fff" for title in titles for ch in title)


def test_the_workbook_has_a_frozen_header_filters_and_money_formats(generated):
    content = export_file(coordinator(), "projects", "xlsx", {})
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref.startswith("A1:")
    money = [c.key for c in exports.PROJECT_COLUMNS].index("budget_requested") + 1
    cell = sheet.cell(row=2, column=money)
    assert cell.number_format == "#,##0.00"
    assert sheet.column_dimensions["C"].width >= 30


def test_a_long_list_is_made_by_the_task_with_progress_and_an_email(generated, settings):
    settings.EXPORT_SYNC_ROWS = 10
    user = coordinator(email="coordinator@example.org")
    client = api_as(user)
    response = client.post(URL, {"kind": "projects", "format": "xlsx"}, format="json")
    # The task is queued on commit; the test's transaction never commits, so it runs here (eager, real code).
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued"
    assert body["progress"] == {"done": 0, "total": 120}
    assert body["download"] is None
    from exchange.tasks import make_export

    assert make_export.delay(body["id"]).get() == "done"
    polled = client.get(f"{URL}{body['id']}/").json()
    assert polled["status"] == "done"
    assert polled["progress"] == {"done": 120, "total": 120}
    assert polled["download"].endswith(f"/api/v1/exports/{body['id']}/download/")
    assert len(mail.outbox) == 1
    assert polled["filename"] in mail.outbox[0].subject
    _, rows = sheet_rows(b"".join(client.get(polled["download"]).streaming_content))
    assert len(rows) == 120
    # A second run of the task (a redelivered message) leaves the finished export alone.
    assert make_export.delay(body["id"]).get() == "done"
    assert len(mail.outbox) == 1


def test_only_the_creator_downloads_until_it_expires(world, pw):
    export = services.export_create(by=world.assisting, kind="pairings", format="xlsx")
    assert export.status == ExportStatus.DONE
    for other in (world.recipient, world.outsider, world.coordinator):
        assert api_as(other).get(f"{URL}{export.pk}/").status_code == 404
        assert api_as(other).get(f"{URL}{export.pk}/download/").status_code == 404
        assert export.pk not in [e["id"] for e in api_as(other).get(URL).json()["results"]]
    assert api_as(world.assisting).get(f"{URL}{export.pk}/download/").status_code == 200
    name = export.file.name
    assert services.exports_expire(now=timezone.now() + dt.timedelta(days=30)) == 1
    export.refresh_from_db()
    assert export.status == ExportStatus.EXPIRED
    assert not export.file.storage.exists(name)
    response = api_as(world.assisting).get(f"{URL}{export.pk}/download/")
    assert response.status_code == 410
    assert response.json()["errors"][0]["code"] == "expired"


def test_a_queued_export_cannot_be_downloaded_yet(world, pw, settings):
    settings.EXPORT_SYNC_ROWS = 0
    response = api_as(world.assisting).post(URL, {"kind": "pairings", "format": "csv"}, format="json")
    assert response.status_code == 202
    download = api_as(world.assisting).get(f"{URL}{response.json()['id']}/download/")
    assert download.status_code == 409
    assert download.json()["errors"][0]["code"] == "not_ready"


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"kind": "nothing", "format": "xlsx"}, {"kind"}),
        ({"kind": "projects", "format": "docx"}, {"format"}),
        ({"kind": "projects", "format": "pdf"}, {"format"}),
        ({"kind": "projects", "format": "xlsx", "filters": {"state": "bogus"}}, {"filters.state"}),
        ({"kind": "projects", "format": "xlsx", "filters": {"year": "20x5"}}, {"filters.year"}),
        ({"kind": "projects", "format": "xlsx", "filters": {"program": {"a": 1}}}, {"filters.program"}),
        ({"kind": "projects", "format": "xlsx", "filters": {"search": "a\x00b"}}, {"filters.search"}),
        ({"kind": "projects", "format": "xlsx", "filters": "state=draft"}, {"filters"}),
        ({"kind": "projects", "format": "xlsx", "object": 3}, {"object"}),
        ({"kind": "mandates", "format": "xlsx"}, {"filters.pairing"}),
        ({"kind": "mandates", "format": "xlsx", "filters": {"pairing": "abc"}}, {"filters.pairing"}),
        ({"kind": "history", "format": "csv", "filters": {"project": 99999999}}, {"filters.project"}),
        ({"kind": "rankings", "format": "xlsx", "filters": {"program": "nope", "year": 2015}}, {"filters.program"}),
        ({"kind": "projects", "format": "xlsx", "colour": "red"}, {"colour"}),
        ({"kind": "rankings", "format": "pdf", "filters": {}}, {"format"}),
        ({"kind": "ranking", "format": "pdf", "filters": {"program": "nope", "colour": 1}}, {"filters.colour"}),
        ({"kind": "scorecard", "format": "pdf"}, {"object"}),
        ({"kind": "project", "format": "xlsx", "object": 1}, {"format"}),
        ({"format": "xlsx"}, {"kind"}),
    ],
)
def test_malformed_requests_are_refused_naming_the_field(world, pw, body, fields):
    response = api_as(world.assisting).post(URL, body, format="json")
    assert response.status_code in (400, 404), response.content
    assert {e["field"] for e in response.json()["errors"]} == fields
    assert not Export.objects.exists()


def test_a_pairing_out_of_scope_gives_what_its_list_gives(world, pw):
    # The flows list filtered to a pairing the caller cannot see lists nothing; so does its export.
    response = api_as(world.assisting).post(
        URL, {"kind": "fund_flows", "format": "xlsx", "filters": {"pairing": pw.jiashi.pk}}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["progress"] == {"done": 0, "total": 0}
    # The mandates of a pairing out of scope are not found, as at /api/v1/pairings/<id>/mandates/.
    assert api_as(world.assisting).get(f"/api/v1/pairings/{pw.jiashi.pk}/mandates/").status_code == 404
    response = api_as(world.assisting).post(
        URL, {"kind": "mandates", "format": "xlsx", "filters": {"pairing": pw.jiashi.pk}}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "filters.pairing"


def test_anonymous_callers_are_refused(world):
    from rest_framework.test import APIClient

    assert APIClient().post(URL, {"kind": "projects", "format": "xlsx"}, format="json").status_code in (401, 403)
    assert APIClient().get(URL).status_code in (401, 403)


# --- pages ----------------------------------------------------------------------------------------------------


LIST_PAGES = [
    ("/projects/", "projects"),
    ("/pairings/", "pairings"),
    ("/fiscal-revenues/", "fiscal_revenues"),
]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_list_page_has_export_and_the_button_downloads_the_filtered_list(generated, language):
    user = coordinator()
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    program = Program.objects.order_by("pk").first()
    pairing = Pairing.objects.filter(fund_flows__isnull=False).order_by("pk").first()
    project = Project.objects.filter(pairing=pairing).first()
    run = EvaluationRun.objects.filter(status=RunStatus.SUCCEEDED).first()
    pages = [
        *LIST_PAGES,
        (f"/pairings/{pairing.pk}/", "mandates"),
        (f"/pairings/{pairing.pk}/", "fund_flows"),
        (f"/pairings/{pairing.pk}/", "deployments"),
        (f"/pairings/{pairing.pk}/", "trainings"),
        (f"/projects/{project.pk}/", "history"),
        (f"/evaluation/runs/{run.pk}/", "scorecards"),
        (f"/evaluation/runs/{run.pk}/", "project_scores"),
        (f"/evaluation/rankings/?run={run.pk}&program={run.program.code}&year={run.year}", "rankings"),
    ]
    for path, kind in pages:
        page = client.get(path)
        assert page.status_code == 200, path
        html = page.content.decode()
        assert f'name="kind" value="{kind}"' in html, f"{path} has no Export for {kind}"
        assert ("导出" if language == "zh-hans" else "Export") in html
    # The button carries the page's filters: the project list of one programme and state.
    page = client.get("/projects/", {"program": program.code, "state": "approved", "page": 1})
    html = page.content.decode()
    assert f"program={program.code}" in html
    assert "state=approved" in html
    response = client.post(
        "/exchange/exports/new/",
        {"kind": "projects", "format": "xlsx", "query": f"program={program.code}&state=approved", "next": "/projects/"},
    )
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    _, rows = sheet_rows(b"".join(response.streaming_content))
    want = set(Project.objects.filter(pairing__program=program, state="approved").values_list("pk", flat=True))
    assert {row[0] for row in rows} == want


def test_a_long_export_from_a_page_goes_to_the_exports_page(world, pw, settings):
    settings.EXPORT_SYNC_ROWS = 0
    client = Client()
    client.force_login(world.assisting)
    response = client.post("/exchange/exports/new/", {"kind": "pairings", "format": "csv", "query": ""})
    assert response.status_code == 302
    assert response["Location"] == "/exchange/exports/"
    page = client.get("/exchange/exports/")
    export = Export.objects.get()
    assert export.filename in page.content.decode()
    assert 'hx-trigger="every 2s"' in page.content.decode()  # polls until it is made
    # Another user's export is not theirs to see or download.
    other = Client()
    other.force_login(world.outsider)
    assert export.filename not in other.get("/exchange/exports/").content.decode()
    assert other.get(f"/exchange/exports/{export.pk}/download/").status_code == 404
    assert other.get(f"/exchange/exports/{export.pk}/row/").status_code == 404


def test_a_refused_export_from_a_page_says_why(world, pw):
    client = Client()
    client.force_login(world.assisting)
    response = client.post(
        "/exchange/exports/new/",
        {"kind": "projects", "format": "xlsx", "query": "state=bogus", "next": "/projects/?state=bogus"},
        follow=True,
    )
    assert response.status_code in (200, 400)
    assert response.redirect_chain[0][0] == "/projects/?state=bogus"
    assert not Export.objects.exists()


# --- reports ----------------------------------------------------------------------------------------------------


def test_reports_are_made_as_pdf_by_the_task_and_refused_out_of_scope(generated, django_capture_on_commit_callbacks):
    import subprocess

    from evaluation.models import PairingScorecard

    user = coordinator()
    client = api_as(user)
    run = EvaluationRun.objects.get(status=RunStatus.SUCCEEDED)
    card = PairingScorecard.objects.filter(run=run).order_by("pk").first()
    project = Project.objects.order_by("pk").first()
    requests = [
        {"kind": "scorecard", "format": "pdf", "object": card.pk},
        {"kind": "ranking", "format": "pdf", "filters": {"program": run.program.code, "year": run.year}},
        {"kind": "project", "format": "pdf", "object": project.pk},
    ]
    for body in requests:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(URL, body, format="json")
        assert response.status_code == 202, response.content  # a report is always made by the task
        polled = client.get(f"{URL}{response.json()['id']}/").json()
        assert polled["status"] == "done", polled
        download = client.get(polled["download"])
        assert download["Content-Type"] == "application/pdf"
        content = b"".join(download.streaming_content)
        text = subprocess.run(["pdftotext", "-", "-"], input=content, capture_output=True, check=True).stdout.decode()
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text), body
    # Someone who may not see the project is told it does not exist, and nothing is queued.
    outsider = UserFactory(username="export-outsider", organization=None, roles=[])
    response = api_as(outsider).post(URL, {"kind": "project", "format": "pdf", "object": project.pk}, format="json")
    assert response.status_code == 404
    assert response.json()["errors"][0]["field"] == "object"
    assert not Export.objects.filter(created_by=outsider).exists()


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_role_finds_export_on_the_lists_it_sees(world, pw, language):
    approver = UserFactory(username="export-approver", organization=world.guangdong_gov, roles=[Role.APPROVER])
    observer = UserFactory(username="export-observer", organization=world.guangdong_gov, roles=[Role.OBSERVER])
    for user in (world.coordinator, world.assisting, world.recipient, world.outsider, approver, observer):
        client = Client()
        client.force_login(user)
        client.cookies["django_language"] = language
        for path, kind in LIST_PAGES:
            page = client.get(path)
            assert page.status_code == 200, (user.username, path)
            assert f'name="kind" value="{kind}"' in page.content.decode(), (user.username, path)
        if user in (world.assisting, world.recipient):
            html = client.get(f"/pairings/{pw.shufu.pk}/").content.decode()
            for kind in ("mandates", "fund_flows", "deployments", "trainings"):
                assert f'name="kind" value="{kind}"' in html, (user.username, kind)
