"""The OpenAPI schema is valid OpenAPI 3 and the interactive docs are served from the project."""

import re

import pytest
import yaml
from openapi_spec_validator import validate

pytestmark = pytest.mark.django_db


def test_schema_is_valid_openapi_3(client):
    response = client.get("/api/schema/")
    assert response.status_code == 200
    spec = yaml.safe_load(response.content)
    assert spec["openapi"].startswith("3.")
    validate(spec)
    paths = spec["paths"]
    for path in [
        "/api/v1/auth/login/",
        "/api/v1/auth/logout/",
        "/api/v1/me/",
        "/api/v1/regions/",
        "/api/v1/organizations/",
    ]:
        assert path in paths, path


def test_swagger_ui_loads_only_assets_of_the_project(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not url.startswith(("http://", "https://", "//")), url
    assert "swagger-ui" in html
