"""Webhooks: subscriptions (one service per change, each with its history event), which event each thing that
happens is, and the delivery of an event to every subscription that asked for it and may see its object.

How an event travels:
1. Something happens and writes its history event (every state change and record does). `exchange.signals`
   maps it to a webhook event by the table `ROUTES` (no app below `exchange` knows about webhooks) and calls
   `event_happened`, which waits for the commit: a change rolled back sends nothing.
2. After the commit, `fan_out` makes one `WebhookDelivery` per active webhook that asked for the event and
   whose owner may see the object (by the same selectors as the pages and the API), with the body it will send:
   `{"id", "event", "at", "object"}`, the object as the API shows it, in the owner's language.
3. The Celery task `exchange.webhook_tasks.deliver_webhook` POSTs it (`attempt`), signed with the webhook's secret, and
   retries with exponential backoff; every attempt is logged. After the last one fails the delivery is failed and
   the webhook marked failing, until a later delivery succeeds.
"""

import datetime as dt
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.urls import resolve, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from core.errors import DomainError, NotFound, Problem
from core.services import history_record
from evaluation.models import EvaluationRun
from evaluation.selectors import runs_visible_to
from pairings.models import FundFlow
from pairings.selectors import fund_flows_visible_to
from projects.models import RECTIFICATION_WAITING, Inspection, Project, Rectification
from projects.selectors import projects_visible_to

from . import netguard, policy
from .models import DeliveryStatus, Import, Webhook, WebhookAttempt, WebhookDelivery, WebhookEvent

logger = logging.getLogger(__name__)

#: A user's webhooks at most: each event is prepared once per webhook.
MAX_WEBHOOKS_PER_OWNER = 20
SIGNATURE_HEADER = "X-Duikou-Signature"
USER_AGENT = "Duikou-Webhooks/1"


# --- what each event is about: who may see it, how the API shows it ----------------------------------------


@dataclass(frozen=True)
class Subject:
    """The kind of object an event is about: how to load it, whether a user may see it, its API body."""

    model: type[models.Model]
    visible: Callable[[User], Any]  # the queryset of such objects USER may see
    represent: Callable[[Any], dict[str, Any]]


def detail_body(url_name: str, obj: models.Model, **kwargs: Any) -> dict[str, Any]:
    """OBJ as the API's detail endpoint URL_NAME shows it: that view's serializer for `retrieve`, found through the
    URL configuration (the apps' APIs are not imported from here), with no request (so nothing caller-specific,
    such as a project's `allowed_actions`, which are the empty list)."""
    match = resolve(reverse(f"api:{url_name}", kwargs={"pk": obj.pk, **kwargs}))
    view = match.func.cls(action="retrieve", kwargs=match.kwargs, format_kwarg=None)  # type: ignore[attr-defined]
    return dict(view.get_serializer_class()(obj).data)


def _project_body(obj: Project) -> dict[str, Any]:
    return detail_body("project-detail", obj)


def _inspection_body(obj: Inspection) -> dict[str, Any]:
    return {"project": obj.project_id, **detail_body("project-inspection-detail", obj, project_pk=obj.project_id)}


def _rectification_body(obj: Rectification) -> dict[str, Any]:
    return {"project": obj.project_id, **detail_body("project-rectification-detail", obj, project_pk=obj.project_id)}


def _fund_flow_body(obj: FundFlow) -> dict[str, Any]:
    return detail_body("fund-flow-detail", obj)


def _run_body(obj: EvaluationRun) -> dict[str, Any]:
    return detail_body("evaluation-run-detail", obj)


def _import_body(obj: Import) -> dict[str, Any]:
    return detail_body("import-detail", obj)


def _imports_visible_to(user: User) -> Any:
    # An import is its creator's alone, as in the imports API (exchange.imports.imports_of).
    return Import.objects.filter(created_by=user)


SUBJECTS: dict[str, Subject] = {
    WebhookEvent.PROJECT_CREATED: Subject(Project, projects_visible_to, _project_body),
    WebhookEvent.PROJECT_TRANSITIONED: Subject(Project, projects_visible_to, _project_body),
    WebhookEvent.FUND_FLOW_RECORDED: Subject(FundFlow, fund_flows_visible_to, _fund_flow_body),
    WebhookEvent.INSPECTION_RECORDED: Subject(
        Inspection, lambda u: Inspection.objects.filter(project__in=projects_visible_to(u)), _inspection_body
    ),
    WebhookEvent.RECTIFICATION_OVERDUE: Subject(
        Rectification, lambda u: Rectification.objects.filter(project__in=projects_visible_to(u)), _rectification_body
    ),
    WebhookEvent.EVALUATION_RUN_FINISHED: Subject(EvaluationRun, runs_visible_to, _run_body),
    WebhookEvent.IMPORT_COMMITTED: Subject(Import, _imports_visible_to, _import_body),
}


def _owner_may(owner: User) -> bool:
    """Whether a webhook's OWNER may still receive anything: an active user whom the policy allows webhooks."""
    return owner.is_active and bool(policy.may_manage_webhooks(owner))


def _may_receive(owner: User, event: str, object_id: int) -> bool:
    """Whether the webhook's OWNER may still have EVENT on the object: allowed webhooks, and sees the object now."""
    return _owner_may(owner) and SUBJECTS[event].visible(owner).filter(pk=object_id).exists()


# --- subscriptions: one service per change -------------------------------------------------------------------


def _check(url: Any, events: Any, description: Any) -> tuple[str | None, list[str] | None, str | None]:
    """The values checked, each None when it was not given; every problem raised at once, by field."""
    problems: list[Problem] = []
    if url is not None:
        if not isinstance(url, str) or not url.strip():
            problems.append(Problem("required", _("Enter the URL."), "url"))
        elif len(url.strip()) > Webhook._meta.get_field("url").max_length:  # type: ignore[operator]
            problems.append(Problem("max_length", _("The URL is too long (500 characters at most)."), "url"))
        else:
            url = url.strip()
            problems += netguard.check_url(url)
    if events is not None:
        if not isinstance(events, list) or not events:
            problems.append(Problem("required", _("Choose at least one event."), "events"))
        else:
            seen: set[str] = set()
            for i, name in enumerate(events):
                if name not in WebhookEvent.values:
                    problems.append(Problem("invalid_choice", _("Not an event webhooks can receive."), f"events.{i}"))
                elif name in seen:
                    problems.append(Problem("duplicate", _("This event is listed twice."), f"events.{i}"))
                seen.add(name)
    if description is not None:
        if not isinstance(description, str):
            problems.append(Problem("invalid", _("Enter text."), "description"))
        elif len(description.strip()) > Webhook._meta.get_field("description").max_length:  # type: ignore[operator]
            problems.append(
                Problem("max_length", _("The description is too long (200 characters at most)."), "description")
            )
        else:
            description = description.strip()
    if problems:
        raise DomainError.many(problems)
    return url, events, description


def _ordered(events: list[str]) -> list[str]:
    return [e for e in WebhookEvent.values if e in events]


def webhook_create(*, by: User, url: str, events: list[str], description: str = "") -> Webhook:
    """Register URL for EVENTS on what BY may see. The new webhook's secret is shown to its owner once."""
    policy.may_manage_webhooks(by).enforce()
    checked_url, checked_events, checked_description = _check(url, events, description or "")
    assert checked_url is not None and checked_events is not None  # noqa: PT018, S101 — given, and checked
    with transaction.atomic():
        # The owner's row orders their concurrent registrations, so the limit holds.
        User.objects.select_for_update().filter(pk=by.pk).values_list("pk").first()
        if Webhook.objects.filter(owner=by).count() >= MAX_WEBHOOKS_PER_OWNER:
            raise DomainError(
                "too_many_webhooks",
                _("You have %(n)s webhooks, the most one may have; delete one first.") % {"n": MAX_WEBHOOKS_PER_OWNER},
                "url",
            )
        webhook = Webhook.objects.create(
            owner=by, url=checked_url, events=_ordered(checked_events), description=checked_description or ""
        )
        history_record(
            obj=webhook,
            action="created",
            actor=by,
            changes={"url": (None, webhook.url), "events": (None, webhook.events)},
        )
    return webhook


def _lock_own(by: User, webhook: Webhook) -> Webhook:
    locked = Webhook.objects.select_for_update().filter(pk=webhook.pk, owner=by).first()
    if locked is None:
        raise NotFound("not_found", _("No such webhook."))
    return locked


def webhook_update(
    *,
    by: User,
    webhook: Webhook,
    url: str | None = None,
    events: list[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> Webhook:
    """Change what BY's webhook receives, where, or pause it (`is_active`). Only what is given changes."""
    policy.may_manage_webhooks(by).enforce()
    checked_url, checked_events, checked_description = _check(url, events, description)
    with transaction.atomic():
        locked = _lock_own(by, webhook)
        new: dict[str, Any] = {}
        if checked_url is not None:
            new["url"] = checked_url
        if checked_events is not None:
            new["events"] = _ordered(checked_events)
        if checked_description is not None:
            new["description"] = checked_description
        if is_active is not None:
            new["is_active"] = is_active
        changes = {k: (getattr(locked, k), v) for k, v in new.items() if getattr(locked, k) != v}
        if changes:
            for name, (_old, value) in changes.items():
                setattr(locked, name, value)
            locked.save(update_fields=list(changes))
            history_record(obj=locked, action="updated", actor=by, changes=changes)
    return locked


def webhook_rotate_secret(*, by: User, webhook: Webhook) -> Webhook:
    """A new secret for BY's webhook (shown once, like the first): later attempts are signed with it."""
    policy.may_manage_webhooks(by).enforce()
    with transaction.atomic():
        locked = _lock_own(by, webhook)
        locked.secret = Webhook._meta.get_field("secret").get_default()
        locked.save(update_fields=["secret"])
        # The secret itself never goes into the history.
        history_record(obj=locked, action="secret_rotated", actor=by)
    return locked


def webhook_delete(*, by: User, webhook: Webhook) -> None:
    """Delete BY's webhook with its delivery log; the history keeps that it existed."""
    policy.may_manage_webhooks(by).enforce()
    with transaction.atomic():
        locked = _lock_own(by, webhook)
        history_record(
            obj=locked, action="deleted", actor=by, changes={"url": (locked.url, None), "events": (locked.events, None)}
        )
        locked.delete()


# --- events: from what happened to deliveries ----------------------------------------------------------------


def event_happened(event: str, object_id: int, at: dt.datetime | None = None) -> None:
    """EVENT happened to the object OBJECT_ID (of the kind SUBJECTS names): deliver it once the change commits."""
    # Nothing waits for the commit when no webhook asks for the event (the usual case: one small query).
    if not any(event in asked for asked in Webhook.objects.filter(is_active=True).values_list("events", flat=True)):
        return
    moment = at or timezone.now()
    transaction.on_commit(lambda: fan_out(event, object_id, moment))


def _body(delivery: WebhookDelivery) -> bytes:
    """The exact bytes sent, the same on every attempt (the payload as stored, keys sorted)."""
    return json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: `sha256=` and the hex HMAC-SHA256 of BODY with SECRET."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def fan_out(event: str, object_id: int, at: dt.datetime) -> list[WebhookDelivery]:
    """One delivery per active webhook that asked for EVENT and whose owner may see the object, each queued.
    Runs after the commit; a failure here is logged, never shown to the person whose change it follows."""
    try:
        hooks = [h for h in Webhook.objects.filter(is_active=True).select_related("owner") if event in h.events]
        if not hooks:
            return []
        subject = SUBJECTS[event]
        deliveries = []
        for hook in hooks:
            if not _owner_may(hook.owner):
                continue
            obj = subject.visible(hook.owner).filter(pk=object_id).first()
            if obj is None:
                continue
            with translation.override(hook.owner.preferred_language or settings.LANGUAGE_CODE):
                represented = subject.represent(obj)
            delivery = WebhookDelivery(webhook=hook, event=event)
            delivery.payload = json.loads(
                json.dumps(
                    {"id": str(delivery.pk), "event": event, "at": at.isoformat(), "object": represented},
                    default=str,
                )
            )
            delivery.save()
            deliveries.append(delivery)
    except Exception:
        logger.exception("webhook event %s on %s could not be prepared", event, object_id)
        return []
    for delivery in deliveries:
        queue(delivery)
    return deliveries


def queue(delivery: WebhookDelivery) -> None:
    from .webhook_tasks import deliver_webhook

    try:
        deliver_webhook.delay(str(delivery.pk))
    except Exception:
        # A broker that is down: the delivery stays pending in the log.
        logger.exception("webhook delivery %s could not be queued", delivery.pk)


def backoff(number: int) -> float:
    """Seconds to wait after failed attempt NUMBER (1-based): BASE × 4^(NUMBER-1)."""
    base = float(getattr(settings, "WEBHOOK_RETRY_BASE_SECONDS", 10.0))
    return base * 4 ** (number - 1)


def max_attempts() -> int:
    return max(1, int(getattr(settings, "WEBHOOK_MAX_ATTEMPTS", 5)))


def attempt(delivery_id: str) -> float | None:
    """One attempt at the delivery DELIVERY_ID, logged. Returns the seconds to wait before the next attempt, or
    None when there is none (delivered, failed for good, or nothing to do). Safe to run again: a delivery that
    succeeded or failed is left alone, and each attempt number is logged once."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("webhook__owner")
            .filter(pk=delivery_id)
            .first()
        )
        if delivery is None or delivery.status in (DeliveryStatus.SUCCEEDED, DeliveryStatus.FAILED):
            return None
        number = delivery.attempts + 1
        delivery.attempts = number
        delivery.save(update_fields=["attempts"])
    webhook = delivery.webhook
    status_code: int | None = None
    error = ""
    started = time.monotonic()
    object_id = int(delivery.payload.get("object", {}).get("id") or 0)
    if not webhook.is_active:
        error, final = "webhook paused", True
    elif delivery.event in SUBJECTS and not _may_receive(webhook.owner, delivery.event, object_id):
        # Scope is asked at delivery time: an owner who can no longer see the object gets nothing.
        error, final = "the owner may no longer see this object", True
    else:
        final = False
        body = _body(delivery)
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Duikou-Event": delivery.event,
            "X-Duikou-Delivery": str(delivery.pk),
            SIGNATURE_HEADER: sign(webhook.secret, body),
        }
        try:
            status_code = netguard.post(webhook.url, body, headers).status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}"
        except netguard.Refused as exc:
            error = f"refused: {exc}"
        except Exception as exc:  # any failure to reach the receiver is an attempt that failed
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    duration = int((time.monotonic() - started) * 1000)
    succeeded = not error
    with transaction.atomic():
        WebhookAttempt.objects.get_or_create(
            delivery=delivery,
            number=number,
            defaults={"status_code": status_code, "duration_ms": duration, "error": error[:300]},
        )
        if succeeded:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status=DeliveryStatus.SUCCEEDED, delivered_at=timezone.now()
            )
            Webhook.objects.filter(pk=webhook.pk, is_failing=True).update(is_failing=False)
            return None
        if final or number >= max_attempts():
            WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.FAILED)
            if not final:
                Webhook.objects.filter(pk=webhook.pk).update(is_failing=True)
            return None
        WebhookDelivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.RETRYING)
    return backoff(number)


# --- rectifications overdue: found by a daily task -----------------------------------------------------------


def rectifications_overdue_announce(today: dt.date | None = None) -> list[int]:
    """Announce every rectification that is open and past its deadline and was not announced before: a history
    event `overdue` on it (the record that it was, so each is announced once) and, through it, the webhook event.
    Returns the rectifications' ids. Two runs at once do not announce one twice (the rows are locked)."""
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Exists, OuterRef

    from core.models import HistoryEvent

    day = today or timezone.localdate()
    announced = HistoryEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(Rectification), object_id=OuterRef("pk"), action="overdue"
    )
    done: list[int] = []
    with transaction.atomic():
        due = (
            Rectification.objects.select_for_update(skip_locked=True)
            # Waiting for the assisting side (open or sent back): one reported done waits for the supervisor.
            .filter(closed_on__isnull=True, status__in=RECTIFICATION_WAITING, deadline__lt=day)
            .filter(~Exists(announced))
            .order_by("pk")
        )
        for rect in due:
            history_record(
                obj=rect,
                action="overdue",
                comment=str(_("Past its deadline of %(date)s and still open.") % {"date": rect.deadline.isoformat()}),
            )
            done.append(rect.pk)
    return done
