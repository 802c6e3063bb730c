"""The errors in the OpenAPI schema: each operation lists the 4xx it can answer, each in the one error format of
core/api/errors.py, so that a client (or a fuzzer) reading the schema knows every status it may get.

drf-spectacular documents only the success of an operation unless a view says more; this hook, run after it
(SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]), adds what every view of this API can answer:
- 400 when the operation reads a query string or a body (a value out of range, malformed or refused);
- 401 when it needs a caller (no token, or an expired or unknown one);
- 403 always (the caller's roles or scope; a locked-out sign-in);
- 404 when its path names a row, or it has pages (a page past the last);
- 409 when it reads a body (the state of a row it names does not allow the change now);
- 415 when it reads a body (a content type it does not parse);
- 429 always (throttled).
A view that documents one of these itself keeps its description; every 4xx gains the error body if it has none.

It also says two things drf-spectacular leaves out, so that a request the schema calls valid is one the API takes:
- a request body has only the keys it lists (`additionalProperties: false`): the API refuses any other key
  (`unknown_field`, core/api/serializers.py);
- a body that can be JSON is JSON (`_json_only`);
- a decimal string has at least one digit: drf-spectacular's pattern (`^-?\\d{0,16}(?:\\.\\d{0,2})?$`) lets `""` and
  `"-"` through, which the API refuses as no number.
"""

import re
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
        errors["409"] = "The state of a row it names does not allow this now (e.g. a report on a project not built)."
        errors["415"] = "The body's content type is not one this operation reads."
    errors["429"] = "Too many requests: try again later."
    return errors


# drf-spectacular's pattern of a DecimalField: `^-?\d{0,<whole digits>}(?:\.\d{0,<places>})?$` (no fraction part
# when there are no places).
SPECTACULAR_DECIMAL = re.compile(r"\^(-\?)?\\d\{0,(\d+)\}(?:\(\?:\\\.\\d\{0,(\d+)\}\)\?)?\$")


# A character other than a blank as Python's str.isspace has them (what DRF trims): JavaScript's \s, which a client
# or a fuzzer may read the pattern with, leaves out \x1c-\x1f and \x85 (NEL), so they are named too.
NOT_BLANK = r"[^\s\x1c-\x1f\x85]"


def _decimal_pattern(pattern: str) -> str:
    """PATTERN, a DecimalField's, requiring a digit: `5`, `5.`, `5.25`, `.25`, each with an optional `-` if the
    pattern had one."""
    match = SPECTACULAR_DECIMAL.fullmatch(pattern)
    if match is None:
        return pattern
    sign, whole, places = match.groups()
    sign = sign or ""  # none when the value may not be negative (core/api/serializers.py)
    if places is None:
        return rf"^{sign}\d{{1,{whole}}}$"
    return rf"^{sign}(?:\d{{1,{whole}}}(?:\.\d{{0,{places}}})?|\.\d{{1,{places}}})$"


# Decimal strings whose range the service checks (pairings/services.py `_decimal`), which a pattern can say:
# "positive" (more than 0), "non_negative" (0 or more), "fraction" (0 to 1).
DECIMAL_RANGES: dict[str, dict[str, str]] = {
    "FundFlowRequest": {"amount": "positive"},
    "TrainingRequest": {"days": "positive"},
    "FiscalRevenueRequest": {"amount": "non_negative"},
    "PatchedFiscalRevenueCorrectRequest": {"amount": "non_negative"},
    "MandateWriteRequest": {"funds_required": "non_negative"},
    "FundingRuleRequest": {
        "fixed_amount": "non_negative",
        "rate": "fraction",
        "escalation": "fraction",
        "min_county_share": "fraction",
        "min_livelihood_share": "fraction",
    },
}


# Coordinates as the project serializer bounds them (latitude -90 to 90, longitude -180 to 180), 6 places.
COORDINATE_PATTERNS = {
    "latitude": r"^-?(?:90(?:\.0{0,6})?|[1-8]?\d(?:\.\d{0,6})?|\.\d{1,6})$",
    "longitude": r"^-?(?:180(?:\.0{0,6})?|(?:1[0-7]\d|[1-9]?\d)(?:\.\d{0,6})?|\.\d{1,6})$",
}
for _component in ("ProjectRequest", "PatchedProjectUpdateRequest"):
    DECIMAL_RANGES.setdefault(_component, {}).update({"latitude": "latitude", "longitude": "longitude"})


def _ranged_pattern(pattern: str, kind: str) -> str:
    """PATTERN (a decimal's, as drf-spectacular writes it) narrowed to the range KIND."""
    if kind in COORDINATE_PATTERNS:
        return COORDINATE_PATTERNS[kind]
    match = SPECTACULAR_DECIMAL.fullmatch(pattern)
    if match is None:
        return pattern
    whole, places = int(match.group(2)), int(match.group(3) or 0)
    fraction = rf"(?:\.\d{{0,{places}}})?" if places else ""
    if kind == "fraction":
        zeros = rf"(?:\.0{{0,{places}}})?" if places else ""
        return rf"^(?:0{fraction}|\.\d{{1,{places}}}|1{zeros})$" if places else "^[01]$"
    if kind == "non_negative":
        return _decimal_pattern(pattern.replace("^-?", "^", 1))
    # positive: a whole part from 1, or a fraction with a digit other than 0 within the places.
    small = "|".join(rf"0{{{k}}}[1-9]\d{{0,{places - 1 - k}}}" for k in range(places))
    whole_part = rf"[1-9]\d{{0,{whole - 1}}}{fraction}"
    return rf"^(?:{whole_part}|0?\.(?:{small}))$" if places else rf"^{whole_part}$"


def _tighten(schema: Any, *, request: bool) -> None:
    """Walk SCHEMA (a component), fixing decimal patterns; a request's objects get `additionalProperties: false`."""
    if isinstance(schema, list):
        for item in schema:
            _tighten(item, request=request)
        return
    if not isinstance(schema, dict):
        return
    if schema.get("format") == "decimal" and isinstance(schema.get("pattern"), str):
        schema["pattern"] = _decimal_pattern(schema["pattern"])
    if request and schema.get("type") == "object" and "properties" in schema:
        schema.setdefault("additionalProperties", False)
    if request and schema.get("type") == "string" and schema.get("format") == "binary":
        # An uploaded file has content: Django takes an empty part for no file at all ("No file was submitted").
        schema.setdefault("minLength", 1)
    plain_text = schema.get("type") == "string" and not ({"pattern", "format", "enum"} & schema.keys())
    if request and plain_text and schema.get("minLength", 0) >= 1:
        # DRF trims a text before it checks it is not blank: it needs a character other than a blank (those of
        # Python's str.isspace, which include \x1c-\x1f).
        schema["pattern"] = NOT_BLANK
    for value in schema.values():
        if isinstance(value, dict | list):
            _tighten(value, request=request)


# What a request must carry that drf-spectacular cannot see, by component and property: a field the service
# requires although the serializer lets it be left out so that the service names the problem (`comment_required`,
# `no_indicators`), or one a PATCH must carry (a PATCH component has no required field).
ALSO_REQUIRED: dict[str, dict[str, dict[str, Any]]] = {
    "PairingEndRequest": {"comment": {"minLength": 1}},
    "PatchedFiscalRevenueCorrectRequest": {"amount": {}},
    "FrameworkWriteRequest": {"indicators": {"minItems": 1, "maxItems": 200}},
}


# What a request may not send that drf-spectacular shows it may, by component and property: None for a property the
# request may not carry at all (a user's username and password never change through the API), or the narrower
# schema of the values it may carry (a new user is always active).
NARROWER: dict[str, dict[str, dict[str, Any] | None]] = {
    "PatchedUserRequest": {"username": None, "password": None},
    "UserRequest": {"is_active": {"enum": [True]}},
}


def _narrow(component: dict[str, Any], narrower: dict[str, dict[str, Any] | None]) -> None:
    properties = component.get("properties", {})
    for name, constraint in narrower.items():
        if name not in properties:
            continue
        if constraint is None:
            del properties[name]
            if name in component.get("required", []):
                component["required"].remove(name)
        else:
            properties[name].update(constraint)


def _require(component: dict[str, Any], constraints: dict[str, dict[str, Any]]) -> None:
    properties = component.get("properties", {})
    for name, constraint in constraints.items():
        if name not in properties:
            continue
        required = component.setdefault("required", [])
        if name not in required:
            required.append(name)
        properties[name].pop("default", None)  # a value it must carry has no default
        properties[name].update(constraint)


def _json_only(operation: dict[str, Any]) -> None:
    """A body that can be JSON is documented as JSON only. DRF's form parsers read it too, but a form cannot carry
    a null or a number, so what the schema says of a field (nullable, an integer) holds only for JSON; a file upload
    keeps its multipart form."""
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        for media_type in [m for m in content if m != "application/json"]:
            del content[media_type]
    elif "multipart/form-data" in content:
        # A urlencoded form cannot carry a file.
        content.pop("application/x-www-form-urlencoded", None)


def _body_required_if_fields_are(operation: dict[str, Any], components: dict[str, Any]) -> None:
    """A body with a required field is itself required (drf-spectacular leaves a PATCH's body optional)."""
    body = operation.get("requestBody")
    if not body or body.get("required"):
        return
    for media in body.get("content", {}).values():
        name = media.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1]
        component = components.get(name, {})
        # A body that is one of several shapes (a discriminated oneOf) is required when each of them has fields
        # that are.
        variants = [components.get(v.get("$ref", "").rsplit("/", 1)[-1], {}) for v in component.get("oneOf", [])]
        if component.get("required") or (variants and all(v.get("required") for v in variants)):
            body["required"] = True


def _form_components(result: dict[str, Any]) -> set[str]:
    """The components only a form body uses (a file upload): a form has no null, a field is left out instead."""
    names = set()
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {}) if method in METHODS else {}
            if content and "application/json" not in content:
                for media in content.values():
                    ref = media.get("schema", {}).get("$ref", "")
                    names.add(ref.rsplit("/", 1)[-1])
    return names


def document_errors(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Add the error format as a component and the errors each operation can answer (a postprocessing hook)."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    for name, component in components.items():
        # COMPONENT_SPLIT_REQUEST: what a request sends is a component of its own, `…Request`.
        for field, kind in DECIMAL_RANGES.get(name, {}).items():
            prop = component.get("properties", {}).get(field)
            if prop is not None and "pattern" in prop:
                prop["pattern"] = _ranged_pattern(prop["pattern"], kind)
        _tighten(component, request=name.endswith("Request"))
        _require(component, ALSO_REQUIRED.get(name, {}))
        _narrow(component, NARROWER.get(name, {}))
    for name in _form_components(result):
        for prop in components.get(name, {}).get("properties", {}).values():
            prop.pop("nullable", None)
    components[ERRORS_COMPONENT] = ERRORS_SCHEMA
    body = {"application/json": {"schema": {"$ref": f"#/components/schemas/{ERRORS_COMPONENT}"}}}
    for operations in result.get("paths", {}).values():
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            _json_only(operation)
            _body_required_if_fields_are(operation, components)
            responses = operation.setdefault("responses", {})
            for status, description in _errors_of(operation).items():
                responses.setdefault(status, {"description": description})
            for status, response in responses.items():
                if str(status).startswith("4"):
                    response.setdefault("content", body)
    return result
