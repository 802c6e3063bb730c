"""Evaluation's writes: frameworks, ratings, and the steps of a run. Views, the API and the tasks call these.

A run goes: `run_start` (one per programme-year at a time; enqueued after commit) → `run_plan` (the cohort
cut into chunks of ids) → `chunk_execute` for each chunk (one upsert statement; marking the chunk done and
counting its progress in the same transaction, only once however often it runs) → `run_finalize` (pairing
scorecards, rankings, accepted projects to `evaluated`, all in one transaction). `runs_reconcile` re-queues
what is stuck past its deadline and fails a run whose planning, chunk or final step keeps failing (each
counts its attempts).
"""

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from core import observability
from core.errors import DomainError, NotFound, Problem
from core.services import history_record
from pairings.models import Pairing, Program
from pairings.selectors import pairing_scope_q
from pairings.services import current_rule
from projects.models import Project
from projects.services import project_evaluate_many

from . import policy, scoring
from .curves import Spec, explain, grade_for, validate
from .defaults import default_indicators
from .measures import FINAL_STATES, SCORED_STATES
from .models import (
    ACTIVE_RUN_STATUSES,
    DEFAULT_MIN_COVERAGE,
    ChunkKind,
    ChunkStatus,
    EvaluationRun,
    ExpertScore,
    Indicator,
    IndicatorFramework,
    PairingScorecard,
    ProjectScore,
    Ranking,
    RunChunk,
    RunStatus,
    SatisfactionRating,
    default_grade_bands,
)

logger = logging.getLogger(__name__)


def chunk_size() -> int:
    return int(getattr(settings, "EVALUATION_CHUNK_SIZE", 5000))


def chunk_timeout() -> dt.timedelta:
    return dt.timedelta(seconds=float(getattr(settings, "EVALUATION_CHUNK_TIMEOUT", 600)))


def max_attempts() -> int:
    return int(getattr(settings, "EVALUATION_MAX_ATTEMPTS", 5))


# --- frameworks ----------------------------------------------------------------------------------------------


def framework_rows(framework: IndicatorFramework) -> list[dict[str, Any]]:
    """A framework's indicators as the dicts `framework_revise` takes (to start an edit from)."""
    return [
        {
            "code": i.code,
            "name": i.name,
            "name_en": i.name_en,
            "level": i.level,
            "formula": i.formula,
            "curve": i.curve,
            "floor": i.floor,
            "target": i.target,
            "thresholds": i.thresholds,
            "weight": i.weight,
        }
        for i in framework.indicators.all()
    ]


def _write_framework(
    program: Program,
    rows: Sequence[Mapping[str, Any]],
    specs: Sequence[Spec],
    grade_bands: Any,
    by: User | None,
    reason: str,
    min_coverage: Decimal | None = None,
) -> IndicatorFramework:
    last = IndicatorFramework.objects.filter(program=program).order_by("-version").first()
    if min_coverage is None:  # not given: as the version it follows (the default for a first version)
        min_coverage = last.min_coverage if last else DEFAULT_MIN_COVERAGE
    framework = IndicatorFramework.objects.create(
        program=program,
        version=(last.version + 1) if last else 1,
        grade_bands=[[float(lo), str(g).strip()] for lo, g in grade_bands] if grade_bands else default_grade_bands(),
        min_coverage=min_coverage,
        reason=reason,
        created_by=by,
    )
    Indicator.objects.bulk_create(
        [
            Indicator(
                framework=framework,
                code=spec.code,
                name=str(row.get("name") or "").strip(),
                name_en=str(row.get("name_en") or row.get("name") or "").strip(),
                level=spec.level,
                formula=spec.formula,
                curve=spec.curve,
                floor=spec.floor if spec.curve == "linear" else None,
                target=spec.target if spec.curve == "linear" else None,
                thresholds=[list(b) for b in spec.thresholds] if spec.curve == "threshold" else [],
                weight=Decimal(str(spec.weight)).quantize(Decimal("0.01")),
                position=i,
            )
            for i, (row, spec) in enumerate(zip(rows, specs, strict=True))
        ]
    )
    changes: dict[str, Any] = {"version": (last.version if last else None, framework.version)}
    if last is not None and last.min_coverage != framework.min_coverage:
        changes["min_coverage"] = (last.min_coverage, framework.min_coverage)
    history_record(obj=framework, action="framework_revised", actor=by, changes=changes, comment=reason)
    return framework


def framework_default(program: Program) -> IndicatorFramework:
    """Version 1 from `evaluation.defaults`, with the share targets at the programme's rule (if any)."""
    rule = current_rule(program)
    rows = default_indicators(rule.min_county_share if rule else None, rule.min_livelihood_share if rule else None)
    specs, problems = validate(rows)
    if problems:  # the defaults are ours: a problem here is a bug, not bad input
        raise DomainError.many(problems)
    with transaction.atomic():
        Program.objects.select_for_update().filter(pk=program.pk).first()
        existing = IndicatorFramework.objects.filter(program=program).order_by("-version").first()
        if existing is not None:
            return existing
        # No reason is stored: the page says "Default framework" in the reader's language (`reason_shown`).
        return _write_framework(program, rows, specs, None, None, "")


def framework_current(program: Program) -> IndicatorFramework:
    """The latest version of the programme's framework. Every programme has one from its creation
    (`framework_follow_programme`); a programme without one is a broken database, said as such."""
    found = IndicatorFramework.objects.filter(program=program).order_by("-version").first()
    if found is None:
        raise DomainError(
            "no_framework", _("The programme %(code)s has no indicator framework.") % {"code": program.code}, "program"
        )
    return found


def _is_untouched_default(framework: IndicatorFramework) -> bool:
    """Version 1 as the system wrote it, not yet used by a run: still free to follow the programme's rule."""
    return (
        framework.version == 1
        and framework.created_by_id is None
        and not EvaluationRun.objects.filter(framework=framework).exists()
    )


def framework_follow_programme(program: Program) -> None:
    """The programme service's follow-up (registered in evaluation.apps): the one place a default framework is
    made. A new programme gets version 1; when its rule changes and version 1 is still the untouched default, the
    share targets move to the new rule's minimums (a rule is usually set just after its programme, in the same
    transaction or the next request). A framework someone revised, or that a run used, is left as it is."""
    latest = IndicatorFramework.objects.filter(program=program).order_by("-version").first()
    if latest is None:
        framework_default(program)
        return
    if not _is_untouched_default(latest):
        return
    rule = current_rule(program)
    rows = {
        r["code"]: r
        for r in default_indicators(
            rule.min_county_share if rule else None, rule.min_livelihood_share if rule else None
        )
    }
    for indicator in latest.indicators.filter(code__in=["county_share", "livelihood_share"]):
        row = rows.get(indicator.code)
        if row is None:
            continue
        target, floor = row.get("target"), row.get("floor")
        if (indicator.target, indicator.floor) != (target, floor):
            indicator.target, indicator.floor = target, floor
            indicator.save(update_fields=["target", "floor"])


def framework_revise(
    *,
    program: Program,
    by: User | None,
    indicators: Sequence[Mapping[str, Any]],
    reason: str,
    grade_bands: Any = None,
    min_coverage: Any = None,
) -> IndicatorFramework:
    """A new version of PROGRAM's framework with INDICATORS and the coverage a project needs to be scored
    (MIN_COVERAGE, %; None keeps the current version's). Every problem is reported at once, by field."""
    policy.may_revise_framework(by, program).enforce()
    specs, problems = validate(indicators, grade_bands)
    coverage: Decimal | None = None
    if min_coverage is not None and str(min_coverage).strip() != "":
        try:
            if isinstance(min_coverage, bool):
                raise InvalidOperation
            coverage = Decimal(str(min_coverage).strip().rstrip("%").strip())
            if not coverage.is_finite() or not 0 <= coverage <= 100:
                raise InvalidOperation
            coverage = coverage.quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError, TypeError):
            coverage = None
            problems.append(
                Problem(
                    "invalid_min_coverage",
                    _("The minimum data coverage is a percentage from 0 to 100."),
                    "min_coverage",
                )
            )
    if not (reason or "").strip():
        problems.append(Problem("reason_required", _("Say why the framework changes."), "reason"))
    if problems:
        raise DomainError.many(problems)
    with transaction.atomic():
        Program.objects.select_for_update().filter(pk=program.pk).first()
        return _write_framework(program, indicators, specs, grade_bands, by, reason.strip(), coverage)


def specs_of(framework: IndicatorFramework, level: str | None = None) -> list[Spec]:
    return [Spec.of(i) for i in framework.indicators.all() if level is None or i.level == level]


# --- ratings -------------------------------------------------------------------------------------------------


def _visible_project(by: User, project: Project) -> Project:
    found = (
        Project.objects.filter(pairing_scope_q(by, "pairing__"))
        .select_related("pairing__program")
        .filter(pk=project.pk)
        .first()
    )
    if found is None:
        raise NotFound("not_found", _("No such project."), None)
    return found


def expert_indicators(project: Project) -> list[Indicator]:
    """The expert-scored indicators of the current framework of PROJECT's programme."""
    framework = framework_current(project.pairing.program)
    return [i for i in framework.indicators.all() if i.formula == "expert"]


def expert_score_set(*, project: Project, by: User, indicator_code: str, score: Any, comment: str) -> ExpertScore:
    """Record (or change) BY's expert score of PROJECT on an expert-scored indicator, with the reason."""
    project = _visible_project(by, project)
    policy.may_score(by, project).enforce()
    problems: list[Problem] = []
    codes = [i.code for i in expert_indicators(project)]
    if indicator_code not in codes:
        problems.append(
            Problem(
                "unknown_indicator",
                _("%(code)s is not an expert-scored indicator of this programme (%(known)s).")
                % {"code": indicator_code or "—", "known": ", ".join(codes) or "—"},
                "indicator",
            )
        )
    value: Decimal | None = None
    try:
        value = Decimal(str(score))
        if not value.is_finite() or not 0 <= value <= 100:
            raise InvalidOperation
    except (InvalidOperation, ValueError, TypeError):
        problems.append(Problem("out_of_range", _("The score is a number from 0 to 100."), "score"))
    if project.state not in SCORED_STATES:
        problems.append(
            Problem("not_scorable", _("Only approved projects, not rejected or cancelled, are scored."), "project")
        )
    if not (comment or "").strip():
        problems.append(Problem("comment_required", _("Say why in a comment."), "comment"))
    if problems:
        raise DomainError.many(problems)
    assert value is not None  # noqa: S101 — an invariant of our own code, not a check of input
    value = value.quantize(Decimal("0.01"))
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()
        current = ExpertScore.objects.filter(project=project, indicator_code=indicator_code, evaluator=by).first()
        old = current.score if current else None
        if current is None:
            current = ExpertScore.objects.create(
                project=project, indicator_code=indicator_code, evaluator=by, score=value, comment=comment.strip()
            )
        else:
            current.score, current.comment = value, comment.strip()
            current.save(update_fields=["score", "comment", "updated_at"])
        history_record(
            obj=project,
            action="expert_scored",
            actor=by,
            changes={indicator_code: (old, value)},
            comment=comment.strip(),
        )
    return current


def satisfaction_rate(*, project: Project, by: User, score: Any, comment: str = "") -> SatisfactionRating:
    """Record (or change) a recipient officer's satisfaction (1–5) with an accepted or evaluated project."""
    project = _visible_project(by, project)
    policy.may_rate(by, project).enforce()
    problems: list[Problem] = []
    value: int | None = None
    if isinstance(score, bool):
        score = None
    try:
        value = int(str(score))
        if not 1 <= value <= 5:
            raise ValueError
    except (ValueError, TypeError):
        problems.append(Problem("out_of_range", _("The rating is a whole number from 1 to 5."), "score"))
    if project.state not in FINAL_STATES:
        problems.append(
            Problem("not_accepted", _("Satisfaction is rated once the project has been accepted."), "project")
        )
    if problems:
        raise DomainError.many(problems)
    assert value is not None  # noqa: S101 — an invariant of our own code, not a check of input
    with transaction.atomic():
        Project.objects.select_for_update().filter(pk=project.pk).first()
        current = SatisfactionRating.objects.filter(project=project, rated_by=by).first()
        old = current.score if current else None
        if current is None:
            current = SatisfactionRating.objects.create(
                project=project, rated_by=by, score=value, comment=(comment or "").strip()
            )
        else:
            current.score, current.comment = value, (comment or "").strip()
            current.save(update_fields=["score", "comment", "updated_at"])
        history_record(
            obj=project,
            action="satisfaction_rated",
            actor=by,
            changes={"satisfaction": (old, value)},
            comment=(comment or "").strip(),
        )
    return current


# --- runs ----------------------------------------------------------------------------------------------------


def _enqueue(send: Callable[[], Any], what: str) -> None:
    """Queue a task; a broker that is down is logged and left to the reconciler, not raised at the caller."""
    try:
        send()
    except Exception:  # the transports' connection errors vary
        logger.exception("could not queue %s; the reconciler will", what)


def _program_years(program: Program) -> tuple[int, int]:
    today = timezone.localdate()
    return program.start_year, min(program.end_year or today.year, today.year)


def run_start(
    *, program: Program, year: Any, by: User | None, as_of: dt.date | None = None
) -> tuple[EvaluationRun, bool]:
    """Start evaluating PROGRAM's YEAR, or hand back the run already queued or running for it.
    Returns (run, created). The work is queued once the run is committed."""
    policy.may_run(by, program).enforce()
    first, last = _program_years(program)
    try:
        y = int(str(year))
    except (TypeError, ValueError):
        y = None
    if y is None or not first <= y <= last:
        raise DomainError(
            "invalid_year",
            _("%(program)s can be evaluated for the years %(first)s to %(last)s.")
            % {"program": program.name_en or program.name, "first": first, "last": last},
            "year",
        )
    from .tasks import plan_run

    with transaction.atomic():
        Program.objects.select_for_update().filter(pk=program.pk).first()
        existing = EvaluationRun.objects.filter(program=program, year=y, status__in=ACTIVE_RUN_STATUSES).first()
        if existing is not None:
            return existing, False
        framework = framework_current(program)
        try:
            with transaction.atomic():
                run = EvaluationRun.objects.create(
                    program=program,
                    year=y,
                    framework=framework,
                    requested_by=by,
                    as_of=as_of or timezone.localdate(),
                    # Until it is planned: a queued run older than this is planned again by the reconciler.
                )
        except IntegrityError:  # the backstop constraint: someone else's run got in first
            return EvaluationRun.objects.get(program=program, year=y, status__in=ACTIVE_RUN_STATUSES), False
        history_record(obj=run, action="run_started", actor=by, changes={"framework": (None, framework)})
        run_id = run.pk
        transaction.on_commit(lambda: _enqueue(lambda: plan_run.delay(run_id), f"plan_run({run_id})"))
    return run, True


def runs_start_all(*, year: Any, by: User | None) -> list[tuple[EvaluationRun, bool]]:
    """`run_start` for every programme that can be evaluated for YEAR."""
    policy.may_run(by).enforce()
    try:
        y = int(str(year))
    except (TypeError, ValueError):
        raise DomainError("invalid_year", _("The year is a number, e.g. 2010."), "year") from None
    programs = [p for p in Program.objects.order_by("pk") if _program_years(p)[0] <= y <= _program_years(p)[1]]
    if not programs:
        raise DomainError("invalid_year", _("No programme can be evaluated for %(year)s.") % {"year": y}, "year")
    return [run_start(program=p, year=y, by=by) for p in programs]


def _pairings_of(run: EvaluationRun) -> int:
    y0, y1 = dt.date(run.year, 1, 1), dt.date(run.year, 12, 31)
    return Pairing.objects.filter(program_id=run.program_id, start_date__lte=y1).exclude(end_date__lt=y0).count()


def run_plan(run_id: int) -> list[RunChunk]:
    """Cut the run's cohort into chunks (once) and return the chunks still to do. Idempotent. Each try at
    planning counts; past the run's attempts the run fails instead (see `run_plan_failed`)."""
    # The attempt is counted in a transaction of its own (as the final step's): planning that raises, or whose
    # worker dies, every time still uses up its attempts, and the run fails instead of being re-queued forever.
    with transaction.atomic():
        run = EvaluationRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status not in ACTIVE_RUN_STATUSES:
            return []
        if run.status == RunStatus.QUEUED:  # not planned yet (planning sets it running with its chunks)
            run.plan_attempts += 1
            run.save(update_fields=["plan_attempts"])
            if run.plan_attempts > max_attempts():
                _fail(run.pk, None, _planning_failed(run, run.plan_attempts - 1))
                return []
    now = timezone.now()
    with transaction.atomic():
        run = EvaluationRun.objects.select_for_update().filter(pk=run_id).first()
        if run is None or run.status not in ACTIVE_RUN_STATUSES:
            return []
        if not run.chunks.exists():
            ids = scoring.cohort_ids(run)
            size = chunk_size()
            parts = [ids[i : i + size] for i in range(0, len(ids), size)]
            deadline = now + chunk_timeout()
            chunks = [
                RunChunk(
                    run=run,
                    index=i,
                    kind=ChunkKind.PROJECTS,
                    first_id=p[0],
                    last_id=p[-1],
                    size=len(p),
                    deadline=deadline,
                )
                for i, p in enumerate(parts)
            ]
            pairings = _pairings_of(run)
            chunks.append(RunChunk(run=run, index=len(parts), kind=ChunkKind.FINALIZE, size=pairings))
            RunChunk.objects.bulk_create(chunks)
            run.total = len(ids) + pairings
            run.status = RunStatus.RUNNING
            run.started_at = now
            run.error = ""  # the reason an earlier attempt at planning failed, if any
            run.save(update_fields=["total", "status", "started_at", "error"])
        todo = list(run.chunks.exclude(status=ChunkStatus.DONE).order_by("index"))
    projects = [c for c in todo if c.kind == ChunkKind.PROJECTS]
    return projects or [c for c in todo if c.kind == ChunkKind.FINALIZE]


def chunk_execute(chunk_id: int) -> bool:
    """Score one chunk's projects. Returns True when it was the last project chunk to finish (the caller then
    queues the final step). Running it again changes nothing: the scores are upserted and the chunk's progress
    is counted only when it turns done."""
    with transaction.atomic():
        chunk = RunChunk.objects.select_for_update().select_related("run").filter(pk=chunk_id).first()
        if chunk is None or chunk.status == ChunkStatus.DONE or chunk.run.status != RunStatus.RUNNING:
            return False
        chunk.attempts += 1
        chunk.status = ChunkStatus.RUNNING
        chunk.deadline = timezone.now() + chunk_timeout()
        chunk.save(update_fields=["attempts", "status", "deadline"])
        if chunk.attempts > max_attempts():
            _fail(
                chunk.run_id,
                chunk.pk,
                _("Chunk %(n)s did not finish after %(a)s attempts.") % {"n": chunk.index, "a": chunk.attempts - 1},
            )
            return False
    run = chunk.run
    specs = specs_of(run.framework, "project")
    with transaction.atomic():
        scoring.score_projects(run, specs, int(chunk.first_id or 0), int(chunk.last_id or 0))
        turned = (
            RunChunk.objects.filter(pk=chunk.pk)
            .exclude(status=ChunkStatus.DONE)
            .update(status=ChunkStatus.DONE, finished_at=timezone.now(), error="")
        )
        if turned:
            # Progress is the size of the chunks done, not a running count, so a chunk done again (reset and
            # delivered once more) is not counted twice. The run's row lock (NO KEY UPDATE: the scores' foreign
            # keys do not wait for it) orders chunks finishing at once, so each sum sees the others' commits.
            EvaluationRun.objects.select_for_update(no_key=True).filter(pk=run.pk).values_list("pk").first()
            done = RunChunk.objects.filter(run_id=run.pk, kind=ChunkKind.PROJECTS, status=ChunkStatus.DONE).aggregate(
                n=Sum("size")
            )["n"]
            EvaluationRun.objects.filter(pk=run.pk).update(done=done or 0)
    return (
        bool(turned)
        and not RunChunk.objects.filter(run_id=run.pk, kind=ChunkKind.PROJECTS)
        .exclude(status=ChunkStatus.DONE)
        .exists()
    )


def _fail(run_id: int, chunk_id: int | None, reason: str) -> None:
    with transaction.atomic():
        if chunk_id is not None:
            RunChunk.objects.filter(pk=chunk_id).update(status=ChunkStatus.FAILED, error=reason[:2000])
        now = timezone.now()
        failed = EvaluationRun.objects.filter(pk=run_id, status__in=ACTIVE_RUN_STATUSES).update(
            status=RunStatus.FAILED, error=reason[:2000], finished_at=now
        )
        if failed:
            requested = EvaluationRun.objects.filter(pk=run_id).values_list("created_at", flat=True).first()
            if requested is not None:
                seconds = (now - requested).total_seconds()
                transaction.on_commit(lambda: observability.run_finished("failed", seconds))
            transaction.on_commit(lambda: _tell_requester(run_id))
    logger.error("evaluation run %s failed: %s", run_id, reason)


def _tell_requester(run_id: int) -> None:
    """A run finished or failed: a notification (and an e-mail, if they have an address) for whoever asked for
    it. A run nobody asked for (the nightly one) tells nobody."""
    from accounts.services import notify

    run = EvaluationRun.objects.select_related("program").filter(pk=run_id).first()
    if run is None or run.requested_by_id is None or run.status not in (RunStatus.SUCCEEDED, RunStatus.FAILED):
        return
    kind = "run_succeeded" if run.status == RunStatus.SUCCEEDED else "run_failed"
    params = {"run": run.pk, "program": run.program.code, "year": run.year}
    try:
        notify([run.requested_by_id], kind, params, reverse("evaluation:run_detail", args=[run.pk]), mail=True)
    except Exception:  # the run's outcome stands whatever happens to the message
        logger.exception("evaluation run %s: its requester could not be told", run_id)


def chunk_fail(chunk_id: int, reason: str) -> None:
    """A chunk that kept failing: the run fails with the reason (it does not stay running)."""
    chunk = RunChunk.objects.filter(pk=chunk_id).first()
    if chunk is not None:
        _fail(chunk.run_id, chunk.pk, _("Chunk %(n)s failed: %(reason)s") % {"n": chunk.index, "reason": reason})


def run_fail(run_id: int, reason: str) -> None:
    _fail(run_id, None, reason)


def _planning_failed(run: EvaluationRun, attempts: int) -> str:
    reason = _("Planning did not finish after %(a)s attempts.") % {"a": attempts}
    return f"{reason} {run.error}" if run.error else reason


def run_plan_failed(run_id: int, reason: str, *, final: bool) -> None:
    """Planning RUN_ID raised REASON. The reason is kept on the run, still queued, for the reconciler to give
    when the attempts are used up; FINAL (the task's retries are used up): the run fails now, with the reason."""
    reason = (_("Planning failed: %(reason)s") % {"reason": reason})[:2000]
    if final:
        _fail(run_id, None, reason)
    else:
        EvaluationRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(error=reason)


def _compared_run(run: EvaluationRun) -> EvaluationRun | None:
    done = EvaluationRun.objects.filter(program_id=run.program_id, status=RunStatus.SUCCEEDED).exclude(pk=run.pk)
    same_year = done.filter(year=run.year).order_by("-finished_at", "-pk").first()
    return same_year or done.filter(year=run.year - 1).order_by("-finished_at", "-pk").first()


def _flags(measures: Mapping[str, float | None], rule: Any) -> list[dict[str, Any]]:
    flags: list[dict[str, Any]] = []
    for code, measure, minimum in (
        ("county_share_below_minimum", "county_share", getattr(rule, "min_county_share", None)),
        ("livelihood_share_below_minimum", "livelihood_share", getattr(rule, "min_livelihood_share", None)),
    ):
        value = measures.get(measure)
        if minimum is not None and value is not None and value < float(minimum):
            flags.append({"code": code, "value": value, "minimum": float(minimum)})
    fulfilment = measures.get("mandate_fulfilment")
    if fulfilment is not None and fulfilment < 1:
        flags.append({"code": "mandate_shortfall", "value": fulfilment, "minimum": 1.0})
    return flags


def _reasons(specs: Sequence[Spec], cards: Sequence[PairingScorecard]) -> list[dict[str, Any]]:
    """What lifted and what sank an organization's score: per indicator, the points gained and lost (averaged
    over its pairings), the two strongest and two weakest, and the compliance flags."""
    gained: dict[str, list[float]] = defaultdict(list)
    lost: dict[str, list[float]] = defaultdict(list)
    values: dict[str, list[float]] = defaultdict(list)
    for card in cards:
        for line in explain(specs, card.measures):
            if line.score is None:
                continue
            gained[line.spec.code].append(line.contribution)
            lost[line.spec.code].append(line.weight_share - line.contribution)
            if line.value is not None:
                values[line.spec.code].append(line.value)

    def mean(xs: list[float]) -> float:
        return sum(xs) / len(xs)

    def item(kind: str, code: str, points: float) -> dict[str, Any]:
        return {
            "kind": kind,
            "indicator": code,
            "points": round(points, 2),
            "value": mean(values[code]) if values[code] else None,
        }

    # Each indicator is told once: a strength when it won at least as many points as it lost, else a weakness.
    strong = [c for c in sorted(gained, key=lambda c: -mean(gained[c])) if mean(gained[c]) >= mean(lost[c])][:2]
    weak = [c for c in sorted(lost, key=lambda c: -mean(lost[c])) if mean(lost[c]) > max(mean(gained[c]), 0.005)][:2]
    reasons = [item("strength", c, mean(gained[c])) for c in strong]
    reasons += [item("weakness", c, mean(lost[c])) for c in weak]
    seen: set[str] = set()
    for card in cards:
        for flag in card.flags:
            if flag["code"] not in seen:
                seen.add(flag["code"])
                reasons.append({"kind": "flag", **flag})
    return reasons


def run_finalize(run_id: int) -> bool:
    """Scorecards, ranking and the move of accepted projects to `evaluated`, in one transaction, once every
    project chunk is done. Returns True when the run succeeded here; idempotent."""
    # The attempt is counted in a transaction of its own, so that a worker that dies in the middle of the
    # final step every time still uses up its attempts and the run fails instead of being re-queued forever.
    with transaction.atomic():
        run = EvaluationRun.objects.select_for_update(of=("self",)).filter(pk=run_id).first()
        if run is None or run.status != RunStatus.RUNNING:
            return False
        if run.chunks.filter(kind=ChunkKind.PROJECTS).exclude(status=ChunkStatus.DONE).exists():
            return False
        final = RunChunk.objects.select_for_update().filter(run=run, kind=ChunkKind.FINALIZE).first()
        if final is not None:
            final.attempts += 1
            final.status = ChunkStatus.RUNNING
            final.deadline = timezone.now() + chunk_timeout()
            final.save(update_fields=["attempts", "status", "deadline"])
            if final.attempts > max_attempts():
                _fail(
                    run.pk,
                    final.pk,
                    _("The final step did not finish after %(a)s attempts.") % {"a": final.attempts - 1},
                )
                return False
    with transaction.atomic():
        run = (
            EvaluationRun.objects.select_for_update(of=("self",))
            .select_related("program", "framework")
            .filter(pk=run_id)
            .first()
        )
        if run is None or run.status != RunStatus.RUNNING:
            return False
        specs = specs_of(run.framework, "pairing")
        rule = current_rule(run.program, run.year)
        from .curves import score_of

        cards = []
        for row in scoring.pairing_rows(run):
            measures = {s.code: row["measures"].get(s.formula) for s in specs}
            cards.append(
                PairingScorecard(
                    run=run,
                    pairing_id=row["pairing_id"],
                    organization_id=row["organization_id"],
                    score=score_of(specs, measures),
                    measures=measures,
                    flags=_flags(row["measures"], rule),
                    project_count=row["project_count"],
                    insufficient_data_count=row["insufficient_data_count"],
                    budget=Decimal(str(round(row["budget"], 2))),
                )
            )
        PairingScorecard.objects.bulk_create(
            cards,
            update_conflicts=True,
            unique_fields=["run", "pairing"],
            update_fields=[
                "organization",
                "score",
                "measures",
                "flags",
                "project_count",
                "insufficient_data_count",
                "budget",
            ],
        )
        compared = _compared_run(run)
        previous = {r.organization_id: r for r in Ranking.objects.filter(run=compared)} if compared else {}
        parents = dict(Pairing.objects.filter(pk__in=[c.pairing_id for c in cards]).values_list("pk", "parent_id"))
        by_org: dict[int, list[PairingScorecard]] = defaultdict(list)
        for card in cards:
            if parents.get(card.pairing_id) is None and card.score is not None:
                by_org[card.organization_id].append(card)
        means = sorted(
            ((sum(c.score or 0 for c in cs) / len(cs), org) for org, cs in by_org.items()), key=lambda x: (-x[0], x[1])
        )
        rankings, place = [], 0
        for i, (score, org) in enumerate(means):
            if i == 0 or round(score, 6) != round(means[i - 1][0], 6):
                place = i + 1
            before = previous.get(org)
            rankings.append(
                Ranking(
                    run=run,
                    organization_id=org,
                    score=score,
                    grade=grade_for(score, run.framework.grade_bands),
                    rank=place,
                    previous_rank=before.rank if before else None,
                    previous_score=before.score if before else None,
                    pairing_count=len(by_org[org]),
                    reasons=_reasons(specs, by_org[org]),
                )
            )
        Ranking.objects.filter(run=run).exclude(organization_id__in=[r.organization_id for r in rankings]).delete()
        Ranking.objects.bulk_create(
            rankings,
            update_conflicts=True,
            unique_fields=["run", "organization"],
            update_fields=["score", "grade", "rank", "previous_rank", "previous_score", "pairing_count", "reasons"],
        )
        final_scores: dict[int, float] = {
            pk: float(score or 0)
            # Accepted when scored (the row keeps the state; no join to the projects): `project_evaluate_many`
            # checks each one is still accepted under its lock.
            for pk, score in ProjectScore.objects.filter(run=run, state="accepted", score__isnull=False).values_list(
                "project_id", "score"
            )
        }
        project_evaluate_many(scores=final_scores, run=run.pk)
        now = timezone.now()
        RunChunk.objects.filter(run=run, kind=ChunkKind.FINALIZE).update(
            status=ChunkStatus.DONE, finished_at=now, error=""
        )
        run.status = RunStatus.SUCCEEDED
        run.done = run.total
        run.finished_at = now
        run.compared_with = compared
        run.save(update_fields=["status", "done", "finished_at", "compared_with"])
        seconds = (now - run.created_at).total_seconds()
        transaction.on_commit(lambda: observability.run_finished("succeeded", seconds))
        transaction.on_commit(lambda: _tell_requester(run_id))
    return True


def runs_reconcile(now: dt.datetime | None = None) -> dict[str, int]:
    """Re-queue what is stuck: chunks pending or running past their deadline (a worker died, a message was
    lost), final steps whose chunks are all done, runs queued but never planned. A chunk, a final step or a
    planning past its attempts fails its run. Returns counts of what it did."""
    from .tasks import finalize_run, plan_run, score_chunk

    now = now or timezone.now()
    counts = {"chunks": 0, "finalize": 0, "plans": 0}
    stale = now - chunk_timeout()
    for run in EvaluationRun.objects.filter(status=RunStatus.QUEUED, created_at__lt=stale):
        if run.plan_attempts >= max_attempts():
            _fail(run.pk, None, _planning_failed(run, run.plan_attempts))
            continue
        counts["plans"] += 1
        _enqueue(partial(plan_run.delay, run.pk), f"plan_run({run.pk})")
    stuck = RunChunk.objects.filter(
        run__status=RunStatus.RUNNING,
        status__in=[ChunkStatus.PENDING, ChunkStatus.RUNNING],
        kind=ChunkKind.PROJECTS,
        deadline__lt=now,
    )
    for chunk in stuck:
        if chunk.attempts >= max_attempts():
            chunk_fail(chunk.pk, _("it did not finish after %(a)s attempts") % {"a": chunk.attempts})
            continue
        RunChunk.objects.filter(pk=chunk.pk).update(deadline=now + chunk_timeout())
        counts["chunks"] += 1
        _enqueue(partial(score_chunk.delay, chunk.pk), f"score_chunk({chunk.pk})")
    for run in EvaluationRun.objects.filter(status=RunStatus.RUNNING):
        if run.chunks.filter(kind=ChunkKind.PROJECTS).exclude(status=ChunkStatus.DONE).exists():
            continue
        final = run.chunks.filter(kind=ChunkKind.FINALIZE).first()
        if final is None or (final.deadline is not None and final.deadline >= now):
            continue
        if final.attempts >= max_attempts():
            _fail(run.pk, final.pk, _("The final step did not finish after %(a)s attempts.") % {"a": final.attempts})
            continue
        RunChunk.objects.filter(pk=final.pk).update(deadline=now + chunk_timeout())
        counts["finalize"] += 1
        _enqueue(partial(finalize_run.delay, run.pk), f"finalize_run({run.pk})")
    return counts


def nightly_runs() -> list[int]:
    """The scheduled run: this year of every programme still running. Returns the runs started or found."""
    year = timezone.localdate().year
    out = []
    for program in Program.objects.order_by("pk"):
        first, last = _program_years(program)
        if first <= year <= last:
            run, _created = run_start(program=program, year=year, by=None)
            out.append(run.pk)
    return out
