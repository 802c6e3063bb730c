"""Who may open what in accounts: every role (and nobody) against each endpoint and page."""

from urllib.parse import quote

import pytest
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.models import Organization, Role, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ANONYMOUS = "anonymous"
COORDINATOR = Role.NATIONAL_COORDINATOR.value

# Evaluators and observers sit in the central office on purpose: the office alone must not open the directory.
HOME_ORGANIZATION = {
    Role.NATIONAL_COORDINATOR: "national_office",
    Role.ASSISTING_OFFICER: "guangdong_gov",
    Role.RECIPIENT_OFFICER: "shufu_gov",
    Role.APPROVER: "kashgar_gov",
    Role.SUPERVISOR: "kashgar_gov",
    Role.EVALUATOR: "national_office",
    Role.OBSERVER: "national_office",
}

# (kind, method, url, status for the coordinator, status for every other role)
ENDPOINTS = [
    ("api", "get", "/api/v1/me/", 200, 200),
    ("api", "get", "/api/v1/organizations/", 200, 200),
    ("api", "post", "/api/v1/organizations/", 201, 403),
    ("api", "get", "/api/v1/regions/", 200, 200),
    ("page", "get", "/accounts/directory/", 200, 403),
    ("page", "get", "/accounts/directory/users/new/", 200, 403),
    ("page", "get", "/accounts/directory/organizations/new/", 200, 403),
    ("page", "get", "/accounts/profile/", 200, 200),
    ("page", "get", "/", 200, 200),
]


def expected_status(kind: str, coordinator_status: int, others_status: int, role: str) -> int:
    if role == ANONYMOUS:
        return 401 if kind == "api" else 302
    return coordinator_status if role == COORDINATOR else others_status


MATRIX = [
    pytest.param(role, kind, method, url, expected_status(kind, coord, others, role), id=f"{role}-{method}-{url}")
    for role in [*Role.values, ANONYMOUS]
    for kind, method, url, coord, others in ENDPOINTS
]


def user_for(world, role: str) -> User:
    organization = getattr(world, HOME_ORGANIZATION[Role(role)])
    return UserFactory(username=f"matrix-{role}", organization=organization, roles=[role])


def test_the_matrix_covers_every_role():
    assert set(HOME_ORGANIZATION) == set(Role)
    assert len(Role.values) == 7


@pytest.mark.parametrize(("role", "kind", "method", "url", "expected"), MATRIX)
def test_permission_matrix(world, role, kind, method, url, expected):
    user = None if role == ANONYMOUS else user_for(world, role)
    organizations_before = Organization.objects.count()
    body = {"name": "矩阵测试机构", "kind": "agency"} if method == "post" else None

    if kind == "api":
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user)[1]}")
        response = getattr(client, method)(url, body, format="json")
    else:
        client = Client(headers={"Accept-Language": "en"})
        if user is not None:
            client.force_login(user)
        response = getattr(client, method)(url, body)

    assert response.status_code == expected
    if kind == "api" and expected >= 400:
        error = response.json()["errors"][0]
        assert error["code"] == {401: "not_authenticated", 403: "forbidden"}[expected]
    if expected == 302:
        assert response.url == f"/accounts/login/?next={quote(url)}"
    created = Organization.objects.count() - organizations_before
    assert created == (1 if expected == 201 else 0)


def test_a_national_coordinator_role_outside_the_central_office_gets_no_directory(world):
    provincial = UserFactory(organization=world.guangdong_gov, roles=[Role.NATIONAL_COORDINATOR])
    client = Client()
    client.force_login(provincial)

    assert client.get("/accounts/directory/").status_code == 403
    assert client.get("/accounts/directory/users/new/").status_code == 403


def test_a_superuser_without_an_organization_opens_the_directory(world):
    root = User.objects.create_superuser("root", "root@example.org", "Root-Password-2031")
    client = Client()
    client.force_login(root)

    assert client.get("/accounts/directory/").status_code == 200


def test_a_browser_session_must_send_csrf_to_write_through_the_api(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.coordinator)

    response = client.post("/api/v1/organizations/", {"name": "无令牌机构", "kind": "agency"}, format="json")

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "permission_denied"
    assert not Organization.objects.filter(name="无令牌机构").exists()


def test_a_browser_session_reads_the_api_without_a_token(world):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world.assisting)

    response = client.get("/api/v1/me/")

    assert response.status_code == 200
    assert response.json()["username"] == "alice"
