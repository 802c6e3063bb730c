"""Rectifications both ways: the assisting side reports one done with a text and photos, the supervisor verifies
it (closed) or sends it back with a reason, and it is reported again. The steps and who may take each are one
table (projects.policy.RECTIFICATION_ACTIONS), read by the services, the API's `allowed_actions` and the page's
buttons; each step is one history event; the supervisor is told of a report and the assisting officer of a
send-back; the worklist and the daily reminder count only what waits for whom.

Actors as in test_supervision.py: `assisting` (alice, Guangdong), `supervisor` and `approver` (Guangdong),
`recipient` (bob, Shufu), `outsider` (charlie, Jiangsu)."""

import datetime as dt

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from accounts.models import Notification
from core.errors import Conflict, DomainError, PermissionDenied
from core.models import HistoryEvent
from core.worklist import waiting_for
from projects import policy, services, tasks
from projects.models import Document, Rectification
from tests.conftest import api_as
from tests.factories import RectificationFactory
from tests.projects.test_supervision import advance, history, problems
from tests.projects.test_views import png_bytes, png_upload

pytestmark = pytest.mark.django_db


def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def building(draft, world, approver, supervisor):
    return advance(
        draft, "in_construction", by={"assisting": world.assisting, "approver": approver, "supervisor": supervisor}
    )


@pytest.fixture
def two(building, supervisor) -> list[Rectification]:
    """One inspection that orders two rectifications, each with its own deadline."""
    inspection = services.inspection_record(
        by=supervisor,
        project=building,
        date=today() - dt.timedelta(days=10),
        kind="routine",
        result="failed",
        findings="脚手架未设防护网；三层楼板裂缝",
        rectifications=[
            {"finding": "加设防护网", "deadline": today() + dt.timedelta(days=10)},
            {"finding": "修补三层楼板裂缝", "deadline": today() - dt.timedelta(days=2)},
        ],
    )
    return list(inspection.rectifications.order_by("id"))


def fresh(rect: Rectification) -> Rectification:
    return Rectification.objects.get(pk=rect.pk)


def kinds(user) -> dict[str, int]:
    return {w.key: w.count for w in waiting_for(user) if w.key.startswith("rectification")}


# --- the table -------------------------------------------------------------------------------------------------


def test_the_table_declares_each_step_once():
    table = {
        name: (sorted(a.sources), a.target, sorted(a.roles), a.needs_comment)
        for name, a in policy.RECTIFICATION_ACTIONS.items()
    }
    assert table == {
        "report": (["open", "sent_back"], "reported", ["assisting_officer"], False),
        "verify": (["reported"], "verified", ["supervisor"], False),
        "send_back": (["reported"], "sent_back", ["supervisor"], True),
        "close": (["open", "sent_back"], "verified", ["supervisor"], True),
    }


# --- services: each step, wrong state, wrong role, history ---------------------------------------------------------


def test_report_send_back_report_again_and_verify(world, supervisor, two, django_capture_on_commit_callbacks):
    rect = two[0]
    assert policy.rectification_actions(world.assisting, rect) == ["report"]
    assert policy.rectification_actions(supervisor, rect) == ["close"]

    reported = services.rectification_report(
        by=world.assisting, rectification=rect, text=" 已加设密目式安全网 ", photos=[png_upload("网1.png")]
    )
    assert (reported.status, reported.report_text, reported.reported_by) == (
        "reported",
        "已加设密目式安全网",
        world.assisting,
    )
    [photo] = reported.photos.all()
    assert (photo.kind, photo.content_type, photo.project_id, photo.file.read()) == (
        "evidence",
        "image/png",
        rect.project_id,
        png_bytes(),
    )
    assert reported.is_open
    assert not reported.is_overdue
    assert policy.rectification_actions(supervisor, reported) == ["verify", "send_back"]
    assert policy.rectification_actions(world.assisting, reported) == []

    back = services.rectification_send_back(by=supervisor, rectification=reported, reason=" 安全网未全覆盖 ")
    assert (back.status, back.send_back_reason, back.sent_back_by, back.closed_on) == (
        "sent_back",
        "安全网未全覆盖",
        supervisor,
        None,
    )
    assert policy.rectification_actions(world.assisting, back) == ["report"]

    again = services.rectification_report(by=world.assisting, rectification=back, text="已全覆盖", photos=[])
    assert again.status == "reported"
    verified = services.rectification_verify(by=supervisor, rectification=again, note="复查合格")
    assert (verified.status, verified.closed_on, verified.closed_by, verified.closure_note) == (
        "verified",
        today(),
        supervisor,
        "复查合格",
    )
    assert not verified.is_open

    steps = [
        (e.action, e.actor, e.comment, e.changes)
        for e in history(rect.project)
        if e.action.startswith("rectification_")
    ]
    assert steps == [
        (
            "rectification_reported",
            world.assisting,
            "已加设密目式安全网",
            {"rectification_status": {"old": "open", "new": "reported"}},
        ),
        (
            "rectification_sent_back",
            supervisor,
            "安全网未全覆盖",
            {"rectification_status": {"old": "reported", "new": "sent_back"}},
        ),
        (
            "rectification_reported",
            world.assisting,
            "已全覆盖",
            {"rectification_status": {"old": "sent_back", "new": "reported"}},
        ),
        ("rectification_verified", supervisor, "复查合格", {"finding": {"old": "加设防护网", "new": None}}),
    ]
    # The other rectification of the inspection is untouched.
    assert fresh(two[1]).status == "open"


def test_a_step_out_of_its_status_is_a_conflict(world, supervisor, two):
    rect = two[0]
    with pytest.raises(Conflict) as exc:
        services.rectification_verify(by=supervisor, rectification=rect)
    assert problems(exc) == [("state_conflict", "status")]
    with pytest.raises(Conflict):
        services.rectification_send_back(by=supervisor, rectification=rect, reason="不合格")
    services.rectification_report(by=world.assisting, rectification=rect, text="已整改")
    with pytest.raises(Conflict):
        services.rectification_report(by=world.assisting, rectification=rect, text="再报一次")
    services.rectification_verify(by=supervisor, rectification=rect)
    with pytest.raises(Conflict) as exc:
        services.rectification_send_back(by=supervisor, rectification=rect, reason="不合格")
    assert problems(exc) == [("already_closed", "closed_on")]
    assert fresh(rect).status == "verified"


@pytest.mark.parametrize("who", ["supervisor", "approver", "recipient"])
def test_only_the_assisting_officer_reports(world, supervisor, approver, two, who):
    actor = {"supervisor": supervisor, "approver": approver, "recipient": world.recipient}[who]
    with pytest.raises(PermissionDenied):
        services.rectification_report(by=actor, rectification=two[0], text="已整改")
    assert fresh(two[0]).status == "open"


@pytest.mark.parametrize("who", ["assisting", "approver", "recipient"])
def test_only_the_supervisor_verifies_or_sends_back(world, supervisor, approver, two, who):
    rect = services.rectification_report(by=world.assisting, rectification=two[0], text="已整改")
    actor = {"assisting": world.assisting, "approver": approver, "recipient": world.recipient}[who]
    with pytest.raises(PermissionDenied):
        services.rectification_verify(by=actor, rectification=rect)
    with pytest.raises(PermissionDenied):
        services.rectification_send_back(by=actor, rectification=rect, reason="不合格")
    assert fresh(rect).status == "reported"


def test_what_is_sent_is_checked_all_at_once_and_nothing_is_stored(world, supervisor, two):
    before = set(Document.objects.values_list("pk", flat=True))
    with pytest.raises(DomainError) as exc:
        services.rectification_report(
            by=world.assisting,
            rectification=two[0],
            text="  ",
            photos=[
                png_upload("好.png"),
                SimpleUploadedFile("报告.pdf", b"%PDF-1.4 x", content_type="application/pdf"),
                SimpleUploadedFile("假.png", b"not a png at all", content_type="image/png"),
            ],
        )
    assert problems(exc) == [
        ("required", "text"),
        ("forbidden_type", "photos.1"),
        ("type_mismatch", "photos.2"),
    ]
    assert set(Document.objects.values_list("pk", flat=True)) == before
    assert fresh(two[0]).status == "open"

    services.rectification_report(by=world.assisting, rectification=two[0], text="已整改")
    with pytest.raises(DomainError) as exc:
        services.rectification_send_back(by=supervisor, rectification=two[0], reason=" ")
    assert problems(exc) == [("required", "reason")]


def test_the_old_close_still_closes_an_open_one_and_verifies_a_reported_one(world, supervisor, two):
    closed = services.rectification_close(by=supervisor, rectification=two[0], note="复查已整改")
    assert (closed.status, closed.closed_on) == ("verified", today())
    reported = services.rectification_report(by=world.assisting, rectification=two[1], text="已修补")
    verified = services.rectification_close(by=supervisor, rectification=reported)
    assert verified.status == "verified"
    assert [e.action for e in history(reported.project) if e.action.startswith("rectification_")] == [
        "rectification_closed",
        "rectification_reported",
        "rectification_verified",
    ]


def test_a_reported_rectification_still_stops_the_acceptance(world, supervisor, two):
    services.rectification_report(by=world.assisting, rectification=two[0], text="已整改")
    project = two[0].project
    assert services.selectors.open_rectifications(project).count() == 2


# --- notifications, worklist, reminder ---------------------------------------------------------------------------


def test_the_supervisor_is_told_of_a_report_and_the_assisting_officer_of_a_send_back(
    world, supervisor, two, django_capture_on_commit_callbacks
):
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        services.rectification_report(by=world.assisting, rectification=two[0], text="已整改")
    [told] = Notification.objects.all()
    assert (told.recipient, told.kind) == (supervisor, "rectification_reported")
    with translation.override("en"):
        assert "加设防护网" in told.text
        assert "verification" in told.text
    with translation.override("zh-hans"):
        assert "核验" in told.text

    with django_capture_on_commit_callbacks(execute=True):
        services.rectification_send_back(by=supervisor, rectification=two[0], reason="安全网未全覆盖")
    [back] = Notification.objects.filter(kind="rectification_sent_back")
    assert back.recipient == world.assisting
    with translation.override("en"):
        assert "安全网未全覆盖" in back.text
    assert back.link.endswith("#rectifications-table")


def test_a_redelivered_report_notice_tells_nobody_twice_and_a_second_report_tells_again(
    world, supervisor, two, django_capture_on_commit_callbacks
):
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.rectification_report(by=world.assisting, rectification=two[0], text="已整改")
    assert len(callbacks) >= 1
    event = HistoryEvent.objects.filter(action="rectification_reported").latest("id")
    assert tasks.notify_rectification_reported(two[0].pk, event.pk) == 0  # the broker delivered it again
    assert Notification.objects.filter(kind="rectification_reported").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.rectification_send_back(by=supervisor, rectification=two[0], reason="安全网未全覆盖")
    assert tasks.notify_rectification_sent_back(two[0].pk, HistoryEvent.objects.latest("id").pk) == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.rectification_report(by=world.assisting, rectification=two[0], text="已全覆盖")
    assert Notification.objects.filter(kind="rectification_reported", recipient=supervisor).count() == 2
    assert Notification.objects.filter(kind="rectification_sent_back").count() == 1


def test_the_worklist_shows_each_rectification_to_whom_it_waits_for(world, supervisor, two):
    # Both open: due and overdue, for the assisting officer and the supervisor alike.
    assert kinds(world.assisting) == {
        "rectifications_overdue": 1,
        "rectifications_due": 1,
        "rectifications_sent_back": 0,
    }
    assert kinds(supervisor) == {"rectifications_overdue": 1, "rectifications_due": 1, "rectifications_reported": 0}
    services.rectification_report(by=world.assisting, rectification=two[1], text="已修补")
    # Reported: no longer waiting for the assisting side (not overdue), waiting for the supervisor.
    assert kinds(world.assisting) == {
        "rectifications_overdue": 0,
        "rectifications_due": 1,
        "rectifications_sent_back": 0,
    }
    assert kinds(supervisor) == {"rectifications_overdue": 0, "rectifications_due": 1, "rectifications_reported": 1}
    services.rectification_send_back(by=supervisor, rectification=two[1], reason="裂缝仍在")
    # Sent back: the assisting officer's own kind (counted once); the supervisor sees it overdue again.
    assert kinds(world.assisting) == {
        "rectifications_overdue": 0,
        "rectifications_due": 1,
        "rectifications_sent_back": 1,
    }
    assert kinds(supervisor) == {"rectifications_overdue": 1, "rectifications_due": 1, "rectifications_reported": 0}
    assert fresh(two[1]).is_overdue


def test_the_reminder_leaves_reported_ones_and_reminds_sent_back_ones(world, supervisor, two):
    services.rectification_report(by=world.assisting, rectification=two[1], text="已修补")
    Notification.objects.all().delete()
    assert tasks.remind_rectifications(today().isoformat()) == {
        "rectification_due_soon": 0,
        "rectification_overdue": 0,
    }
    services.rectification_send_back(by=supervisor, rectification=two[1], reason="裂缝仍在")
    assert tasks.remind_rectifications(today().isoformat())["rectification_overdue"] == 2


def test_only_one_waiting_for_the_assisting_side_is_announced_overdue_to_webhooks(world, supervisor, two):
    from exchange.webhooks import rectifications_overdue_announce

    services.rectification_report(by=world.assisting, rectification=two[1], text="已修补")
    assert rectifications_overdue_announce() == []
    services.rectification_send_back(by=supervisor, rectification=two[1], reason="裂缝仍在")
    assert rectifications_overdue_announce() == [two[1].pk]


def test_the_factory_makes_reported_and_verified_rectifications():
    assert RectificationFactory(reported=True).status == "reported"
    verified = RectificationFactory(verified=True)
    assert (verified.status, verified.closed_on is not None, verified.is_open) == ("verified", True, False)


# --- API -----------------------------------------------------------------------------------------------------------


def url(rect: Rectification, step: str = "") -> str:
    return f"/api/v1/projects/{rect.project_id}/rectifications/{rect.pk}/" + (f"{step}/" if step else "")


def errors(response) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in response.json()["errors"]]


def test_api_report_with_photos_send_back_report_again_and_verify(world, supervisor, two):
    rect = two[0]
    mine = api_as(world.assisting)
    assert mine.get(url(rect)).json()["allowed_actions"] == ["report"]
    response = mine.post(
        url(rect, "report"),
        {"text": "已加设密目式安全网", "photos": [png_upload("网1.png"), png_upload("网2.png")]},
        format="multipart",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["report_text"], body["reported_by"], body["allowed_actions"]) == (
        "reported",
        "已加设密目式安全网",
        world.assisting.username,
        [],
    )
    assert len(body["photos"]) == 2
    download = mine.get(body["photos"][0]["download"])
    assert (download.status_code, b"".join(download.streaming_content)) == (200, png_bytes())

    boss = api_as(supervisor)
    assert boss.get(url(rect)).json()["allowed_actions"] == ["verify", "send_back"]
    missing = boss.post(url(rect, "send-back"), {}, format="json")
    assert (missing.status_code, errors(missing)) == (400, [("required", "reason")])
    back = boss.post(url(rect, "send-back"), {"reason": "安全网未全覆盖"}, format="json")
    assert (back.status_code, back.json()["status"], back.json()["send_back_reason"]) == (
        200,
        "sent_back",
        "安全网未全覆盖",
    )
    wrong = boss.post(url(rect, "verify"), {}, format="json")
    assert (wrong.status_code, errors(wrong)) == (409, [("state_conflict", "status")])

    assert mine.post(url(rect, "report"), {"text": "已全覆盖"}, format="multipart").status_code == 200
    done = boss.post(url(rect, "verify"), {"note": "复查合格"}, format="json")
    assert (done.status_code, done.json()["status"], done.json()["closed_on"], done.json()["is_open"]) == (
        200,
        "verified",
        today().isoformat(),
        False,
    )
    events = mine.get(f"/api/v1/projects/{rect.project_id}/history/", {"page_size": 200}).json()["results"]
    history_actions = [e["action"] for e in events if e["action"].startswith("rectification_")]
    assert history_actions == [
        "rectification_reported",
        "rectification_sent_back",
        "rectification_reported",
        "rectification_verified",
    ]


def test_api_refusals_name_their_fields(world, supervisor, two):
    rect = two[0]
    mine = api_as(world.assisting)
    bad = mine.post(
        url(rect, "report"),
        {"photos": [SimpleUploadedFile("x.exe", b"MZ" * 30, content_type="application/octet-stream")]},
        format="multipart",
    )
    assert bad.status_code == 400
    assert ("required", "text") in errors(bad)
    wrong_type = mine.post(
        url(rect, "report"),
        {"text": "已整改", "photos": [SimpleUploadedFile("x.exe", b"MZ" * 30)]},
        format="multipart",
    )
    assert (wrong_type.status_code, errors(wrong_type)) == (400, [("forbidden_type", "photos.0")])
    unknown = mine.post(url(rect, "report"), {"text": "已整改", "colour": "red"}, format="multipart")
    assert (unknown.status_code, errors(unknown)) == (400, [("unknown_field", "colour")])
    # The supervisor may not report; the assisting officer may not verify or send back: 403 before the body.
    assert api_as(supervisor).post(url(rect, "report"), {}, format="multipart").status_code == 403
    assert mine.post(url(rect, "verify"), {}, format="json").status_code == 403
    assert mine.post(url(rect, "send-back"), {"reason": "x"}, format="json").status_code == 403
    # Out of scope: 404.
    assert api_as(world.outsider).post(url(rect, "report"), {"text": "x"}, format="multipart").status_code == 404
    assert fresh(rect).status == "open"


def test_api_inspection_takes_a_list_of_rectifications(supervisor, building):
    response = api_as(supervisor).post(
        f"/api/v1/projects/{building.pk}/inspections/",
        {
            "date": (today() - dt.timedelta(days=1)).isoformat(),
            "kind": "routine",
            "result": "failed",
            "findings": "两处问题",
            "rectifications": [
                {"finding": "加设防护网", "deadline": (today() + dt.timedelta(days=5)).isoformat()},
                {"finding": "修补裂缝", "deadline": (today() - dt.timedelta(days=5)).isoformat()},
            ],
        },
        format="json",
    )
    assert response.status_code == 400
    assert errors(response) == [("deadline_before_inspection", "rectifications.1.deadline")]
    response = api_as(supervisor).post(
        f"/api/v1/projects/{building.pk}/inspections/",
        {
            "date": (today() - dt.timedelta(days=1)).isoformat(),
            "kind": "routine",
            "result": "failed",
            "findings": "两处问题",
            "rectifications": [
                {"finding": "加设防护网", "deadline": (today() + dt.timedelta(days=5)).isoformat()},
                {"finding": "修补裂缝", "deadline": (today() + dt.timedelta(days=9)).isoformat()},
            ],
        },
        format="json",
    )
    assert response.status_code == 201
    rows = response.json()["rectifications"]
    assert [(r["finding"], r["status"], r["allowed_actions"]) for r in rows] == [
        ("加设防护网", "open", ["close"]),
        ("修补裂缝", "open", ["close"]),
    ]


# --- pages, in both languages --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "word"), [("zh-hans", "报告已整改"), ("en", "Report done")])
def test_pages_report_send_back_and_verify_in_both_languages(client, world, supervisor, two, language, word):
    rect = two[0]
    project_page = f"/projects/{rect.project_id}/"
    client.force_login(world.assisting)
    client.cookies["django_language"] = language
    page = client.get(project_page, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    step = f"/projects/{rect.project_id}/rectifications/{rect.pk}/report/"
    assert f'href="{step}"' in page
    assert word in page
    form = client.get(step, HTTP_ACCEPT_LANGUAGE=language)
    assert form.status_code == 200
    assert "加设防护网" in form.content.decode()

    # A refused report keeps the photo (core/uploads.py) and names the missing text.
    refused = client.post(step, {"text": "", "photo_1": png_upload("网.png")}, HTTP_ACCEPT_LANGUAGE=language)
    assert refused.status_code == 200
    assert "text" in refused.context["form"].errors
    kept = refused.context["form"].kept_uploads["photo_1"]
    done = client.post(step, {"text": "已加设", "photo_1_kept": kept["token"]}, HTTP_ACCEPT_LANGUAGE=language)
    assert done.status_code == 302
    rect = fresh(rect)
    assert (rect.status, rect.photos.count()) == ("reported", 1)
    assert not default_storage.exists(f"kept/{world.assisting.pk}/{kept['token']}/网.png")

    client.force_login(supervisor)
    client.cookies["django_language"] = language
    page = client.get(project_page, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    send_back = f"/projects/{rect.project_id}/rectifications/{rect.pk}/send_back/"
    verify = f"/projects/{rect.project_id}/rectifications/{rect.pk}/verify/"
    assert f'href="{send_back}"' in page
    assert f'href="{verify}"' in page
    assert "已加设" in page
    no_reason = client.post(send_back, {"reason": ""}, HTTP_ACCEPT_LANGUAGE=language)
    assert "reason" in no_reason.context["form"].errors
    assert client.post(send_back, {"reason": "未全覆盖"}, HTTP_ACCEPT_LANGUAGE=language).status_code == 302
    assert fresh(rect).status == "sent_back"
    # Verifying what was sent back is refused on the form, not a 500.
    stale = client.post(verify, {"note": ""}, HTTP_ACCEPT_LANGUAGE=language)
    assert stale.status_code == 200
    assert stale.context["form"].non_field_errors()


def test_the_assisting_officer_may_not_verify_on_the_page(client, world, two):
    rect = services.rectification_report(by=world.assisting, rectification=two[0], text="已整改")
    client.force_login(world.assisting)
    verify = f"/projects/{rect.project_id}/rectifications/{rect.pk}/verify/"
    assert client.get(verify).status_code == 200  # the form says why it cannot be taken
    assert client.post(verify, {"note": ""}).status_code == 403
    assert client.get(f"/projects/{rect.project_id}/rectifications/{rect.pk}/nonsense/").status_code == 404
