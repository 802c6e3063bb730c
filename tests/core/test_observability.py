"""What an operator sees: request ids on responses and log lines, the metrics endpoint, error reporting off unless
asked for (core/observability.py). The request id inside a real worker's log lines is in
tests/celery/test_request_ids.py."""

import gzip
import io
import json
import logging
import logging.config
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings

from accounts.tasks import purge_expired_tokens
from core import observability
from tests.celery.conftest import RedisServer, free_port

ROOT = Path(__file__).resolve().parents[2]


# --- request ids ------------------------------------------------------------------------------------------------


def test_every_response_carries_a_request_id_and_a_callers_uuid_is_kept(client):
    given = str(uuid.uuid4())

    kept = client.get("/healthz", HTTP_X_REQUEST_ID=given)
    fresh = client.get("/healthz")

    assert kept["X-Request-ID"] == given
    assert len(fresh["X-Request-ID"]) == 32
    assert fresh["X-Request-ID"] != given


@pytest.mark.parametrize("sent", ["not-a-uuid", "x" * 500, "1; DROP TABLE", "a\rb"])
def test_a_request_id_that_is_not_a_uuid_is_replaced_not_logged(client, sent):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=sent)

    assert response["X-Request-ID"] != sent
    uuid.UUID(response["X-Request-ID"])  # a new, valid id


def json_handler(stream: io.StringIO) -> logging.Handler:
    """A handler built from settings.LOGGING's own JSON formatter and request-id filter."""
    configurator = logging.config.DictConfigurator(settings.LOGGING)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(configurator.configure_formatter(dict(settings.LOGGING["formatters"]["json"])))
    handler.addFilter(configurator.configure_filter(dict(settings.LOGGING["filters"]["request_id"])))
    return handler


def test_a_requests_log_lines_are_json_with_its_id(client):
    stream = io.StringIO()
    handler = json_handler(stream)
    request_logger = logging.getLogger("django.request")
    request_logger.addHandler(handler)
    given = str(uuid.uuid4())
    try:
        client.get("/no-such-page/", HTTP_X_REQUEST_ID=given)  # django.request logs the 404
    finally:
        request_logger.removeHandler(handler)

    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines, "the 404 was not logged"
    assert {line["request_id"] for line in lines} == {given}
    assert {"time", "level", "logger", "message"} <= set(lines[0])
    assert lines[0]["logger"] == "django.request"


def test_a_published_task_carries_the_current_request_id():
    headers: dict[str, str] = {}
    observability.set_request_id("0123456789abcdef0123456789abcdef")
    try:
        observability._carry_request_id(headers=headers)
    finally:
        observability.set_request_id(None)

    assert headers == {"X-Request-ID": "0123456789abcdef0123456789abcdef"}


# --- metrics ----------------------------------------------------------------------------------------------------


def scrape(token: str = "", address: str = "127.0.0.1") -> str:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    response = Client(REMOTE_ADDR=address).get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return response.content.decode()


def value(text: str, name: str, **labels: str) -> float:
    """The value of the sample NAME{LABELS} in a scrape (0 when absent)."""
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def test_metrics_are_for_this_machine_or_a_scraper_with_the_token(client):
    assert Client(REMOTE_ADDR="10.0.0.8").get("/metrics").status_code == 403
    with override_settings(METRICS_TOKEN="s3cret-scrape-token"):
        assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 403
        wrong = Client(REMOTE_ADDR="10.0.0.8").get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
        assert wrong.status_code == 403
        assert scrape(token="s3cret-scrape-token", address="10.0.0.8")


@pytest.mark.django_db
def test_request_latency_is_counted_by_route(client):
    name = "duikou_http_request_duration_seconds_count"
    before = value(scrape(), name, route="healthz", method="GET", status="2xx")
    unmatched = value(scrape(), name, route="<unmatched>", method="other", status="4xx")

    client.get("/healthz")
    client.get("/healthz")
    client.generic("BREW", "/no/such/path/")  # neither the path nor the method becomes a label

    text = scrape()
    assert value(text, name, route="healthz", method="GET", status="2xx") == before + 2
    assert value(text, name, route="<unmatched>", method="other", status="4xx") == unmatched + 1


@pytest.mark.django_db
def test_task_outcomes_are_counted_by_task():
    name = "duikou_celery_tasks_total"
    before = value(scrape(), name, task="accounts.tasks.purge_expired_tokens", outcome="succeeded")

    purge_expired_tokens.apply()

    after = value(scrape(), name, task="accounts.tasks.purge_expired_tokens", outcome="succeeded")
    assert after == before + 1


def test_the_celery_queues_length_is_read_from_the_broker(tmp_path):
    server = RedisServer(free_port(), tmp_path)
    server.start()
    try:
        import redis

        client = redis.Redis.from_url(server.url)
        client.rpush("evaluation", "m1", "m2", "m3")
        with override_settings(CELERY_BROKER_URL=server.url):
            text = scrape()
            assert value(text, "duikou_celery_queue_length", queue="evaluation") == 3
            assert value(text, "duikou_celery_queue_length", queue="default") == 0
            assert value(text, "duikou_celery_broker_up") == 1
        server.stop()
        with override_settings(CELERY_BROKER_URL=server.url):
            down = scrape()  # the scrape still answers, saying the broker is down
        assert value(down, "duikou_celery_broker_up") == 0
    finally:
        server.stop()


# --- error reports ---------------------------------------------------------------------------------------------


def test_error_reporting_is_off_without_sentry_dsn():
    import sentry_sdk

    assert settings.SENTRY_DSN == ""
    assert not sentry_sdk.get_client().is_active()


class _Collector(BaseHTTPRequestHandler):
    received: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        elif self.headers.get("Content-Encoding") == "br":
            # sentry-sdk compresses with Brotli when a Brotli module is installed (WeasyPrint's fonttools brings one).
            import brotli

            body = brotli.decompress(body)
        self.received.append((self.path, body))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: object) -> None:
        pass


def test_with_sentry_dsn_an_error_is_reported_to_that_service():
    server = HTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    dsn = f"http://publickey@127.0.0.1:{server.server_port}/42"
    script = (
        "import django, sentry_sdk; django.setup();"
        "from django.conf import settings; assert settings.SENTRY_DSN;"
        "assert sentry_sdk.get_client().is_active();"
        "sentry_sdk.capture_exception(RuntimeError('observability test error'));"
        "sentry_sdk.flush(timeout=10)"
    )
    env = {"DJANGO_SETTINGS_MODULE": "config.settings.test", "SENTRY_DSN": dsn, "PATH": "/usr/bin:/bin"}
    try:
        done = subprocess.run(
            [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
        )
    finally:
        server.shutdown()
    assert done.returncode == 0, done.stderr[-3000:]
    assert any(
        path == "/api/42/envelope/" and b"observability test error" in body for path, body in _Collector.received
    )
