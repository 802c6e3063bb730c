"""generate_projects: a deterministic synthetic data set whose rows respect every constraint and the lifecycle."""

import datetime as dt
import itertools
import re
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from core.models import HistoryEvent
from pairings.models import FlowKind, FundFlow, Pairing, PairingStatus
from projects import selectors, services
from projects.models import Inspection, InspectionKind, ProgressReport, Project, Rectification, State
from projects.synthetic import AS_OF, MARK

pytestmark = pytest.mark.django_db

N = 60
#: From which state on a field is set (DESIGN.md's lifecycle), for projects that were not cancelled.
APPROVED_ON = {"approved", "in_construction", "suspended", "completed", "accepted"}
STARTED_ON = {"in_construction", "suspended", "completed", "accepted"}
FINISHED = {"completed", "accepted"}


def generate(*args: str) -> None:
    call_command("generate_projects", "--projects", str(N), *args, verbosity=0)


def snapshot() -> list[tuple]:
    return list(
        Project.objects.order_by("code").values_list(
            "code", "title", "state", "pairing_id", "budget_requested", "approved_budget", "created_at"
        )
    )


@pytest.fixture
def generated(db):
    generate("--seed", "7")


def history_of(project: Project) -> list[HistoryEvent]:
    ct = ContentType.objects.get_for_model(Project)
    return list(HistoryEvent.objects.filter(content_type=ct, object_id=project.pk).order_by("at", "id"))


def test_the_data_set_is_synthetic_spread_and_readable(generated):
    projects = list(Project.objects.select_related("pairing__program", "pairing__recipient_region", "location"))
    assert len(projects) == N
    assert all(p.is_synthetic for p in projects)

    codes = [p.code for p in projects]
    assert len(set(codes)) == N
    for p in projects:
        assert re.fullmatch(r"[A-Z]{3}-\d{6,}", p.code), p.code
        assert p.code == f"{services._prefix(p.pairing)}-{p.pk:06d}"
        assert p.title.strip()
        assert "合成数据" in p.description

    states = Counter(p.state for p in projects)
    assert len(states) >= 5, states
    assert states["accepted"] < N / 2 + 20, states
    assert states["draft"] + states["proposed"] < N / 2, states
    assert len({p.created_at.year for p in projects}) >= 8
    assert all(2008 <= p.created_at.year <= 2026 for p in projects)
    assert len({p.category for p in projects}) >= 3
    assert len({p.sector for p in projects}) >= 6
    assert len({p.pairing.program.code for p in projects}) == 3
    assert len({p.pairing_id for p in projects}) >= 15

    # Every other table in proportion, and every row marked.
    assert 2.5 <= HistoryEvent.objects.filter(comment=MARK).count() / N <= 7
    assert 0.8 <= ProgressReport.objects.count() / N <= 2.5
    assert 0.3 <= Inspection.objects.count() / N <= 1.5
    assert 1 <= FundFlow.objects.count() / N <= 4
    assert not FundFlow.objects.filter(is_synthetic=False).exists()
    ct = ContentType.objects.get_for_model(Project)
    assert not HistoryEvent.objects.filter(content_type=ct).exclude(comment=MARK).exists()


def test_every_row_passes_the_models_validation_and_the_database_constraints(generated):
    # full_clean checks choices, lengths, validators and the CheckConstraints, as a form or serializer would.
    for model in (Project, ProgressReport, Inspection, Rectification, FundFlow):
        for obj in model.objects.all():
            obj.full_clean()


def test_every_project_is_where_its_lifecycle_put_it(generated):
    today = dt.date.today()
    for p in Project.objects.select_related("pairing__recipient_region", "location", "proposed_by", "created_by"):
        cancelled = p.state == State.CANCELLED
        events = history_of(p)
        # The history is the path: created as a draft, then each transition from where the last one left it.
        assert events[0].action == "created"
        assert events[0].to_state == "draft"
        for before, event in itertools.pairwise(events):
            assert event.from_state == before.to_state, (p.code, [e.action for e in events])
            assert event.at >= before.at
            assert event.action in services.ACTIONS
            assert services.ACTIONS[event.action].target == event.to_state
            assert event.from_state in services.ACTIONS[event.action].sources
        assert events[-1].to_state == p.state
        actions = [e.action for e in events]
        by = {e.action: e for e in events}

        # Fields set from the state on which the services set them.
        assert p.created_by is not None
        assert (p.proposed_by is not None) == ("submit" in actions)
        if not cancelled:
            assert (p.proposed_by is not None) == (p.state != "draft")
            assert (p.approved_budget is not None) == (p.state in APPROVED_ON)
            assert (p.actual_start is not None) == (p.state in STARTED_ON)
            assert (p.actual_end is not None) == (p.state in FINISHED)
        if "approve" in by:
            assert by["approve"].actor != p.proposed_by  # separation of duties
            assert by["approve"].changes["approved_budget"]["new"] == str(p.approved_budget)
            assert p.approved_budget > 0
        if p.actual_start:
            assert by["start"].changes["actual_start"]["new"] == p.actual_start.isoformat()
            assert p.actual_start <= today
        if p.actual_end:
            assert p.actual_end >= p.actual_start
        if p.state != "draft" and not (cancelled and "submit" not in actions):
            assert services.readiness_problems(p) == [], p.code
        assert p.pairing.recipient_region.contains(p.location)
        assert p.planned_end >= p.planned_start
        assert p.budget_requested > 0

        # Everything happened within the pairing's term and not after AS_OF.
        last_day = min(p.pairing.end_date or AS_OF, AS_OF)
        if p.pairing.status == PairingStatus.ENDED:
            assert p.state in {"accepted", "completed", "rejected", "cancelled"}
        for e in events:
            assert p.pairing.start_date <= timezone.localtime(e.at).date() <= last_day

        # Construction and supervision agree with the state.
        reports = list(p.progress_reports.order_by("period_end", "id"))
        progress = [r.physical_progress for r in reports]
        assert progress == sorted(progress)
        assert all(p.actual_start and p.actual_start <= r.period_end <= last_day for r in reports)
        if p.state in FINISHED:
            assert selectors.has_full_progress_report(p)
        else:
            assert not selectors.has_full_progress_report(p)
        if p.state == "accepted":
            assert selectors.latest_acceptance(p).result == "passed"
            assert not selectors.open_rectifications(p).exists()
        for inspection in p.inspections.all():
            assert inspection.date <= last_day
            assert (inspection.result == "failed") == bool(inspection.findings)
            if inspection.kind == InspectionKind.ACCEPTANCE:
                assert p.actual_end
                assert inspection.date >= p.actual_end
            else:
                assert p.actual_start
                assert inspection.date >= p.actual_start
        for rect in p.rectifications.all():
            assert rect.deadline >= rect.inspection.date
            assert rect.closed_on is None or rect.closed_on >= rect.inspection.date


def test_fund_flows_are_linked_to_approved_projects_of_their_pairing(generated):
    projects = {p.pk: p for p in Project.objects.select_related("pairing")}
    by_project: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    flows = list(FundFlow.objects.all())
    assert flows
    for flow in flows:
        assert flow.is_synthetic
        assert flow.project_id in projects
        project = projects[flow.project_id]
        assert flow.pairing_id == project.pairing_id
        assert project.approved_budget is not None or project.state == "cancelled"
        assert flow.amount > 0
        assert flow.pledge_id is None
        assert project.pairing.start_date <= flow.date <= min(project.pairing.end_date or AS_OF, AS_OF)
        by_project[flow.project_id][flow.kind] += flow.amount
    for pk, sums in by_project.items():
        project = projects[pk]
        assert sums[FlowKind.COMMITMENT] <= project.approved_budget
        assert sums[FlowKind.DISBURSEMENT] <= sums[FlowKind.COMMITMENT]
        assert sums[FlowKind.EXPENDITURE] <= sums[FlowKind.DISBURSEMENT]
    # Every project being built or finished has money committed and disbursed; no unapproved one has any.
    for p in projects.values():
        if p.state in STARTED_ON:
            assert by_project[p.pk][FlowKind.DISBURSEMENT] > 0, p.code
        if p.state in {"draft", "proposed", "rejected"}:
            assert p.pk not in by_project


def test_the_same_seed_gives_the_same_data_and_a_second_run_needs_replace(generated):
    first = snapshot()
    counts = {m: m.objects.count() for m in (HistoryEvent, ProgressReport, Inspection, Rectification, FundFlow)}
    with pytest.raises(CommandError, match="--replace"):
        generate("--seed", "7")
    assert snapshot() == first

    generate("--seed", "7", "--replace")
    assert snapshot() == first
    # The previous run's rows went with their projects (history included): nothing is left over or doubled.
    assert {m: m.objects.count() for m in counts} == counts

    generate("--seed", "8", "--replace")
    assert Project.objects.count() == N
    assert [row[1] for row in snapshot()] != [row[1] for row in first]


def test_replace_keeps_real_projects_and_synthetic_ids_follow_them(generated):
    pairing = Pairing.objects.filter(status=PairingStatus.ACTIVE).order_by("pk").first()
    real = services.project_create(by=None, pairing=pairing, title="真实项目")
    generate("--seed", "7", "--replace")
    assert Project.objects.filter(is_synthetic=False).get() == real
    assert Project.objects.filter(is_synthetic=True).count() == N
    assert Project.objects.filter(is_synthetic=True, pk__lte=real.pk).count() == 0
    # The services still number new projects after the reserved range.
    later = services.project_create(by=None, pairing=pairing, title="之后的项目")
    assert later.pk > Project.objects.filter(is_synthetic=True).order_by("-pk").first().pk


def test_the_services_take_over_where_the_generator_left_off(generated):
    project = Project.objects.filter(state="in_construction").select_related("proposed_by").first()
    if project is None:
        pytest.skip("no project in construction for this seed")
    officer = project.proposed_by
    last = selectors.latest_progress(project)
    assert project.actual_start is not None
    period_end = max(last.period_end, project.actual_start) if last else project.actual_start
    services.progress_report_submit(
        by=officer, project=project, period_end=period_end, physical_progress=100, spend_to_date="1.00"
    )
    services.project_complete(project=project, by=officer, actual_end=period_end)
    project.refresh_from_db()
    assert project.state == "completed"
    assert history_of(project)[-1].action == "complete"


def test_the_generator_refuses_nonsense():
    with pytest.raises(CommandError):
        call_command("generate_projects", "--projects", "0", verbosity=0)
    assert not Project.objects.filter(Q(is_synthetic=True)).exists()


def test_every_text_written_is_chinese_as_stored_and_english_on_an_english_page(generated):
    """The synthetic projects' findings, narratives, closing notes, descriptions, history comments and actors'
    names are Chinese as stored, with their English registered (core/demo_texts.py) for an English page."""
    from core.demo_texts import english_of

    texts = {
        *Project.objects.values_list("description", flat=True),
        *ProgressReport.objects.values_list("narrative", flat=True),
        *Inspection.objects.exclude(findings="").values_list("findings", flat=True),
        *Rectification.objects.values_list("finding", flat=True),
        *Rectification.objects.exclude(closure_note="").values_list("closure_note", flat=True),
        *HistoryEvent.objects.filter(content_type=ContentType.objects.get_for_model(Project)).values_list(
            "comment", flat=True
        ),
        *(u.get_full_name() for u in User.objects.filter(username__startswith="synthetic-")),
    }
    assert MARK in texts
    for text in texts - {""}:
        english = english_of(text)
        assert english, f"no English for {text!r}"
        assert not re.search(r"[A-Za-z]", text), f"English in the Chinese {text!r}"
        assert not re.search(r"[\u4e00-\u9fff]", english), f"Chinese in the English {english!r}"
