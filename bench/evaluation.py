#!/usr/bin/env python
"""An evaluation run against its limit and its peer, on the synthetic data set in PostgreSQL.

    .venv/bin/python bench/evaluation.py --projects 100000     (or: make bench-evaluation; `make bench` runs both)

What "a full evaluation of the 100k data set" means here: a run of a programme's year scores the programme's
portfolio as it stands, every project planned to start by the end of that year, approved onwards (draft, proposed,
rejected and cancelled projects are not scored, by design; `evaluation.scoring.cohort_ids`). A run of a
programme's latest evaluable year (the last year `run_start` accepts: its end year, or this year while it runs)
therefore scores every scored project of the programme a run can reach, and evaluating the data set is **one run
per programme, of its latest evaluable year** (3: Wenchuan 2010, Xizang and Xinjiang this year); (a) is the sum of
those runs' times. The scored projects no run can reach (planned to start after their programme's last evaluable
year: after Wenchuan's end, or next year) are counted and printed.

One round measures, one after the other — (b) and (c) before (a), so that the three score the projects in the same
states (the first round of (a) moves the accepted projects to `evaluated`, and a score row keeps the state the
project was scored in):

(b) the limit: the same project scores from a pure-SQL statement set, one ``INSERT … SELECT`` per programme over
    the same cohort, of what a run's ProjectScore rows hold (project, pairing, score, the measures as JSON, final
    or not, and what the row keeps of the project: state, budget, the county-level, livelihood and
    self-sustaining flags) into a scratch table without indexes, built from
    `scoring.project_scores_select_sql(specs, required=…, with_bounds=False)` (the framework's coverage rule) with
    `y1` the run's year's 31 December and the same `as_of`. No chunks, no bookkeeping, no scorecards: what computing and keeping the scores costs at the
    least;
(c) the peer: the textbook per-object ORM loop — for each project of the cohort (with its location and its
    pairing's recipient region joined in): its inspections, rectifications, fund flows, satisfaction ratings and
    expert scores fetched through the ORM (one query each, no prefetch), the measures computed in Python (the
    definitions of `evaluation.measures`), the curves, the weighted sum and the coverage rule
    (`evaluation.coverage.judge`), and a
    ProjectScore saved with `.save()`. At 100k projects it would take minutes a round, so it is measured on a
    deterministic sample (every k-th scored project of the cohorts in id order, `--peer-sample`, 2,000 by default)
    and **extrapolated per project to (a)'s project count**; both the measured and the scaled figure are printed;
(a) the project's code path: `evaluation.services.run_start(program, year, by=None)` for each programme's latest
    year in turn, with Celery eager (no broker: CELERY_TASK_ALWAYS_EAGER), called outside any transaction so that
    its `on_commit` enqueue fires at once and `plan_run` → `score_chunk` × n → `finalize_run` run in the process
    exactly as a worker runs them: the cohort cut into chunks of EVALUATION_CHUNK_SIZE ids, one upsert statement
    per chunk, then the pairing scorecards, the ranking with its reasons and the move of accepted projects to
    `evaluated`. Timed from the call to `run_start` until it returns, every run checked succeeded. The time is
    split by stage (`run_plan`, `chunk_execute`, `run_finalize` and, inside it, `project_evaluate_many`, each
    wrapped with a timer) and the two statements that matter (the scoring upsert, the pairing measures) are timed
    with an execute wrapper.

Every round, (b)'s rows and (c)'s are checked equal to (a)'s ProjectScore rows: the same projects (all of them for
(b), the sample for (c)), scores and measured values to 1e-9, the same finality, state, budget and flags.

The first round moves the accepted projects to `evaluated` (a one-off write: a history event each); it is printed
on its own, and the medians are over the following `--rounds` rounds (3 by default), for (a), (b) and (c) alike.

It prints the data set, the runs, the medians of (a), (b) and (c) in seconds and in ms per 1,000 projects, a/b
(target ≤ 2) and c/a (target ≥ 20) with PASS/FAIL, and where (a)'s time goes. `--profile` adds a cProfile of one
more round of (a).

The database (default ``duikou_bench_eval``, its own: the project-list benchmark uses ``duikou_bench``) is created
when missing, migrated, and filled with ``generate_projects --projects N`` unless it already holds exactly N
synthetic projects and nothing else. The generator writes no evaluation inputs, so the benchmark adds them once,
deterministically (two recipient raters' satisfaction ratings on about half the accepted projects, two evaluators'
expert scores on about a third of the scored ones, from inactive ``bench-*`` users), so that (a), (b) and (c)
read every table a score depends on. Every invocation starts from the same state: the runs and results of earlier
invocations are deleted and the projects they moved to `evaluated` are put back to `accepted` with their
`evaluate` history events deleted — by SQL, in this database of synthetic projects only (it refuses one that
holds real projects), as `generate_projects --replace` deletes synthetic projects' history. The settings are the
production ones (DEBUG off, the connection pool), with a throwaway secret key and no Celery broker.

    .venv/bin/python bench/evaluation.py --projects 100000 --workers 1,2 --rounds 2   (make bench-evaluation-workers)

`--workers` measures instead the same three runs through real Celery workers: for each count N in turn (1, 2, 1,
2 with `--rounds 2`), `celery -A config worker --pool prefork --concurrency N` on the evaluation queue is started
(production settings, the broker a Redis database of this mode's own, `--broker`, default redis://…/7, emptied
before each round), `run_start` is called for the three runs with Celery not eager (each run queued on the broker
at its commit), and the round is timed until every run row says succeeded (polled every 50 ms); the worker is
stopped after. Its database is its own (default ``duikou_bench_workers``, created as a copy of ``duikou_bench``
when it can be). A first round, not counted, pays the one-off move to `evaluated`; every later round's scores are
checked equal to the first counted round's. It prints each round's wall time, the cores used meanwhile by the
worker's processes, PostgreSQL, this process and the rest of the machine (CPU time from /proc), how many chunks
ran at a time on average (the chunks' own times added up over the wall time), the medians, the ratio of 2
processes to 1 (target ≤ 0.7) and, when it is missed, what was saturated.
"""

import argparse
import contextlib
import cProfile
import datetime as dt
import io
import json
import logging
import math
import os
import platform
import pstats
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# This file is called evaluation.py: the app of that name must win over it on the import path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/duikou_bench_eval"
#: The workers mode's own database (a copy of the project-list benchmark's `duikou_bench` when it is created) and
#: Redis database: it purges its queue, which must meet no one else's worker.
WORKERS_URL = "postgres://postgres@127.0.0.1:5432/duikou_bench_workers"
WORKERS_TEMPLATE = "duikou_bench"
WORKERS_BROKER = "redis://127.0.0.1:6379/7"
WORKERS_TARGET = 0.7
TARGETS = {"a/b": 2.0, "c/a": 20.0}
TOLERANCE = 1e-9
SCRATCH = "bench_eval_scores"
BENCH_USERS = {"rater": ("bench-rater-1", "bench-rater-2"), "evaluator": ("bench-evaluator-1", "bench-evaluator-2")}


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    p.add_argument("--projects", type=int, default=100_000, help="Size of the data set (default 100000).")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--database-url", default=None, help=f"Default {DEFAULT_URL} ({WORKERS_URL} with --workers).")
    p.add_argument("--settings", default="config.settings.production")
    p.add_argument("--rounds", type=int, default=3, help="Rounds measured after the first (default 3).")
    p.add_argument("--peer-sample", type=int, default=2000, help="Projects of the sample (c) is measured on.")
    p.add_argument("--regenerate", action="store_true", help="Generate the data set again even if it is there.")
    p.add_argument("--profile", action="store_true", help="Also profile one more round of (a) with cProfile.")
    p.add_argument(
        "--workers",
        default="",
        help="Instead of (a), (b) and (c): the runs through real Celery workers with this many worker processes "
        "each, in turn (e.g. 1,2; --rounds times over, interleaved). Database default duikou_bench_workers.",
    )
    p.add_argument(
        "--broker",
        default=os.environ.get("BENCH_WORKERS_BROKER_URL", WORKERS_BROKER),
        help=f"The Redis database the workers mode owns (emptied at each round; default {WORKERS_BROKER}).",
    )
    args = p.parse_args(argv)
    if args.database_url is None:
        args.database_url = (
            os.environ.get("BENCH_WORKERS_DATABASE_URL", WORKERS_URL)
            if args.workers
            else os.environ.get("BENCH_EVAL_DATABASE_URL", DEFAULT_URL)
        )
    return args


def ensure_database(url: str, template: str = "") -> None:
    """Create the database of URL when it does not exist (connecting to the server's `postgres` database): a copy
    of TEMPLATE when it is given, exists and nobody is connected to it (no need to generate the data set again),
    else empty."""
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    maintenance = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None:
            return
        if template and conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [template]).fetchone():
            try:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
                )
                print(f"Created database {name}, a copy of {template}.")
                return
            except psycopg.errors.ObjectInUse:
                print(f"{template} is in use: {name} is created empty and filled.")
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        print(f"Created database {name}.")


def setup_django(args: argparse.Namespace) -> None:
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = args.settings
    os.environ.setdefault("DJANGO_SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "localhost")
    os.environ.setdefault("DJANGO_LOG_LEVEL", "WARNING")
    # No broker: the settings make Celery eager, so a run's tasks run in this process as a worker runs them. The
    # workers mode queues them on its broker instead, for the worker processes it starts.
    os.environ["CELERY_BROKER_URL"] = args.broker if args.workers else ""
    os.environ["CELERY_RESULT_BACKEND"] = ""
    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    # Eager Celery still builds a (never connected) broker connection to learn the serializer; kombu warns once
    # that it has no host name. Nothing is sent anywhere.
    logging.getLogger("kombu.connection").setLevel(logging.ERROR)
    from config.celery_app import app

    if args.workers and app.conf.task_always_eager:
        sys.exit("Celery is eager with these settings: the workers would get nothing to do.")
    if not args.workers and not app.conf.task_always_eager:
        sys.exit("Celery is not eager with these settings: (a) would only queue the tasks.")


def _sql(statements: Sequence[str], params: Any = None) -> list[int]:
    from django.db import connection

    counts = []
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, params)
            counts.append(cursor.rowcount)
    return counts


def _t(model: Any) -> str:
    from django.db import connection

    return str(connection.ops.quote_name(model._meta.db_table))


# --- data set ------------------------------------------------------------------------------------------------


def prepare_data(args: argparse.Namespace) -> None:
    from django.core.management import call_command

    from projects.models import Project

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    synthetic = Project.objects.filter(is_synthetic=True).count()
    other = Project.objects.filter(is_synthetic=False).count()
    if other:
        sys.exit(f"The bench database holds {other} projects that are not synthetic; use an empty database.")
    if synthetic == args.projects and not args.regenerate:
        print(f"Data set: {synthetic} synthetic projects already there (reused).")
    else:
        # The generator deletes synthetic projects but knows nothing of the evaluation rows that refer to them.
        reset_evaluation(inputs=True)
        print(f"Generating {args.projects} synthetic projects (seed {args.seed})…", flush=True)
        call_command("generate_projects", projects=args.projects, seed=args.seed, replace=True, verbosity=1)
        print(f"Data set ready in {time.perf_counter() - t0:.1f} s.")
    added = ensure_inputs()
    if added:
        print(f"Evaluation inputs added: {added[0]} satisfaction ratings, {added[1]} expert scores.")


def reset_evaluation(*, inputs: bool = False) -> int:
    """Delete every run and what runs wrote, and put the projects runs moved to `evaluated` back to `accepted`
    (deleting those `evaluate` history events): every invocation starts from the generated state. INPUTS also
    deletes the satisfaction ratings and expert scores. Returns how many projects went back to `accepted`."""
    from django.contrib.contenttypes.models import ContentType

    from core.models import HistoryEvent
    from evaluation.models import (
        EvaluationRun,
        ExpertScore,
        PairingScorecard,
        ProjectScore,
        Ranking,
        RunChunk,
        SatisfactionRating,
    )
    from projects.models import Project

    project_ct = ContentType.objects.get_for_model(Project).pk
    run_ct = ContentType.objects.get_for_model(EvaluationRun).pk
    history, projects = _t(HistoryEvent), _t(Project)
    statements = [
        f"DELETE FROM {history} WHERE content_type_id = {project_ct} AND action = 'evaluate'"
        f" AND object_id IN (SELECT id FROM {projects} WHERE is_synthetic)",
        f"UPDATE {projects} SET state = 'accepted' WHERE is_synthetic AND state = 'evaluated'",
        f"DELETE FROM {history} WHERE content_type_id = {run_ct}",
        *(f"DELETE FROM {_t(m)}" for m in (Ranking, PairingScorecard, ProjectScore, RunChunk)),
        f"UPDATE {_t(EvaluationRun)} SET compared_with_id = NULL",
        f"DELETE FROM {_t(EvaluationRun)}",
    ]
    if inputs:
        statements += [f"DELETE FROM {_t(SatisfactionRating)}", f"DELETE FROM {_t(ExpertScore)}"]
    counts = _sql(statements)
    return counts[1]


def vacuum() -> None:
    """Statistics and the visibility map after the resets, so that every invocation plans alike."""
    from django.db import connection

    from core.models import HistoryEvent
    from evaluation.models import EvaluationRun, PairingScorecard, ProjectScore, Ranking, RunChunk
    from projects.models import Project

    if connection.vendor == "postgresql" and connection.get_autocommit():
        _sql(
            [
                f"VACUUM (ANALYZE) {_t(m)}"
                for m in (Project, HistoryEvent, ProjectScore, RunChunk, EvaluationRun, PairingScorecard, Ranking)
            ]
        )


def bench_users() -> dict[str, list[Any]]:
    """The inactive raters and evaluators whose ratings and scores the benchmark adds (made once)."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import Organization, User

    org = Organization.objects.order_by("pk").first()
    if org is None:
        raise SystemExit("No organization in the database: is the reference data loaded?")
    out: dict[str, list[Any]] = {}
    for kind, names in BENCH_USERS.items():
        out[kind] = [
            User.objects.get_or_create(
                username=name, defaults={"organization": org, "is_active": False, "password": make_password(None)}
            )[0]
            for name in names
        ]
    return out


def ensure_inputs() -> tuple[int, int] | None:
    """Satisfaction ratings and expert scores, once, drawn from the project id (deterministic for a data set):
    each of two raters rates about half the accepted projects (1–5, mostly 3–5); each of two evaluators scores
    about a third of the scored projects on every expert-scored indicator (50.00–100.00). None if there are."""
    from evaluation import services
    from evaluation.measures import FINAL_STATES, SCORED_STATES
    from evaluation.models import ExpertScore, SatisfactionRating
    from pairings.models import Program
    from projects.models import Project

    if SatisfactionRating.objects.exists() or ExpertScore.objects.exists():
        return None
    users = bench_users()
    codes = sorted(
        {
            i.code
            for program in Program.objects.all()
            for i in services.framework_current(program).indicators.all()
            if i.formula == "expert"
        }
    )
    final = ", ".join(f"'{s}'" for s in FINAL_STATES)
    scored = ", ".join(f"'{s}'" for s in SCORED_STATES)
    ratings = experts = 0
    for k, rater in enumerate(users["rater"], start=1):
        ratings += _sql(
            [
                f"INSERT INTO {_t(SatisfactionRating)} (project_id, rated_by_id, score, comment, created_at, updated_at)"
                f" SELECT id, %(user)s, (ARRAY[2, 3, 4, 4, 5])[1 + (id * 31 + %(k)s * 17) %% 5], 'synthetic', now(),"
                f" now() FROM {_t(Project)} WHERE is_synthetic AND state IN ({final}) AND (id * 7 + %(k)s) %% 10 < 5"
            ],
            {"user": rater.pk, "k": k},
        )[0]
    for k, evaluator in enumerate(users["evaluator"], start=1):
        for j, code in enumerate(codes):
            experts += _sql(
                [
                    f"INSERT INTO {_t(ExpertScore)} (project_id, indicator_code, evaluator_id, score, comment,"
                    f" created_at, updated_at) SELECT id, %(code)s, %(user)s,"
                    f" 50 + ((id * 7919 + %(k)s * 104729 + %(j)s) %% 5001) / 100.0, 'synthetic', now(), now()"
                    f" FROM {_t(Project)} WHERE is_synthetic AND state IN ({scored}) AND (id * 13 + %(k)s) %% 3 = 0"
                ],
                {"user": evaluator.pk, "k": k, "j": j, "code": code},
            )[0]
    _sql([f"ANALYZE {_t(SatisfactionRating)}", f"ANALYZE {_t(ExpertScore)}"])
    return ratings, experts


# --- the runs ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cohort:
    program: Any  # pairings.models.Program
    year: int  # the programme's latest evaluable year: the run's year
    projects: int  # scored projects (approved onwards) planned to start by the end of the year
    since: int  # the year the earliest of them is planned to start in

    @property
    def label(self) -> str:
        return f"{self.program.code} {self.year}"

    @property
    def y1(self) -> dt.date:
        return dt.date(self.year, 12, 31)


def cohorts() -> tuple[list[Cohort], int]:
    """One run per programme, of its latest evaluable year (the last year `run_start` accepts: the programme's
    end year, or this year while it runs): it scores the programme's portfolio as it stands, every scored project
    planned to start by the end of that year. Returns those runs' cohorts (programmes with scored projects, in
    programme order) and how many scored projects no run reaches (planned to start after their programme's last
    evaluable year, or without a planned start)."""
    from django.db.models import Count, Min, Q

    from evaluation import services
    from evaluation.measures import SCORED_STATES
    from pairings.models import Program
    from projects.models import Project

    out, unreachable = [], 0
    for program in Program.objects.order_by("code"):
        first, last = services._program_years(program)
        y1 = dt.date(last, 12, 31)
        counts = Project.objects.filter(pairing__program=program, state__in=SCORED_STATES).aggregate(
            every=Count("id"),
            reached=Count("id", filter=Q(planned_start__lte=y1)),
            since=Min("planned_start"),
        )
        reached = counts["reached"] if first <= last else 0
        unreachable += counts["every"] - reached
        if reached:
            out.append(Cohort(program, last, reached, counts["since"].year))
    return out, unreachable


# --- (a) the project's code path -----------------------------------------------------------------------------


@dataclass
class Stages:
    """Seconds spent in each stage of the runs of one round of (a)."""

    total: float = 0.0
    by: dict[str, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.by[name] = self.by.get(name, 0.0) + seconds
        self.counts[name] = self.counts.get(name, 0) + 1


SQL_KINDS = (
    ('INSERT INTO "evaluation_projectscore"', "sql: scoring upsert"),
    ('LEFT JOIN "pairings_annualmandate"', "sql: pairing measures"),
)


@contextlib.contextmanager
def staged(stages: Stages) -> Iterator[None]:
    """Time the service steps the tasks call (the tasks look them up on the module at each call) and the SQL of
    the statements that do the scoring."""
    from django.db import connection

    from evaluation import services

    names = ("run_plan", "chunk_execute", "run_finalize", "project_evaluate_many")
    originals = {name: getattr(services, name) for name in names}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                stages.add(name, time.perf_counter() - t0)

        return wrapper

    def sql_timer(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            kind = next((label for marker, label in SQL_KINDS if marker in sql), None)
            if kind:
                stages.add(kind, time.perf_counter() - t0)

    for name, fn in originals.items():
        setattr(services, name, timed(name, fn))
    try:
        with connection.execute_wrapper(sql_timer):
            yield
    finally:
        for name, fn in originals.items():
            setattr(services, name, fn)


def evaluate_all(groups: Sequence[Cohort], as_of: dt.date, stages: Stages | None = None) -> list[int]:
    """(a): one run per cohort, each through `run_start` to its end (Celery eager); returns the run ids.
    Must be called outside any transaction (the run's tasks are queued on commit)."""
    from django.db import connection

    from evaluation import services
    from evaluation.models import EvaluationRun, RunStatus

    if connection.in_atomic_block:
        raise RuntimeError("(a) must run outside a transaction: run_start queues its work on commit.")
    stages = stages if stages is not None else Stages()
    ids = []
    with staged(stages):
        t0 = time.perf_counter()
        for cohort in groups:
            run, created = services.run_start(program=cohort.program, year=cohort.year, by=None, as_of=as_of)
            ids.append(run.pk)
            if not created:
                raise SystemExit(f"A run of {cohort.label} was already active: #{run.pk}.")
        stages.total = time.perf_counter() - t0
    runs = dict(EvaluationRun.objects.filter(pk__in=ids).values_list("pk", "status"))
    failed = [pk for pk in ids if runs.get(pk) != RunStatus.SUCCEEDED]
    if failed:
        errors = list(EvaluationRun.objects.filter(pk__in=failed).values_list("pk", "status", "error"))
        raise SystemExit(f"Runs that did not succeed: {errors}")
    return ids


#: What a ProjectScore row keeps of the project as it was scored, beside the score and the measures.
KEPT = ("state", "budget", "at_county_level", "is_livelihood", "is_self_sustaining")
#: project → (score, measures, final, the KEPT values)
Scores = dict[int, tuple[float | None, dict[str, Any], bool, tuple[Any, ...]]]


def run_scores(run_ids: Sequence[int]) -> Scores:
    from evaluation.models import ProjectScore

    rows = ProjectScore.objects.filter(run_id__in=run_ids).values_list(
        "project_id", "score", "measures", "is_final", *KEPT
    )
    out: Scores = {}
    for project_id, score, measures, final, *kept in rows:
        if project_id in out:
            raise SystemExit(f"Project {project_id} was scored twice in one round.")
        out[project_id] = (score, measures, final, tuple(kept))
    return out


# --- (b) the limit -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Statement:
    label: str
    sql: str
    params: dict[str, Any]


def limit_statements(groups: Sequence[Cohort], as_of: dt.date) -> list[Statement]:
    """(b): per cohort (a programme's portfolio up to its latest year), one INSERT … SELECT into the scratch table
    of what the run's ProjectScore rows hold, from the scoring SELECT the runs use, over the whole cohort at once.
    The project indicators are those of the framework a run uses now (`framework_current`)."""
    from evaluation import scoring, services
    from evaluation.measures import FINAL_STATES

    final = ", ".join(f"'{s}'" for s in FINAL_STATES)
    inserts = []
    for cohort in groups:
        framework = services.framework_current(cohort.program)
        specs = services.specs_of(framework, "project")
        select = scoring.project_scores_select_sql(specs, required=framework.min_coverage, with_bounds=False)
        measures = "jsonb_build_object({})".format(", ".join(f"'{s.code}', r.v{i}" for i, s in enumerate(specs)))
        insert = (
            f"INSERT INTO {SCRATCH} (project_id, pairing_id, score, measures, is_final, {', '.join(KEPT)})"
            f" SELECT r.id, r.pairing_id, r.score, {measures}, r.state IN ({final}), r.state,"
            " COALESCE(r.approved_budget, 0), r.at_county_level, r.is_livelihood, r.is_self_sustaining"
            f" FROM ({select}) r"
        )
        # The project SQL takes the end of the year only (`y1`); the year's start is the pairing measures'.
        params = {"program": cohort.program.pk, "y1": cohort.y1, "as_of": as_of}
        inserts.append(Statement(cohort.label, insert, params))
    return inserts


def create_scratch() -> None:
    _sql(
        [
            f"DROP TABLE IF EXISTS {SCRATCH}",
            f"CREATE TABLE {SCRATCH} (project_id bigint NOT NULL, pairing_id bigint NOT NULL,"
            " score double precision, measures jsonb NOT NULL, is_final boolean NOT NULL,"
            " state varchar(16) NOT NULL, budget numeric(18, 2) NOT NULL, at_county_level boolean NOT NULL,"
            " is_livelihood boolean NOT NULL, is_self_sustaining boolean NOT NULL)",
        ]
    )


def drop_scratch() -> None:
    _sql([f"DROP TABLE IF EXISTS {SCRATCH}"])


def limit_insert(statements: Sequence[Statement]) -> tuple[float, int]:
    """Run (b)'s statements into the emptied scratch table; returns (seconds, rows). The TRUNCATE is not timed."""
    from django.db import connection, transaction

    _sql([f"TRUNCATE {SCRATCH}"])
    rows = 0
    t0 = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for s in statements:
            cursor.execute(s.sql, s.params)
            rows += cursor.rowcount
    return time.perf_counter() - t0, rows


def scratch_scores() -> Scores:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT project_id, score, measures, is_final, {', '.join(KEPT)} FROM {SCRATCH}")
        # Django has psycopg hand JSON over as text (its JSONField decodes it).
        return {
            r[0]: (r[1], json.loads(r[2]) if isinstance(r[2], str) else r[2], r[3], tuple(r[4:]))
            for r in cursor.fetchall()
        }


# --- (c) the peer --------------------------------------------------------------------------------------------


def _clamp01(x: float) -> float:
    return 0.0 if x < 0 else 1.0 if x > 1 else x


def peer_measures(
    project: Any,
    specs: Sequence[Any],
    as_of: dt.date,
    inspections: Sequence[Any],
    rectifications: Sequence[Any],
    flows: Sequence[Any],
    ratings: Sequence[Any],
    experts: Sequence[Any],
) -> dict[str, float | None]:
    """A project's measures, keyed by indicator code, computed in Python from its rows (`evaluation.measures`)."""
    sums: dict[str, Decimal] = {"commitment": Decimal(0), "disbursement": Decimal(0), "expenditure": Decimal(0)}
    for flow in flows:
        if flow.kind in sums:
            sums[flow.kind] += flow.amount
    out: dict[str, float | None] = {}
    for spec in specs:
        value: float | None = None
        f = spec.formula
        if f == "on_time_completion":
            if project.planned_end is not None:
                late = float(((project.actual_end or as_of) - project.planned_end).days)
                duration = (
                    365.0
                    if project.planned_start is None
                    else float((project.planned_end - project.planned_start).days)
                )
                value = _clamp01(1.0 - max(late, 0.0) / (1.0 if duration < 1 else duration))
        elif f == "budget_adherence":
            budget = project.approved_budget
            if budget is not None and budget > 0:
                value = _clamp01(2.0 - float(sums["expenditure"]) / float(budget))
        elif f == "inspection_pass_rate":
            if inspections:
                value = sum(1 for i in inspections if i.result == "passed") / len(inspections)
        elif f == "rectification_closure":
            due = sum(1 for r in rectifications if r.closed_on is not None or r.deadline <= as_of)
            on_time = sum(1 for r in rectifications if r.closed_on is not None and r.closed_on <= r.deadline)
            value = on_time / due if due else None
        elif f == "beneficiaries_reached":
            expected, reached = project.expected_beneficiaries, project.reached_beneficiaries
            if expected and reached is not None:
                value = float(reached) / float(expected)
        elif f == "project_funds_delivery":
            if sums["commitment"] > 0:
                value = float(sums["disbursement"]) / float(sums["commitment"])
        elif f == "recipient_satisfaction":
            if ratings:
                value = sum(float(r.score) for r in ratings) / len(ratings)
        elif f == "expert":
            mine = [float(e.score) for e in experts if e.indicator_code == spec.code]
            value = sum(mine) / len(mine) if mine else None
        out[spec.code] = value
    return out


def peer_runs(groups: Sequence[Cohort], as_of: dt.date) -> dict[tuple[int, int], Any]:
    """A run row per cohort for (c)'s scores to hang from: failed from the start, so that nothing (a
    ranking's trend, the one-active-run rule) ever takes it for a real run."""
    from evaluation import services
    from evaluation.models import EvaluationRun, RunStatus

    return {
        (c.program.pk, c.year): EvaluationRun.objects.create(
            program=c.program,
            year=c.year,
            framework=services.framework_current(c.program),
            status=RunStatus.FAILED,
            as_of=as_of,
            error="benchmark peer (c): not a run",
        )
        for c in groups
    }


def peer_sample(groups: Sequence[Cohort], size: int) -> dict[tuple[int, int], list[int]]:
    """Every k-th scored project (id order) of all the cohorts, about SIZE of them, by cohort (programme, year)."""
    from django.db.models import Q

    from evaluation.measures import SCORED_STATES
    from projects.models import Project

    year = {c.program.pk: c.year for c in groups}
    q = Q(pk__in=[])
    for c in groups:
        q |= Q(pairing__program_id=c.program.pk, planned_start__lte=c.y1)
    rows = list(
        Project.objects.filter(q, state__in=SCORED_STATES).order_by("pk").values_list("pk", "pairing__program_id")
    )
    step = max(1, math.ceil(len(rows) / size)) if size > 0 else len(rows) + 1
    out: dict[tuple[int, int], list[int]] = {}
    for pk, program_id in rows[::step]:
        out.setdefault((program_id, year[program_id]), []).append(pk)
    return out


def peer(runs: Mapping[tuple[int, int], Any], sample: Mapping[tuple[int, int], list[int]]) -> tuple[float, int]:
    """(c): the per-object loop over the sampled projects of each cohort; returns (seconds, projects)."""
    from evaluation.coverage import judge
    from evaluation.curves import Spec
    from evaluation.measures import COUNTY_LEVELS, FINAL_STATES, SCORED_STATES
    from evaluation.models import ExpertScore, ProjectScore, SatisfactionRating
    from pairings.models import FundFlow
    from projects.models import Inspection, Project, Rectification

    n = 0
    t0 = time.perf_counter()
    for key, ids in sample.items():
        run = runs[key]
        specs = [Spec.of(i) for i in run.framework.indicators.all() if i.level == "project"]
        # The project's location and its pairing's recipient region come with it (a join, not a query each).
        cohort = (
            Project.objects.filter(
                pairing__program_id=run.program_id,
                planned_start__lte=dt.date(run.year, 12, 31),
                state__in=SCORED_STATES,
                pk__in=ids,
            )
            .select_related("location", "pairing__recipient_region")
            .order_by("pk")
        )
        for project in cohort:
            region = project.location if project.location_id else project.pairing.recipient_region
            measures = peer_measures(
                project,
                specs,
                run.as_of,
                list(Inspection.objects.filter(project=project)),
                list(Rectification.objects.filter(project=project)),
                list(FundFlow.objects.filter(project_id=project.pk)),
                list(SatisfactionRating.objects.filter(project=project)),
                list(ExpertScore.objects.filter(project=project)),
            )
            status, coverage, score = judge(specs, measures, run.framework.min_coverage)
            ProjectScore(
                run=run,
                project=project,
                pairing_id=project.pairing_id,
                score=score,
                status=status,
                coverage=coverage,
                measures=measures,
                is_final=project.state in FINAL_STATES,
                state=project.state,
                budget=project.approved_budget or 0,
                at_county_level=region is not None and region.level in COUNTY_LEVELS,
                is_livelihood=project.is_livelihood,
                is_self_sustaining=project.is_self_sustaining,
            ).save()
            n += 1
    return time.perf_counter() - t0, n


# --- checking ------------------------------------------------------------------------------------------------


def _close(x: Any, y: Any) -> bool:
    if x is None or y is None:
        return x is None and y is None
    return abs(float(x) - float(y)) <= TOLERANCE


def differences(expected: Scores, got: Scores, *, subset: bool = False, limit: int = 5) -> list[str]:
    """What differs between two sets of scores (project → score, measures, final, kept): projects missing or
    extra, scores or measured values further apart than 1e-9, finality, what the row keeps of the project (state,
    budget, flags). SUBSET: GOT may cover only part of EXPECTED."""
    problems: list[str] = []
    missing = [] if subset else sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    if missing:
        problems.append(f"{len(missing)} projects missing, e.g. {missing[:limit]}")
    if extra:
        problems.append(f"{len(extra)} projects that should not be there, e.g. {extra[:limit]}")
    for pk in sorted(set(expected) & set(got)):
        (s1, m1, f1, k1), (s2, m2, f2, k2) = expected[pk], got[pk]
        if not _close(s1, s2):
            problems.append(f"project {pk}: score {s1!r} ≠ {s2!r}")
        elif set(m1) != set(m2) or not all(_close(m1[k], m2[k]) for k in m1):
            problems.append(f"project {pk}: measures {m1!r} ≠ {m2!r}")
        elif f1 != f2:
            problems.append(f"project {pk}: final {f1} ≠ {f2}")
        elif k1 != k2:
            problems.append(
                f"project {pk}: kept {dict(zip(KEPT, k1, strict=True))} ≠ {dict(zip(KEPT, k2, strict=True))}"
            )
        if len(problems) >= limit:
            break
    return problems


def check(what: str, expected: Scores, got: Scores, *, subset: bool = False) -> None:
    problems = differences(expected, got, subset=subset)
    if problems:
        raise SystemExit(f"{what} differ from (a)'s:\n  " + "\n  ".join(problems))


# --- reporting -----------------------------------------------------------------------------------------------


def machine() -> str:
    import django
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        pg = cursor.fetchone()[0].split(" on ")[0]
    cpu = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        cpu = next(
            (line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines() if "model name" in line), cpu
        )
    return f"{os.cpu_count()} cores ({cpu}); {pg}; Python {platform.python_version()}, Django {django.get_version()}"


def profile_round(groups: Sequence[Cohort], as_of: dt.date) -> str:
    profiler = cProfile.Profile()
    profiler.enable()
    evaluate_all(groups, as_of)
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(35)
    stats.sort_stats("tottime").print_stats(20)
    return out.getvalue()


# --- the runs through real Celery workers (--workers) -------------------------------------------------------


@dataclass
class CpuSample:
    """CPU seconds of every process at one moment, and the machine's busy and total CPU seconds (/proc)."""

    at: float
    by_pid: dict[int, tuple[str, int, float]]  # pid → (command name, parent pid, CPU seconds)
    busy: float


def cpu_sample() -> CpuSample:
    tick = os.sysconf("SC_CLK_TCK")
    by_pid: dict[int, tuple[str, int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:  # the process ended meanwhile
            continue
        name = raw[raw.index("(") + 1 : raw.rindex(")")]
        rest = raw[raw.rindex(")") + 2 :].split()
        # rest[0] is field 3 of proc(5) (the state): the parent is field 4, utime and stime fields 14 and 15.
        by_pid[int(entry.name)] = (name, int(rest[1]), (int(rest[11]) + int(rest[12])) / tick)
    ticks = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:9]]
    idle = ticks[3] + ticks[4]  # idle and iowait; the rest (user, nice, system, irq, softirq, steal) is busy
    return CpuSample(time.monotonic(), by_pid, (sum(ticks) - idle) / tick)


def cpu_use(before: CpuSample, after: CpuSample, worker_pid: int) -> dict[str, float]:
    """Cores used on average between two samples by the worker (its main process and its pool), PostgreSQL
    (every process of the server: the workers' backends and anyone else's), this process, the rest of the
    machine, and the machine in all. A process that started in between counts in full; one that ended is missed."""
    wall = max(after.at - before.at, 1e-9)
    groups = {"workers": 0.0, "postgres": 0.0, "bench": 0.0}
    me = os.getpid()
    for pid, (name, parent, seconds) in after.by_pid.items():
        was = before.by_pid.get(pid)
        delta = seconds - (was[2] if was and was[0] == name else 0.0)
        if pid == worker_pid or parent == worker_pid:
            groups["workers"] += delta
        elif name.startswith("postgres"):
            groups["postgres"] += delta
        elif pid == me:
            groups["bench"] += delta
    machine = after.busy - before.busy
    out = {k: v / wall for k, v in groups.items()}
    out["other"] = max(0.0, machine - sum(groups.values())) / wall
    out["machine"] = machine / wall
    return out


@dataclass
class WorkerConf:
    """What a worker of the workers mode is started with."""

    broker: str
    database_url: str
    settings: str
    log_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = 1800.0


@dataclass
class WorkerRound:
    processes: int
    seconds: float
    run_ids: list[int]
    load: float  # the 1-minute load average when the round started
    cores: dict[str, float]  # `cpu_use`
    chunk_seconds: float  # the project chunks' time from start to done, added up
    final_seconds: float  # the final steps' time, added up
    chunks: int


def evaluation_queue() -> str:
    """The queue the evaluation tasks are routed to (config/celery_app.py)."""
    from config.celery_app import app

    return str(app.conf.task_routes["evaluation.tasks.*"]["queue"])


def empty_broker(url: str) -> None:
    """Empty the workers mode's Redis database: no message of an earlier round (or an earlier invocation that
    was stopped) is left for this round's worker."""
    import redis

    redis.Redis.from_url(url).flushdb()


def start_worker(processes: int, conf: WorkerConf) -> tuple[subprocess.Popen[bytes], str, Path]:
    """`celery -A config worker --pool prefork --concurrency PROCESSES` on the evaluation queue, with the settings
    and database of CONF and its broker; returns the process, the worker's name and its log's path."""
    name = f"bench-workers-{processes}-{os.getpid()}@{socket.gethostname()}"
    log_path = conf.log_dir / f"worker-{processes}-{time.strftime('%H%M%S')}.log"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": conf.settings,
        "DATABASE_URL": conf.database_url,
        "CELERY_BROKER_URL": conf.broker,
        "CELERY_RESULT_BACKEND": "",
        "PYTHONUNBUFFERED": "1",
        **conf.env,
    }
    command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "prefork"]
    command += ["--concurrency", str(processes), "-Q", evaluation_queue(), "-n", name, "-l", "warning"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    with log_path.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=out, stderr=subprocess.STDOUT)
    return process, name, log_path


def wait_ready(process: subprocess.Popen[bytes], name: str, log_path: Path, broker: str, timeout: float = 120) -> None:
    """Until the worker answers a ping on BROKER (it consumes from then on), or exit with its log."""
    from celery import Celery

    # An app of its own: this process's may be eager (the smoke test's), and must not become the current app.
    app = Celery("bench-workers-ping", broker=broker, set_as_current=False)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if process.poll() is not None:
            raise SystemExit(f"The worker exited before it was ready:\n{log_path.read_text(errors='replace')[-4000:]}")
        if app.control.ping(destination=[name], timeout=0.5):
            return
    raise SystemExit(f"The worker did not answer after {timeout} s:\n{log_path.read_text(errors='replace')[-4000:]}")


def stop_worker(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()  # a warm shutdown: the tasks running end first
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_for_runs(ids: Sequence[int], timeout: float, log_path: Path) -> None:
    """Until every run of IDS succeeded, polling the run rows; exit naming the runs that failed or are late."""
    from evaluation.models import ACTIVE_RUN_STATUSES, EvaluationRun, RunStatus

    end = time.monotonic() + timeout
    while True:
        rows = list(EvaluationRun.objects.filter(pk__in=ids).values_list("pk", "status", "done", "total", "error"))
        if all(status == RunStatus.SUCCEEDED for _pk, status, *_rest in rows) and len(rows) == len(ids):
            return
        if any(status not in ACTIVE_RUN_STATUSES and status != RunStatus.SUCCEEDED for _pk, status, *_ in rows):
            raise SystemExit(f"Runs that did not succeed: {rows}")
        if time.monotonic() > end:
            raise SystemExit(f"Runs not done after {timeout} s: {rows}\n{log_path.read_text(errors='replace')[-4000:]}")
        time.sleep(0.05)


def workers_round(groups: Sequence[Cohort], as_of: dt.date, processes: int, conf: WorkerConf) -> WorkerRound:
    """One round through a real worker of PROCESSES processes: `run_start` for each cohort (not eager: each run
    is queued on the broker at its commit), timed until every run has succeeded (the run rows polled), with the
    cores each part of the machine used meanwhile. The worker is started before and stopped after (not timed).
    Must be called outside any transaction."""
    from django.db import connection

    from evaluation import services
    from evaluation.models import ChunkKind, RunChunk

    if connection.in_atomic_block:
        raise RuntimeError("The runs must start outside a transaction: run_start queues its work on commit.")
    empty_broker(conf.broker)
    process, name, log_path = start_worker(processes, conf)
    try:
        wait_ready(process, name, log_path, conf.broker)
        load = os.getloadavg()[0]
        before = cpu_sample()
        t0 = time.perf_counter()
        ids = []
        for cohort in groups:
            run, created = services.run_start(program=cohort.program, year=cohort.year, by=None, as_of=as_of)
            if not created:
                raise SystemExit(f"A run of {cohort.label} was already active: #{run.pk}.")
            ids.append(run.pk)
        wait_for_runs(ids, conf.timeout, log_path)
        seconds = time.perf_counter() - t0
        cores = cpu_use(before, cpu_sample(), process.pid)
    finally:
        stop_worker(process)
    # A chunk's deadline is set when an attempt starts (start + the chunk timeout): its time ran from there to done.
    timeout = services.chunk_timeout()
    chunk_seconds = final_seconds = 0.0
    chunks = 0
    for kind, deadline, finished in RunChunk.objects.filter(run_id__in=ids).values_list(
        "kind", "deadline", "finished_at"
    ):
        if deadline is None or finished is None:
            continue
        spent = max(0.0, (finished - (deadline - timeout)).total_seconds())
        if kind == ChunkKind.FINALIZE:
            final_seconds += spent
        else:
            chunk_seconds += spent
            chunks += 1
    return WorkerRound(processes, seconds, ids, load, cores, chunk_seconds, final_seconds, chunks)


def worker_counts(text: str) -> list[int]:
    counts = [int(x) for x in text.replace(" ", "").split(",") if x]
    if not counts or min(counts) < 1:
        raise SystemExit("--workers takes worker process counts, e.g. 1,2.")
    return counts


def main_workers(args: argparse.Namespace) -> None:
    """The workers mode: the three runs through real Celery workers of 1, 2… processes, interleaved, against
    this benchmark's own database; the wall time of each, the ratio to the first count and what was busy."""
    from django.conf import settings

    from evaluation import services
    from projects.synthetic import AS_OF

    counts = worker_counts(args.workers)
    prepare_data(args)
    back = reset_evaluation()
    vacuum()
    if back:
        print(f"Reset: {back} projects that earlier runs had evaluated are accepted again.")
    groups, _unreachable = cohorts()
    scored = sum(c.projects for c in groups)
    print(f"Data set: {scored} scored projects in {len(groups)} runs ({', '.join(c.label for c in groups)}).")
    print(
        f"Chunk size {services.chunk_size()}; broker {args.broker} (queue {evaluation_queue()}); workers "
        f"`celery -A config worker --pool prefork --concurrency N`, settings {args.settings}."
    )
    log_dir = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    print(f"The workers' output: {log_dir}/")
    conf = WorkerConf(args.broker, args.database_url, args.settings, log_dir)

    # A first round pays the one-off move of the accepted projects to `evaluated`: shown, not counted.
    warm = workers_round(groups, AS_OF, counts[0], conf)
    reference = run_scores(warm.run_ids)
    if len(reference) != scored:
        raise SystemExit(f"The first round scored {len(reference)} projects, the cohorts hold {scored}.")
    print(f"  first round (one-off: accepted → evaluated), {counts[0]} process(es): {warm.seconds:.2f} s")
    vacuum()

    rounds: list[WorkerRound] = []
    first_scores: Scores | None = None
    for round_no in range(max(1, args.rounds)):
        for n in counts:
            r = workers_round(groups, AS_OF, n, conf)
            got = run_scores(r.run_ids)
            if first_scores is None:
                first_scores = got
            else:
                check(f"the scores of round {round_no + 1} with {n} process(es)", first_scores, got)
            rounds.append(r)
            c = r.cores
            print(
                f"  round {round_no + 1}, {n} process(es): {r.seconds:6.2f} s  (load {r.load:.2f}; cores used: "
                f"workers {c['workers']:.2f}, PostgreSQL {c['postgres']:.2f}, this process {c['bench']:.2f}, "
                f"other {c['other']:.2f}, machine {c['machine']:.2f} of {os.cpu_count()}; "
                f"{r.chunks} chunks, {r.chunk_seconds / r.seconds:.2f} at a time on average)",
                flush=True,
            )

    med = {n: statistics.median(r.seconds for r in rounds if r.processes == n) for n in counts}
    print()
    print(f"Machine: {machine()}; settings {settings.SETTINGS_MODULE}.")
    print(f"Load average (1 min, 5 min, 15 min) now: {', '.join(f'{x:.2f}' for x in os.getloadavg())}.")
    print(f"Medians over {len(rounds) // len(counts)} round(s) after the first, {scored} scored projects:")
    print(f"{'worker processes':>17} {'median s':>9} {'ms/1000 projects':>17} {'vs ' + str(counts[0]):>7}")
    for n in counts:
        print(f"{n:>17} {med[n]:9.2f} {med[n] * 1e6 / scored:17.1f} {med[n] / med[counts[0]]:7.2f}")
    if 1 in med and 2 in med:
        ratio = med[2] / med[1]
        verdict = "PASS" if ratio <= WORKERS_TARGET else "FAIL"
        print(f"2 processes / 1 process = {ratio:.2f}   (target ≤ {WORKERS_TARGET:g}: {verdict})")
        two = [r for r in rounds if r.processes == 2]
        mean = {k: statistics.mean(r.cores[k] for r in two) for k in two[0].cores}
        final = statistics.mean(r.final_seconds for r in two)
        at_once = statistics.mean(r.chunk_seconds / r.seconds for r in two)
        cores = os.cpu_count() or 1
        print(
            f"With 2 processes the machine was busy {mean['machine']:.2f} of {cores} cores: PostgreSQL "
            f"{mean['postgres']:.2f}, the workers {mean['workers']:.2f}, this process {mean['bench']:.2f}, other "
            f"work {mean['other']:.2f}; chunks {at_once:.2f} at a time on average; the final steps (one per run, "
            f"each in one process) {final:.2f} s of {statistics.mean(r.seconds for r in two):.2f} s."
        )
        if ratio > WORKERS_TARGET:
            if mean["machine"] >= 0.85 * cores:
                parts = {"PostgreSQL": mean["postgres"], "the workers": mean["workers"], "other work": mean["other"]}
                biggest = max(parts, key=lambda k: parts[k])
                print(
                    f"Saturated: the CPU ({mean['machine']:.2f} of {cores} cores busy), {biggest} using most of it "
                    f"({parts[biggest]:.2f} cores). The workers' statements run in PostgreSQL's backends, on the "
                    "same cores: a second worker process adds no core for them."
                )
            else:
                print(
                    "Not CPU-bound: the time goes to what runs in one process at a time (the final steps, "
                    "planning) or waits (locks, I/O)."
                )


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    ensure_database(args.database_url, WORKERS_TEMPLATE if args.workers else "")
    setup_django(args)
    if args.workers:
        main_workers(args)
        return

    from django.conf import settings

    from evaluation import services
    from projects.models import Project
    from projects.synthetic import AS_OF

    prepare_data(args)
    back = reset_evaluation()
    vacuum()
    if back:
        print(f"Reset: {back} projects that earlier runs had evaluated are accepted again.")
    groups, unreachable = cohorts()
    scored = sum(c.projects for c in groups)
    total = Project.objects.count()
    print(f"Data set: {total} projects; {scored} scored (approved onwards) in {len(groups)} runs", end="")
    print(f"; {unreachable} scored projects no run reaches." if unreachable else ".")
    for c in groups:
        print(f"  {c.label}: {c.projects} scored projects planned to start {c.since}–{c.year}")
    print(f"Chunk size {services.chunk_size()}; as of {AS_OF} (the data set's date).")

    limit = limit_statements(groups, AS_OF)
    create_scratch()
    sample = peer_sample(groups, args.peer_sample)
    sampled = sum(len(v) for v in sample.values())
    times: dict[str, list[float]] = {"a": [], "b": [], "c": []}
    rounds: list[Stages] = []
    load_before = os.getloadavg()[0]
    try:
        for round_no in range(args.rounds + 1):
            # (b) and (c) first: (a)'s first round moves the accepted projects to `evaluated`, and its rows keep
            # the state each project was scored in; in this order all three score the projects in the same states.
            b_time, b_rows = limit_insert(limit)
            runs = peer_runs(groups, AS_OF)
            c_time, c_n = peer(runs, sample)
            stages = Stages()
            run_ids = evaluate_all(groups, AS_OF, stages)
            a_scores = run_scores(run_ids)
            if len(a_scores) != scored:
                raise SystemExit(f"(a) scored {len(a_scores)} projects, the cohorts hold {scored}.")
            check(f"(b)'s scores ({len(limit)} statements)", a_scores, scratch_scores())
            check("(c)'s scores", a_scores, run_scores([r.pk for r in runs.values()]), subset=True)
            label = "first round (one-off: accepted → evaluated)" if round_no == 0 else f"round {round_no}"
            print(
                f"  {label}: (a) {stages.total:.2f} s, (b) {b_time:.2f} s, (c) {c_time:.2f} s on {c_n} projects; "
                f"(a) {len(a_scores)} scores in {len(run_ids)} runs, (b) {b_rows} rows: the scores of (a), (b) "
                f"and (c) match to {TOLERANCE:g}, and what their rows keep of the projects.",
                flush=True,
            )
            rounds.append(stages)
            times["a"].append(stages.total)
            times["b"].append(b_time)
            times["c"].append(c_time)
        profile_text = profile_round(groups, AS_OF) if args.profile else ""
    finally:
        drop_scratch()
    load_after = os.getloadavg()[0]

    # The first round pays the one-off move to `evaluated`: the medians are over the rounds after it.
    first = rounds[0]
    later = slice(1, None) if len(rounds) > 1 else slice(0, 1)
    med = {k: statistics.median(v[later]) for k, v in times.items()}
    c_scaled = med["c"] / sampled * scored
    a_b, c_a = med["a"] / med["b"], c_scaled / med["a"]

    def per_k(seconds: float, projects: int = scored) -> str:
        return f"{seconds * 1000 * 1000 / projects:17.1f}"

    print()
    print(f"Machine: {machine()}; settings {settings.SETTINGS_MODULE}.")
    print(f"Load average (1 min) before / after the measurements: {load_before:.2f} / {load_after:.2f}.")
    print(
        f"Data: {total} projects, {scored} scored in {len(groups)} runs ({', '.join(c.label for c in groups)}); "
        f"medians over {len(times['a'][later])} rounds after the first."
    )
    print()
    rows = [
        (f"(a) run_start × {len(groups)}, each programme's latest year (Celery eager)", med["a"], per_k(med["a"])),
        (f"(b) limit: one INSERT … SELECT per programme ({len(limit)})", med["b"], per_k(med["b"])),
        (f"(c) peer: per-object ORM loop, measured on {sampled} projects", med["c"], per_k(med["c"], sampled)),
        (f"    scaled per project to {scored} projects", c_scaled, ""),
        ("(a) first round, with the one-off move to evaluated", first.total, per_k(first.total)),
    ]
    print(f"{'':66} {'median s':>9} {'ms/1000 projects':>17}")
    for text, seconds, rate in rows:
        print(f"{text:66} {seconds:9.2f} {rate}")
    print()
    verdict = {True: "PASS", False: "FAIL"}
    print(f"a/b = {a_b:.2f}   (target ≤ {TARGETS['a/b']:g}: {verdict[a_b <= TARGETS['a/b']]})")
    print(
        f"c/a = {c_a:.1f}   (target ≥ {TARGETS['c/a']:g}: {verdict[c_a >= TARGETS['c/a']]}; (c) scaled from its sample)"
    )
    print()
    if len(rounds) == 1:
        print("Only the first round was measured (--rounds 0): the figures above include its one-off writes.")
    print("Where (a)'s time goes (median of the rounds after the first; the first round in brackets):")

    def part(s: Stages, name: str) -> float:
        if name == "dispatch":
            return s.total - sum(s.by.get(k, 0.0) for k in ("run_plan", "chunk_execute", "run_finalize"))
        if name == "chunk rest":
            return s.by.get("chunk_execute", 0.0) - s.by.get("sql: scoring upsert", 0.0)
        if name == "finalize rest":
            return (
                s.by.get("run_finalize", 0.0)
                - s.by.get("sql: pairing measures", 0.0)
                - s.by.get("project_evaluate_many", 0.0)
            )
        return s.by.get(name, 0.0)

    for text, name in (
        ("run_start's own work and the eager dispatch", "dispatch"),
        ("run_plan: the cohort's ids, the chunks", "run_plan"),
        ("chunk_execute: the scoring upsert statement", "sql: scoring upsert"),
        ("chunk_execute: the rest (locks, progress, commits)", "chunk rest"),
        ("run_finalize: the pairing measures statement", "sql: pairing measures"),
        ("run_finalize: accepted → evaluated", "project_evaluate_many"),
        ("run_finalize: the rest (scorecards, ranking, commit)", "finalize rest"),
    ):
        seconds = statistics.median(part(s, name) for s in rounds[later])
        print(f"  {text:<54} {seconds:7.2f} s  ({part(first, name):6.2f} s)")
    calls = first.counts
    print(
        f"  ({calls.get('run_plan', 0)} plans, {calls.get('chunk_execute', 0)} chunks, "
        f"{calls.get('run_finalize', 0)} final steps a round)"
    )
    if profile_text:
        print()
        print(profile_text)


if __name__ == "__main__":
    main()
