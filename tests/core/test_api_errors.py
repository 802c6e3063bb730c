"""The API's one error format: {"errors": [{"code", "message", "field"}]} for every 4xx."""

import pytest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils import translation
from rest_framework import exceptions, serializers

from core.api.errors import errors_body, exception_handler
from core.errors import Conflict, DomainError, NotFound, PermissionDenied, Problem


class AmountSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)


class AddressSerializer(serializers.Serializer):
    city = serializers.CharField()


class OrderSerializer(serializers.Serializer):
    title = serializers.CharField()
    address = AddressSerializer()
    items = AmountSerializer(many=True)
    tags = serializers.ListField(child=serializers.IntegerField())

    def validate(self, attrs):
        if attrs["title"] == "forbidden":
            raise serializers.ValidationError("This title may not be used.", code="bad_title")
        return attrs


def handle(exc: Exception):
    return exception_handler(exc, {})


def problems(response) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in response.data["errors"]]


def test_nested_serializer_errors_get_dotted_field_paths():
    serializer = OrderSerializer(
        data={"title": "", "address": {}, "items": [{"amount": "1.00"}, {"amount": "x"}], "tags": [1, "two"]}
    )
    assert not serializer.is_valid()

    body = errors_body(serializer.errors)

    assert sorted((e["code"], e["field"]) for e in body["errors"]) == [
        ("blank", "title"),
        ("invalid", "items.1.amount"),
        ("invalid", "tags.1"),
        ("required", "address.city"),
    ]
    assert all(e["message"] for e in body["errors"])


def test_non_field_errors_get_field_null():
    serializer = OrderSerializer(data={"title": "forbidden", "address": {"city": "Kashgar"}, "items": [], "tags": []})
    assert not serializer.is_valid()

    body = errors_body(serializer.errors)

    assert body == {"errors": [{"code": "bad_title", "message": "This title may not be used.", "field": None}]}


def test_nested_non_field_errors_keep_the_parents_field():
    body = errors_body({"address": {"non_field_errors": [exceptions.ErrorDetail("Bad address.", code="bad")]}})

    assert body == {"errors": [{"code": "bad", "message": "Bad address.", "field": "address"}]}


def test_a_top_level_list_of_errors_keeps_each_items_index():
    serializer = AmountSerializer(data=[{"amount": "1"}, {"amount": "x"}, {}], many=True)
    assert not serializer.is_valid()

    body = errors_body(serializer.errors)

    assert [(e["code"], e["field"]) for e in body["errors"]] == [("invalid", "1.amount"), ("required", "2.amount")]


def test_a_plain_validation_error_has_no_field():
    response = handle(serializers.ValidationError("Wrong."))

    assert response.status_code == 400
    assert response.data == {"errors": [{"code": "invalid", "message": "Wrong.", "field": None}]}


def test_domain_error_returns_its_problem():
    response = handle(DomainError("invalid_credentials", "Nope.", "password"))

    assert response.status_code == 400
    assert response.data == {"errors": [{"code": "invalid_credentials", "message": "Nope.", "field": "password"}]}


def test_domain_error_with_several_problems_returns_all_of_them():
    error = DomainError.many(
        [
            Problem("required", "Enter a title.", "title"),
            Problem("invalid", "The budget must be positive.", "budget_requested"),
            Problem("out_of_region", "The location is outside the recipient region.", "location"),
            Problem("not_ready", "The project is not ready.", None),
        ]
    )

    response = handle(error)

    assert response.status_code == 400
    assert problems(response) == [
        ("required", "title"),
        ("invalid", "budget_requested"),
        ("out_of_region", "location"),
        ("not_ready", None),
    ]
    assert response.data["errors"][1]["message"] == "The budget must be positive."


@pytest.mark.parametrize(
    ("error_class", "status"), [(NotFound, 404), (PermissionDenied, 403), (Conflict, 409), (DomainError, 400)]
)
def test_domain_error_subclasses_answer_with_their_status(error_class, status):
    response = handle(error_class("some_code", "Some message."))

    assert response.status_code == status
    assert response.data == {"errors": [{"code": "some_code", "message": "Some message.", "field": None}]}


def test_domain_error_many_keeps_the_subclass_status():
    error = Conflict.many([Problem("stale", "Changed meanwhile.", None), Problem("stale", "Again.", "state")])

    response = handle(error)

    assert response.status_code == 409
    assert problems(response) == [("stale", None), ("stale", "state")]


def test_domain_error_many_needs_a_problem():
    with pytest.raises(ValueError, match="at least one problem"):
        DomainError.many([])


def test_django_validation_error_with_fields_is_converted_field_by_field():
    exc = DjangoValidationError(
        {
            "name": [DjangoValidationError("Enter a name.", code="required")],
            "__all__": [DjangoValidationError("Dates out of order.", code="dates")],
        }
    )

    response = handle(exc)

    assert response.status_code == 400
    assert sorted(response.data["errors"], key=lambda e: e["field"] or "") == [
        {"code": "dates", "message": "Dates out of order.", "field": None},
        {"code": "required", "message": "Enter a name.", "field": "name"},
    ]


def test_django_validation_error_without_fields_has_field_null():
    exc = DjangoValidationError("Value %(value)s is too large.", code="too_large", params={"value": 7})

    response = handle(exc)

    assert response.status_code == 400
    assert response.data == {"errors": [{"code": "too_large", "message": "Value 7 is too large.", "field": None}]}


def test_django_validation_error_without_a_code_says_invalid():
    response = handle(DjangoValidationError(["First.", "Second."]))

    assert response.data == {
        "errors": [
            {"code": "invalid", "message": "First.", "field": None},
            {"code": "invalid", "message": "Second.", "field": None},
        ]
    }


def test_http404_is_404_not_found():
    response = handle(Http404("No Project matches the given query."))

    assert response.status_code == 404
    assert problems(response) == [("not_found", None)]
    # The default message: a detail naming the model would confirm what the caller may not see.
    assert "Project" not in response.data["errors"][0]["message"]


def test_django_permission_denied_is_403_permission_denied():
    response = handle(DjangoPermissionDenied())

    assert response.status_code == 403
    assert problems(response) == [("permission_denied", None)]


def test_not_authenticated_is_401_with_the_code():
    response = handle(exceptions.NotAuthenticated())

    assert response.status_code == 401
    assert problems(response) == [("not_authenticated", None)]


def test_method_not_allowed_is_405_in_the_error_format():
    with translation.override("en"):
        response = handle(exceptions.MethodNotAllowed("DELETE"))

    assert response.status_code == 405
    assert response.data == {
        "errors": [{"code": "method_not_allowed", "message": 'Method "DELETE" not allowed.', "field": None}]
    }


def test_throttled_is_429_with_retry_after():
    response = handle(exceptions.Throttled(wait=42))

    assert response.status_code == 429
    assert problems(response) == [("throttled", None)]
    assert response["Retry-After"] == "42"


def test_an_unexpected_exception_is_left_to_django():
    assert handle(ValueError("boom")) is None


@pytest.mark.django_db
def test_an_unknown_api_url_gets_json_404_in_the_error_format(client):
    response = client.get("/api/v1/nope/")

    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert [(e["code"], e["field"]) for e in body["errors"]] == [("not_found", None)]
    assert body["errors"][0]["message"]


@pytest.mark.django_db
def test_an_unknown_page_url_gets_the_html_404(client):
    response = client.get("/nope/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("zh-hans", "请求体不是有效的 JSON：错误位于第 1 行第 10 列。"),
        ("en", "The body is not valid JSON: the error is at line 1, column 10."),
    ],
)
def test_a_malformed_json_body_is_told_in_the_callers_language(world, language, expected):
    from tests.conftest import api_as

    response = api_as(world.coordinator).generic(
        "POST", "/api/v1/exports/", '{"kind": ', content_type="application/json", HTTP_ACCEPT_LANGUAGE=language
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [{"code": "parse_error", "message": expected, "field": None}]
