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

from accounts.models import OrganizationKind, Role, User
from accounts.services import organization_create
from core import rollups
from core.models import HistoryEvent
from pairings.models import FlowKind, FundFlow, Pairing, PairingStatus
from projects import handover_selectors, handover_services, selectors, services
from projects.models import (
    Handover,
    HandoverStatus,
    Inspection,
    InspectionKind,
    OperationReport,
    OperationStatus,
    ProgressReport,
    Project,
    Rectification,
    State,
)
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
    return [
        *Project.objects.order_by("code").values_list(
            "code", "title", "state", "pairing_id", "budget_requested", "approved_budget", "created_at"
        ),
        *Handover.objects.order_by("project__code").values_list(
            "project__code", "date", "status", "round", "asset_value", "receiving_name", "confirmed_at"
        ),
        *OperationReport.objects.order_by("project__code", "year").values_list(
            "project__code", "year", "status", "utilisation", "operating_cost", "revenue", "people_served"
        ),
    ]


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
    ct = ContentType.objects.get_for_model(Project)
    assert 2.5 <= HistoryEvent.objects.filter(content_type=ct, comment__contains=MARK).count() / N <= 7
    assert 0.8 <= ProgressReport.objects.count() / N <= 2.5
    assert 0.3 <= Inspection.objects.count() / N <= 1.5
    assert 1 <= FundFlow.objects.count() / N <= 4
    assert not FundFlow.objects.filter(is_synthetic=False).exists()
    assert not HistoryEvent.objects.filter(content_type=ct).exclude(comment__contains=MARK).exists()
    assert Handover.objects.exists()
    assert OperationReport.objects.exists()
    assert not Handover.objects.filter(project__is_synthetic=False).exists()


def test_every_row_passes_the_models_validation_and_the_database_constraints(generated):
    # full_clean checks choices, lengths, validators and the CheckConstraints, as a form or serializer would.
    for model in (Project, ProgressReport, Inspection, Rectification, FundFlow, Handover, OperationReport):
        for obj in model.objects.all():
            # A report filed where the directory has no recipient organization has no filer (null, as a report
            # filed by the system: by=None); the form never leaves it blank.
            obj.full_clean(exclude=["filed_by"] if model is OperationReport and obj.filed_by_id is None else None)


def test_every_project_is_where_its_lifecycle_put_it(generated):
    today = dt.date.today()
    for p in Project.objects.select_related("pairing__recipient_region", "location", "proposed_by", "created_by"):
        cancelled = p.state == State.CANCELLED
        # The lifecycle's events (the handover's steps are events beside it: no state).
        events = [e for e in history_of(p) if e.to_state]
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
    models = (HistoryEvent, ProgressReport, Inspection, Rectification, FundFlow, Handover, OperationReport)
    counts = {m: m.objects.count() for m in models}
    assert counts[Handover]
    assert counts[OperationReport]
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
        *Handover.objects.exclude(refusal_reason="").values_list("refusal_reason", flat=True),
        *OperationReport.objects.values_list("notes", flat=True),
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


HANDOVER_STEPS = {"handover_recorded", "handover_refused", "handover_confirmed"}


@pytest.fixture
def with_receivers(db):
    """A recipient county government for every pairing's recipient region (as the demo's Shufu), then 400 projects:
    enough for every handover status and operating status."""
    call_command("load_regions", verbosity=0)
    call_command("load_programs", verbosity=0)
    regions = {p.recipient_region for p in Pairing.objects.select_related("recipient_region")}
    for region in sorted(regions, key=lambda r: r.code):
        organization_create(
            by=None,
            name=f"{region.name}人民政府（{region.code}）",
            kind=OrganizationKind.COUNTY_GOVERNMENT,
            region=region,
        )
    call_command("generate_projects", "--projects", "400", "--seed", "3", verbosity=0)


def test_accepted_projects_are_handed_over_and_reported_on_as_the_services_would(with_receivers):
    handovers = list(
        Handover.objects.select_related(
            "project__pairing__recipient_region", "project__location", "receiving_organization", "confirmed_by"
        )
    )
    accepted = Project.objects.filter(state=State.ACCEPTED).count()
    assert 0.5 * accepted <= len(handovers) < accepted
    statuses = Counter(h.status for h in handovers)
    assert statuses[HandoverStatus.CONFIRMED] > 0.6 * len(handovers), statuses
    assert statuses[HandoverStatus.PENDING], statuses
    assert statuses[HandoverStatus.REFUSED], statuses
    assert any(h.round == 2 and h.status == HandoverStatus.CONFIRMED for h in handovers)
    for h in handovers:
        p = h.project
        assert p.state == State.ACCEPTED  # the generator makes no evaluated project
        events = history_of(p)
        accept = next(e for e in events if e.action == "accept")
        steps = [e for e in events if e.action in HANDOVER_STEPS]
        # The steps come after the acceptance, in order, within the pairing's term.
        assert all(e.at >= accept.at for e in steps)
        assert [e.at for e in steps] == sorted(e.at for e in steps)
        last_day = min(p.pairing.end_date or AS_OF, AS_OF)
        assert timezone.localtime(accept.at).date() <= h.date <= last_day
        assert h.date >= p.actual_end
        assert 0 < h.asset_value <= p.approved_budget
        # The steps as handover_services records them; the row where the last one left it.
        assert [e.action for e in steps].count("handover_recorded") == h.round
        assert steps[0].action == "handover_recorded"
        assert steps[0].changes["asset_value"]["new"] == str(h.asset_value)
        assert steps[0].changes["handover_date"]["new"] == h.date.isoformat()
        for before, step in itertools.pairwise(steps):
            assert step.changes["handover_status"]["old"] == before.changes["handover_status"]["new"]
        assert steps[-1].changes["handover_status"]["new"] == h.status
        refusals = [e for e in steps if e.action == "handover_refused"]
        assert bool(refusals) == bool(h.refusal_reason)
        assert all(e.comment == h.refusal_reason and MARK in e.comment for e in refusals)
        assert (h.confirmed_at is not None) == (h.status == HandoverStatus.CONFIRMED)
        # The receiver: the organization of the recipient side, whose synthetic recipient officer answers.
        org = h.receiving_organization
        assert org is not None
        assert h.receiving_name == ""
        assert p.pairing.recipient_region.contains(org.region)
        assert steps[0].changes["receiving_organization"]["new"] == {"id": org.pk, "label": org.name}
        for step in steps[1:]:
            if step.action != "handover_recorded":
                assert step.actor.organization == org
                assert step.actor.role_assignments.filter(role=Role.RECIPIENT_OFFICER).exists()
        if h.status == HandoverStatus.CONFIRMED:
            assert h.confirmed_by.username == f"synthetic-{org.pk}-recipient"
        # Yearly reports only once confirmed, from the handover's year to last year, filed after the confirmation.
        reports = list(p.operation_reports.order_by("year"))
        if h.status != HandoverStatus.CONFIRMED:
            assert reports == []
            continue
        assert all(h.date.year <= r.year < AS_OF.year for r in reports)
        for r in reports:
            assert r.filed_at >= h.confirmed_at
            assert timezone.localtime(r.filed_at).date() <= AS_OF
            assert r.filed_by == h.confirmed_by
            assert bool(r.cost_payer) == bool(r.operating_cost or r.maintenance_cost)
            assert (
                r.revenue is None
                or p.is_self_sustaining
                or r.revenue <= (r.operating_cost or 0) + (r.maintenance_cost or 0)
            )
            if r.status in (OperationStatus.CLOSED, OperationStatus.DEMOLISHED):
                assert not r.operating_cost
                assert r.utilisation == 0
            # What the service would take as sent.
            problems, _read = handover_services.operation_report_problems(
                p,
                None,
                year=r.year,
                status=r.status,
                utilisation=r.utilisation,
                operating_cost=r.operating_cost,
                maintenance_cost=r.maintenance_cost,
                cost_payer=r.cost_payer,
                revenue=r.revenue,
                jobs=r.jobs,
                people_served=r.people_served,
            )
            assert [x.code for x in problems] == ["duplicate"]  # filed already, and nothing else wrong

    reports = list(OperationReport.objects.select_related("project"))
    by_status = Counter(r.status for r in reports)
    assert by_status[OperationStatus.IN_USE] > 0.6 * len(reports), by_status
    assert by_status[OperationStatus.UNDER_USED]
    assert by_status[OperationStatus.IDLE] + by_status[OperationStatus.CLOSED]
    assert any(r.revenue and r.project.is_self_sustaining for r in reports)
    assert all(r.jobs is not None and r.people_served is not None for r in reports)
    # Some years are missing: the recipient officer's tasks (as of the day after AS_OF) have work.
    missing = handover_selectors.missing_reports(today=AS_OF + dt.timedelta(days=1))
    confirmed = statuses[HandoverStatus.CONFIRMED]
    assert 0 < missing.count() < 0.5 * confirmed
    # The rollups still agree with their rows.
    assert all(found == [] for found in rollups.reconcile().values())


def test_handovers_and_reports_go_with_replace_and_the_services_take_over(with_receivers):
    counts = (Handover.objects.count(), OperationReport.objects.count())
    call_command("generate_projects", "--projects", "400", "--seed", "3", "--replace", verbosity=0)
    assert (Handover.objects.count(), OperationReport.objects.count()) == counts
    call_command("generate_projects", "--projects", "50", "--seed", "4", "--replace", verbosity=0)
    assert Handover.objects.count() < counts[0]
    assert not Handover.objects.exclude(project__state=State.ACCEPTED).exists()

    # A real recipient officer of the receiving organization confirms a pending one and reports on a missing year.
    handover = Handover.objects.filter(status=HandoverStatus.PENDING).select_related("project").first()
    if handover is None:
        pytest.skip("no pending handover for this seed")
    officer = User.objects.create(username="ro", organization=handover.receiving_organization)
    officer.role_assignments.create(role=Role.RECIPIENT_OFFICER)
    handover_services.handover_confirm(by=officer, project=handover.project)
    report = handover_services.operation_report_file(
        by=officer, project=handover.project, year=handover.date.year, status=OperationStatus.IN_USE, utilisation=80
    )
    assert report.year == handover.date.year
    assert [e.action for e in history_of(handover.project)][-2:] == ["handover_confirmed", "operation_reported"]
