"""From what happened to webhook events, in one table, without any app below `exchange` knowing of webhooks:
every state change and record writes a history event, and a receiver here reads it.

`ROUTES` maps (the object's model, the history action) to the webhook event and to the object the event is
about. An evaluation run that finishes writes no history event: it is read from the run's row, saved as
succeeded. What a service writes in bulk without saving each row sends nothing (the evaluation run's many
`evaluate` transitions, which `evaluation_run.finished` announces)."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.db.models.signals import post_save
from django.dispatch import receiver

from core.models import HistoryEvent
from evaluation.models import EvaluationRun, RunStatus
from pairings.models import FundFlow
from projects.models import Project, Rectification
from projects.policy import ACTIONS

from . import webhooks
from .models import Import, WebhookEvent


def _same(event: HistoryEvent) -> int | None:
    return event.object_id


def _latest_inspection(event: HistoryEvent) -> int | None:
    # Written in the same transaction as the inspection, under the project's lock: the newest is this one.
    project = Project.objects.filter(pk=event.object_id).first()
    if project is None:
        return None
    return project.inspections.order_by("-id").values_list("pk", flat=True).first()


@dataclass(frozen=True)
class Route:
    model: type[Model]
    actions: frozenset[str]
    event: str
    object_id: Callable[[HistoryEvent], int | None] = _same


ROUTES: list[Route] = [
    Route(Project, frozenset({"created"}), WebhookEvent.PROJECT_CREATED),
    Route(Project, frozenset(ACTIONS), WebhookEvent.PROJECT_TRANSITIONED),
    Route(Project, frozenset({"inspected"}), WebhookEvent.INSPECTION_RECORDED, _latest_inspection),
    Route(FundFlow, frozenset({"created"}), WebhookEvent.FUND_FLOW_RECORDED),
    Route(Rectification, frozenset({"overdue"}), WebhookEvent.RECTIFICATION_OVERDUE),
    Route(Import, frozenset({"committed"}), WebhookEvent.IMPORT_COMMITTED),
]


def route_of(event: HistoryEvent) -> tuple[str, int] | None:
    """The webhook event a history event is, and the id of the object it is about; None when it is none."""
    for route in ROUTES:
        if event.action in route.actions and event.content_type_id == ContentType.objects.get_for_model(route.model).pk:
            object_id = route.object_id(event)
            return (route.event, object_id) if object_id is not None else None
    return None


@receiver(post_save, sender=HistoryEvent, dispatch_uid="exchange.webhooks.history")
def history_written(sender: Any, instance: HistoryEvent, created: bool, raw: bool = False, **kwargs: Any) -> None:
    if not created or raw:
        return
    routed = route_of(instance)
    if routed is not None:
        webhooks.event_happened(routed[0], routed[1], instance.at)


@receiver(post_save, sender=EvaluationRun, dispatch_uid="exchange.webhooks.run")
def run_saved(sender: Any, instance: EvaluationRun, created: bool, raw: bool = False, **kwargs: Any) -> None:
    update_fields = kwargs.get("update_fields")
    if raw or instance.status != RunStatus.SUCCEEDED or update_fields is None or "status" not in update_fields:
        return
    webhooks.event_happened(WebhookEvent.EVALUATION_RUN_FINISHED, instance.pk, instance.finished_at)
