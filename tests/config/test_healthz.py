"""GET /healthz: the liveness and readiness probe of the compose web service."""

import pytest
from django.db import OperationalError

from core import views

pytestmark = pytest.mark.django_db


class _UnreachableDatabase:
    def cursor(self):
        raise OperationalError("connection refused")


def test_healthz_answers_ok_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_healthz_is_never_cached(client):
    assert "no-cache" in client.get("/healthz")["Cache-Control"]


def test_healthz_answers_503_when_the_database_does_not(client, monkeypatch):
    monkeypatch.setattr(views, "connection", _UnreachableDatabase())
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "OperationalError"}
