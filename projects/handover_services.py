"""Every write on a project's handover and its yearly operation reports, in the shape of every action of
services.py: lock the project (and the handover row), check the right and the moment (policy.py: 403, 409), then
what was sent (400, every problem at once); change the rows; one history event on the project; side effects after
commit."""

import datetime as dt
import logging
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization, User
from core.errors import DomainError, Problem
from core.services import history_record

from . import policy
from .models import (
    CostPayer,
    Document,
    DocumentKind,
    Handover,
    HandoverStatus,
    OperationReport,
    OperationStatus,
    Project,
)
from .services import PHOTO_TYPES, _lock_visible, _money, _queue_notice, _store_document, check_upload

logger = logging.getLogger(__name__)

#: How many photos one operation report may carry.
MAX_OPERATION_PHOTOS = 10
#: The largest amount a money column holds (18 digits, 2 of them after the point).
MONEY_LIMIT = Decimal(10) ** 16


def _locked_handover(project: Project) -> Handover | None:
    return (
        Handover.objects.select_for_update(of=("self",))
        .select_related("receiving_organization")
        .filter(project=project)
        .first()
    )


def _amount(value: Any, field: str, problems: list[Problem], *, required: bool, positive: bool = False) -> Any:
    """An amount in yuan (two places, 18 digits at most), or None when it may be left out."""
    if value is None or value == "":
        if required:
            problems.append(Problem("required", _("Enter the amount."), field))
        return None
    amount = _money(value, field, problems, positive=positive)
    if amount is not None and abs(amount) >= MONEY_LIMIT:
        problems.append(Problem("max_digits", _("This amount is too large."), field))
        return None
    return amount


def _date(value: Any, field: str, problems: list[Problem]) -> dt.date | None:
    if value in (None, ""):
        problems.append(Problem("required", _("Enter the date."), field))
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        problems.append(Problem("invalid", _("Enter a valid date."), field))
        return None


# --- the handover --------------------------------------------------------------------------------------------


def handover_problems(
    project: Project,
    *,
    date: Any,
    receiving_organization: Organization | None,
    receiving_name: str,
    asset_value: Any,
    asset_register: Document | None,
    upload: UploadedFile | None = None,
) -> tuple[list[Problem], dict[str, Any]]:
    """Every problem with a handover as sent, at once, and the values read (the form asks this too)."""
    problems: list[Problem] = []
    day = _date(date, "date", problems)
    if day is not None:
        if day > timezone.localdate():
            problems.append(Problem("future", _("The handover date cannot be in the future."), "date"))
        elif project.actual_end is not None and day < project.actual_end:
            problems.append(
                Problem(
                    "before_completion",
                    _("The handover cannot come before the project was completed (%(date)s).")
                    % {"date": project.actual_end.isoformat()},
                    "date",
                )
            )
    name = (receiving_name or "").strip()
    if receiving_organization is None and not name:
        problems.append(
            Problem("required", _("Choose the receiving organization or name the receiving body."), "receiving_name")
        )
    elif len(name) > 200:
        problems.append(Problem("max_length", _("At most %(max)s characters.") % {"max": 200}, "receiving_name"))
    if receiving_organization is not None and not receiving_organization.is_active:
        problems.append(Problem("inactive", _("This organization is no longer active."), "receiving_organization"))
    value = _amount(asset_value, "asset_value", problems, required=True, positive=True)
    if asset_register is not None and asset_register.project_id != project.pk:
        problems.append(
            Problem("invalid", _("The asset register must be a document of this project."), "asset_register")
        )
    declared = None
    if upload is not None:
        declared, found = check_upload(upload, "asset_register_file")
        problems.extend(found)
    return problems, {"date": day, "name": name, "value": value, "declared": declared}


def handover_record(
    *,
    by: User | None,
    project: Project,
    date: Any,
    asset_value: Any,
    receiving_organization: Organization | None = None,
    receiving_name: str = "",
    asset_register: Document | None = None,
    asset_register_file: UploadedFile | None = None,
) -> Handover:
    """The assisting side records the handover of an accepted project: its date, who receives it, the value of
    the assets and their register (a document of the project, or a file uploaded with it). A refused handover
    is recorded again on the same row: back to waiting for confirmation."""
    stored: list[Document] = []
    try:
        with transaction.atomic():
            locked = _lock_visible(by, project)
            existing = _locked_handover(locked)
            policy.may_record_handover(by, locked, existing).enforce()
            problems, read = handover_problems(
                locked,
                date=date,
                receiving_organization=receiving_organization,
                receiving_name=receiving_name,
                asset_value=asset_value,
                asset_register=asset_register,
                upload=asset_register_file,
            )
            if problems:
                raise DomainError.many(problems)
            if asset_register_file is not None:
                asset_register = _store_document(
                    by=by,
                    project=locked,
                    upload=asset_register_file,
                    content_type=read["declared"],
                    kind=DocumentKind.REPORT,
                    title=_("Asset register"),
                )
                stored.append(asset_register)
            handover = existing or Handover(project=locked, round=0)
            old_status = existing.status if existing else None
            handover.date = read["date"]
            handover.receiving_organization = receiving_organization
            handover.receiving_name = "" if receiving_organization is not None else read["name"]
            handover.asset_value = read["value"]
            handover.asset_register = asset_register
            handover.status = HandoverStatus.PENDING
            handover.recorded_by, handover.recorded_at = by, timezone.now()
            handover.confirmed_by = handover.confirmed_at = None
            handover.round += 1
            # The refusal stays on the row until it is recorded again: the history keeps every one.
            handover.save()
            event = history_record(
                obj=locked,
                action="handover_recorded",
                actor=by,
                changes={
                    "handover_status": (old_status, HandoverStatus.PENDING),
                    "handover_date": (None, handover.date.isoformat()),
                    "receiving_organization": (None, _receiver_value(handover)),
                    "asset_value": (None, str(handover.asset_value)),
                },
            )
            transaction.on_commit(lambda: _queue_notice("notify_handover", handover.pk, event.pk))
    except Exception:
        # The file was stored before the transaction that would have kept its row failed: remove it.
        for doc in stored:
            doc.file.storage.delete(doc.file.name or "")
        raise
    return handover


def _receiver_value(handover: Handover) -> Any:
    """The receiver as the history keeps it: an organization (its id and name; the timeline shows the reader's
    name), a body named by hand as it was typed."""
    return handover.receiving_organization or handover.receiving_name


def _answer(*, by: User | None, project: Project, confirm: bool, reason: str = "") -> Handover:
    with transaction.atomic():
        locked = _lock_visible(by, project)
        handover = _locked_handover(locked)
        decide = policy.may_confirm_handover if confirm else policy.may_refuse_handover
        decide(by, locked, handover).enforce()
        assert handover is not None  # noqa: S101 — the policy refuses when there is none
        if not confirm and not reason.strip():
            raise DomainError("required", _("Say why the handover is refused."), "reason")
        now = timezone.now()
        if confirm:
            handover.status, handover.confirmed_by, handover.confirmed_at = HandoverStatus.CONFIRMED, by, now
        else:
            handover.status, handover.refused_by, handover.refused_at = HandoverStatus.REFUSED, by, now
            handover.refusal_reason = reason.strip()
        handover.save()
        event = history_record(
            obj=locked,
            action="handover_confirmed" if confirm else "handover_refused",
            actor=by,
            comment=reason.strip(),
            changes={"handover_status": (HandoverStatus.PENDING, handover.status)},
        )
        transaction.on_commit(lambda: _queue_notice("notify_handover", handover.pk, event.pk))
    return handover


def handover_confirm(*, by: User | None, project: Project) -> Handover:
    """The recipient side confirms it received what the handover lists."""
    return _answer(by=by, project=project, confirm=True)


def handover_refuse(*, by: User | None, project: Project, reason: str) -> Handover:
    """The recipient side refuses the handover, saying why; the assisting side may record it again."""
    return _answer(by=by, project=project, confirm=False, reason=reason)


# --- the yearly operation reports ----------------------------------------------------------------------------


def _count(value: Any, field: str, problems: list[Problem], *, maximum: int | None = None) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(value)
        if isinstance(value, float | Decimal) and number != value:
            raise ValueError
    except (TypeError, ValueError, InvalidOperation):
        problems.append(Problem("invalid", _("Enter a whole number."), field))
        return None
    if number < 0 or (maximum is not None and number > maximum):
        if maximum is not None:
            problems.append(Problem("out_of_range", _("Enter a number from 0 to %(max)s.") % {"max": maximum}, field))
        else:
            problems.append(Problem("min_value", _("Must be at least %(min)s.") % {"min": 0}, field))
        return None
    if number > 2_147_483_647:
        problems.append(Problem("max_value", _("This number is too large."), field))
        return None
    return number


def operation_report_problems(
    project: Project,
    handover: Handover | None,
    *,
    year: Any,
    status: Any,
    utilisation: Any = None,
    operating_cost: Any = None,
    maintenance_cost: Any = None,
    cost_payer: Any = "",
    revenue: Any = None,
    jobs: Any = None,
    people_served: Any = None,
    photos: Iterable[UploadedFile] = (),
) -> tuple[list[Problem], dict[str, Any]]:
    """Every problem with an operation report as sent, at once, and the values read (the form asks this too)."""
    problems: list[Problem] = []
    this_year = timezone.localdate().year
    read: dict[str, Any] = {}
    try:
        read["year"] = int(year)
        if isinstance(year, bool) or (isinstance(year, float | Decimal) and read["year"] != year):
            raise ValueError
    except (TypeError, ValueError, InvalidOperation):
        read["year"] = None
        problems.append(Problem("required" if year in (None, "") else "invalid", _("Enter the year."), "year"))
    y = read["year"]
    if y is not None:
        if y > this_year:
            problems.append(Problem("future", _("A year still to come cannot be reported on."), "year"))
        elif handover is not None and y < handover.date.year:
            problems.append(
                Problem(
                    "before_handover",
                    _("The project was handed over in %(year)s: report on that year or later.")
                    % {"year": handover.date.year},
                    "year",
                )
            )
        elif OperationReport.objects.filter(project=project, year=y).exists():
            problems.append(
                Problem("duplicate", _("The report for %(year)s has already been filed.") % {"year": y}, "year")
            )
    if status in (None, ""):
        problems.append(Problem("required", _("Choose the operating status."), "status"))
    elif status not in OperationStatus.values:
        problems.append(Problem("invalid_choice", _("Choose a valid status."), "status"))
    read["status"] = status
    read["utilisation"] = _count(utilisation, "utilisation", problems, maximum=100)
    read["operating_cost"] = _amount(operating_cost, "operating_cost", problems, required=False)
    read["maintenance_cost"] = _amount(maintenance_cost, "maintenance_cost", problems, required=False)
    read["revenue"] = _amount(revenue, "revenue", problems, required=False)
    payer = cost_payer or ""
    if payer and payer not in CostPayer.values:
        problems.append(Problem("invalid_choice", _("Choose a valid value."), "cost_payer"))
    elif not payer and (read["operating_cost"] or read["maintenance_cost"]):
        problems.append(Problem("required", _("Say who pays the running costs."), "cost_payer"))
    read["cost_payer"] = payer
    read["jobs"] = _count(jobs, "jobs", problems)
    read["people_served"] = _count(people_served, "people_served", problems)
    uploads = list(photos)
    if len(uploads) > MAX_OPERATION_PHOTOS:
        problems.append(Problem("too_many", _("Attach at most %(n)s photos.") % {"n": MAX_OPERATION_PHOTOS}, "photos"))
    types: list[str] = []
    for i, upload in enumerate(uploads):
        declared, found = check_upload(upload, f"photos.{i}", allowed=PHOTO_TYPES)
        problems.extend(found)
        types.append(declared or "")
    read["types"] = types
    return problems, read


def operation_report_file(
    *,
    by: User | None,
    project: Project,
    year: Any,
    status: Any,
    utilisation: Any = None,
    operating_cost: Any = None,
    maintenance_cost: Any = None,
    cost_payer: Any = "",
    revenue: Any = None,
    jobs: Any = None,
    people_served: Any = None,
    notes: str = "",
    photos: Iterable[UploadedFile] = (),
) -> OperationReport:
    """The recipient side reports how a handed-over project ran in a year: once a year, from the handover's year
    to the current one, once the handover is confirmed."""
    uploads = list(photos)
    stored: list[Document] = []
    try:
        with transaction.atomic():
            locked = _lock_visible(by, project)
            handover = _locked_handover(locked)
            policy.may_file_operation_report(by, locked, handover).enforce()
            problems, read = operation_report_problems(
                locked,
                handover,
                year=year,
                status=status,
                utilisation=utilisation,
                operating_cost=operating_cost,
                maintenance_cost=maintenance_cost,
                cost_payer=cost_payer,
                revenue=revenue,
                jobs=jobs,
                people_served=people_served,
                photos=uploads,
            )
            if problems:
                raise DomainError.many(problems)
            report = OperationReport.objects.create(
                project=locked,
                year=read["year"],
                status=read["status"],
                utilisation=read["utilisation"],
                operating_cost=read["operating_cost"],
                maintenance_cost=read["maintenance_cost"],
                cost_payer=read["cost_payer"],
                revenue=read["revenue"],
                jobs=read["jobs"],
                people_served=read["people_served"],
                notes=(notes or "").strip(),
                filed_by=by,
            )
            for i, (upload, content_type) in enumerate(zip(uploads, read["types"], strict=True), start=1):
                stored.append(
                    _store_document(
                        by=by,
                        project=locked,
                        upload=upload,
                        content_type=content_type,
                        kind=DocumentKind.PHOTO,
                        title=_("Operation %(year)s, photo %(n)s") % {"year": report.year, "n": i},
                    )
                )
            if stored:
                report.photos.add(*stored)
            history_record(
                obj=locked,
                action="operation_reported",
                actor=by,
                changes={
                    "operation_year": (None, report.year),
                    "operation_status": (None, report.status),
                    "utilisation": (None, report.utilisation),
                },
                comment=report.notes,
            )
    except Exception:
        for doc in stored:
            doc.file.storage.delete(doc.file.name or "")
        raise
    return report
