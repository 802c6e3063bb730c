"""The rollups (core.rollups, pairings.rollups, projects.rollups) equal their rows after every kind of write.

Each test writes the base tables the ways Duikou and its tools do — services, factories, `bulk_create` (the
synthetic generator, imports), `queryset.update()`, deletions — and after each step checks the stored totals
against the live aggregate (`core.rollups.differences`). The figures read from the rollups are compared with
those the rows make on every page in tests/test_consistency.py.
"""

import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import F, Sum

from core import rollups
from pairings import figures as pairing_figures
from pairings.models import FlowTotal, FlowYearTotal, FundFlow, Pairing
from pairings.rollups import FLOW_ALL_YEARS, FLOW_TOTALS
from projects import figures as project_figures
from projects.models import Project, ProjectStateCount
from projects.rollups import STATE_COUNTS
from tests.factories import FundFlowFactory, PairingFactory, ProjectFactory

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def exact() -> None:
    assert rollups.differences(FLOW_TOTALS) == []
    assert rollups.differences(FLOW_ALL_YEARS) == []
    assert rollups.differences(STATE_COUNTS) == []
    assert {r.name for r in rollups.registered()} == {FLOW_TOTALS.name, FLOW_ALL_YEARS.name, STATE_COUNTS.name}


def stored(pairing: Pairing, year: int, kind: str) -> Decimal:
    row = FlowYearTotal.objects.filter(pairing=pairing, year=year, kind=kind).first()
    return row.amount if row else Decimal("0.00")


@pytest.fixture
def pairing() -> Pairing:
    return PairingFactory()


def test_the_migration_installed_the_triggers_on_postgresql():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid IN ('pairings_fundflow'::regclass, "
            "'pairings_flowyeartotal'::regclass, 'projects_project'::regclass) AND NOT tgisinternal ORDER BY tgname"
        )
        names = [r[0] for r in cursor.fetchall()]
    assert names == [
        "pairings_flow_all_years_delete",
        "pairings_flow_all_years_insert",
        "pairings_flow_all_years_update",
        "pairings_flow_totals_delete",
        "pairings_flow_totals_insert",
        "pairings_flow_totals_update",
        "projects_state_counts_delete",
        "projects_state_counts_insert",
        "projects_state_counts_update",
    ]


def test_flows_of_every_kind_add_up_by_pairing_year_and_kind(pairing):
    FundFlowFactory(pairing=pairing, kind="disbursement", amount=Decimal("100.00"), date=dt.date(2015, 3, 1))
    FundFlowFactory(pairing=pairing, kind="disbursement", amount=Decimal("50.50"), date=dt.date(2015, 12, 31))
    FundFlowFactory(pairing=pairing, kind="disbursement", amount=Decimal("7.00"), date=dt.date(2016, 1, 1))
    FundFlowFactory(pairing=pairing, kind="expenditure", amount=Decimal("30.00"), date=dt.date(2015, 5, 1))
    assert stored(pairing, 2015, "disbursement") == Decimal("150.50")
    assert stored(pairing, 2016, "disbursement") == Decimal("7.00")
    assert stored(pairing, 2015, "expenditure") == Decimal("30.00")
    exact()


def test_a_pledge_is_open_until_a_commitment_fulfils_it_and_open_again_when_that_goes(pairing):
    pledge = FundFlowFactory(pairing=pairing, kind="pledge", amount=Decimal("500.00"), date=dt.date(2014, 11, 1))
    assert stored(pairing, 2014, "pledge_open") == Decimal("500.00")
    # Committed the next year: the pledge of 2014 is no longer open.
    commitment = FundFlowFactory(
        pairing=pairing, kind="commitment", amount=Decimal("500.00"), date=dt.date(2015, 2, 1), pledge=pledge
    )
    assert stored(pairing, 2014, "pledge_open") == Decimal("0.00")
    assert stored(pairing, 2014, "pledge") == Decimal("500.00")
    assert stored(pairing, 2015, "commitment") == Decimal("500.00")
    exact()
    # The committed pledge's amount corrected: still not open.
    FundFlow.objects.filter(pk=pledge.pk).update(amount=Decimal("600.00"))
    assert stored(pairing, 2014, "pledge_open") == Decimal("0.00")
    exact()
    # The commitment moved to another pledge: the first is open again, the second closed.
    other = FundFlowFactory(pairing=pairing, kind="pledge", amount=Decimal("80.00"), date=dt.date(2013, 1, 1))
    FundFlow.objects.filter(pk=commitment.pk).update(pledge=other)
    assert stored(pairing, 2014, "pledge_open") == Decimal("600.00")
    assert stored(pairing, 2013, "pledge_open") == Decimal("0.00")
    exact()
    # The commitment deleted: both pledges open.
    commitment.delete()
    assert stored(pairing, 2013, "pledge_open") == Decimal("80.00")
    assert stored(pairing, 2015, "commitment") == Decimal("0.00")
    exact()


def test_a_bulk_insert_with_a_commitment_before_its_pledge_counts_the_pledge_once(pairing):
    # One INSERT statement, the commitment's row first: the statement's trigger sees both at once.
    base = (FundFlow.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1000
    common = {"pairing": pairing, "source": "assisting_fiscal"}
    FundFlow.objects.bulk_create(
        [
            FundFlow(
                pk=base + 1,
                kind="commitment",
                amount=Decimal("40.00"),
                date=dt.date(2016, 1, 5),
                pledge_id=base + 2,
                **common,
            ),
            FundFlow(pk=base + 2, kind="pledge", amount=Decimal("40.00"), date=dt.date(2015, 9, 1), **common),
            FundFlow(pk=base + 3, kind="pledge", amount=Decimal("9.00"), date=dt.date(2015, 9, 2), **common),
        ]
    )
    assert stored(pairing, 2015, "pledge") == Decimal("49.00")
    assert stored(pairing, 2015, "pledge_open") == Decimal("9.00")
    exact()
    # And deleted in one statement (the ORM would refuse: a commitment protects its pledge).
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM pairings_fundflow WHERE id IN (%s, %s, %s)", [base + 1, base + 2, base + 3])
    assert stored(pairing, 2015, "pledge") == Decimal("0.00")
    assert stored(pairing, 2015, "pledge_open") == Decimal("0.00")
    exact()


def test_queryset_updates_moving_flows_across_years_pairings_and_kinds(pairing):
    other = PairingFactory()
    for day in range(1, 6):
        FundFlowFactory(pairing=pairing, kind="disbursement", amount=Decimal("10.00"), date=dt.date(2015, 1, day))
    FundFlow.objects.filter(pairing=pairing).update(amount=F("amount") + 1)
    exact()
    FundFlow.objects.filter(pairing=pairing, date__day__lte=2).update(date=dt.date(2017, 6, 1), pairing=other)
    FundFlow.objects.filter(pairing=pairing, date__day=3).update(kind="expenditure")
    assert stored(other, 2017, "disbursement") == Decimal("22.00")
    assert stored(pairing, 2015, "disbursement") == Decimal("22.00")
    assert stored(pairing, 2015, "expenditure") == Decimal("11.00")
    exact()


def test_the_figures_read_from_the_rollup_equal_the_flows(pairing):
    FundFlowFactory(pairing=pairing, kind="pledge", amount=Decimal("300.00"), date=dt.date(2015, 1, 1))
    FundFlowFactory(pairing=pairing, kind="commitment", amount=Decimal("200.00"), date=dt.date(2015, 2, 1))
    FundFlowFactory(pairing=pairing, kind="disbursement", amount=Decimal("150.00"), date=dt.date(2015, 3, 1))
    FundFlowFactory(pairing=pairing, kind="expenditure", amount=Decimal("90.00"), date=dt.date(2016, 3, 1))
    money = pairing_figures.pairing_money(pairing)
    assert (money.pledged, money.committed, money.received, money.spent) == (
        Decimal("300.00"),
        Decimal("200.00"),
        Decimal("150.00"),
        Decimal("90.00"),
    )
    assert pairing_figures.pairing_money(pairing, 2016).spent == Decimal("90.00")
    assert pairing_figures.pairing_money(pairing, 2016).received == Decimal("0.00")


def test_project_counts_follow_inserts_transitions_moves_and_deletions(pairing):
    other = PairingFactory(program=pairing.program)
    projects = [ProjectFactory(pairing=pairing) for _ in range(3)]
    Project.objects.bulk_create([ProjectFactory.build(pairing=pairing, state="approved") for _ in range(4)])
    exact()
    counts = project_figures.scope_stage_counts(Pairing.objects.filter(pk=pairing.pk))
    assert counts.states == {"draft": 3, "approved": 4}
    assert counts.total == 7

    Project.objects.filter(pk=projects[0].pk).update(state="proposed")
    Project.objects.filter(state="approved").update(pairing=other)
    exact()
    scope = Pairing.objects.filter(pk__in=[pairing.pk, other.pk])
    assert project_figures.scope_stage_counts(scope).states == {"draft": 2, "proposed": 1, "approved": 4}
    assert project_figures.scope_stage_counts_by_program(scope)[pairing.program_id].total == 7

    projects[1].delete()
    Project.objects.filter(pairing=other).delete()
    exact()
    assert project_figures.scope_stage_counts(scope).states == {"draft": 1, "proposed": 1}


def test_an_update_that_changes_neither_state_nor_pairing_writes_no_count(pairing):
    project = ProjectFactory(pairing=pairing)
    row = ProjectStateCount.objects.get(pairing=pairing, state="draft")
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text FROM projects_projectstatecount WHERE id = %s", [row.pk])
        before = cursor.fetchone()[0]
        Project.objects.filter(pk=project.pk).update(title="另一个名称")
        cursor.execute("SELECT xmin::text FROM projects_projectstatecount WHERE id = %s", [row.pk])
        assert cursor.fetchone()[0] == before  # the count row was not rewritten


def test_the_scope_counts_equal_counting_the_projects(pairing):
    for state in ("draft", "draft", "in_construction", "accepted", "cancelled"):
        ProjectFactory(pairing=pairing, state=state)
    scope = Pairing.objects.filter(pk=pairing.pk)
    live = project_figures.stage_counts(Project.objects.filter(pairing__in=scope))
    assert project_figures.scope_stage_counts(scope) == live


def test_reconciliation_finds_a_rollup_that_drifted_and_repairs_it(pairing, caplog):
    FundFlowFactory(pairing=pairing, kind="disbursement", amount=Decimal("10.00"), date=dt.date(2015, 1, 1))
    ProjectFactory(pairing=pairing)
    exact()
    # A write that bypasses the triggers (here: the rollup changed by hand).
    FlowYearTotal.objects.filter(pairing=pairing).update(amount=Decimal("99.00"))
    ProjectStateCount.objects.filter(pairing=pairing).delete()

    report = rollups.reconcile()
    assert [d.key for d in report["pairings.flow_totals"]] == [(pairing.pk, 2015, "disbursement")]
    assert report["pairings.flow_totals"][0].stored == (Decimal("99.00"), 1)
    assert [(d.key, d.stored, d.live) for d in report["projects.state_counts"]] == [((pairing.pk, "draft"), None, (1,))]
    # The all-years rollup follows the year rollup's rows, the hand-made change too: it differs from the flows.
    assert [(d.key, d.stored) for d in report["pairings.flow_all_years"]] == [
        ((pairing.pk, "disbursement"), (Decimal("99.00"), 1))
    ]
    assert "differs from its rows" in caplog.text

    rollups.reconcile(repair=True)
    exact()
    assert stored(pairing, 2015, "disbursement") == Decimal("10.00")


def test_the_all_years_rollup_adds_up_the_years_and_is_repaired_on_its_own(pairing):
    for year, kind, amount in [(2014, "pledge", "50.00"), (2015, "commitment", "30.00"), (2016, "commitment", "7.25")]:
        FundFlowFactory(pairing=pairing, kind=kind, amount=Decimal(amount), date=dt.date(year, 5, 1))
    exact()
    rows = dict(FlowTotal.objects.filter(pairing=pairing).values_list("kind").annotate(a=Sum("amount")))
    assert rows["commitment"] == Decimal("37.25")
    assert rows["pledge"] == Decimal("50.00")
    assert pairing_figures.pairing_money(pairing).committed == Decimal("37.25")
    # Moving flows between years changes the years' rows, not the all-years total.
    FundFlow.objects.filter(pairing=pairing, kind="commitment").update(date=dt.date(2019, 1, 1))
    exact()
    assert FlowTotal.objects.get(pairing=pairing, kind="commitment").amount == Decimal("37.25")
    # Changed by hand (bypassing the triggers), it alone is found and rebuilt.
    FlowTotal.objects.filter(pairing=pairing).delete()
    report = rollups.reconcile(repair=True)
    assert report["pairings.flow_totals"] == []
    assert {d.key for d in report["pairings.flow_all_years"]} == {
        (pairing.pk, "pledge"),
        (pairing.pk, "commitment"),
        (pairing.pk, "pledge_open"),
    }
    exact()


def test_the_reconciliation_task_and_command_report_and_repair(pairing, capsys):
    from core.tasks import reconcile_rollups

    FundFlowFactory(pairing=pairing, kind="disbursement", amount=Decimal("10.00"), date=dt.date(2015, 1, 1))
    assert reconcile_rollups.apply().get() == {
        "pairings.flow_totals": 0,
        "pairings.flow_all_years": 0,
        "projects.state_counts": 0,
    }

    FlowYearTotal.objects.filter(pairing=pairing).update(amount=Decimal("1.00"))
    # The beat task repairs (a rollup read by every dashboard must not stay wrong until someone looks).
    # The all-years rollup follows the year rollup's rows (its triggers are on that table), so repairing the year
    # rollup mends it before it is checked.
    assert reconcile_rollups.apply().get() == {
        "pairings.flow_totals": 1,
        "pairings.flow_all_years": 0,
        "projects.state_counts": 0,
    }
    exact()

    FlowYearTotal.objects.filter(pairing=pairing).update(amount=Decimal("1.00"))
    with pytest.raises(SystemExit):
        call_command("reconcile_rollups")  # checks only, and fails when something differs
    assert "pairings.flow_totals: 1 difference" in capsys.readouterr().out
    call_command("reconcile_rollups", "--repair")
    exact()
    call_command("reconcile_rollups")
    assert "exact" in capsys.readouterr().out


@pytest.mark.processes
def test_the_sqlite_triggers_keep_the_rollups_exact(tmp_path):
    """`make run` uses SQLite, whose triggers are written apart: the same writes there, checked the same way."""
    script = r"""
import datetime as dt
from decimal import Decimal
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from django.db.models import F
from core import rollups
from pairings.models import FundFlow
from pairings.rollups import FLOW_ALL_YEARS, FLOW_TOTALS
from projects.models import Project
from projects.rollups import STATE_COUNTS
from tests.factories import FundFlowFactory, PairingFactory, ProjectFactory

def check():
    assert rollups.differences(FLOW_TOTALS) == [], rollups.differences(FLOW_TOTALS)
    assert rollups.differences(FLOW_ALL_YEARS) == [], rollups.differences(FLOW_ALL_YEARS)
    assert rollups.differences(STATE_COUNTS) == [], rollups.differences(STATE_COUNTS)

p, q = PairingFactory(), PairingFactory()
pledge = FundFlowFactory(pairing=p, kind="pledge", amount=Decimal("500.00"), date=dt.date(2014, 11, 1))
c = FundFlowFactory(pairing=p, kind="commitment", amount=Decimal("500.00"), date=dt.date(2015, 2, 1), pledge=pledge)
FundFlowFactory(pairing=p, kind="disbursement", amount=Decimal("0.10"), date=dt.date(2015, 3, 1))
FundFlowFactory(pairing=p, kind="disbursement", amount=Decimal("0.20"), date=dt.date(2015, 3, 2))
check()
other = FundFlowFactory(pairing=p, kind="pledge", amount=Decimal("80.00"), date=dt.date(2013, 1, 1))
FundFlow.objects.filter(pk=c.pk).update(pledge=other)
FundFlow.objects.filter(kind="disbursement").update(pairing=q, date=dt.date(2016, 1, 1), amount=F("amount") + 1)
check()
c.delete()
check()
ProjectFactory(pairing=p); ProjectFactory(pairing=p, state="approved")
Project.objects.filter(state="approved").update(state="in_construction", pairing=q)
Project.objects.filter(pairing=p).update(title="x")
check()
Project.objects.all().delete()
FundFlow.objects.all().delete()
check()
print("sqlite rollups exact")
"""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'rollups.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "sqlite rollups exact" in done.stdout


def test_a_pairings_flow_count_is_read_from_the_rollup(pairing):
    for kind in ("pledge", "commitment", "disbursement", "disbursement"):
        FundFlowFactory(pairing=pairing, kind=kind, amount=Decimal("5.00"), date=dt.date(2015, 1, 1))
    FundFlowFactory(pairing=PairingFactory(), kind="disbursement", amount=Decimal("5.00"), date=dt.date(2015, 1, 1))
    assert pairing_figures.flow_count(pairing) == pairing.fund_flows.count() == 4
