"""The schema documents the errors each operation can answer, in the API's one error format."""

from projects.services import ALLOWED_TYPES
from tests.conftest import api_as


def test_every_operation_documents_its_errors_in_the_error_format(world):
    schema = api_as(world.coordinator).get("/api/schema/", {"format": "json"}).json()
    assert schema["components"]["schemas"]["Errors"]["required"] == ["errors"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"403", "429"} <= set(responses), (method, path)
            for status, response in responses.items():
                if status.startswith("4"):
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/Errors"
                    }, (method, path, status)


def test_the_errors_follow_what_the_operation_reads(world):
    paths = api_as(world.coordinator).get("/api/schema/", {"format": "json"}).json()["paths"]
    login = paths["/api/v1/auth/login/"]["post"]["responses"]
    assert {"400", "415"} <= set(login)
    assert "401" not in login  # anyone may sign in
    assert "404" not in login
    me = paths["/api/v1/me/"]["get"]["responses"]
    assert "401" in me
    assert "400" not in me  # no query string, no body
    assert "404" in paths["/api/v1/projects/{id}/"]["get"]["responses"]
    assert "404" in paths["/api/v1/projects/"]["get"]["responses"]  # a page past the last


def test_what_can_be_null_is_nullable(world):
    # The fuzzer of tests/api/ found these null in responses the schema said were never null.
    components = api_as(world.coordinator).get("/api/schema/", {"format": "json"}).json()["components"]["schemas"]
    region = components["Region"]["properties"]
    for name in ("parent", "city", "superseded_by"):
        assert region[name]["nullable"], name
    # An explained score line whose measure could not be measured (evaluation's project scores and scorecards).
    assert components["Line"]["properties"]["value"]["nullable"]


def test_a_download_documents_each_type_a_document_is_stored_as(world):
    # The fuzzer of tests/api/ found a PDF sent where the schema said only application/octet-stream.
    paths = api_as(world.coordinator).get("/api/schema/", {"format": "json"}).json()["paths"]
    download = paths["/api/v1/projects/{project_pk}/documents/{id}/download/"]["get"]["responses"]["200"]
    assert set(download["content"]) == {*ALLOWED_TYPES, "application/octet-stream"}
