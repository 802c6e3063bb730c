"""Every write on a project. Each lifecycle action is one function of the same shape: lock the row, check
state (409 when it moved on), role and scope (403/404), then the guard (400, every blocker at once); change
the fields; write one history event; schedule side effects after commit."""

import datetime as dt
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core.errors import Conflict, DomainError, NotFound, Problem
from core.models import HistoryEvent
from core.services import diff_fields, history_event, history_record
from pairings.models import FlowSource, Pairing, PairingStatus
from pairings.selectors import pairing_scope_q

from . import policy, selectors
from .models import (
    Category,
    Document,
    DocumentKind,
    ExecutionMode,
    Inspection,
    InspectionKind,
    InspectionResult,
    Milestone,
    ProgressReport,
    Project,
    Rectification,
    ReviewStatus,
    Sector,
    State,
)

# The lifecycle table (DESIGN.md, a contract: from which states, to which, who may) is the policy's; the
# services enforce it and the pages and the API offer what it allows.
from .policy import ACTIONS

logger = logging.getLogger(__name__)

# Which fields a PATCH may change in each state. After approval the budget changes only through
# project_revise_budget, which records the reason.
DESCRIPTIVE = {
    "title",
    "category",
    "sector",
    "execution_mode",
    "location",
    "latitude",
    "longitude",
    "is_livelihood",
    "is_self_sustaining",
    "budget_requested",
    "funding_sources",
    "planned_start",
    "planned_end",
    "expected_beneficiaries",
    "implementing_agency",
    "description",
    "repayment_terms",
}
EDITABLE: dict[str, frozenset[str]] = {
    State.DRAFT: frozenset(DESCRIPTIVE),
    State.PROPOSED: frozenset(),
    State.APPROVED: frozenset(
        {"planned_start", "planned_end", "implementing_agency", "description", "latitude", "longitude"}
    ),
    State.IN_CONSTRUCTION: frozenset({"planned_end", "implementing_agency", "description", "reached_beneficiaries"}),
    State.SUSPENDED: frozenset({"planned_end", "implementing_agency", "description"}),
    State.COMPLETED: frozenset({"reached_beneficiaries", "description"}),
    State.ACCEPTED: frozenset({"reached_beneficiaries"}),
    State.EVALUATED: frozenset(),
    State.REJECTED: frozenset(),
    State.CANCELLED: frozenset(),
}


# --- shared checks -----------------------------------------------------------------------------------------


def _lock_visible(by: User | None, project: Project) -> Project:
    """Re-read PROJECT locked, through BY's scope: a project out of scope does not exist (404)."""
    qs = Project.objects.select_for_update(of=("self",)).select_related(
        "pairing__program", "pairing__assisting_organization", "pairing__recipient_region"
    )
    if by is not None:
        qs = qs.filter(pairing_scope_q(by, "pairing__"))
    found = qs.filter(pk=project.pk).first()
    if found is None:
        raise NotFound("not_found", _("No such project."), None)
    return found


# What in a project's records stops an action, whatever the official types in: each transition runs its entry
# (under the lock, in `_step`), and the project page shows the same list beside the button before it is pressed.
def _progress_full(project: Project) -> list[Problem]:
    if selectors.has_full_progress_report(project):
        return []
    # xgettext:no-python-format
    return [Problem("progress_not_full", _("Report progress at 100 % first."), "progress")]


def _acceptance_passed(project: Project) -> list[Problem]:
    problems = []
    latest = selectors.latest_acceptance(project)
    if latest is None or latest.result != InspectionResult.PASSED:
        problems.append(
            Problem("acceptance_not_passed", _("Record a passed acceptance inspection first."), "inspection")
        )
    n = selectors.open_rectifications(project).count()
    if n:
        problems.append(
            Problem(
                "open_rectifications", _("Close the %(n)s open rectification(s) first.") % {"n": n}, "rectifications"
            )
        )
    return problems


def _acceptance_failed(project: Project) -> list[Problem]:
    latest = selectors.latest_acceptance(project)
    if latest is None or latest.result != InspectionResult.FAILED:
        return [Problem("no_failed_acceptance", _("Reopening needs a failed acceptance inspection."), "inspection")]
    return []


def blockers(project: Project, action: str) -> list[Problem]:
    """What in PROJECT's records would stop ACTION now: the transition's own guard on its records (what the form
    asks for is checked when it is sent)."""
    check = BLOCKERS.get(action)
    return check(project) if check is not None else []


Guard = Callable[[Project, list[Problem]], None]
Apply = Callable[[Project], dict[str, tuple[Any, Any]]]


def _step(
    locked: Project, *, by: User | None, action: str, comment: str, guard: Guard | None, apply: Apply | None
) -> tuple[str, dict[str, tuple[Any, Any]]]:
    """The action on one project already locked: check state and right, run the guard, apply the change and move
    the state (unsaved). Returns the state it left and the changes, for history. Shared by one-at-a-time
    transitions and the evaluation run's bulk `evaluate`, so both refuse and change alike."""
    spec = ACTIONS[action]
    policy.may_transition(by, locked, action).enforce()
    problems: list[Problem] = []
    if spec.needs_comment and not comment.strip():
        problems.append(Problem("comment_required", _("Say why in a comment."), "comment"))
    problems.extend(blockers(locked, action))
    if guard is not None:
        guard(locked, problems)
    if problems:
        raise DomainError.many(problems)
    from_state = locked.state
    changes = apply(locked) if apply is not None else {}
    locked.state = spec.target
    return from_state, changes


def _transition(
    *,
    project: Project,
    by: User | None,
    action: str,
    comment: str = "",
    guard: Guard | None = None,
    apply: Apply | None = None,
) -> Project:
    """The one shape of every action (DESIGN.md): lock, check state and right, guard, change, history."""
    with transaction.atomic():
        locked = _lock_visible(by, project)
        from_state, changes = _step(locked, by=by, action=action, comment=comment, guard=guard, apply=apply)
        locked.save()
        event = history_record(
            obj=locked,
            action=action,
            actor=by,
            from_state=from_state,
            to_state=locked.state,
            changes=changes,
            comment=comment.strip(),
        )
        transaction.on_commit(lambda: _after_transition([locked.pk], action, [event.pk]))
    project.refresh_from_db()
    return locked


def _after_transition(project_ids: list[int], action: str, event_ids: list[int] | None = None) -> None:
    """Side effects run once the change is committed: tell the people whose turn it is now (one message for the
    projects one commit moved; EVENT_IDS, their history events, make a redelivered message tell nobody twice).
    The change stands whatever happens here: a broker that is down is logged, not shown to the official as a
    failure."""
    from .tasks import notify_transitions

    try:
        notify_transitions.delay(project_ids, action, event_ids)
    except Exception:  # the broker's connection errors vary by transport
        logger.exception("could not queue notify_transitions for projects %s (%s)", project_ids[:10], action)


def _queue_notice(task_name: str, pk: int, *args: int) -> None:
    """Queue a task of projects.tasks that tells people about row PK (with ARGS), once the change is committed; a
    broker that is down is logged (the change stands)."""
    from . import tasks

    try:
        getattr(tasks, task_name).delay(pk, *args)
    except Exception:  # the broker's connection errors vary by transport
        logger.exception("could not queue %s for %s", task_name, pk)


# --- readiness -----------------------------------------------------------------------------------------------


def readiness_problems(project: Project) -> list[Problem]:
    """Every reason a draft cannot be submitted yet, each with a code and the field to fix."""
    problems: list[Problem] = []
    if not project.title.strip():
        problems.append(Problem("title_missing", _("Give the project a title."), "title"))
    if not project.category:
        problems.append(Problem("category_missing", _("Choose a category."), "category"))
    if not project.sector:
        problems.append(Problem("sector_missing", _("Choose a sector."), "sector"))
    if not project.budget_requested or project.budget_requested <= 0:
        problems.append(Problem("budget_missing", _("Enter a requested budget above zero."), "budget_requested"))
    if project.planned_start is None:
        problems.append(Problem("planned_start_missing", _("Enter the planned start."), "planned_start"))
    if project.planned_end is None:
        problems.append(Problem("planned_end_missing", _("Enter the planned end."), "planned_end"))
    if project.planned_start and project.planned_end and project.planned_end < project.planned_start:
        problems.append(
            Problem("planned_dates_out_of_order", _("The planned end is before the planned start."), "planned_end")
        )
    if project.location is None:
        problems.append(
            Problem("location_missing", _("Choose where the project is, within the recipient region."), "location")
        )
    elif not project.pairing.recipient_region.contains(project.location):
        problems.append(
            Problem(
                "location_outside",
                _("The location must lie within %(region)s.") % {"region": project.pairing.recipient_region},
                "location",
            )
        )
    if project.category == Category.REIMBURSABLE and not project.repayment_terms.strip():
        problems.append(
            Problem(
                "repayment_terms_missing", _("A reimbursable project needs its repayment terms."), "repayment_terms"
            )
        )
    return problems


BLOCKERS: dict[str, Callable[[Project], list[Problem]]] = {
    "submit": readiness_problems,
    "complete": _progress_full,
    "accept": _acceptance_passed,
    "reopen": _acceptance_failed,
}

# --- creating and editing ------------------------------------------------------------------------------------


def _validate_fields(values: dict[str, Any], pairing: Pairing, problems: list[Problem]) -> None:
    choices = {"category": Category, "sector": Sector, "execution_mode": ExecutionMode}
    for name, enum in choices.items():
        if values.get(name) and values[name] not in enum.values:
            problems.append(Problem("invalid_choice", _("Choose a valid value."), name))
    for name in ("budget_requested",):
        if values.get(name) is not None:
            try:
                if Decimal(str(values[name])) < 0:
                    problems.append(Problem("min_value", _("Must be at least %(min)s.") % {"min": 0}, name))
            except InvalidOperation:
                problems.append(Problem("invalid", _("Enter a number."), name))
    start, end = values.get("planned_start"), values.get("planned_end")
    if start and end and end < start:
        problems.append(
            Problem("planned_dates_out_of_order", _("The planned end is before the planned start."), "planned_end")
        )
    location = values.get("location")
    if location is not None and not pairing.recipient_region.contains(location):
        problems.append(
            Problem(
                "location_outside",
                _("The location must lie within %(region)s.") % {"region": pairing.recipient_region},
                "location",
            )
        )
    sources = values.get("funding_sources")
    if sources is not None:
        if not isinstance(sources, list):
            problems.append(Problem("invalid", _("List each source with its amount."), "funding_sources"))
        else:
            for i, item in enumerate(sources):
                ok = isinstance(item, dict) and item.get("source") in FlowSource.values
                try:
                    ok = ok and Decimal(str(item.get("amount"))) >= 0
                except InvalidOperation:
                    ok = False
                if not ok:
                    problems.append(
                        Problem("invalid", _("Each source needs a known source and an amount."), f"funding_sources.{i}")
                    )
    # Whatever else the columns would refuse (length, digits, a negative count, a wrong type) is named here,
    # not left to the database as an error.
    reported = {p.field for p in problems}
    for name, value in values.items():
        if name in reported or name == "location":
            continue
        try:
            cast(Any, Project._meta.get_field(name)).clean(value, None)
        except ValidationError as e:
            problems.append(Problem(e.error_list[0].code or "invalid", e.messages[0], name))


def field_problems(values: dict[str, Any], pairing: Pairing) -> list[Problem]:
    """The rules a project's fields must meet on their own (choices, amounts, date order, the location within the
    pairing's recipient region), for a form that refused other fields already: it shows these too, so an official
    sees every mistake after one submit (create and update apply the same rules again)."""
    problems: list[Problem] = []
    _validate_fields(values, pairing, problems)
    return problems


#: The form of the codes the system gives (`_prefix` and the row's number): a code chosen by an importer may not have
#: it, or a later project's own code could collide with it.
GENERATED_CODE = re.compile(r"^[A-Z0-9_]{1,3}-[0-9]{6,}$")
CODE_MAX = 24


def project_create(*, by: User | None, pairing: Pairing, title: str, own_code: str = "", **values: Any) -> Project:
    """A new draft in PAIRING. Only the assisting and recipient officers of the pairing (or the national
    coordinator) create projects; nothing is checked for completeness until it is submitted. OWN_CODE, when given,
    is the project's code (an import keeps the importer's own codes, to find the project again); otherwise the code
    is the programme's prefix and the row's number."""
    policy.may_create_project(by, pairing).enforce()
    with transaction.atomic():
        # Decide on the pairing as stored, locked so that it cannot end meanwhile, not on the caller's copy.
        qs = Pairing.objects.select_for_update(of=("self",)).select_related("program", "recipient_region")
        if by is not None:
            qs = qs.filter(pairing_scope_q(by))
        found = qs.filter(pk=pairing.pk).first()
        if found is None:
            raise DomainError("does_not_exist", _("No such pairing."), "pairing")
        pairing = found
        unknown = set(values) - DESCRIPTIVE
        if unknown:
            raise DomainError(
                "unknown_field", _("These fields cannot be set: %(f)s.") % {"f": ", ".join(sorted(unknown))}
            )
        problems: list[Problem] = []
        if not title.strip():
            problems.append(Problem("required", _("Give the project a title."), "title"))
        code = own_code.strip()
        if code:
            problems.extend(_code_problems(code))
        if pairing.status != PairingStatus.ACTIVE:
            problems.append(
                Problem("pairing_ended", _("This pairing has ended; no new projects can be added."), "pairing")
            )
        _validate_fields({"title": title.strip(), **values}, pairing, problems)
        if problems:
            raise DomainError.many(problems)
        project = Project(pairing=pairing, title=title.strip(), created_by=by, **values)
        if code:
            project.code = code
            try:
                with transaction.atomic():
                    project.save()
            except IntegrityError as exc:
                # Two imports creating the same code at once: the unique index decides.
                raise DomainError("duplicate", _("A project with this code already exists."), "code") from exc
        else:
            project.code = f"tmp-{timezone.now().timestamp()}-{id(project)}"[:24]
            project.save()
            # Readable and unique: the programme's prefix and the row's own number.
            project.code = f"{_prefix(pairing)}-{project.pk:06d}"
            project.save(update_fields=["code"])
        history_record(
            obj=project,
            action="created",
            actor=by,
            to_state=State.DRAFT,
            changes={"title": (None, project.title), "pairing": (None, pairing)},
        )
    return project


def _code_problems(code: str) -> list[Problem]:
    """What is wrong with CODE as a new project's own code (the system's form is reserved, a code is once)."""
    if len(code) > CODE_MAX:
        return [Problem("max_length", _("At most %(max)s characters.") % {"max": CODE_MAX}, "code")]
    if GENERATED_CODE.match(code):
        return [
            Problem(
                "reserved_code",
                _("Codes of this form are given by the system: choose another code, or use an existing project's."),
                "code",
            )
        ]
    if Project.objects.filter(code=code).exists():
        return [Problem("duplicate", _("A project with this code already exists."), "code")]
    return []


def _prefix(pairing: Pairing) -> str:
    return (pairing.program.code.split("-")[0][:3] or "PRJ").upper()


def not_editable(project: Project, names: Iterable[str]) -> list[Problem]:
    """Each of NAMES that PROJECT's state does not let change (EDITABLE), by name: what `project_update` refuses,
    and what the API says of a PATCH's keys before it reads their values."""
    allowed = EDITABLE[State(project.state)]
    problems = []
    for name in sorted(set(names) - allowed):
        if name == "state":
            message = _("The state changes only through transitions/.")
        else:
            message = _("This field cannot change while the project is %(state)s.") % {
                "state": State(project.state).label
            }
        problems.append(Problem("not_editable", message, name))
    return problems


def project_update(*, by: User | None, project: Project, **values: Any) -> Project:
    """Change the fields the project's state allows (EDITABLE); anything else is refused by name."""
    with transaction.atomic():
        locked = _lock_visible(by, project)
        policy.may_update_project(by, locked).enforce()
        fixed = not_editable(locked, values)
        if fixed:
            raise DomainError.many(fixed)
        problems: list[Problem] = []
        merged = {f: getattr(locked, f) for f in ("planned_start", "planned_end")} | values
        _validate_fields(merged, locked.pairing, problems)
        if values.get("title") is not None and not str(values["title"]).strip():
            problems.append(Problem("required", _("Give the project a title."), "title"))
        if problems:
            raise DomainError.many(problems)
        changes = diff_fields(locked, values)
        for k, v in values.items():
            setattr(locked, k, v)
        locked.save()
        if changes:
            history_record(obj=locked, action="updated", actor=by, changes=changes)
    return locked


def project_revise_budget(*, by: User | None, project: Project, approved_budget: Any, reason: str) -> Project:
    """After approval the budget changes only here, with the reason recorded."""
    with transaction.atomic():
        locked = _lock_visible(by, project)
        policy.may_revise_budget(by, locked).enforce()
        problems: list[Problem] = []
        amount = _money(approved_budget, "approved_budget", problems, positive=True)
        if not reason.strip():
            problems.append(Problem("reason_required", _("Say why the budget is revised."), "reason"))
        if problems:
            raise DomainError.many(problems)
        old = locked.approved_budget
        locked.approved_budget = amount
        locked.save(update_fields=["approved_budget", "updated_at"])
        history_record(
            obj=locked,
            action="budget_revised",
            actor=by,
            changes={"approved_budget": (old, amount)},
            comment=reason.strip(),
        )
    return locked


def _money(value: Any, field: str, problems: list[Problem], *, positive: bool = False) -> Decimal | None:
    if value is None or value == "":
        problems.append(Problem("required", _("Enter the amount."), field))
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        problems.append(Problem("invalid", _("Enter a number."), field))
        return None
    if not amount.is_finite() or (amount <= 0 if positive else amount < 0):
        problems.append(Problem("min_value", _("Must be greater than %(min)s.") % {"min": 0}, field))
        return None
    return amount.quantize(Decimal("0.01"))


# --- the actions ---------------------------------------------------------------------------------------------


def project_submit(*, project: Project, by: User | None, comment: str = "") -> Project:
    """Propose a draft; its readiness is the guard (`blockers`)."""

    def apply(p: Project) -> dict[str, tuple[Any, Any]]:
        p.proposed_by = by
        return {}

    return _transition(project=project, by=by, action="submit", comment=comment, apply=apply)


def project_approve(
    *, project: Project, by: User | None, approved_budget: Any = None, comment: str = "", reason: str = ""
) -> Project:
    """Approve with a budget > 0 and ≤ the requested one, unless a reason is given for more."""
    holder: dict[str, Decimal | None] = {}

    def guard(p: Project, problems: list[Problem]) -> None:
        value = approved_budget if approved_budget not in (None, "") else p.budget_requested
        amount = _money(value, "approved_budget", problems, positive=True)
        if (
            amount is not None
            and p.budget_requested is not None
            and amount > p.budget_requested
            and not (reason or comment).strip()
        ):
            problems.append(
                Problem(
                    "above_requested",
                    _("The approved budget is above the requested %(amount)s: give a reason.")
                    % {"amount": p.budget_requested},
                    "reason",
                )
            )
        holder["amount"] = amount

    def apply(p: Project) -> dict[str, tuple[Any, Any]]:
        old = p.approved_budget
        p.approved_budget = holder["amount"]
        return {"approved_budget": (old, p.approved_budget)}

    return _transition(project=project, by=by, action="approve", comment=(comment or reason), guard=guard, apply=apply)


def project_reject(*, project: Project, by: User | None, comment: str) -> Project:
    return _transition(project=project, by=by, action="reject", comment=comment)


def project_return(*, project: Project, by: User | None, comment: str) -> Project:
    return _transition(project=project, by=by, action="return", comment=comment)


def project_start(*, project: Project, by: User | None, actual_start: dt.date | None, comment: str = "") -> Project:
    def guard(p: Project, problems: list[Problem]) -> None:
        if actual_start is None:
            problems.append(Problem("actual_start_missing", _("Enter the actual start date."), "actual_start"))
        elif actual_start > timezone.localdate():
            problems.append(
                Problem("actual_start_future", _("The actual start cannot be in the future."), "actual_start")
            )

    def apply(p: Project) -> dict[str, tuple[Any, Any]]:
        old = p.actual_start
        p.actual_start = actual_start
        return {"actual_start": (old, actual_start)}

    return _transition(project=project, by=by, action="start", comment=comment, guard=guard, apply=apply)


def project_suspend(*, project: Project, by: User | None, comment: str) -> Project:
    return _transition(project=project, by=by, action="suspend", comment=comment)


def project_resume(*, project: Project, by: User | None, comment: str) -> Project:
    return _transition(project=project, by=by, action="resume", comment=comment)


def project_complete(
    *, project: Project, by: User | None, actual_end: dt.date | None = None, comment: str = ""
) -> Project:
    end = actual_end or timezone.localdate()

    def guard(p: Project, problems: list[Problem]) -> None:
        if end > timezone.localdate():
            problems.append(Problem("actual_end_future", _("The actual end cannot be in the future."), "actual_end"))
        if p.actual_start and end < p.actual_start:
            problems.append(
                Problem("actual_end_before_start", _("The actual end is before the actual start."), "actual_end")
            )

    def apply(p: Project) -> dict[str, tuple[Any, Any]]:
        old = p.actual_end
        p.actual_end = end
        return {"actual_end": (old, end)}

    return _transition(project=project, by=by, action="complete", comment=comment, guard=guard, apply=apply)


def project_accept(*, project: Project, by: User | None, comment: str = "") -> Project:
    """Accept a completed project; a passed acceptance inspection and no open rectification are the guard."""
    return _transition(project=project, by=by, action="accept", comment=comment)


def project_reopen(*, project: Project, by: User | None, comment: str = "") -> Project:
    """Back to construction after a failed acceptance inspection (the guard)."""

    def apply(p: Project) -> dict[str, tuple[Any, Any]]:
        old = p.actual_end
        p.actual_end = None
        return {"actual_end": (old, None)}

    return _transition(project=project, by=by, action="reopen", comment=comment, apply=apply)


def final_score(value: Any) -> Decimal | None:
    """A project's final score as history keeps it: a decimal to 0.01 (None stays None)."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _evaluate_guard(score: Decimal | None) -> Guard:
    def guard(p: Project, problems: list[Problem]) -> None:
        if score is None:
            problems.append(Problem("score_missing", _("The project has no final score yet."), "score"))

    return guard


def _evaluate_apply(score: Decimal | None) -> Apply:
    def apply(p: Project) -> dict[str, tuple[Any, Any]]:
        return {"score": (None, score)}

    return apply


def project_evaluate(*, project: Project, by: User | None, score: Any, comment: str = "") -> Project:
    """Called by an evaluator (or a run, by=None), with the project's final score."""
    value = final_score(score)
    return _transition(
        project=project,
        by=by,
        action="evaluate",
        comment=comment,
        guard=_evaluate_guard(value),
        apply=_evaluate_apply(value),
    )


def project_evaluate_many(
    *, scores: Mapping[int, Any], comment: str = "", run: int | None = None, batch_size: int = 2000
) -> list[int]:
    """`evaluate` for many projects at once, as an evaluation run finishes (by=None): the same step as
    `project_evaluate` for each accepted project of SCORES (project id -> its final score) — same checks, same
    history event with the score as a decimal, same notification after commit — with the rows locked and
    written a batch at a time in one transaction. Projects no longer accepted are left alone (the run is not
    the place to complain). RUN, the evaluation run's id, is recorded among the changes (a stored comment would
    stay in the language the task ran in). Returns the ids that moved."""
    spec = ACTIONS["evaluate"]
    values = {pk: final_score(score) for pk, score in scores.items() if score is not None}
    ids = sorted(values)
    moved: list[int] = []
    stripped = comment.strip()
    with transaction.atomic():
        for start in range(0, len(ids), batch_size):
            batch = list(
                Project.objects.select_for_update()
                .filter(pk__in=ids[start : start + batch_size], state__in=spec.sources)
                .order_by("pk")
                .only("pk", "code", "title", "state")
            )
            events = []
            for p in batch:
                value = values[p.pk]
                from_state, changes = _step(
                    p,
                    by=None,
                    action="evaluate",
                    comment=stripped,
                    guard=_evaluate_guard(value),
                    apply=_evaluate_apply(value),
                )
                if run is not None:
                    changes["evaluation_run"] = (None, run)
                events.append(
                    history_event(
                        obj=p,
                        action="evaluate",
                        from_state=from_state,
                        to_state=p.state,
                        changes=changes,
                        comment=stripped,
                    )
                )
            if not batch:
                continue
            pks = [p.pk for p in batch]
            # Every row of the batch took the same step to the same state: one UPDATE instead of a save each.
            Project.objects.filter(pk__in=pks).update(state=spec.target, updated_at=timezone.now())
            HistoryEvent.objects.bulk_create(events, batch_size=1000)
            moved.extend(pks)
        if moved:
            transaction.on_commit(lambda: _after_transition(moved, "evaluate"))
    return moved


def project_cancel(*, project: Project, by: User | None, comment: str) -> Project:
    return _transition(project=project, by=by, action="cancel", comment=comment)


TRANSITIONS: dict[str, Callable[..., Project]] = {
    "submit": project_submit,
    "approve": project_approve,
    "reject": project_reject,
    "return": project_return,
    "start": project_start,
    "suspend": project_suspend,
    "resume": project_resume,
    "complete": project_complete,
    "accept": project_accept,
    "reopen": project_reopen,
    "evaluate": project_evaluate,
    "cancel": project_cancel,
}


# --- construction and supervision ----------------------------------------------------------------------------

ACTIVE_STATES = {State.IN_CONSTRUCTION, State.SUSPENDED, State.COMPLETED}


def milestone_add(*, by: User | None, project: Project, title: str, due_date: dt.date) -> Milestone:
    with transaction.atomic():
        locked = _lock_visible(by, project)
        policy.may_add_milestone(by, locked).enforce()
        if not title.strip():
            raise DomainError("required", _("Give the milestone a title."), "title")
        milestone = Milestone.objects.create(project=locked, title=title.strip(), due_date=due_date)
        history_record(obj=locked, action="milestone_added", actor=by, changes={"title": (None, milestone.title)})
    return milestone


def progress_report_submit(
    *,
    by: User | None,
    project: Project,
    period_end: dt.date,
    physical_progress: int,
    spend_to_date: Any,
    narrative: str = "",
) -> ProgressReport:
    with transaction.atomic():
        locked = _lock_visible(by, project)
        policy.may_report_progress(by, locked).enforce()
        problems: list[Problem] = []
        try:
            progress = int(physical_progress)
        except (TypeError, ValueError):
            progress = -1
        if not 0 <= progress <= 100:
            problems.append(
                Problem("invalid_progress", _("Physical progress is a percentage from 0 to 100."), "physical_progress")
            )
        spend = _money(spend_to_date, "spend_to_date", problems)
        if period_end is None:
            problems.append(Problem("required", _("Enter the end of the period."), "period_end"))
        elif locked.actual_start and period_end < locked.actual_start:
            problems.append(Problem("before_start", _("The period ends before the project started."), "period_end"))
        last = selectors.latest_progress(locked)
        if last is not None and 0 <= progress < last.physical_progress:
            problems.append(
                Problem(
                    "progress_backwards",
                    _("Progress was already %(n)s %%.") % {"n": last.physical_progress},
                    "physical_progress",
                )
            )
        if problems:
            raise DomainError.many(problems)
        assert spend is not None  # noqa: S101 — an invariant of our own code, not a check of input
        report = ProgressReport.objects.create(
            project=locked,
            period_end=period_end,
            physical_progress=progress,
            spend_to_date=spend,
            narrative=narrative,
            reported_by=by,
        )
        history_record(
            obj=locked,
            action="progress_reported",
            actor=by,
            changes={
                "physical_progress": (last.physical_progress if last else None, progress),
                "spend_to_date": (last.spend_to_date if last else None, spend),
            },
        )
        transaction.on_commit(lambda: _queue_notice("notify_report_submitted", report.pk))
    return report


def progress_report_review(
    *, by: User | None, report: ProgressReport, accept: bool, comment: str = ""
) -> ProgressReport:
    """The assisting side's approver accepts a report or returns it with a comment."""
    with transaction.atomic():
        _lock_visible(by, report.project)
        locked = ProgressReport.objects.select_for_update().get(pk=report.pk)
        policy.may_review_report(by, locked).enforce()
        if not accept and not comment.strip():
            raise DomainError("comment_required", _("Say what must change."), "comment")
        locked.review_status = ReviewStatus.ACCEPTED if accept else ReviewStatus.RETURNED
        locked.reviewed_by, locked.reviewed_at, locked.review_comment = by, timezone.now(), comment.strip()
        locked.save()
        history_record(
            obj=locked.project,
            action="report_reviewed",
            actor=by,
            comment=comment.strip(),
            changes={"review_status": (ReviewStatus.PENDING, locked.review_status)},
        )
    return locked


def inspection_problems(
    project: Project,
    *,
    date: dt.date | None,
    kind: str | None,
    result: str | None,
    findings: str = "",
    rectifications: Iterable[Mapping[str, Any]] = (),
    complete: bool = True,
) -> list[Problem]:
    """Every problem with an inspection as sent, at once. The form asks this of what it could read, too, so that
    a refused page shows every mistake (COMPLETE false: a value it could not read is not named again here)."""
    problems: list[Problem] = []
    if kind is not None and kind not in InspectionKind.values:
        problems.append(Problem("invalid_choice", _("Choose a valid kind."), "kind"))
    if result is not None and result not in InspectionResult.values:
        problems.append(Problem("invalid_choice", _("Choose a valid result."), "result"))
    if kind == InspectionKind.ACCEPTANCE and project.state != State.COMPLETED:
        problems.append(Problem("not_completed", _("An acceptance inspection is for a completed project."), "kind"))
    elif kind == InspectionKind.ROUTINE and project.state not in ACTIVE_STATES | {State.APPROVED}:
        problems.append(Problem("not_in_construction", _("Routine inspections are for projects being built."), "kind"))
    if date is None:
        if complete:
            problems.append(Problem("required", _("Enter the date."), "date"))
    elif date > timezone.localdate():
        problems.append(Problem("future", _("The inspection date cannot be in the future."), "date"))
    if result == InspectionResult.FAILED and not findings.strip():
        problems.append(Problem("findings_required", _("Describe what failed."), "findings"))
    for i, item in enumerate(rectifications):
        if not str(item.get("finding", "")).strip():
            problems.append(Problem("required", _("Describe the finding."), f"rectifications.{i}.finding"))
        if not isinstance(item.get("deadline"), dt.date):
            problems.append(Problem("required", _("Enter the deadline."), f"rectifications.{i}.deadline"))
        elif date and item["deadline"] < date:
            problems.append(
                Problem(
                    "deadline_before_inspection",
                    _("The deadline is before the inspection."),
                    f"rectifications.{i}.deadline",
                )
            )
    return problems


def inspection_record(
    *,
    by: User | None,
    project: Project,
    date: dt.date,
    kind: str,
    result: str,
    findings: str = "",
    rectifications: Iterable[dict[str, Any]] = (),
) -> Inspection:
    """A supervisor's inspection; a failed one usually comes with rectifications, several at once, each with its
    own finding (what must be put right) and deadline."""
    with transaction.atomic():
        locked = _lock_visible(by, project)
        policy.may_record_inspection(by, locked).enforce()
        items = list(rectifications)
        problems = inspection_problems(
            locked, date=date, kind=kind, result=result, findings=findings, rectifications=items
        )
        if problems:
            raise DomainError.many(problems)
        inspection = Inspection.objects.create(
            project=locked, date=date, kind=kind, result=result, findings=findings.strip(), inspector=by
        )
        Rectification.objects.bulk_create(
            [
                Rectification(
                    project=locked,
                    inspection=inspection,
                    finding=str(item["finding"]).strip(),
                    deadline=item["deadline"],
                    created_by=by,
                )
                for item in items
            ]
        )
        history_record(
            obj=locked,
            action="inspected",
            actor=by,
            comment=findings.strip(),
            changes={"inspection_kind": (None, kind), "result": (None, result), "rectifications": (None, len(items))},
        )
        transaction.on_commit(lambda: _queue_notice("notify_inspection", inspection.pk))
    return inspection


# --- rectifications: both ways (the steps and who may take each are policy.RECTIFICATION_ACTIONS) ----------

#: The history action of each rectification step.
RECTIFICATION_HISTORY = {
    "report": "rectification_reported",
    "verify": "rectification_verified",
    "send_back": "rectification_sent_back",
    "close": "rectification_closed",
}
#: How many photos one report may carry.
MAX_REPORT_PHOTOS = 10
PHOTO_TYPES = ("image/jpeg", "image/png")

RectificationCheck = Callable[[Rectification, list[Problem]], None]
RectificationApply = Callable[[Rectification], None]


def _rectification_step(
    *,
    by: User | None,
    rectification: Rectification,
    action: str,
    comment: str,
    comment_field: str,
    comment_message: str,
    check: RectificationCheck | None = None,
    apply: RectificationApply | None = None,
) -> Rectification:
    """One step of a rectification, the shape of every transition: lock (the project, then the row), check the
    status (409 when it moved on) and the right (403), then what was sent (400, every problem at once); change
    the row and its status; one history event on the project; the notification after commit."""
    spec = policy.RECTIFICATION_ACTIONS[action]
    with transaction.atomic():
        project = _lock_visible(by, rectification.project)
        locked = Rectification.objects.select_for_update().get(pk=rectification.pk, project=project)
        policy.may_act_on_rectification(by, locked, action).enforce()
        problems: list[Problem] = []
        if spec.needs_comment and not comment.strip():
            problems.append(Problem("required", comment_message, comment_field))
        if check is not None:
            check(locked, problems)
        if problems:
            raise DomainError.many(problems)
        from_status = policy.rectification_status(locked)
        if apply is not None:
            apply(locked)
        locked.status = spec.target
        locked.save()
        event = history_record(
            obj=project,
            action=RECTIFICATION_HISTORY[action],
            actor=by,
            comment=comment.strip(),
            changes={"finding": (locked.finding[:80], None)}
            if spec.target == policy.VERIFIED
            else {"rectification_status": (from_status, spec.target)},
        )
        notice = {"report": "notify_rectification_reported", "send_back": "notify_rectification_sent_back"}
        if action in notice:
            # The event's id keys the notification: a redelivered task tells nobody twice, a second report does.
            transaction.on_commit(lambda: _queue_notice(notice[action], locked.pk, event.pk))
    return locked


def rectification_report(
    *, by: User | None, rectification: Rectification, text: str, photos: Iterable[UploadedFile] = ()
) -> Rectification:
    """The assisting side reports a rectification done: how it was put right, with photos as evidence (each
    checked like every upload, all of them before any is stored). Again after it was sent back."""
    uploads = list(photos)
    types: list[str] = []
    stored: list[Document] = []

    def check(locked: Rectification, problems: list[Problem]) -> None:
        if not text.strip():
            problems.append(Problem("required", _("Say how it was put right."), "text"))
        if len(uploads) > MAX_REPORT_PHOTOS:
            problems.append(Problem("too_many", _("Attach at most %(n)s photos.") % {"n": MAX_REPORT_PHOTOS}, "photos"))
        for i, upload in enumerate(uploads):
            declared, found = check_upload(upload, f"photos.{i}", allowed=PHOTO_TYPES)
            problems.extend(found)
            types.append(declared or "")

    def apply(locked: Rectification) -> None:
        locked.report_text, locked.reported_by, locked.reported_at = text.strip(), by, timezone.now()
        for i, (upload, content_type) in enumerate(zip(uploads, types, strict=True), start=1):
            stored.append(
                _store_document(
                    by=by,
                    project=locked.project,
                    upload=upload,
                    content_type=content_type,
                    kind=DocumentKind.EVIDENCE,
                    title=_("Rectification photo %(n)s: %(finding)s") % {"n": i, "finding": locked.finding[:60]},
                    rectification=locked,
                )
            )

    try:
        return _rectification_step(
            by=by,
            rectification=rectification,
            action="report",
            comment=text,
            comment_field="text",
            comment_message=_("Say how it was put right."),
            check=check,
            apply=apply,
        )
    except Exception:
        # The files were stored before the transaction that would have kept their rows failed: remove them.
        for doc in stored:
            doc.file.storage.delete(doc.file.name or "")
        raise


def rectification_verify(*, by: User | None, rectification: Rectification, note: str = "") -> Rectification:
    """The supervisor finds a reported rectification put right: it is closed today."""

    def apply(locked: Rectification) -> None:
        locked.closed_on, locked.closed_by = timezone.localdate(), by
        if note.strip():
            locked.closure_note = note.strip()

    return _rectification_step(
        by=by,
        rectification=rectification,
        action="verify",
        comment=note,
        comment_field="note",
        comment_message="",
        apply=apply,
    )


def rectification_send_back(*, by: User | None, rectification: Rectification, reason: str) -> Rectification:
    """The supervisor does not find a reported rectification put right: it goes back to the assisting side with
    the reason, to be put right and reported again."""

    def apply(locked: Rectification) -> None:
        locked.send_back_reason, locked.sent_back_by, locked.sent_back_at = reason.strip(), by, timezone.now()

    return _rectification_step(
        by=by,
        rectification=rectification,
        action="send_back",
        comment=reason,
        comment_field="reason",
        comment_message=_("Say what is still not put right."),
        apply=apply,
    )


def rectification_close(
    *,
    by: User | None,
    rectification: Rectification,
    closed_on: dt.date | None = None,
    note: str = "",
    evidence: Document | None = None,
) -> Rectification:
    """The supervisor closes a rectification on their own finding, with a note and, usually, a document as
    evidence (a reported one is verified: the same close, after the assisting side's report)."""
    # Which of the two, the rectification as stored says (the step checks it again under the lock).
    stored = Rectification.objects.filter(pk=rectification.pk).only("status", "closed_on").first() or rectification
    action = "verify" if policy.rectification_status(stored) == policy.REPORTED else "close"

    def check(locked: Rectification, problems: list[Problem]) -> None:
        if evidence is not None and evidence.project_id != locked.project_id:
            problems.append(
                Problem("invalid_evidence", _("The evidence must be a document of this project."), "evidence")
            )

    def apply(locked: Rectification) -> None:
        locked.closed_on, locked.closed_by = closed_on or timezone.localdate(), by
        if note.strip():
            locked.closure_note = note.strip()
        if evidence is not None:
            locked.evidence = evidence

    return _rectification_step(
        by=by,
        rectification=rectification,
        action=action,
        comment=note,
        comment_field="closure_note",
        comment_message=_("Say how it was put right."),
        check=check,
        apply=apply,
    )


# Uploads: what officials attach, checked before anything is stored.
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
ALLOWED_TYPES = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "application/pdf": (".pdf",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (".docx",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (".xlsx",),
}
MAGIC = {
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"%PDF-": "application/pdf",
    b"PK\x03\x04": "zip",
}


def _sniff(upload: UploadedFile) -> str | None:
    head = upload.read(8)
    upload.seek(0)
    for magic, kind in MAGIC.items():
        if head.startswith(magic):
            return kind
    return None


def check_upload(
    upload: UploadedFile, field: str = "file", allowed: Iterable[str] | None = None
) -> tuple[str | None, list[Problem]]:
    """The type an upload declares by its extension, and every problem with it (size, type, content): checked
    before anything is stored. ALLOWED narrows the types (photos are JPEG or PNG)."""
    types = {t: exts for t, exts in ALLOWED_TYPES.items() if allowed is None or t in allowed}
    problems: list[Problem] = []
    name = (upload.name or "").lower()
    ext = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    declared = next((t for t, exts in types.items() if ext in exts), None)
    if upload.size is None or upload.size > MAX_UPLOAD_BYTES:
        problems.append(
            Problem(
                "too_large",
                _("The file is larger than %(mb)s MB.") % {"mb": MAX_UPLOAD_BYTES // 1024 // 1024},
                field,
            )
        )
    elif upload.size == 0:
        problems.append(Problem("empty", _("The file is empty."), field))
    if declared is None:
        message = (
            _("Upload a JPEG or PNG photo.")
            if allowed is not None
            else _("Upload a JPEG, PNG, PDF, DOCX or XLSX file.")
        )
        problems.append(Problem("forbidden_type", message, field))
    elif not problems:
        sniffed = _sniff(upload)
        expected = "zip" if declared.startswith("application/vnd.openxmlformats") else declared
        if sniffed != expected:
            problems.append(Problem("type_mismatch", _("The file's content does not match its extension."), field))
    return declared, problems


def _store_document(
    *,
    by: User | None,
    project: Project,
    upload: UploadedFile,
    content_type: str,
    kind: str,
    title: str,
    progress_report: ProgressReport | None = None,
    rectification: Rectification | None = None,
) -> Document:
    """Store a checked upload and its row, with one history event; the file is removed if the row is not written."""
    doc = Document(
        project=project,
        kind=kind,
        title=(title or upload.name or "").strip()[:200],
        size=upload.size or 0,
        content_type=content_type,
        progress_report=progress_report,
        rectification=rectification,
        uploaded_by=by,
    )
    doc.file.save(upload.name or "upload", upload, save=False)
    try:
        doc.save()
        history_record(
            obj=project,
            action="document_added",
            actor=by,
            changes={"title": (None, doc.title), "document_kind": (None, kind)},
        )
    except Exception:
        # The file was stored before its row: if the row cannot be written, do not leave the file behind.
        doc.file.storage.delete(doc.file.name or "")
        raise
    return doc


def document_upload(
    *,
    by: User | None,
    project: Project,
    upload: UploadedFile,
    kind: str = DocumentKind.OTHER,
    title: str = "",
    progress_report: ProgressReport | None = None,
) -> Document:
    """Attach a file. Size, extension and the file's own first bytes are checked before it is stored."""
    with transaction.atomic():
        locked = _lock_visible(by, project)
        policy.may_upload_document(by, locked).enforce()
        declared, problems = check_upload(upload)
        if kind not in DocumentKind.values:
            problems.append(Problem("invalid_choice", _("Choose a valid kind."), "kind"))
        if progress_report is not None and progress_report.project_id != locked.pk:
            problems.append(Problem("invalid", _("The report belongs to another project."), "progress_report"))
        if problems:
            raise DomainError.many(problems)
        assert declared is not None  # noqa: S101 — check_upload refuses a file of no allowed type
        doc = _store_document(
            by=by,
            project=locked,
            upload=upload,
            content_type=declared,
            kind=kind,
            title=title,
            progress_report=progress_report,
        )
    return doc


# --- duplicate projects across pairings ----------------------------------------------------------------------


def duplicate_dismiss(*, by: User | None, project: Project, candidate_id: int, reason: str) -> Any:
    """An official of PROJECT confirms that it is not the same undertaking as the similar project CANDIDATE_ID,
    and why: recorded once per pair and side, with one history event on the project; the approver reads it
    beside the warning. The candidate must be one the official sees (404 otherwise, as a project out of scope)
    and still a match of the project (400 naming `candidate`)."""
    from . import duplicates
    from .models import DuplicateDismissal

    with transaction.atomic():
        locked = _lock_visible(by, project)
        policy.may_dismiss_duplicate(by, locked).enforce()
        candidate = Project.objects.filter(pk=candidate_id).exclude(pk=locked.pk)
        if by is not None:
            candidate = candidate.filter(pairing_scope_q(by, "pairing__"))
        other = candidate.first()
        if other is None:
            raise NotFound("not_found", _("No such project."), "candidate")
        problems: list[Problem] = []
        if not reason.strip():
            problems.append(Problem("required", _("Say why it is not the same undertaking."), "reason"))
        elif len(reason.strip()) > 2000:
            problems.append(Problem("max_length", _("At most %(max)s characters.") % {"max": 2000}, "reason"))
        if not duplicates.is_match(duplicates.subject_of(locked), other.pk):
            problems.append(
                Problem("not_similar", _("This project is not among the similar ones any more."), "candidate")
            )
        if problems:
            raise DomainError.many(problems)
        if DuplicateDismissal.objects.filter(project=locked, candidate=other).exists():
            raise Conflict("already_confirmed", _("This was already confirmed as not a duplicate."), "candidate")
        dismissal = DuplicateDismissal.objects.create(project=locked, candidate=other, reason=reason.strip(), by=by)
        history_record(
            obj=locked,
            action="duplicate_dismissed",
            actor=by,
            changes={"similar_project": (None, other)},
            comment=reason.strip(),
        )
    return dismissal
