"""Pages every user has: the dashboard, the region browser, error pages; and the health and readiness checks."""

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.cache import caches
from django.db import connection
from django.db.models.functions import Length
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from .api.views import RegionFilter
from .dashboard import panels_for
from .list_filters import ListFilters
from .models import Region, RegionLevel
from .selectors import region_search


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(request, "core/dashboard.html", {"panels": panels_for(request)})


@login_required
def region_options(request: HttpRequest) -> HttpResponse:
    """The choices of a region picker while an official types (`?field=<the input's name>&<name>=<text>`): regions
    whose code starts with the text or whose Chinese or English name holds it (the closest names first: 疏附县 before
    疏附县托克扎克镇), as `<option>`s for the input's datalist."""
    field = request.GET.get("field", "")
    text = (request.GET.get(field, "") if field else "").replace("\x00", "")[:50]
    current = Region.objects.filter(superseded_by__isnull=True)
    found = region_search(current, text).order_by(Length("name"), "code")[:20] if text.strip() else []
    return render(request, "core/includes/region_options.html", {"regions": found})


@login_required
def regions(request: HttpRequest) -> HttpResponse:
    """The region browser: one level under a parent (`parent`), filtered as the API filters regions."""
    filters = ListFilters(
        request,
        RegionFilter,
        Region.objects.select_related("parent"),
        shown={"search": _("Name or code"), "level": _("Level")},
        choices={"level": [("", _("All levels")), *RegionLevel.choices]},
    )
    page = filters.page(filters.qs.order_by("code"), 50)
    parent = None
    if "parent" not in filters.errors and filters.form.cleaned_data.get("parent"):
        parent = Region.objects.filter(code=filters.form.cleaned_data["parent"]).first()
    ancestors: list[Region] = []
    node = parent
    while node is not None:
        ancestors.insert(0, node)
        node = node.parent
    return render(
        request,
        "core/regions.html",
        {"page": page, "filters": filters, "parent": parent, "ancestors": ancestors},
        status=filters.status,
    )


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and readiness: answers 200 only when the database does."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure to reach the database means "not ready"
        return JsonResponse({"status": "error", "database": type(exc).__name__}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


#: Seconds each readiness check may take: a probe must answer before its own timeout, whatever is down.
READY_TIMEOUT = 2.0


def _check_database() -> None:
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # set_config, not SET: a parameter is bound on the server, and SET takes none.
                cursor.execute("SELECT set_config('statement_timeout', %s, false)", [str(int(READY_TIMEOUT * 1000))])
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        # The check runs in a thread of its own, whose connection nobody else would close (or give back to
        # the pool).
        connection.close()


def _check_cache() -> None:
    key = f"readyz:{uuid.uuid4().hex}"
    caches["default"].set(key, "1", timeout=10)
    if caches["default"].get(key) != "1":
        raise RuntimeError("the cache did not keep a value")
    caches["default"].delete(key)


def _check_broker() -> None:
    url = settings.CELERY_BROKER_URL
    if not url:
        return  # tasks run in-process (no broker configured): nothing to reach
    from kombu import Connection

    with Connection(url, connect_timeout=READY_TIMEOUT, transport_options={"socket_timeout": READY_TIMEOUT}) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=int(READY_TIMEOUT))
        # Redis: a command, not only a socket that opened.
        client = getattr(conn.default_channel, "client", None)
        if client is not None and hasattr(client, "ping"):
            client.ping()


@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness: the database, the cache and the broker, each checked at once in a thread of its own with a
    short timeout. 200 with each check's status; 503 naming what is down."""
    checks = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}
    results: dict[str, str] = {}
    pool = ThreadPoolExecutor(max_workers=len(checks), thread_name_prefix="readyz")
    futures = {name: pool.submit(check) for name, check in checks.items()}
    deadline = time.monotonic() + READY_TIMEOUT + 1
    for name, future in futures.items():
        try:
            future.result(timeout=max(0.0, deadline - time.monotonic()))
            results[name] = "ok"
        except FutureTimeout:
            results[name] = "timeout"
        except Exception as exc:  # any failure to reach it means "not ready"
            results[name] = type(exc).__name__
    # A check still waiting is left to finish on its own: the answer does not wait for it.
    pool.shutdown(wait=False)
    down = [name for name, status in results.items() if status != "ok"]
    if down:
        return JsonResponse({"status": "error", "down": down, "checks": results}, status=503)
    return JsonResponse({"status": "ok", "checks": results})


def error_404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return _api_error(request, 404, "not_found")
    return render(request, "404.html", status=404)


def error_403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return _api_error(request, 403, "permission_denied")
    return render(request, "403.html", status=403)


def error_400(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if request.path.startswith("/api/"):
        return _api_error(request, 400, "bad_request")
    return render(request, "400.html", status=400)


def error_500(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return _api_error(request, 500, "server_error")
    return render(request, "500.html", status=500)


def _api_error(request: HttpRequest, status: int, code: str) -> JsonResponse:
    from django.utils.translation import gettext as _

    messages = {
        400: _("The request could not be understood."),
        403: _("You do not have permission to do this."),
        404: _("Not found."),
        500: _("Something went wrong on our side. The error has been logged."),
    }
    return JsonResponse({"errors": [{"code": code, "message": messages[status], "field": None}]}, status=status)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    if request.path.startswith("/api/"):
        from django.utils.translation import gettext as _

        return JsonResponse(
            {
                "errors": [
                    {
                        "code": "csrf_failed",
                        "message": _("CSRF check failed: send the X-CSRFToken header."),
                        "field": None,
                    }
                ]
            },
            status=403,
        )
    return render(request, "403_csrf.html", status=403)
