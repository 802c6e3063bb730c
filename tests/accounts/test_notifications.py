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


# --- a redelivered task ------------------------------------------------------------------------------------


def test_a_transition_task_delivered_twice_makes_one_notification_and_one_mail_each(world, draft, approver):
    """acks_late: a worker lost after the work but before the acknowledgement runs the same message again."""
    second = UserFactory(
        username="gd-approver-2", organization=world.guangdong_gov, roles=[Role.APPROVER], email="a2@gd.example.cn"
    )
    approver.email = "approver@gd.example.cn"
    approver.save(update_fields=["email"])
    services.project_submit(project=draft, by=world.assisting)
    from core.models import HistoryEvent

    event = HistoryEvent.objects.for_object(draft).get(action="submit")

    assert tasks.notify_transitions([draft.pk], "submit", [event.pk]) == 2
    assert tasks.notify_transitions([draft.pk], "submit", [event.pk]) == 0

    for user in (approver, second):
        assert Notification.objects.filter(recipient=user, kind="project_turn").count() == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["a2@gd.example.cn", "approver@gd.example.cn"]


def test_a_project_submitted_again_is_announced_again(world, draft, approver):
    services.project_submit(project=draft, by=world.assisting)
    tasks.notify_transition(draft.pk, "submit")
    services.project_return(project=draft, by=approver, comment="补充材料")
    services.project_submit(project=draft, by=world.assisting)
    tasks.notify_transition(draft.pk, "submit")
    tasks.notify_transition(draft.pk, "submit")  # redelivered: the latest submission's event again

    assert Notification.objects.filter(recipient=approver, kind="project_turn").count() == 2


def test_the_report_and_inspection_tasks_delivered_twice_tell_once(world, draft, approver, supervisor):
    project = in_construction(draft, world, approver)
    world.assisting.email = "alice@gd.example.cn"
    world.assisting.save(update_fields=["email"])
    approver.email = "approver@gd.example.cn"
    approver.save(update_fields=["email"])
    report = services.progress_report_submit(
        by=world.assisting,
        project=project,
        period_end=dt.date(2024, 6, 30),
        physical_progress=30,
        spend_to_date=Decimal("1000000"),
    )
    inspection = services.inspection_record(
        by=supervisor, project=project, date=timezone.localdate(), kind="routine", result="passed", findings="好"
    )
    Notification.objects.all().delete()
    mail.outbox.clear()

    assert [tasks.notify_report_submitted(report.pk) for _ in range(2)] == [1, 0]
    assert [tasks.notify_inspection(inspection.pk) for _ in range(2)] == [1, 0]
    assert Notification.objects.filter(recipient=approver).count() == 1
    assert Notification.objects.filter(recipient=world.assisting).count() == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["alice@gd.example.cn", "approver@gd.example.cn"]


# --- e-mail at once, in a daily digest, or none --------------------------------------------------------------


def mailer(username: str, world, choice: str, language: str = "en"):  # type: ignore[no-untyped-def]
    return UserFactory(
        username=username,
        organization=world.guangdong_gov,
        roles=[Role.ASSISTING_OFFICER],
        email=f"{username}@gd.example.cn",
        preferred_language=language,
        notification_email=choice,
    )


def test_only_users_who_chose_at_once_are_mailed_when_it_happens(world):
    users = [mailer(name, world, name) for name in ("at_once", "daily_digest", "none")]

    told = account_services.notify(users, "export_ready", {"name": "a.xlsx"}, "/exchange/exports/", mail=True)

    assert len(told) == 3  # all three have it in their inbox
    assert [m.to for m in mail.outbox] == [["at_once@gd.example.cn"]]


def test_the_daily_digest_lists_the_days_notifications_in_one_mail_in_the_readers_language(world):
    from accounts.models import NotificationDigest
    from accounts.tasks import send_digests

    english = mailer("en-digest", world, "daily_digest", "en")
    chinese = mailer("zh-digest", world, "daily_digest", "zh-hans")
    nobody = mailer("no-mail", world, "none")
    for i in range(3):
        account_services.notify([english, chinese, nobody], "export_ready", {"name": f"f{i}.xlsx"}, "/x/", mail=True)
    assert mail.outbox == []
    today = timezone.localdate()

    assert send_digests(today.isoformat()) == {"users": 2, "notifications": 6}

    by_to = {m.to[0]: m for m in mail.outbox}
    assert set(by_to) == {"en-digest@gd.example.cn", "zh-digest@gd.example.cn"}
    en, zh = by_to["en-digest@gd.example.cn"], by_to["zh-digest@gd.example.cn"]
    assert en.subject == "Duikou daily digest: 3 new notifications"
    assert all(f"Your export f{i}.xlsx is ready to download." in en.body for i in range(3))
    assert "http://" in en.body
    assert "/x/" in en.body
    assert "对口" in zh.subject
    assert "Your export" not in zh.body
    assert "f2.xlsx" in zh.body
    assert NotificationDigest.objects.get(user=english, day=today).count == 3
    assert Notification.objects.filter(recipient=english, digest__isnull=True).count() == 0

    # A second run the same day, or the same task delivered again: nothing.
    mail.outbox.clear()
    assert send_digests(today.isoformat()) == {"users": 0, "notifications": 0}
    assert account_services.digest_send(user=english, day=today) == 0
    assert mail.outbox == []

    # The next day lists only what came since.
    account_services.notify([english], "export_ready", {"name": "new.xlsx"}, "/x/", mail=True)
    assert send_digests((today + dt.timedelta(days=1)).isoformat()) == {"users": 1, "notifications": 1}
    [message] = mail.outbox
    assert "new.xlsx" in message.body
    assert "f0.xlsx" not in message.body
    assert message.subject == "Duikou daily digest: 1 new notification"


def test_a_digest_user_with_nothing_new_gets_no_mail_and_a_failed_mail_is_sent_next_time(world, monkeypatch):
    from accounts.models import NotificationDigest

    user = mailer("digest", world, "daily_digest")
    today = timezone.localdate()
    assert account_services.digest_send(user=user, day=today) == 0
    assert not NotificationDigest.objects.exists()

    account_services.notify([user], "export_ready", {"name": "a.xlsx"}, "/x/")

    def down(*args, **kwargs):
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr(account_services, "send_mail", down)
    assert account_services.digest_send(user=user, day=today) == 0
    assert not NotificationDigest.objects.exists()
    assert Notification.objects.get(recipient=user).digest is None

    monkeypatch.undo()
    assert account_services.digest_send(user=user, day=today) == 1
    assert len(mail.outbox) == 1


def test_a_digest_user_is_not_mailed_a_transition_at_once(world, draft, approver):
    approver.email = "approver@gd.example.cn"
    approver.notification_email = "daily_digest"
    approver.save(update_fields=["email", "notification_email"])
    services.project_submit(project=draft, by=world.assisting)

    assert tasks.notify_transition(draft.pk, "submit") == 0
    assert Notification.objects.filter(recipient=approver).count() == 1
    assert mail.outbox == []


def test_the_choice_is_made_on_the_profile_page(client, world):
    client.force_login(world.assisting)
    page = client.get("/accounts/profile/").content.decode()
    assert 'id="notification-email-at_once" value="at_once" checked' in page

    response = client.post("/accounts/profile/notification-email/", {"notification_email": "daily_digest"})
    assert response.status_code == 302
    world.assisting.refresh_from_db()
    assert world.assisting.notification_email == "daily_digest"
    assert 'value="daily_digest" checked' in client.get("/accounts/profile/").content.decode()

    client.post("/accounts/profile/notification-email/", {"notification_email": "weekly"})
    world.assisting.refresh_from_db()
    assert world.assisting.notification_email == "daily_digest"


def test_the_choice_is_made_through_the_api(world):
    client = api_as(world.assisting)
    assert client.get("/api/v1/me/").json()["notification_email"] == "at_once"

    response = client.patch("/api/v1/me/", {"notification_email": "none"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["notification_email"] == "none"
    world.assisting.refresh_from_db()
    assert world.assisting.notification_email == "none"

    for body, field in (({"notification_email": "weekly"}, "notification_email"), ({"colour": "red"}, "colour")):
        bad = client.patch("/api/v1/me/", body, format="json")
        assert bad.status_code == 400
        assert [e["field"] for e in bad.json()["errors"]] == [field]
    world.assisting.refresh_from_db()
    assert world.assisting.notification_email == "none"


def test_the_beat_schedule_sends_the_digest_daily():
    from config.celery_app import app

    assert any(e["task"] == "accounts.tasks.send_digests" for e in app.conf.beat_schedule.values())


@pytest.mark.django_db(transaction=True)
def test_two_deliveries_at_the_same_moment_still_tell_and_mail_once(world):
    """Two workers run the same message at once (each on its own connection): the unique constraints decide."""
    import threading

    from django.db import connections

    from accounts.models import NotificationDigest

    at_once = mailer("at-once", world, "at_once")
    digest = mailer("digest", world, "daily_digest")
    account_services.notify([digest], "export_ready", {"name": "a.xlsx"}, "/x/")
    today = timezone.localdate()
    start = threading.Barrier(2)
    results: list[object] = []

    def deliver() -> None:
        try:
            start.wait()
            results.append(
                account_services.notify([at_once], "export_ready", {"name": "b.xlsx"}, "/x/", key="export:1", mail=True)
            )
            results.append(account_services.digest_send(user=digest, day=today))
        finally:
            connections.close_all()

    workers = [threading.Thread(target=deliver) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()

    assert sorted(map(str, results)) == sorted(map(str, [[at_once.pk], [], 1, 0]))
    assert Notification.objects.filter(recipient=at_once, key="export:1").count() == 1
    assert NotificationDigest.objects.filter(user=digest).count() == 1
    assert sorted(m.to[0] for m in mail.outbox) == ["at-once@gd.example.cn", "digest@gd.example.cn"]
