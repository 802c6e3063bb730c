"""Ten approvers approving one proposal at the same moment, through the API, on real threads against PostgreSQL:
the row lock in the service lets exactly one win; the other nine are told the state changed (409) and leave
nothing behind."""

import threading
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import Role, User
from core.models import HistoryEvent
from projects import services
from projects.models import Project, State
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 30


def post_together(clients: list[APIClient], path: str, body: dict[str, Any]) -> list[Any]:
    """POST BODY to PATH from every client on its own thread, all released at once; each result is the
    response or the exception the thread met."""
    barrier = threading.Barrier(len(clients))
    results: list[Any] = [RuntimeError("did not finish")] * len(clients)

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=TIMEOUT)
            results[i] = clients[i].post(path, body, format="json")
        except Exception as exc:
            results[i] = exc
        finally:
            # Each thread has its own connection: give it back, or the test database cannot be dropped.
            connection.close()

    # The test's own connection goes back to the pool, so that every thread can have one.
    connection.close()
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=TIMEOUT)
    assert not any(t.is_alive() for t in threads), "a thread hung"
    return results


def test_ten_approvers_at_once_one_approves_and_nine_get_a_conflict(world, draft):
    project = services.project_submit(project=draft, by=world.assisting)
    approvers = [
        UserFactory(username=f"approver-{i}", organization=world.guangdong_gov, roles=[Role.APPROVER])
        for i in range(10)
    ]
    clients = []
    for approver in approvers:
        client = APIClient()
        client.force_authenticate(User.objects.get(pk=approver.pk))
        clients.append(client)

    results = post_together(
        clients,
        f"/api/v1/projects/{project.pk}/transitions/",
        {"action": "approve", "approved_budget": "11000000.00", "comment": "同意"},
    )

    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    statuses = sorted(r.status_code for r in results)
    assert statuses == [200] + [409] * 9, [r.json() for r in results]
    for response in results:
        if response.status_code == 409:
            assert response.json()["errors"] == [
                {"code": "state_conflict", "message": response.json()["errors"][0]["message"], "field": "state"}
            ]
    [winner] = [approvers[i] for i, r in enumerate(results) if r.status_code == 200]
    project = Project.objects.get(pk=project.pk)
    assert (project.state, project.approved_budget) == (State.APPROVED, 11000000)
    approvals = HistoryEvent.objects.for_object(project).filter(action="approve")
    assert [(e.actor_id, e.from_state, e.to_state) for e in approvals] == [(winner.pk, "proposed", "approved")]
