"""Money for a project is a fund flow of its pairing naming the project; only an approved project of that
pairing can be named, and the project page adds them up against the budget."""

import datetime as dt
from decimal import Decimal

import pytest

from core.errors import DomainError
from pairings import services as pairing_services
from pairings.models import FundFlow
from projects import figures, services

pytestmark = pytest.mark.django_db


def record(pairing, project_id, kind="disbursement", amount="1000"):
    return pairing_services.fund_flow_record(
        by=None,
        pairing=pairing,
        kind=kind,
        amount=amount,
        date=dt.date(2024, 5, 1),
        source="assisting_fiscal",
        project_id=project_id,
    )


def approved(draft, world, approver):
    services.project_submit(project=draft, by=world.assisting)
    return services.project_approve(project=draft, by=approver)


def test_a_draft_cannot_receive_funds(draft, pw):
    with pytest.raises(DomainError) as exc:
        record(pw.shufu, draft.pk)
    assert [(p.code, p.field) for p in exc.value.problems] == [("invalid_project", "project")]
    assert not FundFlow.objects.exists()


def test_a_project_of_another_pairing_cannot_be_named(draft, world, approver, pw):
    project = approved(draft, world, approver)
    with pytest.raises(DomainError) as exc:
        record(pw.jiashi, project.pk)
    assert exc.value.problems[0].field == "project"
    assert not FundFlow.objects.exists()


def test_flows_naming_an_approved_project_add_up_on_its_page(client, draft, world, approver, pw):
    project = approved(draft, world, approver)
    record(pw.shufu, project.pk, "commitment", "5000000")
    record(pw.shufu, project.pk, "disbursement", "3000000")
    record(pw.shufu, project.pk, "expenditure", "1000000")
    record(pw.shufu, None, "disbursement", "999")  # the pairing's, not the project's
    money = figures.project_money(project)
    assert (money.budget, money.committed, money.disbursed, money.spent) == (
        Decimal("12000000.00"),
        Decimal("5000000.00"),
        Decimal("3000000.00"),
        Decimal("1000000.00"),
    )
    assert money.reported_spend is None  # no progress reported yet


def test_an_officer_records_a_project_flow_from_the_project_page(client, draft, world, approver, pw):
    project = approved(draft, world, approver)
    client.force_login(world.assisting)
    response = client.post(
        f"/projects/{project.pk}/flows/new/",
        {"kind": "commitment", "amount": "2500000", "date": "2024-05-01", "source": "assisting_fiscal"},
    )
    assert response.status_code == 302
    flow = FundFlow.objects.get()
    assert (flow.project_id, flow.pairing_id, flow.recorded_by) == (project.pk, pw.shufu.pk, world.assisting)
    client.force_login(world.outsider)
    assert client.get(f"/projects/{project.pk}/flows/new/").status_code == 404


def test_a_transition_stands_when_the_broker_cannot_be_reached(
    draft, world, monkeypatch, django_capture_on_commit_callbacks
):
    from projects import tasks

    def broken(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.notify_transitions, "delay", broken)
    with django_capture_on_commit_callbacks(execute=True):
        services.project_submit(project=draft, by=world.assisting)
    draft.refresh_from_db()
    assert draft.state == "proposed"
