"""Handover and operation after acceptance (the hematopoiesis test): not a lifecycle state but a record beside an
accepted project. The assisting side records the handover, the recipient side confirms it or refuses it with a
reason (then it is recorded again); from then on the recipient side files one operation report a year, and a
year without one is flagged after it ends, in the recipient officer's tasks and notifications. Every step is a
history event; the services, the API and the pages ask one policy (projects/policy.py).

Actors (tests/conftest.py): `alice` assists for Guangdong, `bob` receives for Shufu county, `charlie` is
Jiangsu's (no business with Shufu); the approver and the supervisor act for Guangdong."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Notification, Role
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from core.models import HistoryEvent
from core.worklist import waiting_for, waiting_total
from projects import handover_selectors, handover_tasks, services
from projects import handover_services as hs
from projects.models import Document, Handover, OperationReport, Project
from tests.conftest import api_as
from tests.factories import DocumentFactory, UserFactory
from tests.projects.test_supervision import advance, problems

pytestmark = pytest.mark.django_db

D = dt.date
HANDED_ON = D(2025, 9, 1)


@pytest.fixture
def accepted(draft, world, approver, supervisor) -> Project:
    """The draft built, inspected and accepted through the services (completed 2025-07-15)."""
    project = advance(
        draft, "completed", by={"assisting": world.assisting, "approver": approver, "supervisor": supervisor}
    )
    services.inspection_record(by=supervisor, project=project, date=D(2025, 7, 20), kind="acceptance", result="passed")
    services.project_accept(project=project, by=supervisor)
    project.refresh_from_db()
    assert project.state == "accepted"
    return project


@pytest.fixture
def register(accepted, world) -> Document:
    return DocumentFactory(project=accepted, title="资产移交清单", uploaded_by=world.assisting)


def record(project: Project, by: Any, **values: Any) -> Handover:
    body = {"date": HANDED_ON, "asset_value": "11800000.00", "receiving_organization": None} | values
    return hs.handover_record(by=by, project=project, **body)


def actions(project: Project) -> list[str]:
    return list(HistoryEvent.objects.for_object(project).order_by("id").values_list("action", flat=True))


@pytest.fixture
def confirmed(accepted, world, register) -> Handover:
    record(accepted, world.assisting, receiving_organization=world.shufu_gov, asset_register=register)
    return hs.handover_confirm(by=world.recipient, project=accepted)


def set_today(monkeypatch: pytest.MonkeyPatch, day: dt.date) -> None:
    """Today as the whole process sees it (the services, the selectors, the live server's thread)."""
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: day)


# --- the services: the walk ----------------------------------------------------------------------------------


def test_a_handover_refused_once_then_recorded_again_and_confirmed_leads_to_yearly_reports(accepted, world, register):
    made = record(accepted, world.assisting, receiving_organization=world.shufu_gov, asset_register=register)
    assert (made.status, made.round, made.asset_value) == ("pending", 1, Decimal("11800000.00"))

    refused = hs.handover_refuse(by=world.recipient, project=accepted, reason="清单缺少教学设备明细")
    assert (refused.status, refused.refused_by, refused.refusal_reason) == (
        "refused",
        world.recipient,
        "清单缺少教学设备明细",
    )

    again = record(accepted, world.assisting, receiving_organization=world.shufu_gov, asset_register=register)
    assert (again.pk, again.status, again.round) == (made.pk, "pending", 2)
    done = hs.handover_confirm(by=world.recipient, project=accepted)
    assert (done.status, done.confirmed_by) == ("confirmed", world.recipient)

    first = hs.operation_report_file(
        by=world.recipient,
        project=accepted,
        year=2025,
        status="in_use",
        utilisation=80,
        operating_cost="200000",
        maintenance_cost="50000",
        cost_payer="recipient_government",
        jobs=40,
        people_served=2200,
    )
    second = hs.operation_report_file(
        by=world.recipient, project=accepted, year=2026, status="under_used", utilisation=55, notes="生源减少"
    )
    assert [r.year for r in accepted.operation_reports.order_by("year")] == [2025, 2026]
    assert first.running_cost == Decimal("250000.00") and second.status == "under_used"  # noqa: PT018
    # The project's state is untouched: the handover is a record beside the lifecycle.
    accepted.refresh_from_db()
    assert accepted.state == "accepted"
    assert actions(accepted)[-6:] == [
        "handover_recorded",
        "handover_refused",
        "handover_recorded",
        "handover_confirmed",
        "operation_reported",
        "operation_reported",
    ]
    refusal = HistoryEvent.objects.for_object(accepted).get(action="handover_refused")
    assert refusal.comment == "清单缺少教学设备明细"
    assert refusal.changes == {"handover_status": {"old": "pending", "new": "refused"}}


def test_the_sides_and_roles_are_the_policys(accepted, world, supervisor, approver):
    with pytest.raises(PermissionDenied):
        record(accepted, world.recipient, receiving_name="疏附县教育局")
    with pytest.raises(PermissionDenied):
        record(accepted, supervisor, receiving_name="疏附县教育局")
    with pytest.raises(NotFound):
        record(accepted, world.outsider, receiving_name="疏附县教育局")
    record(accepted, world.assisting, receiving_name="疏附县教育局")
    for who in (world.assisting, approver):
        with pytest.raises(PermissionDenied):
            hs.handover_confirm(by=who, project=accepted)
    # A recipient officer of another county, holding the role, does not act for Shufu (and does not see it).
    jiashi = UserFactory(organization=world.jiangsu_gov, roles=[Role.RECIPIENT_OFFICER])
    with pytest.raises(NotFound):
        hs.handover_confirm(by=jiashi, project=accepted)
    # A Guangdong official holding the recipient officer's role sees the project but is not its recipient side.
    gd_ro = UserFactory(organization=world.guangdong_gov, roles=[Role.RECIPIENT_OFFICER])
    with pytest.raises(PermissionDenied):
        hs.handover_confirm(by=gd_ro, project=accepted)
    assert Handover.objects.get(project=accepted).status == "pending"


def test_the_moment_is_checked_under_the_lock(accepted, world, pw):
    other = services.project_create(by=world.assisting, pairing=pw.shufu, title="疏附县第三中学")
    with pytest.raises(Conflict):
        record(other, world.assisting, receiving_name="疏附县教育局")
    with pytest.raises(Conflict):
        hs.handover_confirm(by=world.recipient, project=accepted)  # nothing recorded yet
    record(accepted, world.assisting, receiving_name="疏附县教育局")
    with pytest.raises(Conflict):
        record(accepted, world.assisting, receiving_name="疏附县教育局")  # waits for the answer
    with pytest.raises(Conflict):
        hs.operation_report_file(by=world.recipient, project=accepted, year=2025, status="in_use")
    hs.handover_confirm(by=world.recipient, project=accepted)
    with pytest.raises(Conflict):
        hs.handover_refuse(by=world.recipient, project=accepted, reason="晚了")
    with pytest.raises(Conflict):
        record(accepted, world.assisting, receiving_name="疏附县教育局")


def test_every_problem_with_a_handover_is_named_at_once(accepted, world):
    other = DocumentFactory()
    with pytest.raises(DomainError) as caught:
        hs.handover_record(
            by=world.assisting,
            project=accepted,
            date=timezone.localdate() + dt.timedelta(days=1),
            asset_value="-5",
            receiving_name="",
            asset_register=other,
        )
    assert set(problems(caught)) == {
        ("future", "date"),
        ("min_value", "asset_value"),
        ("required", "receiving_name"),
        ("invalid", "asset_register"),
    }
    with pytest.raises(DomainError) as caught:
        hs.handover_record(
            by=world.assisting, project=accepted, date=D(2025, 7, 1), asset_value="1e17", receiving_name="x" * 201
        )
    assert set(problems(caught)) == {
        ("before_completion", "date"),
        ("max_digits", "asset_value"),
        ("max_length", "receiving_name"),
    }
    with pytest.raises(DomainError) as caught:
        hs.handover_refuse(by=world.recipient, project=accepted, reason="x")
    assert not Handover.objects.exists()


def test_every_problem_with_an_operation_report_is_named_at_once(confirmed, accepted, world):
    with pytest.raises(DomainError) as caught:
        hs.operation_report_file(
            by=world.recipient,
            project=accepted,
            year=2024,
            status="broken",
            utilisation=150,
            operating_cost="12,5",
            maintenance_cost="100",
            cost_payer="",
            revenue="-1",
            jobs=-2,
            people_served="many",
        )
    assert set(problems(caught)) == {
        ("before_handover", "year"),
        ("invalid_choice", "status"),
        ("out_of_range", "utilisation"),
        ("invalid", "operating_cost"),
        ("required", "cost_payer"),
        ("min_value", "revenue"),
        ("min_value", "jobs"),
        ("invalid", "people_served"),
    }
    next_year = timezone.localdate().year + 1
    with pytest.raises(DomainError) as caught:
        hs.operation_report_file(by=world.recipient, project=accepted, year=next_year, status="")
    assert set(problems(caught)) == {("future", "year"), ("required", "status")}
    hs.operation_report_file(by=world.recipient, project=accepted, year=2025, status="idle")
    with pytest.raises(DomainError) as caught:
        hs.operation_report_file(by=world.recipient, project=accepted, year=2025, status="in_use")
    assert problems(caught) == [("duplicate", "year")]
    assert OperationReport.objects.filter(project=accepted).count() == 1


# --- missing reports: tasks and notifications ----------------------------------------------------------------


def kinds(user: Any) -> dict[str, int]:
    return {c.key: c.count for c in waiting_for(user)}


def test_a_missing_report_is_the_recipient_officers_task_after_the_year_ends(confirmed, accepted, world, monkeypatch):
    set_today(monkeypatch, D(2025, 12, 31))
    assert kinds(world.recipient).get("operation_reports_missing") == 0
    set_today(monkeypatch, D(2026, 1, 1))
    assert kinds(world.recipient)["operation_reports_missing"] == 1
    assert "operation_reports_missing" not in kinds(world.assisting)
    set_today(monkeypatch, D(2027, 1, 2))
    handover = next(iter(handover_selectors.missing_reports_for(world.recipient)))
    assert (handover.missing, handover.first_year) == (2, 2025)
    total = waiting_total(world.recipient)
    assert total >= 1
    page = _client(world.recipient).get(reverse("projects:my_tasks")).content.decode()
    assert accepted.code in page
    assert "2025" in page
    # Filed: no longer waiting for 2025; 2026 still is.
    hs.operation_report_file(by=world.recipient, project=accepted, year=2025, status="in_use")
    handover = next(iter(handover_selectors.missing_reports_for(world.recipient)))
    assert (handover.missing, handover.first_year) == (1, 2025)
    hs.operation_report_file(by=world.recipient, project=accepted, year=2026, status="in_use")
    assert kinds(world.recipient)["operation_reports_missing"] == 0


def test_the_daily_reminder_tells_each_missing_year_once(confirmed, accepted, world, monkeypatch):
    assert handover_tasks.remind_operation_reports("2025-12-31") == 0
    assert handover_tasks.remind_operation_reports("2027-01-02") == 2  # 2025 and 2026, to bob
    assert handover_tasks.remind_operation_reports("2027-01-03") == 0
    notes = Notification.objects.filter(kind="operation_report_missing")
    assert sorted(n.params["year"] for n in notes) == [2025, 2026]
    assert {n.recipient_id for n in notes} == {world.recipient.pk}
    assert "#handover" in notes[0].link


def test_each_step_tells_the_side_that_acts_next(accepted, world, register, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        record(accepted, world.assisting, receiving_name="疏附县第二中学", asset_register=register)
    assert Notification.objects.filter(kind="handover_to_confirm", recipient=world.recipient).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        hs.handover_refuse(by=world.recipient, project=accepted, reason="缺少清单")
    refused = Notification.objects.get(kind="handover_refused")
    assert refused.recipient == world.assisting and refused.params["reason"] == "缺少清单"  # noqa: PT018


# --- the API -------------------------------------------------------------------------------------------------


def url(project: Project, tail: str = "handover/") -> str:
    return f"/api/v1/projects/{project.pk}/{tail}"


def test_the_api_walks_the_handover_and_the_reports(accepted, world, register):
    alice, bob = api_as(world.assisting), api_as(world.recipient)
    assert alice.get(url(accepted)).status_code == 404
    body = {
        "date": "2025-09-01",
        "receiving_organization": world.shufu_gov.pk,
        "asset_value": "11800000.00",
        "asset_register": register.pk,
    }
    made = alice.post(url(accepted), body, format="json")
    assert made.status_code == 201, made.content
    assert made.json()["status"] == "pending" and made.json()["allowed_actions"] == []  # noqa: PT018
    assert bob.get(url(accepted)).json()["allowed_actions"] == ["confirm", "refuse"]
    refused = bob.post(url(accepted, "handover/refuse/"), {"reason": "清单不全"}, format="json")
    assert refused.status_code == 200 and refused.json()["refusal_reason"] == "清单不全"  # noqa: PT018
    again = alice.post(
        url(accepted), body | {"receiving_organization": None, "receiving_name": "疏附县第二中学"}, format="json"
    )
    assert again.status_code == 200 and again.json()["round"] == 2  # noqa: PT018
    assert again.json()["receiver"] == "疏附县第二中学"
    confirmed = bob.post(url(accepted, "handover/confirm/"), {}, format="json")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"  # noqa: PT018
    for year, status_ in ((2025, "in_use"), (2026, "under_used")):
        filed = bob.post(
            url(accepted, "operation-reports/"),
            {"year": year, "status": status_, "utilisation": 70, "operating_cost": "1000.50", "cost_payer": "operator"},
            format="json",
        )
        assert filed.status_code == 201, filed.content
    listed = bob.get(url(accepted, "operation-reports/")).json()
    assert [r["year"] for r in listed["results"]] == [2026, 2025]
    one = bob.get(url(accepted, f"operation-reports/{listed['results'][0]['id']}/"))
    assert one.json()["status"] == "under_used" and one.json()["operating_cost"] == "1000.50"  # noqa: PT018
    history = alice.get(url(accepted, "history/")).json()["results"]
    assert [h["action"] for h in history][-6:] == [
        "handover_recorded",
        "handover_refused",
        "handover_recorded",
        "handover_confirmed",
        "operation_reported",
        "operation_reported",
    ]


def test_the_api_answers_404_out_of_scope_and_403_to_the_wrong_side(accepted, world, supervisor):
    charlie = api_as(world.outsider)
    for path, method in (
        ("handover/", "get"),
        ("handover/", "post"),
        ("handover/confirm/", "post"),
        ("handover/refuse/", "post"),
        ("operation-reports/", "get"),
        ("operation-reports/", "post"),
    ):
        assert getattr(charlie, method)(url(accepted, path), {}, format="json").status_code == 404, path
    body = {"date": "2025-09-01", "receiving_name": "x", "asset_value": "1"}
    assert api_as(world.recipient).post(url(accepted), body, format="json").status_code == 403
    assert api_as(supervisor).post(url(accepted), body, format="json").status_code == 403
    assert api_as(world.assisting).post(url(accepted), body, format="json").status_code == 201
    assert api_as(world.assisting).post(url(accepted, "handover/confirm/"), {}, format="json").status_code == 403
    assert api_as(world.recipient).post(url(accepted), body, format="json").status_code == 403
    # Recorded twice while it waits: 409.
    assert api_as(world.assisting).post(url(accepted), body, format="json").status_code == 409
    report = {"year": 2025, "status": "in_use"}
    assert api_as(world.assisting).post(url(accepted, "operation-reports/"), report, format="json").status_code == 403
    assert api_as(world.recipient).post(url(accepted, "operation-reports/"), report, format="json").status_code == 409


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"asset_value": "abc"}, "asset_value"),
        ({"asset_value": "-5"}, "asset_value"),
        ({"asset_value": "12345678901234567890"}, "asset_value"),
        ({"asset_value": "1.234"}, "asset_value"),
        ({"date": "2025-13-01"}, "date"),
        ({"date": "2099-01-01"}, "date"),
        ({"date": None}, "date"),
        ({"receiving_name": ""}, "receiving_name"),
        ({"receiving_organization": 999999}, "receiving_organization"),
        ({"asset_register": 999999}, "asset_register"),
        ({"status": "confirmed"}, "status"),
    ],
)
def test_bad_handover_input_is_a_400_naming_the_field(accepted, world, values, field):
    body = {"date": "2025-09-01", "receiving_name": "疏附县教育局", "asset_value": "100"} | values
    answer = api_as(world.assisting).post(url(accepted), body, format="json")
    assert answer.status_code == 400, answer.content
    assert field in {e["field"] for e in answer.json()["errors"]}
    assert not Handover.objects.exists()


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"year": 2099}, "year"),
        ({"year": 2020}, "year"),
        ({"year": "twenty"}, "year"),
        ({"status": "burnt"}, "status"),
        ({"utilisation": 101}, "utilisation"),
        ({"operating_cost": "-1", "cost_payer": "operator"}, "operating_cost"),
        ({"operating_cost": "5"}, "cost_payer"),
        ({"revenue": "x"}, "revenue"),
        ({"jobs": 1.5}, "jobs"),
        ({"people_served": -1}, "people_served"),
        ({"cost_payer": "nobody"}, "cost_payer"),
        ({"photos": [1]}, "photos"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_report_input_is_a_400_naming_the_field(confirmed, accepted, world, values, field):
    body = {"year": 2025, "status": "in_use"} | values
    answer = api_as(world.recipient).post(url(accepted, "operation-reports/"), body, format="json")
    assert answer.status_code == 400, answer.content
    assert field in {e["field"] for e in answer.json()["errors"]}
    assert not OperationReport.objects.exists()


def test_refusing_needs_a_reason_and_a_form_body_is_refused(accepted, world):
    record(accepted, world.assisting, receiving_name="疏附县教育局")
    bob = api_as(world.recipient)
    blank = bob.post(url(accepted, "handover/refuse/"), {"reason": "  "}, format="json")
    assert blank.status_code == 400 and blank.json()["errors"][0]["field"] == "reason"  # noqa: PT018
    form = bob.post(url(accepted, "handover/refuse/"), {"reason": "x"})  # multipart: JSON only
    assert form.status_code == 415
    assert Handover.objects.get(project=accepted).status == "pending"


# --- the pages -----------------------------------------------------------------------------------------------


def _client(user: Any, language: str = "zh-hans") -> Client:
    from django.conf import settings

    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_the_pages_walk_the_handover_keeping_what_was_typed(accepted, world):
    alice, bob = _client(world.assisting), _client(world.recipient)
    detail = reverse("projects:project_detail", args=[accepted.pk])
    page = alice.get(detail).content.decode()
    assert 'id="handover-record"' in page and "尚未移交" in page  # noqa: PT018
    record_url = reverse("projects:handover_record", args=[accepted.pk])
    # 816 typed in yuan for a project of 12 000 000 yuan: asked about, nothing saved.
    typo = {"date": "2025-09-01", "receiving_name": "疏附县第二中学", "asset_value_0": "1180", "asset_value_1": "yuan"}
    answer = alice.post(record_url, typo)
    assert answer.status_code == 200 and "请核对单位（元或万元）" in answer.content.decode()  # noqa: PT018
    assert not Handover.objects.exists()
    done = alice.post(record_url, typo | {"asset_value_1": "wan"})
    assert done.status_code == 302
    assert Handover.objects.get().asset_value == Decimal("11800000.00")
    refuse_url = reverse("projects:handover_refuse", args=[accepted.pk])
    assert alice.get(refuse_url).status_code == 403
    empty = bob.post(refuse_url, {"reason": ""})
    assert "请说明拒收理由" in empty.content.decode()
    assert bob.post(refuse_url, {"reason": "清单不全"}).status_code == 302
    page = alice.get(detail).content.decode()
    assert "清单不全" in page and 'data-status="refused"' in page  # noqa: PT018
    assert alice.post(record_url, typo | {"asset_value_1": "wan"}).status_code == 302
    assert bob.post(reverse("projects:handover_confirm", args=[accepted.pk]), {}).status_code == 302
    report_url = reverse("projects:operation_report_create", args=[accepted.pk])
    bad = bob.post(report_url, {"year": "2025", "status": "in_use", "utilisation": "120", "notes": "留着"})
    text = bad.content.decode()
    assert "留着" in text and 'name="utilisation"' in text  # noqa: PT018
    photo = SimpleUploadedFile("ok.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, content_type="image/png")
    filed = bob.post(
        report_url,
        {
            "year": "2025",
            "status": "in_use",
            "utilisation": "80",
            "operating_cost_0": "20",
            "operating_cost_1": "wan",
            "cost_payer": "recipient_government",
            "photo_1": photo,
        },
    )
    assert filed.status_code == 302, filed.content.decode()[:2000]
    report = OperationReport.objects.get()
    assert report.operating_cost == Decimal("200000.00") and report.photos.get().kind == "photo"  # noqa: PT018
    page = bob.get(detail).content.decode()
    assert 'data-year="2025"' in page and "正常使用" in page  # noqa: PT018
    english = _client(world.recipient, "en").get(detail).content.decode()
    assert "Handover and operation" in english and "In use" in english  # noqa: PT018
    assert "Handover confirmed" in english  # the timeline's label


def test_the_panel_costs_the_same_queries_whatever_the_reports(
    confirmed, accepted, world, django_assert_max_num_queries
):
    client = _client(world.recipient)
    detail = reverse("projects:project_detail", args=[accepted.pk])
    for year in (2025,):
        hs.operation_report_file(by=world.recipient, project=accepted, year=year, status="in_use")
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        assert client.get(detail).status_code == 200
    hs.operation_report_file(by=world.recipient, project=accepted, year=2026, status="idle")
    with CaptureQueriesContext(connection) as two:
        client.get(detail)
    assert len(two) == len(one)
    # The panel's own reads (the navigation's one count of every kind of work aside).
    panel = [
        q
        for q in one.captured_queries
        if ("projects_handover" in q["sql"] or "projects_operationreport" in q["sql"])
        and not q["sql"].startswith("SELECT (SELECT COUNT(*)")
    ]
    assert len(panel) <= 3, [q["sql"][:120] for q in panel]
