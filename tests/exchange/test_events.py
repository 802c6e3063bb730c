"""The event feed (`GET /api/v1/events/`): commit order under concurrent writes, scope per role, cursors.

Every test here commits for real (`transaction=True`): the feed hands out only events of transactions that
have ended, so events written inside a test's own open transaction would never show."""

import re
import threading

import pytest
from django.db import connection, transaction

from core.models import HistoryEvent
from core.services import history_record
from exchange.events import Cursor
from tests.conftest import api_as

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/events/"
TIMEOUT = 30


def poll(user, after=None, **params):
    query = dict(params)
    if after is not None:
        query["after"] = after
    response = api_as(user).get(URL, query)
    assert response.status_code == 200, response.content
    return response.json()


def drain(user, after=None, page_size=50):
    """Every event ready for USER after AFTER, page by page: (ids in order, the last cursor)."""
    ids: list[int] = []
    while True:
        page = poll(user, after, page_size=page_size)
        ids += [e["id"] for e in page["results"]]
        after = page["next"]
        if not page["more"]:
            return ids, after


def test_two_transactions_committing_out_of_id_order_are_each_seen_exactly_once(world, pw):
    _, cursor = drain(world.coordinator)

    inserted, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []
    first: list[int] = []

    def t1() -> None:
        # Takes the smaller id, then stays open while a later event commits.
        try:
            with transaction.atomic():
                event = history_record(obj=pw.shufu, action="updated", comment="T1")
                assert event.xact_id is not None  # returned by the insert (the column's database default)
                first.extend([event.pk, event.xact_id])
                inserted.set()
                assert release.wait(TIMEOUT)
        except BaseException as exc:
            failures.append(exc)
            inserted.set()
        finally:
            connection.close()

    thread = threading.Thread(target=t1)
    thread.start()
    try:
        assert inserted.wait(TIMEOUT)
        assert not failures, failures
        with transaction.atomic():  # T2: a later id, committed first.
            second = history_record(obj=pw.jiashi, action="updated", comment="T2").pk
        assert second > first[0]

        # T2 is committed, T1 is not: nothing of T1, and the cursor does not move past it.
        page = poll(world.coordinator, cursor)
        assert first[0] not in [e["id"] for e in page["results"]]
        held = page["next"]
        assert Cursor.decode(held) < Cursor(first[1], first[0])
    finally:
        release.set()
        thread.join(TIMEOUT)
    assert not thread.is_alive()
    assert not failures, failures

    ids, _ = drain(world.coordinator, held)
    seen_before = [e["id"] for e in page["results"]]
    everything = seen_before + ids
    assert everything.count(first[0]) == 1
    assert everything.count(second) == 1
    # Handed out in (transaction, id) order: T1 wrote first, so it comes first although it committed last.
    assert everything.index(first[0]) < everything.index(second)
    # And nothing more arrives on a further poll.
    assert drain(world.coordinator, _)[0] == []


def test_an_event_of_a_running_transaction_is_held_back_with_everything_after_it(world, pw):
    _, cursor = drain(world.coordinator)
    inserted, release = threading.Event(), threading.Event()

    def t1() -> None:
        try:
            with transaction.atomic():
                history_record(obj=pw.shufu, action="updated", comment="open")
                inserted.set()
                release.wait(TIMEOUT)
        finally:
            connection.close()

    thread = threading.Thread(target=t1)
    thread.start()
    try:
        assert inserted.wait(TIMEOUT)
        history_record(obj=pw.jiashi, action="updated", comment="committed")  # autocommit
        page = poll(world.coordinator, cursor)
        assert page["results"] == []
        assert page["next"] == cursor
    finally:
        release.set()
        thread.join(TIMEOUT)
    page = poll(world.coordinator, cursor)
    assert [e["comment"] for e in page["results"]] == ["open", "committed"]


def test_each_role_sees_the_events_of_the_objects_it_may_see(world, pw):
    shufu = set(HistoryEvent.objects.for_object(pw.shufu).values_list("pk", flat=True))
    jiashi = set(HistoryEvent.objects.for_object(pw.jiashi).values_list("pk", flat=True))
    program = set(HistoryEvent.objects.for_object(pw.program).values_list("pk", flat=True))
    assert shufu
    assert jiashi
    assert program
    everything = set(HistoryEvent.objects.values_list("pk", flat=True))

    assert set(drain(world.coordinator)[0]) == everything
    for user in (world.assisting, world.recipient):
        seen = set(drain(user)[0])
        assert shufu | program <= seen
        assert not seen & jiashi
    seen = set(drain(world.outsider)[0])
    assert jiashi | program <= seen
    assert not seen & shufu


def test_an_item_names_the_object_the_actor_and_what_changed(world, pw):
    history_record(obj=pw.shufu, action="updated", actor=world.coordinator, changes={"notes": ("", "新")})
    item = poll(world.assisting, page_size=200)["results"][-1]
    assert item["object"] == {"type": "pairings.pairing", "id": pw.shufu.pk, "label": str(pw.shufu)}
    assert item["actor"] == "coord"
    assert item["action"] == "updated"
    assert item["action_label"]
    assert item["changes"] == {"notes": {"old": "", "new": "新"}}
    assert set(item) == {
        "id",
        "at",
        "object",
        "action",
        "action_label",
        "from_state",
        "to_state",
        "actor",
        "comment",
        "changes",
    }


def test_the_cursor_round_trips_and_pages_neither_skip_nor_repeat(world, pw):
    for i in range(7):
        history_record(obj=pw.program, action="updated", comment=str(i))
    everything = list(HistoryEvent.objects.order_by("xact_id", "id").values_list("pk", flat=True))
    ids, last = drain(world.coordinator, page_size=3)
    assert ids == everything
    assert Cursor.decode(last) == Cursor.of(HistoryEvent.objects.get(pk=everything[-1]))
    assert Cursor.decode(Cursor(5, 9).encode()) == Cursor(5, 9)
    # Where a poller left off, it picks up.
    middle = Cursor.of(HistoryEvent.objects.get(pk=everything[2])).encode()
    assert drain(world.coordinator, middle, page_size=2)[0] == everything[3:]


def test_a_first_poll_with_nothing_to_read_has_no_cursor(world):
    assert not HistoryEvent.objects.exists()  # the world's factories write no history
    page = poll(world.outsider)
    assert page == {"next": None, "more": False, "results": []}


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "x",
        "!!!",
        "djE6MQ",
        Cursor(1, 1).encode() + "A",
        "djI6MTox",
        "djE6LTE6MQ",
        "djE6OTk5OTk5OTk5OTk5OTk5OTk5OTk6MQ",
    ],
)
def test_a_malformed_cursor_is_a_400_naming_after(world, bad):
    response = api_as(world.coordinator).get(URL, {"after": bad})
    assert response.status_code == 400, (bad, response.content)
    [error] = response.json()["errors"]
    assert error["field"] == "after"
    # Outside the cursors' alphabet (as the schema's pattern says) or well formed but none of ours.
    assert error["code"] == ("invalid" if not re.fullmatch(r"[A-Za-z0-9_-]+", bad) else "unknown_cursor")


def test_page_size_is_bounded_and_checked(world, pw):
    for i in range(5):
        history_record(obj=pw.program, action="updated", comment=str(i))
    assert len(poll(world.coordinator, page_size=2)["results"]) == 2
    assert poll(world.coordinator, page_size=2)["more"] is True
    response = api_as(world.coordinator).get(URL, {"page_size": "0"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "page_size"


def test_anonymous_callers_are_refused(api):
    assert api.get(URL).status_code in (401, 403)


def test_the_number_of_queries_does_not_grow_with_the_page(world, pw, django_assert_max_num_queries):
    for i in range(40):
        history_record(obj=pw.shufu if i % 2 else pw.program, action="updated", actor=world.assisting, comment=str(i))
    client = api_as(world.assisting)
    client.get(URL, {"page_size": 1})  # content types cached, as in a running server
    with django_assert_max_num_queries(4):
        response = client.get(URL, {"page_size": 200})
    assert response.status_code == 200
    assert len(response.json()["results"]) >= 40


def test_the_refusal_of_a_cursor_is_in_the_callers_language(world):
    response = api_as(world.coordinator).get(URL, {"after": "x"}, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.json()["errors"][0]["message"] == "不是本事件流的游标：请传回上一页的 `next`。"


def test_without_transaction_ids_the_feed_pages_by_id(world, pw, monkeypatch):
    """SQLite's fallback (`make run`), exercised here on PostgreSQL's data."""
    monkeypatch.setattr("exchange.events.commit_ordered", lambda: False)
    everything = list(HistoryEvent.objects.order_by("id").values_list("pk", flat=True))
    ids, last = drain(world.coordinator, page_size=2)
    assert ids == everything
    assert Cursor.decode(last).id == everything[-1]
