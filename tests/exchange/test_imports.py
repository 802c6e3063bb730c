"""Spreadsheet imports through the API and the services: the dry run, the all-or-nothing commit, re-imports that
change nothing, scope per row, and every kind of file that is refused."""

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from openpyxl import Workbook, load_workbook

from core.models import HistoryEvent
from exchange import imports
from exchange.models import Import
from pairings.figures import pairing_money
from pairings.models import Deployment, FiscalRevenue, FundFlow, Training
from projects.models import Project
from tests.conftest import api_as

pytestmark = pytest.mark.django_db

URL = "/api/v1/imports/"
PROJECT_HEADERS = [
    "code",
    "pairing",
    "title",
    "category",
    "sector",
    "location",
    "budget requested",
    "planned start",
    "planned end",
    "livelihood",
]


def xlsx(rows: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(rows: list[list[Any]], *, bom: bool = True) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


def upload(user: Any, data: bytes, kind: str, *, name: str = "sheet.xlsx", dry_run: Any = None, **extra: Any) -> Any:
    body: dict[str, Any] = {"file": SimpleUploadedFile(name, data), "kind": kind}
    if dry_run is not None:
        body["dry_run"] = dry_run
    return api_as(user).post(URL, body, format="multipart", **extra)


def project_rows(pw: Any, world: Any, n: int = 200) -> list[list[Any]]:
    rows: list[list[Any]] = [PROJECT_HEADERS]
    for i in range(1, n + 1):
        rows.append(
            [
                f"GD-SF-{i:04d}",
                pw.shufu.pk,
                f"疏附县项目{i}",
                "infrastructure",
                "education",
                world.shufu.code,
                Decimal("1000000.50") + i,
                dt.date(2015, 3, 1),
                dt.date(2016, 12, 31),
                "yes" if i % 2 else "no",
            ]
        )
    return rows


def project_history(code: str) -> int:
    project = Project.objects.get(code=code)
    return HistoryEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(Project), object_id=project.pk
    ).count()


# --- the two scenarios of the issue ------------------------------------------------------------------------


def test_projects_import_of_200_rows_with_7_bad_rows_then_fixed_then_unchanged(world, pw):
    good = project_rows(pw, world)
    bad = [list(row) for row in good]
    # Seven bad rows, each wrong in another column (rows as the spreadsheet shows them: the data starts on row 2).
    bad[10][2] = ""  # row 11: title missing
    bad[20][3] = "bogus"  # row 21: category not allowed
    bad[30][6] = "a lot"  # row 31: budget not a number
    bad[40][7] = "2015-13-45"  # row 41: not a date
    bad[50][1] = pw.jiashi.pk  # row 51: a pairing alice may not see
    bad[60][5] = world.jiashi.code  # row 61: outside the pairing's region (the service says so)
    bad[70][8] = dt.date(2014, 1, 1)  # row 71: planned end before the start (the service says so)

    response = upload(world.assisting, xlsx(bad), "projects")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "invalid"
    assert body["rows"] == {"total": 200, "new": 193, "updated": 0, "unchanged": 0, "invalid": 7}
    found = {(e["row"], e["column"]) for e in body["errors"]}
    assert found == {
        (11, "title"),
        (21, "category"),
        (31, "budget requested"),
        (41, "planned start"),
        (51, "pairing"),
        (61, "location"),
        (71, "planned end"),
    }
    assert all(e["code"] and e["message"] for e in body["errors"])
    codes = {e["row"]: e["code"] for e in body["errors"]}
    assert codes[11] == "required"
    assert codes[51] == "not_found"
    assert codes[61] == "location_outside"
    assert Project.objects.count() == 0
    assert not HistoryEvent.objects.filter(content_type=ContentType.objects.get_for_model(Project)).exists()
    # An import with errors cannot be committed.
    assert api_as(world.assisting).post(f"{URL}{body['id']}/commit/").status_code == 409
    assert Project.objects.count() == 0

    fixed = upload(world.assisting, xlsx(good), "projects").json()
    assert fixed["status"] == "checked", fixed["errors"][:3]
    assert fixed["rows"] == {"total": 200, "new": 200, "updated": 0, "unchanged": 0, "invalid": 0}
    assert Project.objects.count() == 0  # a dry run imports nothing
    committed = api_as(world.assisting).post(f"{URL}{fixed['id']}/commit/")
    assert committed.status_code == 200, committed.content
    assert committed.json()["status"] == "committed"
    assert Project.objects.filter(code__startswith="GD-SF-").count() == 200
    project = Project.objects.get(code="GD-SF-0007")
    assert project.pairing == pw.shufu
    assert project.title == "疏附县项目7"
    assert project.is_livelihood
    assert project.budget_requested == Decimal("1000007.50")
    assert project.created_by == world.assisting
    assert all(project_history(f"GD-SF-{i:04d}") == 1 for i in (1, 100, 200))
    history = HistoryEvent.objects.filter(content_type=ContentType.objects.get_for_model(Project))
    assert history.count() == 200
    assert set(history.values_list("action", flat=True)) == {"created"}
    # The import itself has one "committed" event.
    record = Import.objects.get(pk=fixed["id"])
    assert record.committed_at is not None
    event = HistoryEvent.objects.get(content_type=ContentType.objects.get_for_model(Import), object_id=record.pk)
    assert event.action == "committed"
    assert event.actor == world.assisting
    # Committing twice is refused.
    assert api_as(world.assisting).post(f"{URL}{fixed['id']}/commit/").status_code == 409

    again = upload(world.assisting, xlsx(good), "projects", dry_run="false").json()
    assert again["rows"] == {"total": 200, "new": 0, "updated": 0, "unchanged": 200, "invalid": 0}
    assert again["status"] == "committed"
    assert history.count() == 200


def test_fund_flow_import_reimported_is_unchanged_and_received_total_does_not_move(world, pw):
    headers = ["external_ref", "pairing", "kind", "amount", "date", "source", "reference", "note"]
    rows: list[list[Any]] = [headers]
    for i in range(1, 31):
        kind = ["disbursement", "commitment", "expenditure"][i % 3]
        rows.append([f"V-{i:03d}", pw.shufu.pk, kind, f"{i * 1000}.25", "2015-06-01", "assisting_fiscal", f"文{i}", ""])
    data = csv_bytes(rows)

    first = upload(world.assisting, data, "fund_flows", name="flows.csv", dry_run="false").json()
    assert first["status"] == "committed", first["errors"][:3]
    assert first["rows"]["new"] == 30
    assert FundFlow.objects.filter(pairing=pw.shufu).count() == 30
    received = pairing_money(pw.shufu).received
    expected = sum(Decimal(f"{i * 1000}.25") for i in range(1, 31) if i % 3 == 0)
    assert received == expected
    assert FundFlow.objects.get(external_ref="V-003").recorded_by == world.assisting

    for dry_run in ("true", "false"):
        again = upload(world.assisting, data, "fund_flows", name="flows.csv", dry_run=dry_run).json()
        assert again["rows"] == {"total": 30, "new": 0, "updated": 0, "unchanged": 30, "invalid": 0}
        assert again["errors"] == []
    assert FundFlow.objects.filter(pairing=pw.shufu).count() == 30
    assert pairing_money(pw.shufu).received == received

    # An unchanged row still needs the right to record it: a recipient officer records no commitments.
    theirs = upload(world.recipient, data, "fund_flows", name="flows.csv").json()
    assert theirs["rows"]["unchanged"] == 20
    assert {(e["column"], e["code"]) for e in theirs["errors"]} == {(None, "forbidden")}
    assert len(theirs["errors"]) == 10

    # A row whose key is recorded with another amount is refused, not recorded again or changed.
    rows[3][3] = "1.00"
    changed = upload(world.assisting, csv_bytes(rows), "fund_flows", name="flows.csv").json()
    assert changed["status"] == "invalid"
    assert [(e["row"], e["column"], e["code"]) for e in changed["errors"]] == [(4, "amount", "already_recorded")]
    assert pairing_money(pw.shufu).received == received


# --- the other kinds ----------------------------------------------------------------------------------------


def test_deployments_and_trainings_import_and_reimport_unchanged(world, pw):
    deployments = [
        ["external_ref", "pairing", "kind", "headcount", "start date", "end date", "batch", "group-style (组团式)"],
        ["D-1", pw.shufu.pk, "teacher", 12, dt.date(2015, 3, 1), dt.date(2016, 3, 1), "第一批", "yes"],
        ["D-2", pw.shufu.pk, "doctor", 5, dt.date(2015, 4, 1), None, "", "no"],
    ]
    trainings = [
        ["external_ref", "pairing", "topic", "people trained", "days", "start date"],
        ["T-1", pw.shufu.pk, "农业技术", 40, 2.5, dt.date(2015, 7, 1)],
    ]
    for kind, rows, model in (("deployments", deployments, Deployment), ("trainings", trainings, Training)):
        done = upload(world.recipient, xlsx(rows), kind, dry_run="false").json()
        assert done["status"] == "committed", done["errors"]
        assert model.objects.filter(pairing=pw.shufu).count() == len(rows) - 1
        again = upload(world.recipient, xlsx(rows), kind, dry_run="false").json()
        assert again["rows"]["unchanged"] == len(rows) - 1
        assert model.objects.filter(pairing=pw.shufu).count() == len(rows) - 1
    assert Deployment.objects.get(external_ref="D-1").group_style is True
    assert Training.objects.get(external_ref="T-1").days == Decimal("2.5")


def test_fiscal_revenue_import_records_then_corrects_with_a_reason(world, pw):
    rows = [["organization", "year", "amount", "source"], [world.guangdong_gov.pk, 2014, "1000000000", "年鉴"]]
    done = upload(world.assisting, xlsx(rows), "fiscal_revenues", dry_run="false").json()
    assert done["status"] == "committed", done["errors"]
    assert FiscalRevenue.objects.get(organization=world.guangdong_gov, year=2014).amount == Decimal("1000000000")
    # Matched by organization and year: unchanged; a new amount is a correction, which needs its reason.
    assert upload(world.assisting, xlsx(rows), "fiscal_revenues").json()["rows"]["unchanged"] == 1
    rows[1][2] = "1200000000"
    # The file has no reason column: the error names it by its label, in the caller's language.
    refused = upload(world.assisting, xlsx(rows), "fiscal_revenues", HTTP_ACCEPT_LANGUAGE="en").json()
    assert [(e["column"], e["code"]) for e in refused["errors"]] == [("reason", "reason_required")]
    corrected = upload(
        world.assisting,
        xlsx([[*rows[0], "reason"], [*rows[1], "统计局更正"]]),
        "fiscal_revenues",
        dry_run="false",
    ).json()
    assert corrected["rows"]["updated"] == 1
    assert corrected["status"] == "committed"
    assert FiscalRevenue.objects.get(organization=world.guangdong_gov, year=2014).amount == Decimal("1200000000")
    # Another organization's revenue is out of alice's scope: an error on that row.
    other = upload(world.assisting, xlsx([rows[0], [world.jiangsu_gov.name, 2014, "1", ""]]), "fiscal_revenues")
    assert [(e["column"], e["code"]) for e in other.json()["errors"]] == [("organization", "out_of_scope")]


def test_project_update_through_import_writes_one_update_event(world, pw):
    rows = project_rows(pw, world, n=2)
    assert upload(world.assisting, xlsx(rows), "projects", dry_run="false").json()["status"] == "committed"
    rows[2][2] = "新名称"
    updated = upload(world.assisting, xlsx(rows), "projects", dry_run="false").json()
    assert updated["rows"] == {"total": 2, "new": 0, "updated": 1, "unchanged": 1, "invalid": 0}
    project = Project.objects.get(code="GD-SF-0002")
    assert project.title == "新名称"
    actions = HistoryEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(Project), object_id=project.pk
    ).values_list("action", flat=True)
    assert sorted(actions) == ["created", "updated"]


def test_a_code_of_the_systems_form_is_refused_for_a_new_project(world, pw):
    rows = project_rows(pw, world, n=1)
    rows[1][0] = "XIN-000123"
    body = upload(world.assisting, xlsx(rows), "projects").json()
    assert [(e["column"], e["code"]) for e in body["errors"]] == [("code", "reserved_code")]


def test_headers_in_chinese_and_a_duplicate_key_in_the_file(world, pw):
    rows = [["代码", "结对关系", "名称", "类别"]]
    rows += [["GD-ZH-1", pw.shufu.pk, "项目", "基础设施"]] * 2
    body = upload(world.assisting, csv_bytes(rows, bom=False), "projects", name="x.csv").json()
    assert body["rows"] == {"total": 2, "new": 1, "updated": 0, "unchanged": 0, "invalid": 1}
    assert [(e["row"], e["column"], e["code"]) for e in body["errors"]] == [(3, "代码", "duplicate_in_file")]


def test_commit_is_all_or_nothing_when_a_service_refuses_rows_at_commit(world, pw):
    rows = project_rows(pw, world, n=3)
    checked = upload(world.assisting, xlsx(rows), "projects").json()
    assert checked["status"] == "checked"
    # Between the check and the commit the pairing ends: the service refuses every row, and nothing is kept.
    type(pw.shufu).objects.filter(pk=pw.shufu.pk).update(status="ended")
    response = api_as(world.assisting).post(f"{URL}{checked['id']}/commit/")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "failed"
    assert {(e["row"], e["code"]) for e in body["errors"]} == {
        (2, "pairing_ended"),
        (3, "pairing_ended"),
        (4, "pairing_ended"),
    }
    assert Project.objects.count() == 0
    assert not HistoryEvent.objects.filter(content_type=ContentType.objects.get_for_model(Import)).exists()


def test_commit_keeps_nothing_when_one_row_of_many_is_refused(world, pw):
    rows = project_rows(pw, world, n=3)
    checked = upload(world.assisting, xlsx(rows), "projects").json()
    # Someone else takes the last row's code in another pairing meanwhile: that row fails, the first two are undone.
    from tests.factories import ProjectFactory

    ProjectFactory(pairing=pw.jiashi, code="GD-SF-0003")
    body = api_as(world.assisting).post(f"{URL}{checked['id']}/commit/").json()
    assert body["status"] == "failed"
    assert [(e["row"], e["column"], e["code"]) for e in body["errors"]] == [(4, "code", "code_taken")]
    assert not Project.objects.filter(pairing=pw.shufu).exists()


def test_a_row_for_a_pairing_out_of_scope_is_an_error_for_that_row(world, pw):
    rows = [
        ["external_ref", "pairing", "kind", "amount", "date", "source"],
        ["A", pw.shufu.pk, "disbursement", "10", "2015-01-01", "assisting_fiscal"],
        ["B", pw.jiashi.pk, "disbursement", "10", "2015-01-01", "assisting_fiscal"],
    ]
    body = upload(world.assisting, xlsx(rows), "fund_flows").json()
    assert body["rows"]["new"] == 1
    assert body["rows"]["invalid"] == 1
    assert [(e["row"], e["column"], e["code"]) for e in body["errors"]] == [(3, "pairing", "not_found")]


# --- who sees and who may ---------------------------------------------------------------------------------


def test_another_users_import_is_404_and_the_list_is_the_callers(world, pw):
    body = upload(world.assisting, xlsx(project_rows(pw, world, n=1)), "projects").json()
    assert api_as(world.outsider).get(f"{URL}{body['id']}/").status_code == 404
    assert api_as(world.outsider).post(f"{URL}{body['id']}/commit/").status_code == 404
    assert api_as(world.outsider).get(URL).json()["results"] == []
    mine = api_as(world.assisting).get(URL).json()["results"]
    assert [i["id"] for i in mine] == [body["id"]]
    detail = api_as(world.assisting).get(f"{URL}{body['id']}/").json()
    assert detail["outcome"] == [{"row": 2, "action": "new", "key": "GD-SF-0001"}]
    assert api_as(world.outsider).post(f"{URL}{body['id']}/commit/").status_code == 404
    assert Project.objects.count() == 0


def test_a_role_that_may_not_record_the_kind_may_not_import_it(world, pw):
    # A recipient officer records disbursements but not fiscal revenue.
    response = upload(world.recipient, xlsx([["organization", "year", "amount"]]), "fiscal_revenues")
    assert response.status_code == 403
    assert response.json()["errors"][0]["field"] == "kind"


# --- refused files -----------------------------------------------------------------------------------------


def _refused(response: Any, code: str, field: str = "file") -> None:
    assert response.status_code == 400, response.content
    errors = response.json()["errors"]
    assert any(e["field"] == field and e["code"] == code for e in errors), errors
    assert Import.objects.count() == 0


def test_not_a_spreadsheet_is_refused(world, pw):
    _refused(upload(world.assisting, b"%PDF-1.4 \x00\x01\x02\xff", "projects", name="a.pdf"), "not_a_spreadsheet")


def test_a_corrupt_xlsx_is_refused(world, pw):
    data = xlsx(project_rows(pw, world, n=2))
    _refused(upload(world.assisting, data[: len(data) // 2], "projects"), "not_a_spreadsheet")
    fake = io.BytesIO()
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    _refused(upload(world.assisting, fake.getvalue(), "projects"), "not_a_spreadsheet")


def test_wrong_headers_are_refused(world, pw):
    wrong = [["name", "amount"], ["x", 1]]
    response = upload(world.assisting, xlsx(wrong), "projects")
    _refused(response, "unknown_column")
    assert any(e["code"] == "missing_column" for e in response.json()["errors"])
    # The template's allowed-values sheet is not the data: a file whose first sheet is empty is refused.
    _refused(upload(world.assisting, xlsx([]), "projects"), "no_header")
    _refused(upload(world.assisting, xlsx([PROJECT_HEADERS]), "projects"), "no_rows")


def test_a_formula_is_refused(world, pw):
    rows = project_rows(pw, world, n=2)
    rows[2][6] = "=SUM(1,2)"
    response = upload(world.assisting, xlsx(rows), "projects")
    _refused(response, "formula")
    assert "G3" in response.json()["errors"][0]["message"]
    _refused(upload(world.assisting, csv_bytes(rows), "projects", name="a.csv"), "formula")


def test_a_50_mb_file_is_refused_before_it_is_read(world, pw):
    big = b"PK\x03\x04" + b"\x00" * (50 * 1024 * 1024)
    _refused(upload(world.assisting, big, "projects"), "too_large")


@override_settings(IMPORT_MAX_ROWS=20_000)
def test_100_000_rows_are_refused_fast(world, pw):
    import time

    lines = ["code,pairing,title"] + [f"C{i},{pw.shufu.pk},t" for i in range(100_000)]
    data = "\n".join(lines).encode()
    started = time.monotonic()
    _refused(upload(world.assisting, data, "projects", name="big.csv"), "too_many_rows")
    assert time.monotonic() - started < 10


def test_unknown_kind_and_bad_dry_run_name_their_field(world, pw):
    data = xlsx(project_rows(pw, world, n=1))
    _refused(upload(world.assisting, data, "planets"), "invalid_choice", "kind")
    _refused(upload(world.assisting, data, "projects", dry_run="perhaps"), "invalid", "dry_run")
    response = api_as(world.assisting).post(URL, {"kind": "projects"}, format="multipart")
    _refused(response, "required", "file")


# --- the template ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "title"), [("en", "title"), ("zh-hans", None)])
def test_template_opens_with_headers_in_the_callers_language(world, pw, language, title):
    response = api_as(world.assisting).get(f"{URL}template/", {"kind": "projects"}, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content))
    header = [c.value for c in next(book.worksheets[0].iter_rows(max_row=1))]
    from django.utils import translation

    with translation.override(language):
        assert header == [str(c.label) for c in imports.KINDS["projects"].columns]
    if title:
        assert "title" in header
    allowed = [tuple(c.value for c in row) for row in book.worksheets[1].iter_rows(min_row=2)]
    codes = {row[2] for row in allowed}
    assert str(pw.shufu.pk) in codes
    assert str(pw.jiashi.pk) not in codes
    assert "education" in codes
    assert world.shufu.code in codes
    # The template itself (with rows filled in) is read back.
    book.worksheets[0].append(["GD-T-1", pw.shufu.pk, "模板项目"])
    out = io.BytesIO()
    book.save(out)
    assert upload(world.assisting, out.getvalue(), "projects").json()["rows"]["new"] == 1


def test_template_refuses_an_unknown_kind(world):
    response = api_as(world.assisting).get(f"{URL}template/", {"kind": "planets"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "kind"


def test_read_table_accepts_csv_with_and_without_bom(world, pw):
    for bom in (True, False):
        table = imports.read_table(csv_bytes(project_rows(pw, world, n=3), bom=bom), "projects")
        assert [n for n, _ in table.rows] == [2, 3, 4]
        assert table.headers["code"] == "code"


@override_settings(IMPORT_MAX_BYTES=1000)
def test_the_service_refuses_a_file_over_the_limit_by_its_size(world, pw):
    data = csv_bytes(project_rows(pw, world, n=40))
    assert len(data) > 1000
    with pytest.raises(imports.FileRefused) as refused:
        imports.import_upload(by=world.assisting, upload=SimpleUploadedFile("a.csv", data), kind="projects")
    assert refused.value.code == "too_large"
    assert refused.value.field == "file"
    assert Import.objects.count() == 0


def test_the_list_reads_the_callers_imports_in_a_fixed_number_of_queries(world, pw, django_assert_max_num_queries):
    for _ in range(3):
        upload(world.assisting, xlsx(project_rows(pw, world, n=1)), "projects")
    client = api_as(world.assisting)
    with django_assert_max_num_queries(4):
        body = client.get(URL).json()
    assert body["count"] == 3
    assert set(body["results"][0]) == {"id", "kind", "status", "filename", "rows", "created_at", "committed_at"}


def test_the_form_services_refuse_an_external_reference_twice_in_a_pairing(world, pw):
    from core.errors import DomainError
    from pairings import services as pairing_services

    def record() -> Any:
        return pairing_services.fund_flow_record(
            by=world.assisting,
            pairing=pw.shufu,
            kind="disbursement",
            amount="10",
            date=dt.date(2015, 1, 1),
            source="assisting_fiscal",
            external_ref=" V-1 ",
        )

    assert record().external_ref == "V-1"
    with pytest.raises(DomainError) as refused:
        record()
    assert [(p.code, p.field) for p in refused.value.problems] == [("duplicate", "external_ref")]
    # The same reference in another pairing is another record.
    flow = pairing_services.fund_flow_record(
        by=world.coordinator,
        pairing=pw.jiashi,
        kind="disbursement",
        amount="10",
        date=dt.date(2015, 1, 1),
        source="assisting_fiscal",
        external_ref="V-1",
    )
    assert flow.pairing == pw.jiashi
