"""Sign-in attempts per client address: the page and the API count in the same window, the address is the one the
trusted proxies name (never what a client writes in X-Forwarded-For), and a refused page keeps the username."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings

from core.api import throttles

pytestmark = pytest.mark.django_db

PAGE = "/accounts/login/"
API = "/api/v1/auth/login/"
PASSWORD = settings.DUIKOU_DEMO_PASSWORD


@pytest.fixture
def three_a_minute(monkeypatch):
    monkeypatch.setattr(throttles.LoginThrottle, "THROTTLE_RATES", {"login": "3/minute"})
    # A fixed minute, the clock stopped 30 s into it: every attempt of the test falls in the same window.
    monkeypatch.setattr(throttles.FixedWindowThrottle, "timer", staticmethod(lambda: 1_800_000_030.0))
    cache.clear()
    yield
    cache.clear()


def sign_in(client, username: str, password: str, **headers: str):
    return client.post(PAGE, {"username": username, "password": password}, headers=headers)


def test_the_sign_in_page_is_limited_per_address_and_keeps_what_was_typed(client, world, three_a_minute):
    statuses = [sign_in(client, "alice", "wrong").status_code for _ in range(3)]
    response = sign_in(client, "alice", "typed-secret-9", **{"Accept-Language": "en"})

    assert statuses == [200, 200, 200]
    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "Too many sign-in attempts from your address. Wait 30 seconds, then try again." in page
    assert 'value="alice"' in page
    assert "typed-secret-9" not in page
    # Refused before the password was checked: not signed in, and no failure counted against the account.
    assert "_auth_user_id" not in client.session
    assert AccessAttempt.objects.get(username="alice").failures_since_start == 3


def test_the_refusal_is_in_chinese_by_default(client, world, three_a_minute):
    for _ in range(3):
        sign_in(client, "alice", "wrong")

    response = sign_in(client, "alice", "wrong")

    assert response.status_code == 429
    assert "来自您的地址的登录尝试过多。请等待 30 秒后再试。" in response.content.decode()


def test_the_page_and_the_api_share_one_count(client, api, world, three_a_minute):
    assert api.post(API, {"username": "alice", "password": "wrong"}, format="json").status_code == 400
    assert api.post(API, {"username": "alice", "password": "wrong"}, format="json").status_code == 400
    assert sign_in(client, "alice", "wrong").status_code == 200

    assert sign_in(client, "alice", PASSWORD).status_code == 429
    assert api.post(API, {"username": "alice", "password": PASSWORD}, format="json").status_code == 429


def test_a_client_cannot_escape_the_limit_by_writing_x_forwarded_for(client, world, three_a_minute):
    # No trusted proxy (the default): the header is the client's own words, and ignored.
    statuses = [
        sign_in(client, "alice", "wrong", **{"X-Forwarded-For": f"10.0.0.{n}"}).status_code for n in range(1, 6)
    ]

    assert statuses == [200, 200, 200, 429, 429]


@override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1})
def test_behind_one_trusted_proxy_each_client_has_its_own_limit(client, world, three_a_minute):
    # The proxy appends the address it was reached from; what the client wrote before that is not trusted.
    def as_client(address: str, username: str) -> int:
        return sign_in(client, username, "wrong", **{"X-Forwarded-For": f"6.6.6.6, {address}"}).status_code

    # Two accounts, so that neither reaches axes' lockout (5 failures) while the addresses are counted.
    first = [as_client("203.0.113.7", "alice") for _ in range(4)]
    second = [as_client("198.51.100.9", "bob") for _ in range(4)]

    assert first == [200, 200, 200, 429]
    assert second == [200, 200, 200, 429]


@override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1})
def test_axes_records_the_address_the_proxy_names(client, world, three_a_minute):
    sign_in(client, "alice", "wrong", **{"X-Forwarded-For": "6.6.6.6, 203.0.113.7"})

    assert AccessAttempt.objects.get(username="alice").ip_address == "203.0.113.7"


def test_the_address_is_remote_addr_without_a_trusted_proxy_and_checked_with_one(rf):
    request = rf.get("/", headers={"X-Forwarded-For": "10.1.1.1"}, REMOTE_ADDR="192.0.2.1")
    assert throttles.client_address(request) == "192.0.2.1"
    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}):
        assert throttles.client_address(request) == "10.1.1.1"
        garbage = rf.get("/", headers={"X-Forwarded-For": "not-an-address"}, REMOTE_ADDR="192.0.2.1")
        assert throttles.client_address(garbage) == "192.0.2.1"


def test_one_setting_feeds_drf_and_axes():
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.TRUSTED_PROXY_COUNT == 0
    assert settings.AXES_IPWARE_PROXY_COUNT == settings.TRUSTED_PROXY_COUNT
    assert settings.AXES_CLIENT_IP_CALLABLE == "core.api.throttles.client_address"
