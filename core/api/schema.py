"""The errors in the OpenAPI schema: each operation lists the 4xx it can answer, each in the one error format of
core/api/errors.py, so that a client (or a fuzzer) reading the schema knows every status it may get.

drf-spectacular documents only the success of an operation unless a view says more; this hook, run after it
(SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]), adds what every view of this API can answer:
- 400 when the operation reads a query string or a body (a value out of range, malformed or refused);
- 401 when it needs a caller (no token, or an expired or unknown one);
- 403 always (the caller's roles or scope; a locked-out sign-in);
- 404 when its path names a row, or it has pages (a page past the last);
- 415 when it reads a body (a content type it does not parse);
- 429 always (throttled).
A view that documents one of these itself keeps its description; every 4xx gains the error body if it has none.
"""

from typing import Any

ERRORS_COMPONENT = "Errors"
ERRORS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every problem found, each naming the field it is about (null for the request as a whole).",
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "field": {"type": "string", "nullable": True},
                },
                "required": ["code", "message", "field"],
            },
        }
    },
    "required": ["errors"],
}
METHODS = {"get", "put", "patch", "post", "delete", "head", "options", "trace"}


def _errors_of(operation: dict[str, Any]) -> dict[str, str]:
    """The error statuses OPERATION can answer, with what each means."""
    parameters = operation.get("parameters", [])
    has_body = "requestBody" in operation
    names_a_row = any(p["in"] == "path" for p in parameters)
    has_pages = any(p["in"] == "query" and p["name"] == "page" for p in parameters)
    errors: dict[str, str] = {}
    if has_body or any(p["in"] == "query" for p in parameters):
        errors["400"] = "A value is missing, malformed or refused: each problem names its field."
    if operation.get("security") and {} not in operation["security"]:
        errors["401"] = "No valid token or session."
    errors["403"] = "The caller may not do this."
    if names_a_row or has_pages:
        errors["404"] = "No such row in the caller's scope, or a page past the last."
    if has_body:
        errors["415"] = "The body's content type is not one this operation reads."
    errors["429"] = "Too many requests: try again later."
    return errors


def document_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Add the error format as a component and the errors each operation can answer (a postprocessing hook)."""
    result.setdefault("components", {}).setdefault("schemas", {})[ERRORS_COMPONENT] = ERRORS_SCHEMA
    body = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERRORS_COMPONENT}"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            for status, description in _errors_of(operation).items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if str(status).startswith("4"):
                    response.setdefault("content", body)
    return result
