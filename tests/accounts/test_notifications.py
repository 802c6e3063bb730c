"""The notification centre: made for the events that concern a user, read in the reader's language, listed and
marked read through the API and the page, one's own only; the daily rectification reminder sends each once."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts import services as account_services
from accounts.models import Notification, Role
from accounts.notifications import render
from projects import services, tasks
from projects.models import Project
from tests.conftest import api_as
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/"


def submitted(project: Project, by, capture) -> Project:  # type: ignore[no-untyped-def]
    with capture(execute=True):
        services.project_submit(project=project, by=by)
    return project


def in_construction(project: Project, world, approver) -> Project:  # type: ignore[no-untyped-def]
    services.project_submit(project=project, by=world.assisting)
    services.project_approve(project=project, by=approver, approved_budget=Decimal("12000000.00"))
    services.project_start(project=project, by=world.assisting, actual_start=dt.date(2024, 3, 15))
    return project


# --- a project to approve ------------------------------------------------------------------------------------


def test_a_submitted_project_puts_a_notification_in_the_approvers_inbox(
    world, draft, approver, django_capture_on_commit_callbacks
):
    out_of_scope = UserFactory(username="js-approver", organization=world.jiangsu_gov, roles=[Role.APPROVER])
    submitted(draft, world.assisting, django_capture_on_commit_callbacks)

    response = api_as(approver).get(URL, {"unread": "true"}, HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200, response.content
    [item] = response.json()["results"]
    assert item["kind"] == "project_turn"
    assert item["unread"] is True
    assert item["read_at"] is None
    assert item["link"] == f"/projects/{draft.pk}/"
    assert draft.code in item["text"]
    assert "“Submit”" in item["text"]
    assert "submit" not in item["text"]  # the label, never the code
    assert not Notification.objects.filter(recipient=out_of_scope).exists()
    # No address, no mail: the inbox is what tells them.
    assert mail.outbox == []


def test_the_text_is_written_in_the_readers_language(world, draft, approver, django_capture_on_commit_callbacks):
    with translation.override("zh-hans"):  # made while the system runs in Chinese
        submitted(draft, world.assisting, django_capture_on_commit_callbacks)
    client = api_as(approver)

    english = client.get(URL, HTTP_ACCEPT_LANGUAGE="en").json()["results"][0]["text"]
    chinese = client.get(URL, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"][0]["text"]

    assert "Submit" in english
    assert "申报" not in english
    assert "申报" in chinese
    assert "Submit" not in chinese


def test_the_mail_for_an_approver_with_an_address_names_the_action_by_its_label(world, draft, approver):
    approver.email = "approver@gd.example.cn"
    approver.save(update_fields=["email"])
    services.project_submit(project=draft, by=world.assisting)

    assert tasks.notify_transition(draft.pk, "submit") == 1

    [message] = mail.outbox
    assert "Submit" in message.body or "申报" in message.body
    assert " submit" not in message.body


def test_an_unknown_kind_reads_as_a_plain_notification_never_as_its_code():
    with translation.override("en"):
        assert render("gone_kind", {"x": 1}) == "Notification"


# --- reading and marking -----------------------------------------------------------------------------------


def notes(user, n: int = 2) -> list[Notification]:  # type: ignore[no-untyped-def]
    for i in range(n):
        account_services.notify([user], "export_ready", {"name": f"file-{i}.xlsx"}, "/exchange/exports/")
    return list(Notification.objects.filter(recipient=user))


def test_mark_one_read_then_all(world):
    first, second = notes(world.assisting, 2)
    client = api_as(world.assisting)

    response = client.post(f"{URL}{first.pk}/read/")
    assert response.status_code == 200, response.content
    assert response.json()["unread"] is False
    again = client.post(f"{URL}{first.pk}/read/").json()
    assert again["read_at"] == response.json()["read_at"]  # a second read leaves it as it was

    assert [n["id"] for n in client.get(URL, {"unread": "true"}).json()["results"]] == [second.pk]
    assert [n["id"] for n in client.get(URL, {"unread": "false"}).json()["results"]] == [first.pk]
    assert client.post(f"{URL}read-all/").json() == {"marked": 1}
    assert client.post(f"{URL}read-all/").json() == {"marked": 0}
    assert client.get(URL, {"unread": "true"}).json()["results"] == []


def test_nobody_reads_or_marks_another_users_notification(world):
    [theirs] = notes(world.assisting, 1)
    client = api_as(world.outsider)

    assert client.get(URL).json()["results"] == []
    assert client.get(f"{URL}{theirs.pk}/").status_code == 404
    assert client.post(f"{URL}{theirs.pk}/read/").status_code == 404
    assert client.post(f"{URL}read-all/").json() == {"marked": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None


@pytest.mark.parametrize("value", ["yes", "", "1", "TRUE2"])
def test_a_bad_unread_filter_is_a_400_naming_it(world, value):
    response = api_as(world.assisting).get(URL, {"unread": value})
    assert response.status_code == 400
    assert "unread" in str(response.json())


def test_anonymous_callers_are_refused(world):
    from rest_framework.test import APIClient

    client = APIClient()
    assert client.get(URL).status_code in (401, 403)
    assert client.post(f"{URL}read-all/").status_code in (401, 403)


# --- the page and the bell -----------------------------------------------------------------------------------


def test_the_bell_costs_one_query_and_shows_the_unread_count(client, world):
    notes(world.assisting, 3)
    client.force_login(world.assisting)

    client.get("/accounts/profile/")  # warm: session, user, roles
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/accounts/profile/")
    counts = [q["sql"] for q in queries.captured_queries if "accounts_notification" in q["sql"]]

    assert page.status_code == 200
    assert len(counts) == 1
    assert 'id="bell-count">3<' in page.content.decode()


def test_the_page_lists_newest_first_and_opening_marks_read_and_follows_the_link(client, world):
    first, second = notes(world.assisting, 2)
    client.force_login(world.assisting)

    listing = client.get("/accounts/notifications/").content.decode()
    assert listing.index("file-1.xlsx") < listing.index("file-0.xlsx")
    assert listing.count('data-unread="true"') == 2

    opened = client.post(f"/accounts/notifications/{first.pk}/open/")
    assert opened.status_code == 302
    assert opened["Location"] == "/exchange/exports/"
    first.refresh_from_db()
    assert first.read_at is not None

    assert client.post("/accounts/notifications/read-all/").status_code == 302
    second.refresh_from_db()
    assert second.read_at is not None
    assert 'id="bell-count"' not in client.get("/accounts/notifications/").content.decode()


def test_the_page_does_not_open_another_users_notification_or_leave_the_site(client, world):
    [theirs] = notes(world.assisting, 1)
    client.force_login(world.outsider)
    assert client.post(f"/accounts/notifications/{theirs.pk}/open/").status_code == 404
    assert client.get(f"/accounts/notifications/{theirs.pk}/open/").status_code == 405

    [mine] = notes(world.outsider, 1)
    Notification.objects.filter(pk=mine.pk).update(link="//evil.example/")
    assert client.post(f"/accounts/notifications/{mine.pk}/open/")["Location"] == "/accounts/notifications/"


# --- a report to review, an inspection ---------------------------------------------------------------------


def test_a_progress_report_tells_the_approver_and_an_inspection_tells_the_assisting_officer(
    world, draft, approver, supervisor, django_capture_on_commit_callbacks
):
    project = in_construction(draft, world, approver)
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        services.progress_report_submit(
            by=world.assisting,
            project=project,
            period_end=dt.date(2024, 6, 30),
            physical_progress=30,
            spend_to_date=Decimal("1000000"),
        )
    with django_capture_on_commit_callbacks(execute=True):
        services.inspection_record(
            by=supervisor,
            project=project,
            date=timezone.localdate(),
            kind="routine",
            result="failed",
            findings="裂缝",
            rectifications=[{"finding": "修补裂缝", "deadline": timezone.localdate() + dt.timedelta(days=30)}],
        )

    [report] = Notification.objects.filter(recipient=approver)
    [inspection] = Notification.objects.filter(recipient=world.assisting)
    assert (report.kind, inspection.kind) == ("report_to_review", "inspection_recorded")
    with translation.override("en"):
        assert "2024-06-30" in report.text
        assert "Failed" in inspection.text
        assert "1 rectifications" in inspection.text
    assert not Notification.objects.filter(recipient__in=[supervisor, world.outsider]).exists()


# --- the rectification reminder ----------------------------------------------------------------------------


def test_the_reminder_tells_once_when_due_within_three_days_and_once_when_overdue(
    world, draft, approver, supervisor, django_capture_on_commit_callbacks
):
    project = in_construction(draft, world, approver)
    today = timezone.localdate()
    services.inspection_record(
        by=supervisor,
        project=project,
        date=today,
        kind="routine",
        result="failed",
        findings="裂缝",
        rectifications=[
            {"finding": "修补裂缝", "deadline": today + dt.timedelta(days=3)},
            {"finding": "later", "deadline": today + dt.timedelta(days=20)},
        ],
    )
    supervisor.email = "supervisor@gd.example.cn"
    supervisor.save(update_fields=["email"])
    Notification.objects.all().delete()

    assert tasks.remind_rectifications(today.isoformat()) == {
        "rectification_due_soon": 2,  # the assisting officer and the supervisor who raised it
        "rectification_overdue": 0,
    }
    # The next day: nothing new (already told it is due).
    assert tasks.remind_rectifications((today + dt.timedelta(days=1)).isoformat()) == {
        "rectification_due_soon": 0,
        "rectification_overdue": 0,
    }
    # Past the deadline: told once that it is overdue, not again the day after.
    late = today + dt.timedelta(days=4)
    assert tasks.remind_rectifications(late.isoformat())["rectification_overdue"] == 2
    assert tasks.remind_rectifications((late + dt.timedelta(days=1)).isoformat())["rectification_overdue"] == 0

    kinds = sorted(Notification.objects.filter(recipient=supervisor).values_list("kind", flat=True))
    assert kinds == ["rectification_due_soon", "rectification_overdue"]
    assert Notification.objects.filter(recipient=world.assisting).count() == 2
    assert [m.to for m in mail.outbox] == [["supervisor@gd.example.cn"]] * 2
    with translation.override("en"):
        due = Notification.objects.get(recipient=world.assisting, kind="rectification_due_soon").text
    assert "修补裂缝" in due
    assert (today + dt.timedelta(days=3)).isoformat() in due


def test_a_closed_rectification_is_not_reminded(world, draft, approver, supervisor):
    project = in_construction(draft, world, approver)
    today = timezone.localdate()
    services.inspection_record(
        by=supervisor,
        project=project,
        date=today,
        kind="routine",
        result="failed",
        findings="裂缝",
        rectifications=[{"finding": "修补裂缝", "deadline": today + dt.timedelta(days=1)}],
    )
    project.rectifications.update(closed_on=today)

    assert tasks.remind_rectifications() == {"rectification_due_soon": 0, "rectification_overdue": 0}


def test_the_beat_schedule_runs_the_reminder_daily():
    from config.celery_app import app

    assert any(e["task"] == "projects.tasks.remind_rectifications" for e in app.conf.beat_schedule.values())


# --- an export ready, a run finished -----------------------------------------------------------------------


def test_an_export_made_by_the_task_tells_its_creator(world, pw, settings):
    from exchange import services as exchange_services
    from exchange.models import ExportStatus

    settings.EXPORT_SYNC_ROWS = 0
    export = exchange_services.export_create(by=world.coordinator, kind="pairings", format="xlsx")
    if export.status != ExportStatus.DONE:
        exchange_services.export_make(export.pk)
    export.refresh_from_db()

    [note] = Notification.objects.filter(recipient=world.coordinator)
    assert note.kind == "export_ready"
    assert note.link == "/exchange/exports/"
    with translation.override("en"):
        assert note.text == f"Your export {export.filename} is ready to download."


def test_a_run_that_fails_tells_whoever_asked_for_it(world, pw, django_capture_on_commit_callbacks):
    from evaluation import services as evaluation_services

    with django_capture_on_commit_callbacks(execute=False):
        run, _ = evaluation_services.run_start(program=pw.program, year=2020, by=world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        evaluation_services.run_fail(run.pk, "broken")

    [note] = Notification.objects.filter(recipient=world.coordinator)
    assert note.kind == "run_failed"
    assert note.link == f"/evaluation/runs/{run.pk}/"
    with translation.override("en"):
        assert note.text == f"Evaluation run #{run.pk} of {pw.program.code} 2020 failed."
