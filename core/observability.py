"""What an operator sees of a running Duikou: request ids in every log line, Prometheus metrics, error reports.

- **Request ids.** `RequestIdMiddleware` gives every request an id (the caller's `X-Request-ID` when it is a
  valid UUID, a new one otherwise: a client cannot write arbitrary text into the logs), returns it in the
  response's `X-Request-ID`, and `RequestIdFilter` puts it on every log record (`request_id`). A task the request
  enqueues carries the id in its message headers, and the worker sets it again before the task runs, so the task's
  log lines carry the id of the request that asked for it. (django-guid does this too, but pins Django below 6.0
  on Python 3.12 and replaces the id inside eager tasks; the part needed here is a context variable and two hooks.)
- **Metrics** (`GET /metrics`, Prometheus text format): request latency by route, method and status class (the
  middleware below; django-prometheus, which does the same, does not support Django 6.1), Celery task outcomes by task (counted in the worker through Celery's signals), the length of each
  Celery queue (read from the broker when scraped) and evaluation run durations by outcome. Several processes
  (gunicorn workers, Celery's pool) share their figures through prometheus_client's multiprocess mode when
  `PROMETHEUS_MULTIPROC_DIR` names a directory they all write to (`make stack` sets it).
- **Error reports** go to a Sentry-compatible service only when `SENTRY_DSN` is set (config/settings/base.py).

`core` stays free of domain imports: evaluation reports a run's end through `run_finished`.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from celery.signals import before_task_publish, task_failure, task_prerun, task_retry, task_success
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

#: The header a request's id travels in, to and from clients and inside Celery messages.
REQUEST_ID_HEADER = "X-Request-ID"

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def get_request_id() -> str | None:
    """The id of the request or task this code runs for, if any."""
    return _request_id.get()


def set_request_id(value: str | None) -> None:
    _request_id.set(value)


def _valid_or_new(sent: str | None) -> str:
    """The caller's id when it is a UUID (in any of its spellings, kept as sent), else a new one."""
    if sent and len(sent) <= 64:
        try:
            uuid.UUID(sent)
        except ValueError:
            pass
        else:
            return sent
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Early in MIDDLEWARE, so that every later log line of the request carries its id. The id is left set after
    the response: Django logs a 4xx or 5xx (`django.request`) once the middleware has returned, and the next request
    on the thread sets its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = _valid_or_new(request.headers.get(REQUEST_ID_HEADER))
        _request_id.set(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Puts the current request's (or task's) id on every record as `request_id` (None outside both)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


# --- request ids in Celery tasks ------------------------------------------------------------------------------


@before_task_publish.connect
def _carry_request_id(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    """The id of the request (or task) that enqueues a task travels in the message's headers."""
    request_id = get_request_id()
    if request_id and headers is not None:
        headers[REQUEST_ID_HEADER] = request_id


@task_prerun.connect
def _adopt_request_id(task: Any = None, **kwargs: Any) -> None:
    """A worker sets the id the message carries (or a new one: a scheduled task has no request) before the task
    runs. Every task sets its own, so nothing leaks from one task to the next. An eager task runs inside the
    request that called it and keeps that request's id."""
    request = getattr(task, "request", None)
    if request is None or getattr(request, "is_eager", False):
        return
    set_request_id(_valid_or_new(request.get(REQUEST_ID_HEADER)))


# --- metrics ----------------------------------------------------------------------------------------------------

REQUEST_SECONDS = Histogram(
    "duikou_http_request_duration_seconds",
    "Requests answered: seconds from the first middleware to the response, by route (the URL pattern's name), "
    "method and status class.",
    ["route", "method", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, float("inf")),
)
#: Methods named in the metrics; any other is counted as "other" so that a client cannot add series at will.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def _route(request: HttpRequest) -> str:
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "<unmatched>"  # a 404 before any pattern matched; the path itself would be unbounded
    return match.view_name or match.route or "<unnamed>"


class RequestMetricsMiddleware:
    """Times every request into REQUEST_SECONDS. First in MIDDLEWARE, so the time covers the whole stack."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        REQUEST_SECONDS.labels(
            route=_route(request),
            method=request.method if request.method in METHODS else "other",
            status=f"{response.status_code // 100}xx",
        ).observe(time.perf_counter() - start)
        return response


TASK_OUTCOMES = Counter(
    "duikou_celery_tasks_total",
    "Celery tasks that ended, by task name and outcome (succeeded, failed, retried).",
    ["task", "outcome"],
)
RUN_SECONDS = Histogram(
    "duikou_evaluation_run_seconds",
    "Evaluation runs that ended: seconds from the request to the end, by outcome (succeeded, failed).",
    ["outcome"],
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, float("inf")),
)


def _task_name(sender: Any) -> str:
    return str(getattr(sender, "name", None) or sender or "unknown")


@task_success.connect
def _count_success(sender: Any = None, **kwargs: Any) -> None:
    TASK_OUTCOMES.labels(task=_task_name(sender), outcome="succeeded").inc()


@task_failure.connect
def _count_failure(sender: Any = None, **kwargs: Any) -> None:
    TASK_OUTCOMES.labels(task=_task_name(sender), outcome="failed").inc()


@task_retry.connect
def _count_retry(sender: Any = None, **kwargs: Any) -> None:
    TASK_OUTCOMES.labels(task=_task_name(sender), outcome="retried").inc()


def run_finished(outcome: str, seconds: float) -> None:
    """An evaluation run ended (`succeeded` or `failed`) `seconds` after it was requested."""
    RUN_SECONDS.labels(outcome=outcome).observe(max(seconds, 0.0))


#: The Celery queues whose length is reported (config/celery_app.py routes to these).
QUEUES = ("default", "evaluation")


class QueueLengthCollector(Collector):
    """The number of messages waiting in each Celery queue, read from the Redis broker when scraped (a queue in
    Redis is a list named after it). Without a Redis broker (`make run` runs tasks eagerly) there is nothing to
    report; a broker that does not answer is reported as a scrape error metric rather than failing the scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        url = getattr(settings, "CELERY_BROKER_URL", "")
        if not url.startswith(("redis://", "rediss://", "unix://")):
            return
        import redis

        lengths = GaugeMetricFamily(
            "duikou_celery_queue_length", "Messages waiting in each Celery queue.", labels=["queue"]
        )
        up = GaugeMetricFamily("duikou_celery_broker_up", "1 if the broker answered this scrape, else 0.")
        try:
            client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
            for queue in QUEUES:
                lengths.add_metric([queue], float(client.llen(queue)))
        except redis.RedisError as exc:
            logger.warning("metrics: the broker did not answer: %s", exc)
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield up
        yield lengths


_QUEUES = QueueLengthCollector()
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    REGISTRY.register(_QUEUES)


def _registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each process writes its figures to files in the directory; a scrape adds them up.
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        registry.register(_QUEUES)
        return registry
    return REGISTRY


def metrics_allowed(request: HttpRequest) -> bool:
    """With `METRICS_TOKEN` set, a scraper sends it as a bearer token; without, only this machine may scrape
    (metrics name routes and queue sizes, nothing for the public)."""
    token = getattr(settings, "METRICS_TOKEN", "")
    if token:
        sent = request.headers.get("Authorization", "")
        return secrets.compare_digest(sent.encode(), f"Bearer {token}".encode())
    return request.META.get("REMOTE_ADDR") in {"127.0.0.1", "::1"}


def metrics(request: HttpRequest) -> HttpResponse:
    """GET /metrics: every metric above in Prometheus's text format."""
    if not metrics_allowed(request):
        return HttpResponse("Forbidden\n", status=403, content_type="text/plain; charset=utf-8")
    return HttpResponse(generate_latest(_registry()), content_type=CONTENT_TYPE_LATEST)
