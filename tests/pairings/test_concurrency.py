"""Officials acting at once, on real threads against PostgreSQL: the row locks in the services must make every
outcome one that some serial order could have produced."""

import datetime as dt
import threading
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection

from accounts.models import Role
from core import rollups
from core.errors import DomainError
from core.models import HistoryEvent, RegionLevel
from pairings import services
from pairings.figures import pairing_money
from pairings.models import AnnualMandate, FundFlow, Pairing, PairingStatus
from pairings.rollups import FLOW_TOTALS
from pairings.selectors import mandates_for
from tests.factories import OrganizationFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

D = dt.date
TIMEOUT = 30


def run_together(workers: list[Callable[[], Any]]) -> list[tuple[str, Any]]:
    """Start WORKERS on their own threads at the same moment; each result is ("ok", value) or
    ("refused", DomainError) or ("error", exception)."""
    barrier = threading.Barrier(len(workers))
    results: list[tuple[str, Any]] = [("error", "did not finish")] * len(workers)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=TIMEOUT)
            results[i] = ("ok", workers[i]())
        except DomainError as exc:
            results[i] = ("refused", exc)
        except Exception as exc:
            results[i] = ("error", exc)
        finally:
            connection.close()

    # the test's own connection goes back to the pool, so that every worker can have one
    connection.close()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a worker hung"
    return results


def flow_recorder(user, pairing, amount: str, kind: str = "disbursement", **kwargs: Any) -> Callable[[], FundFlow]:
    def record() -> FundFlow:
        return services.fund_flow_record(
            by=user, pairing=pairing, kind=kind, amount=amount, date=D(2011, 6, 1), source="assisting_fiscal", **kwargs
        )

    return record


def test_ten_officials_recording_disbursements_at_once_all_land(world, pw):
    services.mandate_set(by=None, pairing=pw.shufu, year=2011, funds_required="1000000", reason="测试")
    officials = [
        UserFactory(username=f"gd-{i}", organization=world.guangdong_gov, roles=[Role.ASSISTING_OFFICER])
        for i in range(5)
    ] + [
        UserFactory(username=f"sf-{i}", organization=world.shufu_gov, roles=[Role.RECIPIENT_OFFICER]) for i in range(5)
    ]
    amounts = [Decimal(f"{i + 1}000.{i + 1:02d}") for i in range(10)]  # 1000.01, 2000.02, … 10000.10

    results = run_together([flow_recorder(u, pw.shufu, str(a)) for u, a in zip(officials, amounts, strict=True)])

    assert [outcome for outcome, _ in results] == ["ok"] * 10
    assert FundFlow.objects.filter(pairing=pw.shufu, kind="disbursement").count() == 10
    [mandate] = mandates_for(pw.shufu)
    assert mandate.received == sum(amounts) == Decimal("55000.55")
    assert HistoryEvent.objects.for_object(pw.shufu).filter(action="flow_recorded").count() == 10
    assert set(FundFlow.objects.values_list("recorded_by", flat=True)) == {u.pk for u in officials}
    # Ten transactions adding to one rollup row at once: the total is the sum of all ten.
    assert rollups.differences(FLOW_TOTALS) == []
    assert pairing_money(pw.shufu, 2011).received == Decimal("55000.55")


def test_two_commitments_racing_for_one_pledge_one_wins_and_the_other_is_told_it_is_taken(world, pw):
    pledge = services.fund_flow_record(
        by=world.assisting, pairing=pw.shufu, kind="pledge", amount="500000", date=D(2011, 3, 1), source="enterprise"
    )
    second_officer = UserFactory(username="gd-2", organization=world.guangdong_gov, roles=[Role.ASSISTING_OFFICER])

    results = run_together(
        [
            flow_recorder(world.assisting, pw.shufu, "500000", kind="commitment", pledge=pledge),
            flow_recorder(second_officer, pw.shufu, "500000", kind="commitment", pledge=pledge),
        ]
    )

    assert sorted(outcome for outcome, _ in results) == ["ok", "refused"]
    [(_, refusal)] = [r for r in results if r[0] == "refused"]
    assert [(p.code, p.field) for p in refusal.problems] == [("pledge_committed", "pledge")]
    assert FundFlow.objects.filter(kind="commitment").count() == 1
    assert FundFlow.objects.get(kind="commitment").pledge_id == pledge.pk
    assert FundFlow.objects.get(kind="commitment").amount == Decimal("500000.00")
    assert rollups.differences(FLOW_TOTALS) == []
    assert pairing_money(pw.shufu, 2011).pledged == Decimal("0.00")


def test_ending_a_pairing_while_flows_are_recorded_lets_none_land_after_the_end(world, pw):
    recorders = [
        UserFactory(username=f"sf-{i}", organization=world.shufu_gov, roles=[Role.RECIPIENT_OFFICER]) for i in range(6)
    ]
    first_landed = threading.Event()

    def keep_recording(user) -> Callable[[], list[tuple[str, Any]]]:
        def record() -> list[tuple[str, Any]]:
            outcomes: list[tuple[str, Any]] = []
            for _ in range(500):
                try:
                    flow = flow_recorder(user, pw.shufu, "10")()
                except DomainError as exc:
                    outcomes.append(("refused", exc))
                    return outcomes
                outcomes.append(("ok", flow.pk))
                first_landed.set()
            return outcomes

        return record

    def end() -> Pairing:
        # end only once some flows have landed, so that both sides of the race are exercised
        assert first_landed.wait(timeout=TIMEOUT)
        return services.pairing_end(by=world.coordinator, pairing=pw.shufu, end_date=D(2012, 1, 1), comment="结束")

    results = run_together([end, *(keep_recording(u) for u in recorders)])

    assert results[0][0] == "ok"
    ended = HistoryEvent.objects.for_object(pw.shufu).get(action="ended")
    assert Pairing.objects.get(pk=pw.shufu.pk).status == PairingStatus.ENDED
    landed: list[int] = []
    for outcome, attempts in results[1:]:
        assert outcome == "ok"
        *successes, (last, refusal) = attempts
        # each recorder went on until the end stopped it, and was told why
        assert last == "refused"
        assert [(p.code, p.field) for p in refusal.problems] == [("pairing_ended", "pairing")]
        assert {kind for kind, _ in successes} <= {"ok"}
        landed += [pk for _, pk in successes]
    assert landed
    assert set(FundFlow.objects.filter(pairing=pw.shufu).values_list("pk", flat=True)) == set(landed)
    assert all(created < ended.at for created in FundFlow.objects.values_list("created_at", flat=True))
    assert HistoryEvent.objects.for_object(pw.shufu).filter(action="flow_recorded").count() == len(landed)
    assert not HistoryEvent.objects.for_object(pw.shufu).filter(action="flow_recorded", id__gt=ended.id).exists()


def test_two_coordinators_pairing_the_same_region_at_once_one_is_told_it_is_taken(world, pw):
    kashgar_city = RegionFactory(code="653101", name="喀什市", level=RegionLevel.COUNTY, parent=world.kashgar)

    def pair(organization) -> Callable[[], Pairing]:
        return lambda: services.pairing_create(
            by=world.coordinator,
            program=pw.program,
            assisting_organization=organization,
            recipient_region=kashgar_city,
            start_date=D(2010, 6, 1),
        )

    results = run_together([pair(world.shenzhen_gov), pair(world.jiangsu_gov)])

    assert sorted(outcome for outcome, _ in results) == ["ok", "refused"]
    [(_, refusal)] = [r for r in results if r[0] == "refused"]
    assert [(p.code, p.field) for p in refusal.problems] == [("recipient_taken", "recipient_region")]
    assert Pairing.objects.filter(recipient_region=kashgar_city).count() == 1
    [created] = [value for outcome, value in results if outcome == "ok"]
    assert [e.action for e in HistoryEvent.objects.for_object(created)] == ["created"]


@pytest.fixture
def two_children(world, pw) -> tuple[Pairing, Pairing]:
    """Guangdong → Shufu owes 1,000,000.00 in 2011 and is broken down to two cities, each with a township."""
    services.mandate_set(by=None, pairing=pw.shufu, year=2011, funds_required="1000000", reason="分配")
    children = []
    for code, city in (
        ("653121901", world.shenzhen_gov),
        ("653121902", OrganizationFactory(parent=world.guangdong_gov)),
    ):
        township = RegionFactory(code=code, level=RegionLevel.TOWNSHIP, parent=world.shufu)
        children.append(
            services.pairing_create(
                by=None,
                program=pw.program,
                assisting_organization=city,
                recipient_region=township,
                start_date=D(2010, 7, 1),
                parent=pw.shufu,
            )
        )
    return children[0], children[1]


def test_two_allocations_that_fit_alone_but_not_together_cannot_both_land(world, pw, two_children):
    second_officer = UserFactory(username="gd-2", organization=world.guangdong_gov, roles=[Role.ASSISTING_OFFICER])

    def allocate(by, child) -> Callable[[], AnnualMandate]:
        return lambda: services.mandate_set(by=by, pairing=child, year=2011, funds_required="600000", reason="分配")

    results = run_together([allocate(world.assisting, two_children[0]), allocate(second_officer, two_children[1])])

    assert sorted(outcome for outcome, _ in results) == ["ok", "refused"]
    [(_, refusal)] = [r for r in results if r[0] == "refused"]
    assert [(p.code, p.field) for p in refusal.problems] == [("above_parent", "funds_required")]
    assert AnnualMandate.objects.filter(pairing__parent=pw.shufu).count() == 1


def backends_waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def test_lowering_a_parents_mandate_while_a_child_is_allocated_keeps_the_children_within_it(
    world, pw, two_children, monkeypatch
):
    """The allocation is paused after writing the child's mandate, still holding its locks, until the lowering of
    the parent is seen waiting for a lock; then both go on. Whichever order the database picks, the children may
    not end up needing more than the parent."""
    child, _ = two_children
    child_written = threading.Event()
    go_on = threading.Event()
    record = services.history_record

    def paused_history_record(**kwargs: Any):
        obj = kwargs["obj"]
        if isinstance(obj, AnnualMandate) and obj.pairing_id == child.pk:
            child_written.set()
            assert go_on.wait(timeout=TIMEOUT)
        return record(**kwargs)

    monkeypatch.setattr(services, "history_record", paused_history_record)

    def allocate() -> AnnualMandate:
        return services.mandate_set(
            by=world.assisting, pairing=child, year=2011, funds_required="900000", reason="分配"
        )

    def lower() -> AnnualMandate:
        assert child_written.wait(timeout=TIMEOUT)
        return services.mandate_set(
            by=world.coordinator, pairing=pw.shufu, year=2011, funds_required="500000", reason="调减"
        )

    def release_when_the_lowering_waits() -> None:
        assert child_written.wait(timeout=TIMEOUT)
        deadline = time.monotonic() + TIMEOUT
        while backends_waiting_for_a_lock() == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        go_on.set()

    results = run_together([allocate, lower, release_when_the_lowering_waits])

    assert results[0][0] == "ok"
    assert results[2][0] == "ok"
    assert results[1][0] == "refused", "the parent was lowered below what its children already need"
    assert [(p.code, p.field) for p in results[1][1].problems] == [("below_children", "funds_required")]
    parent = AnnualMandate.objects.get(pairing=pw.shufu, year=2011)
    children_total = sum(
        AnnualMandate.objects.filter(pairing__parent=pw.shufu).values_list("funds_required", flat=True)
    )
    assert (parent.funds_required, children_total) == (Decimal("1000000.00"), Decimal("900000.00"))


def test_raising_a_parents_mandate_while_a_child_is_allocated_lets_both_land(world, pw, two_children, monkeypatch):
    """The child's allocation has locked its own pairing; the parent's change has locked the parent pairing and
    waits until the allocation is either blocked on a lock or past its check. Neither may deadlock the other."""
    child, _ = two_children
    parent_locked = threading.Event()
    child_written = threading.Event()
    visible_pairing = services._visible_pairing
    record = services.history_record

    def pausing_visible_pairing(by, pairing, *, lock=False):
        found = visible_pairing(by, pairing, lock=lock)
        if by == world.assisting:  # the allocation, once its own pairing is locked
            assert parent_locked.wait(timeout=TIMEOUT)
        else:  # the parent's change, once the parent pairing is locked
            parent_locked.set()
            deadline = time.monotonic() + TIMEOUT
            while not child_written.is_set() and backends_waiting_for_a_lock() == 0 and time.monotonic() < deadline:
                time.sleep(0.02)
        return found

    def noting_history_record(**kwargs: Any):
        if isinstance(kwargs["obj"], AnnualMandate) and kwargs["obj"].pairing_id == child.pk:
            child_written.set()
        return record(**kwargs)

    monkeypatch.setattr(services, "_visible_pairing", pausing_visible_pairing)
    monkeypatch.setattr(services, "history_record", noting_history_record)

    results = run_together(
        [
            lambda: services.mandate_set(
                by=world.assisting, pairing=child, year=2011, funds_required="600000", reason="分配"
            ),
            lambda: services.mandate_set(
                by=world.coordinator, pairing=pw.shufu, year=2011, funds_required="2000000", reason="调增"
            ),
        ]
    )

    assert [outcome for outcome, _ in results] == ["ok", "ok"], results
    assert AnnualMandate.objects.get(pairing=pw.shufu, year=2011).funds_required == Decimal("2000000.00")
    assert AnnualMandate.objects.get(pairing=child, year=2011).funds_required == Decimal("600000.00")
