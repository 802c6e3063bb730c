"""Webhooks: a real receiver on 127.0.0.1 gets signed events after the commit, retries with backoff until it
answers, the SSRF guard on registration and at delivery time, scope, ownership, the API's refusals, the pages.

The receiver is an http.server in a thread of the test; Celery is eager, so a delivery and its retries run in the
commit's callbacks (`django_capture_on_commit_callbacks(execute=True)`) and the retries' countdowns are skipped —
`attempt` is also called one attempt at a time where the test needs to see between attempts."""

import datetime as dt
import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from unittest import mock

import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from core.models import HistoryEvent
from core.services import history_record
from exchange import webhooks
from exchange.models import DeliveryStatus, Import, Webhook, WebhookAttempt, WebhookDelivery
from exchange.webhook_tasks import rectifications_overdue
from pairings import services as pairing_services
from projects import services as project_services
from projects.models import Project, Rectification
from tests.conftest import api_as
from tests.factories import EvaluationRunFactory, InspectionFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"


# --- a receiver on 127.0.0.1 ---------------------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Records every POST; answers with the next of `statuses` (then 200)."""

    port: int = 0
    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def wait(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.received


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            state.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            code = state.statuses.pop(0) if state.statuses else 200
            self.send_response(code)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")
            state.arrived.set()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def loopback_allowed(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0


def register(user, url: str, events: list[str], **extra: Any) -> dict[str, Any]:
    response = api_as(user).post(URL, {"url": url, "events": events, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def verify(secret: str, got: Received) -> bool:
    expected = "sha256=" + hmac.new(secret.encode(), got.body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, got.headers["x-duikou-signature"])


def errors(response) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in response.json()["errors"]]


# --- the contract: a signed project.transitioned within seconds of an approval --------------------------------


def test_an_approval_reaches_a_receiver_on_loopback_signed_within_seconds(
    world, draft, approver, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    hook = register(world.assisting, receiver.url, ["project.transitioned"], description="本地接收")
    assert len(hook["secret"]) == 64
    officer, approving = api_as(world.assisting), api_as(approver)
    transitions = f"/api/v1/projects/{draft.pk}/transitions/"

    with django_capture_on_commit_callbacks(execute=True):
        assert officer.post(transitions, {"action": "submit"}, format="json").status_code == 200
    started = time.monotonic()
    with django_capture_on_commit_callbacks(execute=True):
        approved = approving.post(
            transitions, {"action": "approve", "approved_budget": "3500000.00", "comment": "同意"}, format="json"
        )
        assert approved.status_code == 200, approved.content
    got = receiver.wait(2)
    assert time.monotonic() - started < 5
    assert len(got) == 2
    approval = got[1]
    body = approval.json()
    assert approval.path == "/hook"
    assert approval.headers["content-type"] == "application/json"
    assert approval.headers["x-duikou-event"] == "project.transitioned"
    assert approval.headers["x-duikou-delivery"] == body["id"]
    assert verify(hook["secret"], approval)
    assert not verify("another secret", approval)
    assert set(body) == {"id", "event", "at", "object"}
    assert body["event"] == "project.transitioned"
    # The object as the API's detail endpoint shows it.
    detail = api_as(world.assisting).get(f"/api/v1/projects/{draft.pk}/").json()
    assert body["object"]["id"] == draft.pk
    assert (body["object"]["state"], body["object"]["approved_budget"]) == ("approved", "3500000.00")
    assert set(body["object"]) == set(detail)
    delivery = WebhookDelivery.objects.get(pk=body["id"])
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 1)
    assert list(delivery.attempt_log.values_list("number", "status_code", "error")) == [(1, 200, "")]

    # The delivery log through the API.
    log = api_as(world.assisting).get(f"{URL}{hook['id']}/deliveries/")
    assert log.status_code == 200
    rows = log.json()["results"]
    assert [r["event"] for r in rows] == ["project.transitioned", "project.transitioned"]
    assert rows[0]["id"] == body["id"]
    assert (rows[0]["status"], rows[0]["attempts"], rows[0]["status_code"]) == ("succeeded", 1, 200)
    assert rows[0]["attempt_log"][0]["number"] == 1
    assert rows[0]["attempt_log"][0]["duration_ms"] >= 0


def test_nothing_is_sent_for_a_change_that_rolls_back(world, draft, receiver, loopback_allowed):
    register(world.assisting, receiver.url, ["project.transitioned"])
    # No commit (the test's transaction is never committed and the callbacks are not run): nothing prepared.
    project_services.project_submit(project=draft, by=world.assisting)
    assert WebhookDelivery.objects.count() == 0
    assert receiver.received == []


# --- retries -------------------------------------------------------------------------------------------------


def test_a_receiver_that_answers_500_three_times_gets_the_event_on_the_fourth_attempt(
    world, draft, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    hook = register(world.assisting, receiver.url, ["project.transitioned"])
    receiver.statuses = [500, 500, 500]
    with django_capture_on_commit_callbacks(execute=True):
        project_services.project_submit(project=draft, by=world.assisting)
    got = receiver.wait(4)
    assert len(got) == 4
    # The same body, so the same signature, on every attempt.
    assert len({g.body for g in got}) == 1
    assert all(verify(hook["secret"], g) for g in got)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SUCCEEDED, 4)
    assert delivery.delivered_at is not None
    log = list(delivery.attempt_log.values_list("number", "status_code", "error"))
    assert log == [(1, 500, "HTTP 500"), (2, 500, "HTTP 500"), (3, 500, "HTTP 500"), (4, 200, "")]
    assert not Webhook.objects.get(pk=hook["id"]).is_failing


def test_attempts_back_off_exponentially_and_the_fifth_failure_marks_the_webhook_failing(
    world, draft, receiver, settings, loopback_allowed
):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 10
    hook = register(world.assisting, receiver.url, ["project.transitioned"])
    receiver.statuses = [503] * 5
    with mock.patch("exchange.webhooks.queue") as queued:
        project_services.project_submit(project=draft, by=world.assisting)
        delivery = webhooks.fan_out("project.transitioned", draft.pk, dt.datetime.now(dt.UTC))[0]
    assert queued.call_count == 1
    # One attempt at a time, as the task runs them: the wait before the next grows fourfold.
    waits = [webhooks.attempt(str(delivery.pk)) for _ in range(5)]
    assert waits == [10, 40, 160, 640, None]
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 5)
    assert Webhook.objects.get(pk=hook["id"]).is_failing
    assert list(delivery.attempt_log.values_list("status_code", flat=True)) == [503] * 5
    # Done is done: running the task again sends nothing more.
    assert webhooks.attempt(str(delivery.pk)) is None
    assert len(receiver.received) == 5

    # The next delivery that succeeds clears the mark.
    with mock.patch("exchange.webhooks.queue"):
        second = webhooks.fan_out("project.transitioned", draft.pk, dt.datetime.now(dt.UTC))[0]
    assert webhooks.attempt(str(second.pk)) is None
    assert not Webhook.objects.get(pk=hook["id"]).is_failing


def test_a_receiver_that_never_answers_is_an_attempt_with_no_status_code(world, draft, settings, loopback_allowed):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    # A port nobody listens on.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    register(world.assisting, f"http://127.0.0.1:{port}/", ["project.transitioned"])
    with mock.patch("exchange.webhooks.queue"):
        delivery = webhooks.fan_out("project.transitioned", draft.pk, dt.datetime.now(dt.UTC))[0]
    assert webhooks.attempt(str(delivery.pk)) == 0
    tried = WebhookAttempt.objects.get(delivery=delivery)
    assert tried.status_code is None
    assert "ConnectionRefused" in tried.error


# --- SSRF ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://10.0.0.1/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://192.168.1.10:8080/hook",
        "http://0.0.0.0/",
        "http://[::ffff:127.0.0.1]/",
        "http://224.0.0.1/",
        "http://100.64.0.1/",
        "http://localhost:8000/",
    ],
)
def test_urls_to_private_addresses_are_refused_unless_allowed(world, url, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    response = api_as(world.assisting).post(URL, {"url": url, "events": ["project.created"]}, format="json")
    assert response.status_code == 400
    assert errors(response) == [("private_address", "url")]
    assert not Webhook.objects.exists()
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    assert (
        api_as(world.assisting).post(URL, {"url": url, "events": ["project.created"]}, format="json").status_code == 201
    )


def test_a_name_that_resolves_to_loopback_at_delivery_time_is_refused(world, draft, receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    public = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 80))]
    loopback = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", receiver.port))]
    with mock.patch("exchange.netguard.socket.getaddrinfo", return_value=public):
        register(world.assisting, f"http://hooks.example.org:{receiver.port}/hook", ["project.transitioned"])
    with mock.patch("exchange.webhooks.queue"):
        delivery = webhooks.fan_out("project.transitioned", draft.pk, dt.datetime.now(dt.UTC))[0]
    with mock.patch("exchange.netguard.socket.getaddrinfo", return_value=loopback) as resolver:
        assert webhooks.attempt(str(delivery.pk)) is not None
    assert resolver.called
    tried = WebhookAttempt.objects.get(delivery=delivery)
    assert tried.status_code is None
    assert tried.error.startswith("refused:")
    assert "127.0.0.1" in tried.error
    assert receiver.received == []


def test_the_connection_goes_to_the_address_checked_with_the_name_as_host(world, draft, receiver, loopback_allowed):
    # The name resolves once, at delivery; the request is sent to that address and names the host.
    loopback = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", receiver.port))]
    register(world.assisting, f"http://receiver.example.org:{receiver.port}/in?x=1", ["project.transitioned"])
    with mock.patch("exchange.webhooks.queue"):
        delivery = webhooks.fan_out("project.transitioned", draft.pk, dt.datetime.now(dt.UTC))[0]
    with mock.patch("exchange.netguard.socket.getaddrinfo", return_value=loopback) as resolver:
        assert webhooks.attempt(str(delivery.pk)) is None
    # The name was resolved once; the connection went to the address (an address needs no lookup).
    assert [c.args[0] for c in resolver.call_args_list].count("receiver.example.org") == 1
    got = receiver.wait(1)
    assert got[0].path == "/in?x=1"
    assert got[0].headers["host"] == f"receiver.example.org:{receiver.port}"


# --- scope, ownership, who may register ----------------------------------------------------------------------


def test_only_events_on_objects_the_owner_may_see_are_delivered(
    world, pw, draft, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    # world.outsider (Jiangsu) does not see the Guangdong → Shufu project; the assisting officer and the
    # national coordinator do.
    mine = register(world.assisting, receiver.url + "?who=assisting", ["project.transitioned"])
    national = register(world.coordinator, receiver.url + "?who=national", ["project.transitioned"])
    other = register(world.outsider, receiver.url + "?who=outsider", ["project.transitioned"])
    with django_capture_on_commit_callbacks(execute=True):
        project_services.project_submit(project=draft, by=world.assisting)
    got = receiver.wait(2)
    time.sleep(0.2)
    assert sorted(g.path for g in got) == ["/hook?who=assisting", "/hook?who=national"]
    assert WebhookDelivery.objects.filter(webhook_id=other["id"]).count() == 0
    assert WebhookDelivery.objects.filter(webhook_id__in=[mine["id"], national["id"]]).count() == 2


def test_an_owner_who_can_no_longer_see_the_object_gets_nothing(world, draft, receiver, loopback_allowed):
    register(world.assisting, receiver.url, ["project.transitioned"])
    with mock.patch("exchange.webhooks.queue"):
        delivery = webhooks.fan_out("project.transitioned", draft.pk, dt.datetime.now(dt.UTC))[0]
    # Moved to Jiangsu before the delivery goes out.
    world.assisting.organization = world.jiangsu_gov
    world.assisting.save()
    assert webhooks.attempt(str(delivery.pk)) is None
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED
    assert "may no longer see" in delivery.attempt_log.get().error
    assert receiver.received == []
    assert not Webhook.objects.get().is_failing


def test_only_the_owner_sees_a_webhook_and_its_deliveries(world, loopback_allowed):
    hook = register(world.assisting, "http://127.0.0.1:9/", ["project.created"])
    for someone in (world.recipient, world.coordinator, world.outsider):
        client = api_as(someone)
        assert client.get(URL).json()["results"] == []
        assert client.get(f"{URL}{hook['id']}/").status_code == 404
        assert client.get(f"{URL}{hook['id']}/deliveries/").status_code == 404
        assert client.patch(f"{URL}{hook['id']}/", {"description": "x"}, format="json").status_code == 404
        assert client.post(f"{URL}{hook['id']}/rotate-secret/").status_code == 404
        assert client.delete(f"{URL}{hook['id']}/").status_code == 404
    owner = api_as(world.assisting)
    listed = owner.get(URL).json()["results"]
    assert [h["id"] for h in listed] == [hook["id"]]
    # The secret is shown once: never read back.
    assert "secret" not in listed[0]
    assert "secret" not in owner.get(f"{URL}{hook['id']}/").json()
    assert Webhook.objects.filter(pk=hook["id"]).exists()


def test_who_may_register(world, approver, loopback_allowed):
    body = {"url": "http://127.0.0.1:9/", "events": ["project.created"]}
    assert api_as(approver).post(URL, body, format="json").status_code == 403
    assert api_as(approver).get(URL).status_code == 200
    for allowed in (world.coordinator, world.assisting, world.recipient):
        assert api_as(allowed).post(URL, body, format="json").status_code == 201
    assert Webhook.objects.count() == 3


# --- the API's other operations and its refusals ----------------------------------------------------------


def test_change_rotate_and_delete_with_history(world, loopback_allowed):
    client = api_as(world.assisting)
    hook = register(world.assisting, "http://127.0.0.1:9/a", ["project.created"])
    changed = client.patch(
        f"{URL}{hook['id']}/",
        {"events": ["fund_flow.recorded", "project.created"], "is_active": False},
        format="json",
    )
    assert changed.status_code == 200, changed.content
    # Kept in the events' own order.
    assert (changed.json()["events"], changed.json()["is_active"]) == (["project.created", "fund_flow.recorded"], False)
    rotated = client.post(f"{URL}{hook['id']}/rotate-secret/")
    assert rotated.status_code == 200
    assert rotated.json()["secret"] != hook["secret"]
    assert Webhook.objects.get(pk=hook["id"]).secret == rotated.json()["secret"]
    assert client.delete(f"{URL}{hook['id']}/").status_code == 204
    assert not Webhook.objects.exists()
    ct = ContentType.objects.get_for_model(Webhook)
    events = HistoryEvent.objects.filter(content_type=ct, object_id=hook["id"]).order_by("id")
    assert [e.action for e in events] == ["created", "updated", "secret_rotated", "deleted"]
    assert all(e.actor == world.assisting for e in events)
    assert events[1].changes["is_active"] == {"old": True, "new": False}
    for e in events:
        assert hook["secret"] not in json.dumps(e.changes)
        assert rotated.json()["secret"] not in json.dumps(e.changes)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"events": ["project.created"]}, [("required", "url")]),
        ({"url": "http://127.0.0.1/"}, [("required", "events")]),
        ({"url": "http://127.0.0.1/", "events": []}, [("min_length", "events")]),
        ({"url": "http://127.0.0.1/", "events": "project.created"}, [("not_a_list", "events")]),
        ({"url": "http://127.0.0.1/", "events": ["project.created", "nope"]}, [("invalid_choice", "events.1")]),
        ({"url": "http://127.0.0.1/", "events": ["project.created", "project.created"]}, [("duplicate", "events.1")]),
        ({"url": "ftp://example.org/x", "events": ["project.created"]}, [("invalid_scheme", "url")]),
        ({"url": "not a url", "events": ["project.created"]}, [("invalid_scheme", "url"), ("invalid_url", "url")]),
        ({"url": "http://example.org:99999/", "events": ["project.created"]}, [("invalid_url", "url")]),
        ({"url": "", "events": ["project.created"]}, [("blank", "url")]),
        ({"url": "http://u:p@example.org/", "events": ["project.created"]}, [("credentials_in_url", "url")]),
        ({"url": "http://example.org/" + "x" * 500, "events": ["project.created"]}, [("max_length", "url")]),
        ({"url": "http://127.0.0.1/", "events": ["project.created"], "secret": "mine"}, [("unknown_field", "secret")]),
        ({"url": "http://127.0.0.1/", "events": ["project.created"], "description": 5}, [("invalid", "description")]),
        ({"url": 5, "events": ["project.created"]}, [("invalid", "url")]),
        ({"url": "ftp://example.org/", "events": ["x"]}, [("invalid_scheme", "url"), ("invalid_choice", "events.0")]),
    ],
)
def test_bad_input_is_a_400_naming_every_field(world, body, expected, loopback_allowed):
    response = api_as(world.assisting).post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert sorted(errors(response)) == sorted(expected)
    assert not Webhook.objects.exists()


def test_bad_changes_and_paths(world, loopback_allowed, settings):
    client = api_as(world.assisting)
    hook = register(world.assisting, "http://127.0.0.1:9/", ["project.created"])
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    bad = client.patch(f"{URL}{hook['id']}/", {"url": "http://10.1.2.3/", "events": ["x"]}, format="json")
    assert bad.status_code == 400
    assert sorted(errors(bad)) == [("invalid_choice", "events.0"), ("private_address", "url")]
    assert client.patch(f"{URL}{hook['id']}/", {"is_active": "maybe"}, format="json").status_code == 400
    assert client.patch(f"{URL}{hook['id']}/", {"owner": 1}, format="json").status_code == 400
    assert client.put(f"{URL}{hook['id']}/", {}, format="json").status_code == 405
    assert client.get(f"{URL}999999/").status_code == 404
    assert client.get(f"{URL}999999/deliveries/").status_code == 404
    assert client.get(f"{URL}{hook['id']}/deliveries/?page=0").status_code in (400, 404)
    assert client.get(f"{URL}abc/").status_code == 404
    assert Webhook.objects.get().url == "http://127.0.0.1:9/"
    assert api_as(None).get(URL).status_code in (401, 403)


def test_an_owner_has_at_most_so_many_webhooks(world, loopback_allowed):
    for i in range(webhooks.MAX_WEBHOOKS_PER_OWNER):
        register(world.assisting, f"http://127.0.0.1:9/{i}", ["project.created"])
    response = api_as(world.assisting).post(URL, {"url": "http://127.0.0.1:9/", "events": ["project.created"]})
    assert response.status_code == 400
    assert errors(response) == [("too_many_webhooks", "url")]


# --- the other events ------------------------------------------------------------------------------------------


def test_created_projects_fund_flows_and_inspections_are_events(
    world, pw, draft, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    register(
        world.coordinator,
        receiver.url,
        ["project.created", "fund_flow.recorded", "inspection.recorded"],
    )
    with django_capture_on_commit_callbacks(execute=True):
        project = project_services.project_create(by=world.assisting, pairing=pw.shufu, title="新项目")
    with django_capture_on_commit_callbacks(execute=True):
        flow = pairing_services.fund_flow_record(
            by=None,
            pairing=pw.shufu,
            kind="disbursement",
            amount="1000.00",
            date=dt.date(2024, 5, 1),
            source="assisting_fiscal",
        )
    with django_capture_on_commit_callbacks(execute=True):
        Project.objects.filter(pk=project.pk).update(state="in_construction")
        inspection = project_services.inspection_record(
            by=None, project=project, date=dt.date(2024, 6, 1), kind="routine", result="passed", findings=""
        )
    got = receiver.wait(3)
    kinds = [(g.json()["event"], g.json()["object"]["id"]) for g in got]
    assert kinds == [
        ("project.created", project.pk),
        ("fund_flow.recorded", flow.pk),
        ("inspection.recorded", inspection.pk),
    ]
    assert got[1].json()["object"]["amount"] == "1000.00"
    assert got[2].json()["object"]["project"] == project.pk


def test_an_overdue_rectification_is_announced_once(
    world, draft, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    register(world.assisting, receiver.url, ["rectification.overdue"])
    Project.objects.filter(pk=draft.pk).update(state="in_construction")
    inspection = InspectionFactory(project=draft, result="failed", inspector=world.coordinator)
    late = Rectification.objects.create(
        project=draft, inspection=inspection, finding="返工", deadline=dt.date.today() - dt.timedelta(days=1)
    )
    Rectification.objects.create(
        project=draft, inspection=inspection, finding="未到期", deadline=dt.date.today() + dt.timedelta(days=5)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert rectifications_overdue.delay().get() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert rectifications_overdue.delay().get() == 0
    got = receiver.wait(1)
    time.sleep(0.1)
    assert len(got) == 1
    assert (got[0].json()["event"], got[0].json()["object"]["id"]) == ("rectification.overdue", late.pk)
    assert got[0].json()["object"]["is_overdue"] is True


# --- the pages -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_page_adds_a_webhook_and_shows_its_secret_once(client, world, language, loopback_allowed, settings):
    client.force_login(world.assisting)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get("/exchange/webhooks/")
    assert page.status_code == 200
    assert 'name="events"' in page.content.decode()
    refused = client.post("/exchange/webhooks/", {"url": "ftp://x.org/", "events": ["project.created", "nope"]})
    assert refused.status_code == 200
    assert not Webhook.objects.exists()
    added = client.post(
        "/exchange/webhooks/",
        {"url": "http://127.0.0.1:9/hook", "events": ["project.created", "project.transitioned"], "description": "d"},
    )
    assert added.status_code == 302
    webhook = Webhook.objects.get()
    first = client.get(added["Location"]).content.decode()
    assert webhook.secret in first
    again = client.get(added["Location"]).content.decode()
    assert webhook.secret not in again
    assert "http://127.0.0.1:9/hook" in client.get("/exchange/webhooks/").content.decode()
    assert client.post(f"/exchange/webhooks/{webhook.pk}/pause/").status_code == 302
    assert not Webhook.objects.get().is_active
    assert client.post(f"/exchange/webhooks/{webhook.pk}/nonsense/").status_code == 404
    assert client.post(f"/exchange/webhooks/{webhook.pk}/delete/").status_code == 302
    assert not Webhook.objects.exists()


def test_the_page_is_the_owners_and_the_allowed_roles_only(client, world, approver, loopback_allowed):
    hook = register(world.assisting, "http://127.0.0.1:9/", ["project.created"])
    client.force_login(approver)
    assert client.get("/exchange/webhooks/").status_code == 403
    client.force_login(world.recipient)
    assert client.get(f"/exchange/webhooks/{hook['id']}/").status_code == 404
    assert client.post(f"/exchange/webhooks/{hook['id']}/delete/").status_code == 404
    assert Webhook.objects.exists()


def test_a_committed_import_goes_to_its_creator_and_a_finished_run_to_everyone_who_asked(
    world, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    register(world.assisting, receiver.url + "?who=creator", ["import.committed", "evaluation_run.finished"])
    register(world.recipient, receiver.url + "?who=other", ["import.committed", "evaluation_run.finished"])
    record = Import.objects.create(
        created_by=world.assisting, kind="projects", file="imports/x.xlsx", filename="x.xlsx", status="committed"
    )
    with django_capture_on_commit_callbacks(execute=True):
        history_record(obj=record, action="committed", actor=world.assisting)
    got = receiver.wait(1)
    time.sleep(0.1)
    assert [(g.path, g.json()["event"], g.json()["object"]["id"]) for g in got] == [
        ("/hook?who=creator", "import.committed", record.pk)
    ]
    assert got[0].json()["object"]["filename"] == "x.xlsx"

    run = EvaluationRunFactory(status="running")
    run.status, run.finished_at = "succeeded", timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        run.save(update_fields=["status", "finished_at"])
    got = receiver.wait(3)
    finished = sorted((g.path, g.json()["object"]["id"]) for g in got[1:])
    assert finished == [("/hook?who=creator", run.pk), ("/hook?who=other", run.pk)]
    assert all(g.json()["object"]["status"] == "succeeded" for g in got[1:])


def test_data_exchange_offers_webhooks_to_those_the_policy_allows(world, approver):
    from django.test import Client

    from core.navigation import nav_for

    for user, offered in ((world.assisting, True), (world.coordinator, True), (approver, False)):
        assert "exchange" in [i.key for i in nav_for(user)]  # one menu entry for everyone
        client = Client()
        client.force_login(user)
        assert ('href="/exchange/webhooks/"' in client.get("/exchange/").content.decode()) is offered
