"""DRF's and Django's own messages reach an API caller wholly in the caller's language: a string sent to an id
field, a bad choice, date, number or page, a missing, unknown, empty or too long field, an unknown ordering, a body
that is not an object, an unknown id or code — in Chinese (Accept-Language: zh-hans) without an English word
beside what the caller sent (their value, a code they must use), and in English.

The Chinese check is stricter than the pages' (tests/browser/test_reference_pages_zh.py, which looks for runs of
four English words): a message is one short sentence, so a single English word in it ("str", "null", "code") is
already the mixed language of issue #13."""

import re
from typing import Any

import pytest
from django.utils import translation

from tests.conftest import api_as

pytestmark = pytest.mark.django_db

#: A Latin word with a lower-case letter: English, a Python type name, a field name. Acronyms (JSON, HTTP, ISO) and
#: the T of an ISO date-time are not words of a sentence.
LATIN_WORD = re.compile(r"[A-Za-z]*[a-z][A-Za-z]*")
CJK = re.compile(r"[\u4e00-\u9fff]")


def english_words(message: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """The English words in MESSAGE, leaving out ALLOWED (what the caller sent, or codes they must use)."""
    for token in sorted(allowed, key=len, reverse=True):
        message = message.replace(token, "")
    return LATIN_WORD.findall(message)


def test_the_check_finds_a_type_name_and_not_the_callers_own_value():
    assert english_words("类型错误。期望为主键，获得的类型为 str。") == ["str"]
    assert english_words("“bogus” 不是合法选项。", allowed=("bogus",)) == []
    assert english_words("请求体不是有效的 JSON：如 2024-03-01T08:30:00+08:00。") == []


ORDERING_FIELDS = ("code", "title", "state", "budget_requested", "planned_start", "created_at")

#: (case, method, path, body (None: the base body; a dict: what changes in it), field, code, English message,
#: Chinese message (None: any, checked for English words), what the caller sent that the message may repeat)
CASES: list[tuple[str, str, str, Any, str | None, str, str, str | None, tuple[str, ...]]] = [
    (
        "string_to_an_id_field",
        "post",
        "/api/v1/projects/",
        {"pairing": "abc"},
        "pairing",
        "incorrect_type",
        "Incorrect type: expected an id, a whole number.",
        "类型有误：应为编号（整数）。",
        (),
    ),
    (
        "list_to_an_id_field",
        "post",
        "/api/v1/projects/",
        {"pairing": [1]},
        "pairing",
        "incorrect_type",
        "Incorrect type: expected an id, a whole number.",
        "类型有误：应为编号（整数）。",
        (),
    ),
    (
        "unknown_id",
        "post",
        "/api/v1/projects/",
        {"pairing": 999999},
        "pairing",
        "does_not_exist",
        "There is no record with the id 999999.",
        "编号为 999999 的记录不存在。",
        (),
    ),
    (
        "unknown_region_code",
        "post",
        "/api/v1/projects/",
        {"location": "659999"},
        "location",
        "does_not_exist",
        "Nothing has the code 659999.",
        "代码 659999 不存在。",
        (),
    ),
    (
        "bad_choice",
        "post",
        "/api/v1/projects/",
        {"category": "bogus"},
        "category",
        "invalid_choice",
        '"bogus" is not a valid choice.',
        None,
        ("bogus",),
    ),
    (
        "bad_date",
        "post",
        "/api/v1/projects/",
        {"planned_start": "2024-13-45"},
        "planned_start",
        "invalid",
        "Enter a date as year-month-day, e.g. 2024-03-01.",
        "请按“年-月-日”填写日期，如 2024-03-01。",
        (),
    ),
    (
        "bad_decimal",
        "post",
        "/api/v1/projects/",
        {"budget_requested": "abc"},
        "budget_requested",
        "invalid",
        "A valid number is required.",
        None,
        (),
    ),
    (
        "too_many_decimal_places",
        "post",
        "/api/v1/projects/",
        {"budget_requested": "1.234"},
        "budget_requested",
        "max_decimal_places",
        "Ensure that there are no more than 2 decimal places.",
        None,
        (),
    ),
    (
        "missing_field",
        "post",
        "/api/v1/projects/",
        {"title": ...},
        "title",
        "required",
        "This field is required.",
        None,
        (),
    ),
    (
        "null_field",
        "post",
        "/api/v1/projects/",
        {"title": None},
        "title",
        "null",
        "This field may not be null.",
        "该字段不能为空值。",
        (),
    ),
    (
        "too_long_string",
        "post",
        "/api/v1/projects/",
        {"title": "长" * 400},
        "title",
        "max_length",
        "Ensure this field has no more than 200 characters.",
        None,
        (),
    ),
    (
        "unknown_field",
        "post",
        "/api/v1/projects/",
        {"colour": "red"},
        "colour",
        "unknown_field",
        "Unknown field.",
        None,
        (),
    ),
    (
        "list_for_a_list_of_objects",
        "post",
        "/api/v1/projects/",
        {"funding_sources": "x"},
        "funding_sources",
        "not_a_list",
        "Expected a list.",
        "应为列表。",
        (),
    ),
    (
        "body_not_an_object",
        "post",
        "/api/v1/projects/",
        ["a"],
        None,
        "invalid",
        "Invalid data: expected an object with named fields.",
        "数据无效：应为由字段名和值组成的对象。",
        (),
    ),
    ("page_not_a_number", "get", "/api/v1/projects/?page=abc", None, "page", "invalid", "Enter a number.", None, ()),
    (
        "page_past_the_last",
        "get",
        "/api/v1/projects/?page=999",
        None,
        None,
        "not_found",
        "There is no such page.",
        None,
        (),
    ),
    (
        "unknown_ordering",
        "get",
        "/api/v1/projects/?ordering=bogus",
        None,
        "ordering",
        "invalid_choice",
        "Order by one of: " + ", ".join(ORDERING_FIELDS) + ".",
        None,
        ORDERING_FIELDS,
    ),
    (
        "filter_bad_choice",
        "get",
        "/api/v1/projects/?state=bogus",
        None,
        "state",
        "invalid_choice",
        "Select a valid choice. bogus is not one of the available choices.",
        None,
        ("bogus",),
    ),
    (
        "method_not_allowed",
        "delete",
        "/api/v1/projects/",
        None,
        None,
        "method_not_allowed",
        'Method "DELETE" not allowed.',
        None,
        (),
    ),
]


def _body(pw, change: Any) -> Any:
    if not isinstance(change, dict):
        return change
    body = {
        "pairing": pw.shufu.pk,
        "title": "疏附县第三中学教学楼",
        "category": "infrastructure",
        "sector": "education",
        "planned_start": "2024-03-01",
        "budget_requested": "1000000.00",
    }
    for key, value in change.items():
        if value is ...:
            body.pop(key)
        else:
            body[key] = value
    return body


def _ask(client, method: str, path: str, body: Any, language: str):  # type: ignore[no-untyped-def]
    if method == "get":
        return client.get(path, HTTP_ACCEPT_LANGUAGE=language)
    if method == "delete":
        return client.delete(path, HTTP_ACCEPT_LANGUAGE=language)
    return client.post(path, body, format="json", HTTP_ACCEPT_LANGUAGE=language)


@pytest.mark.parametrize(
    ("method", "path", "change", "field", "code", "english", "chinese", "sent"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_drf_and_django_messages_are_wholly_in_the_callers_language(
    world, pw, method, path, change, field, code, english, chinese, sent
):
    client = api_as(world.assisting)
    body = _body(pw, change) if change is not None else None
    answers = {}
    for language in ("en", "zh-hans"):
        response = _ask(client, method, path, body, language)
        assert 400 <= response.status_code < 500, response.content
        errors = [e for e in response.json()["errors"] if e["field"] == field and e["code"] == code]
        assert len(errors) == 1, response.json()
        answers[language] = errors[0]["message"]
    assert answers["en"] == english
    assert not CJK.search(answers["en"])
    if chinese is not None:
        assert answers["zh-hans"] == chinese
    assert CJK.search(answers["zh-hans"]), answers["zh-hans"]
    assert english_words(answers["zh-hans"], sent) == [], answers["zh-hans"]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_caller_without_credentials_and_an_unreadable_media_type_are_told_in_their_language(world, language):
    from rest_framework.test import APIClient

    answers = [
        APIClient().get("/api/v1/projects/", HTTP_ACCEPT_LANGUAGE=language),
        APIClient().get("/api/v1/projects/", HTTP_ACCEPT_LANGUAGE=language, HTTP_AUTHORIZATION="Token abc"),
        APIClient().get("/api/v1/projects/", HTTP_ACCEPT_LANGUAGE=language, HTTP_AUTHORIZATION="Token a b"),
        api_as(world.assisting).post(
            "/api/v1/projects/", "x=1", content_type="text/plain", HTTP_ACCEPT_LANGUAGE=language
        ),
    ]
    assert [r.status_code for r in answers] == [401, 401, 401, 415]
    for response in answers:
        (error,) = response.json()["errors"]
        if language == "en":
            assert not CJK.search(error["message"])
        else:
            assert CJK.search(error["message"]), error
            # The media type the caller sent, and the name of the header, are theirs to read as they are.
            assert english_words(error["message"], ("text/plain",)) == [], error


def test_the_plain_messages_are_in_place_for_every_field_made_after_start_up():
    from rest_framework import serializers

    class Probe(serializers.Serializer):
        when = serializers.DateField()
        ids = serializers.ListField(child=serializers.IntegerField())

    with translation.override("zh-hans"):
        probe = Probe(data={"when": "yesterday", "ids": "1"})
        assert not probe.is_valid()
        messages = [str(m) for ms in probe.errors.values() for m in ms]
    assert all(CJK.search(m) and not english_words(m) for m in messages), messages
