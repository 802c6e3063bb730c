"""The whole API, fuzzed from its own OpenAPI schema: no request answers a server error.

Schemathesis reads `/api/schema/` from the WSGI application and, for every operation, generates requests (valid and
invalid: the schema's own examples, then 50 generated ones) and sends each one in process, as two callers: the
national coordinator, who sees and may do the most, and `outsider`, an assisting officer of an organization with no
pairing in scope (so they mostly meet 403s and 404s). Each caller sends a real API token.

Ids in the generated paths and bodies are mostly random, so most of them name nothing; to reach the code behind a
real row, a small generated id (0, 1, 2, …) is replaced by the id of an existing row of that resource (the n-th
one), and a short generated code by an existing row's code (regions, programmes). The rows are set up once; every
request runs in a savepoint rolled back after it, so no example sees another's writes.

Every check schemathesis has runs on each response (`-c all` of its command line): no 5xx; a documented status
code, content type, headers and body; an invalid request (negative mode) refused with a 4xx; a valid one
(positive mode) accepted; the methods the schema leaves out answered 405 with `Allow`; a request without its token
refused. One kind of refusal of a valid request is the API's right: the schema promises the *shape* of a request,
not which rows exist or what the rules allow, so a 400 whose every problem is about meaning (`does_not_exist`, an
unknown region, wrong credentials, a service's rule) passes; one naming a problem of shape (`invalid`, `required`,
`min_value`, `unknown_field`, …) means the schema said yes where the API says no, and fails.

The examples per operation are 50, by a fixed seed (Hypothesis derandomized): about 1½ minutes on two cores.
`SCHEMATHESIS_EXAMPLES=200` sends more; `SCHEMATHESIS_PHASES=examples,coverage,fuzzing` adds schemathesis's
coverage phase (each boundary and each kind of invalid value of every parameter, about 85 more cases per operation
and several times the time).
"""

import datetime as dt
import json
import os
import re
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from django.core.files.base import ContentFile
from django.core.signals import got_request_exception, request_finished, request_started
from django.db import close_old_connections, models, transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from knox.models import AuthToken
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.openapi.checks import RejectedPositiveData

from accounts.models import Notification, Organization, User
from accounts.services import notify
from config.wsgi import application
from core.models import Region
from evaluation import services as evaluation_services
from evaluation.models import (
    EvaluationRun,
    ExpertScore,
    IndicatorFramework,
    PairingScorecard,
    ProjectScore,
    SatisfactionRating,
)
from exchange import imports as import_services
from exchange import services as exchange_services
from exchange.models import Export, Import, Webhook, WebhookAttempt, WebhookDelivery
from pairings import services as pairing_services
from pairings.models import AnnualMandate, Deployment, FiscalRevenue, FundFlow, Pairing, Program, Training
from projects import services as project_services
from projects.models import (
    Document,
    Handover,
    Inspection,
    Milestone,
    OperationReport,
    ProgressReport,
    Project,
    Rectification,
)
from tests.conftest import make_pairing_world, make_world
from tests.evaluation.conftest import make_inspection, make_project, run_eagerly
from tests.factories import DeploymentFactory, FundFlowFactory, ProgressReportFactory, TrainingFactory

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
# The callers' own token goes in every request: generated credentials would only test the 401.
schema.config.generation.update(with_security_parameters=False)
# The API refuses a NUL byte in any text (DRF's `null_characters_not_allowed`), which the schema does not say of
# every string; valid requests carry none.
schema.config.generation.update(allow_x00=False)
# The schema's examples, then the generated requests (see the module's docstring for the coverage phase).
schema.config.phases.update(phases=os.environ.get("SCHEMATHESIS_PHASES", "examples,fuzzing").split(","))

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "50"))
load_all_checks()
# Every check a response can be put to (the stateful ones, which follow links between operations, find no links
# here and pass).
ALL_CHECKS = [check for check in CHECKS.get_all() if not isinstance(check, type)]
# The codes of problems of a request's shape — what a schema can say — from DRF's and Django's fields and our own
# (core/api/serializers.py, core/api/filter_backend.py). Any other code is about meaning.
SHAPE_CODES = {
    "blank",
    "empty",
    "invalid",
    "invalid_choice",
    "invalid_image",
    "max_decimal_places",
    "max_digits",
    "max_length",
    "max_string_length",
    "max_value",
    "max_whole_digits",
    "min_length",
    "min_value",
    "not_a_dict",
    "not_a_list",
    "null",
    "null_characters_not_allowed",
    "overflow",
    "parse_error",
    "read_only",
    "required",
    "surrogate_characters_not_allowed",
    "unknown_field",
    "unsupported_media_type",
}

# Fields required only with another field's value, which OpenAPI 3.0 cannot say without a schema per case: a
# mandate set by hand needs its amount (`funds_required`), a rule its basis's figure, a linear curve its floor and
# target (`[]`: any row of a list).
REQUIRED_WITH: dict[str, set[str]] = {
    "POST /api/v1/pairings/{pairing_pk}/mandates/": {"funds_required"},
    "POST /api/v1/programs/{code_or_id}/rules/": {"rate", "fixed_amount"},
    "POST /api/v1/evaluation/frameworks/": {"indicators[].floor", "indicators[].target"},
    # The mandates of a pairing, the history of a project: those two lists need the parent their endpoint's path
    # names, as a filter of the export; a ranking needs its programme and year (or its run).
    "POST /api/v1/exports/": {"filters.pairing", "filters.project", "filters.program", "filters.year"},
}

# The rows a path or body parameter names, by the resource the path names before it (`/pairings/{id}/`,
# `/pairings/{pairing_pk}/mandates/{year}/`) or by the body field's name.
ROWS: dict[str, tuple[type[models.Model], str]] = {
    "regions": (Region, "code"),
    "organizations": (Organization, "pk"),
    "users": (User, "pk"),
    "programs": (Program, "code"),
    "program-ids": (Program, "pk"),
    "pairings": (Pairing, "pk"),
    "mandates": (AnnualMandate, "year"),
    "fiscal-revenues": (FiscalRevenue, "pk"),
    "fund-flows": (FundFlow, "pk"),
    "deployments": (Deployment, "pk"),
    "trainings": (Training, "pk"),
    "projects": (Project, "pk"),
    # `projects/{id}/similar/{candidate_id}/dismiss/`: the candidate is a project.
    "similar": (Project, "pk"),
    "progress-reports": (ProgressReport, "pk"),
    "inspections": (Inspection, "pk"),
    "rectifications": (Rectification, "pk"),
    "documents": (Document, "pk"),
    "milestones": (Milestone, "pk"),
    "operation-reports": (OperationReport, "pk"),
    "frameworks": (IndicatorFramework, "pk"),
    "runs": (EvaluationRun, "pk"),
    "project-scores": (ProjectScore, "pk"),
    "scorecards": (PairingScorecard, "pk"),
    "expert-scores": (ExpertScore, "pk"),
    "satisfaction-ratings": (SatisfactionRating, "pk"),
    "webhooks": (Webhook, "pk"),
    "imports": (Import, "pk"),
    "exports": (Export, "pk"),
    "notifications": (Notification, "pk"),
}
BODY_FIELDS = {
    "pairing": "pairings",
    "project": "projects",
    "program": "program-ids",
    "organization": "organizations",
    "assisting_organization": "organizations",
    "lead_agency": "organizations",
    "progress_report": "progress-reports",
    "pledge": "fund-flows",
    "region": "regions",
    "recipient_region": "regions",
    "location": "regions",
}


@dataclass
class Caller:
    name: str
    authorization: str


@dataclass
class FuzzWorld:
    callers: list[Caller]
    rows: dict[str, list[Any]]


def _api_data(world, pw) -> None:
    """Rows of every resource the API shows: money, people, projects in several states with their records, and a
    finished evaluation run with its scores."""
    shufu, jiashi = pw.shufu, pw.jiashi
    pairing_services.fiscal_revenue_record(by=None, organization=world.guangdong_gov, year=2010, amount="1000000000")
    pairing_services.mandate_compute(by=None, pairing=shufu, year=2015)
    pledge = FundFlowFactory(pairing=shufu, kind="pledge", date=dt.date(2015, 1, 10))
    FundFlowFactory(pairing=shufu, kind="commitment", pledge=pledge, date=dt.date(2015, 2, 1))
    FundFlowFactory(pairing=jiashi)
    DeploymentFactory(pairing=shufu)
    TrainingFactory(pairing=jiashi)
    # Webhooks of both callers, one with a delivery and its attempt (no HTTP is sent: nothing here commits).
    for owner in (world.coordinator, world.outsider):
        hook = Webhook.objects.create(owner=owner, url="https://hooks.example.org/in", events=["project.created"])
    delivery = WebhookDelivery.objects.create(webhook=hook, event="project.created", payload={"id": "x"}, attempts=1)
    WebhookAttempt.objects.create(delivery=delivery, number=1, status_code=500, duration_ms=12, error="HTTP 500")
    # Notifications of both callers, one read.
    for owner in (world.coordinator, world.outsider):
        notify([owner], "export_ready", {"name": "pairings.csv"}, "/exchange/exports/")
    Notification.objects.filter(recipient=world.outsider).update(read_at=timezone.now())

    project_services.project_create(
        by=world.assisting,
        pairing=shufu,
        title="疏附县第二中学教学楼",
        category="infrastructure",
        sector="education",
        location=world.shufu,
        budget_requested=Decimal("12000000.00"),
        planned_start=dt.date(2024, 3, 1),
        planned_end=dt.date(2025, 8, 31),
        expected_beneficiaries=2400,
        is_livelihood=True,
    )
    building = make_project(shufu, "in_construction", actual_start=dt.date(2015, 3, 10))
    # An import checked and not committed, by the coordinator (whose imports the API shows them).
    import_services.import_upload(
        by=world.coordinator,
        upload=ContentFile(
            f"external_ref,pairing,kind,headcount,start date\nR-1,{shufu.pk},teacher,3,2015-03-01\n".encode(),
            name="people.csv",
        ),
        kind="deployments",
    )
    # An export of each caller, made at once (a short list), so that its page and its download are reached.
    for owner in (world.coordinator, world.outsider):
        exchange_services.export_create(by=owner, kind="pairings", format="csv")
    ProgressReportFactory(project=building, review_status="pending", reported_by=world.assisting)
    failed = make_inspection(building, dt.date(2015, 9, 1), passed=False)
    Rectification.objects.create(project=building, inspection=failed, finding="脚手架", deadline=dt.date(2015, 10, 1))
    Milestone.objects.create(project=building, title="主体封顶", due_date=dt.date(2015, 10, 1))
    Document.objects.create(
        project=building,
        file=ContentFile(b"%PDF-1.4\n", name="report.pdf"),
        title="report",
        size=9,
        content_type="application/pdf",
        uploaded_by=world.assisting,
    )
    accepted = make_project(
        shufu,
        "accepted",
        actual_start=dt.date(2015, 3, 10),
        actual_end=dt.date(2015, 12, 20),
        expected_beneficiaries=1000,
        reached_beneficiaries=900,
        is_livelihood=True,
    )
    make_inspection(accepted, dt.date(2015, 12, 22), kind="acceptance")
    # Handed over and reported on: the handover's and the operation reports' endpoints have rows to read.
    Handover.objects.create(
        project=accepted,
        date=dt.date(2016, 1, 10),
        receiving_organization=world.shufu_gov,
        asset_value=Decimal("9800000.00"),
        status="confirmed",
    )
    OperationReport.objects.create(project=accepted, year=2016, status="in_use", utilisation=80)
    for state in ("proposed", "approved", "suspended", "completed", "cancelled"):
        make_project(shufu, state)
    make_project(jiashi, "accepted", actual_start=dt.date(2015, 4, 1), actual_end=dt.date(2015, 11, 30))
    FundFlowFactory(pairing=shufu, project_id=accepted.pk, amount=Decimal("1000000.00"))
    run_eagerly(pw.program, 2015)
    SatisfactionRating.objects.create(project=accepted, rated_by=world.recipient, score=4)
    ExpertScore.objects.create(
        project=accepted,
        indicator_code=evaluation_services.expert_indicators(accepted)[0].code,
        evaluator=world.coordinator,
        score=Decimal(80),
        comment="按期高质量完成",
    )


@pytest.fixture(scope="module")
def fuzz_world(django_db_setup, django_db_blocker) -> Iterator[FuzzWorld]:
    """The rows, set up once for every operation in a transaction rolled back at the end (each operation's test
    runs in a savepoint within it, each request in a savepoint within that)."""
    with django_db_blocker.unblock(), transaction.atomic():
        world = make_world()
        _api_data(world, make_pairing_world(world))
        rows = {
            resource: list(model._default_manager.order_by("pk").values_list(field, flat=True).distinct()[:8])
            for resource, (model, field) in ROWS.items()
        }
        callers = [
            Caller(user.username, f"Token {AuthToken.objects.create(user)[1]}")
            for user in (world.coordinator, world.outsider)
        ]
        yield FuzzWorld(callers=callers, rows=rows)
        transaction.set_rollback(True)


@pytest.fixture(scope="module")
def server_errors() -> Iterator[list[str]]:
    """Serve requests in process inside the test's transaction, keeping each unhandled exception's traceback.

    Django closes the database connection around each request it serves, as a server must; here the connection
    holds the test's transaction, so (as Django's test client does) it is left open."""
    tracebacks: list[str] = []

    def keep(sender: Any, request: Any = None, **kwargs: Any) -> None:
        tracebacks.append(traceback.format_exc())

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    got_request_exception.connect(keep)
    try:
        yield tracebacks
    finally:
        got_request_exception.disconnect(keep)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _index(raw: Any) -> int | None:
    """The small whole number a generated value is, if it is one."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw
    if isinstance(raw, str) and raw.isascii() and raw.isdigit() and len(raw) <= 3:
        return int(raw)
    return None


def _existing(raw: Any, values: list[Any], *, by_length: bool = True) -> Any:
    """RAW, or the existing value it stands for: the n-th row for a small number n, a row's code for a short string
    where the resource is named by a code (BY_LENGTH)."""
    if not values:
        return raw
    n = _index(raw)
    if n is None and by_length and isinstance(values[0], str) and isinstance(raw, str):
        n = len(raw)
    if n is not None and 0 <= n < len(values):
        value = values[n]
        return str(value) if isinstance(raw, str) else value
    return raw


def _resources_of(path: str) -> dict[str, str]:
    """Each path parameter of PATH with the resource named just before it."""
    return {name: resource.rsplit("/", 1)[-1] for resource, name in re.findall(r"([\w-]+)/\{(\w+)\}", path)}


def _point_at_rows(case: schemathesis.Case, rows: dict[str, list[Any]]) -> None:
    """Point the case's ids and codes at existing rows. An invalid request (negative mode) keeps its body and any
    code as generated: replacing them could turn the invalid value into a valid one."""
    negative = case.meta is not None and case.meta.generation.mode.is_negative
    for name, resource in _resources_of(case.operation.path).items():
        if case.path_parameters and name in case.path_parameters:
            case.path_parameters[name] = _existing(case.path_parameters[name], rows[resource], by_length=not negative)
    if isinstance(case.body, dict) and not negative:
        for field, resource in BODY_FIELDS.items():
            if field in case.body:
                case.body[field] = _existing(case.body[field], rows[resource])


def test_every_path_parameter_names_a_known_resource():
    for operation in schema.get_all_operations():
        path = operation.ok().path
        for name, resource in _resources_of(path).items():
            assert resource in ROWS, f"{path}: add the rows {{{name}}} names to ROWS"


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    # The database rows are set up once and shared by every operation and example, on purpose: each request is
    # rolled back. Requests through the whole stack are slow by Hypothesis's measure.
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_no_server_error(
    case: schemathesis.Case, fuzz_world: FuzzWorld, server_errors: list[str], db: None
):
    _point_at_rows(case, fuzz_world.rows)
    for caller in fuzz_world.callers:
        headers = {"Authorization": caller.authorization}
        del server_errors[:]
        # The checks that send requests of their own (without the token, with another method) run in the savepoint
        # too, before it is marked for rollback (a savepoint so marked takes no more queries).
        with transaction.atomic():
            try:
                response = case.call(headers=headers)
                case.validate_response(response, checks=ALL_CHECKS, headers=headers)
            except FailureGroup as group:
                failures = [f for f in group.exceptions if not _refused_for_meaning(f, response)]
                if failures:
                    failure = FailureGroup(failures)
                    failure.add_note(
                        f"As {caller.name}: {case.method} {case.formatted_path} {case.query} {case.body!r}"
                    )
                    failure.add_note(f"Answered {response.status_code}: {response.text[:1000]}")
                    for trace in server_errors:
                        failure.add_note(trace)
                    raise failure from None
            finally:
                transaction.set_rollback(True)


def _refused_for_meaning(failure: Failure, response: Any) -> bool:
    """Whether FAILURE is a valid request refused with a 400 whose every problem is about meaning (SHAPE_CODES,
    but for a field required only with another's value)."""
    if not isinstance(failure, RejectedPositiveData) or response.status_code != 400:
        return False
    try:
        problems = {(problem["code"], problem["field"]) for problem in json.loads(response.content)["errors"]}
    except (ValueError, KeyError, TypeError):
        return False
    conditional = REQUIRED_WITH.get(failure.operation or "", set())
    return bool(problems) and all(
        code not in SHAPE_CODES or (code == "required" and re.sub(r"\[\d+\]", "[]", field or "") in conditional)
        for code, field in problems
    )
