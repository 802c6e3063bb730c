"""What waits for a user: one function per kind of work, declared once. Core cannot import the apps above it, so
each app registers its kinds (in its AppConfig.ready); the home, "My tasks" and the navigation's count all read
them here, so the three can never disagree."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import DEFAULT_DB_ALIAS
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import Promise

from .selectors import CountPart, count_each, count_parts, run_counts


@dataclass(frozen=True)
class WorkRow:
    """One item of work as the inbox shows it."""

    title: str
    url: str
    due: date | None = None
    detail: str = ""


@dataclass(frozen=True)
class WorkKind:
    key: str
    label: str | Promise  # what waits, as a heading: "Proposals to approve"
    items: Callable[[Any], QuerySet[Any]]  # exactly the items waiting for the user (the kind's one truth)
    row: Callable[[Any], WorkRow]  # how one item shows in the inbox
    action: str | Promise = ""  # what the user does with an item: "Approve or return"
    due: str | None = None  # the items' field holding their due date, if they have one
    order: int = 100
    allowed: Callable[[Any], Any] | None = None  # the app's policy function: whose work this kind is
    urgent: bool = False  # overdue or failed: shown in red
    fields: tuple[str, ...] = ()  # what `row` reads, when it is not every column: the inbox loads only these

    def visible_to(self, user: Any) -> bool:
        return self.allowed is None or bool(self.allowed(user))

    def ordered(self, user: Any) -> QuerySet[Any]:
        """The items, soonest due first (those without a date last), oldest first among equals."""
        qs = self.items(user)
        if self.fields:
            qs = qs.only(*self.fields)
        if self.due:
            return qs.order_by(F(self.due).asc(nulls_last=True), "pk")
        return qs.order_by("pk")


@dataclass(frozen=True)
class WorkCount:
    kind: WorkKind
    count: int

    @property
    def key(self) -> str:
        return self.kind.key

    @property
    def label(self) -> str | Promise:
        return self.kind.label


_kinds: dict[str, WorkKind] = {}
#: Bumped by every registration, so that a statement compiled before it (`_compiled`) is never used after it.
_registry_version = 0


def register_work(kind: WorkKind) -> None:
    global _registry_version
    _kinds[kind.key] = kind
    _registry_version += 1


def kinds_for(user: Any) -> list[WorkKind]:
    """The kinds of work USER's roles have, in the registry's order (no query: policy reads the roles)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return [k for k in sorted(_kinds.values(), key=lambda k: (k.order, k.key)) if k.visible_to(user)]


def kind_named(user: Any, key: str) -> WorkKind | None:
    return next((k for k in kinds_for(user) if k.key == key), None)


#: Counts every signed-in page shows beside the navigation's (the bell's unread notifications), each registered by
#: the app it belongs to as the function giving a user's rows: a page counts them in the waiting work's statement,
#: one round trip for all (`page_count`).
_page_counts: dict[str, Callable[[Any], QuerySet[Any]]] = {}


def register_page_count(key: str, items: Callable[[Any], QuerySet[Any]]) -> None:
    global _registry_version
    _page_counts[key] = items
    _registry_version += 1


#: The statement that counts a user's waiting work and page counts, compiled: the kinds, the page counts' keys and
#: each count's SQL and parameters, by `_compiled_key`. Only the SQL is kept, never a count: every page still asks
#: the database. Building and compiling the querysets cost every signed-in page about 2 ms (README, Performance).
_compiled: dict[Any, tuple[tuple[WorkKind, ...], tuple[str, ...], list[CountPart], str]] = {}
#: The most users' statements a process keeps (about two kilobytes of SQL each); past it, the store starts again.
COMPILED_MAX = 2000


def _compiled_key(user: Any) -> Any:
    """What the statement of USER is a function of, or None when it cannot be told (then it is compiled each time):
    the user's `state_key` (accounts.auth sets it to the row the user, their organization, its region and their
    roles were read from: every value the kinds' functions read from a user), the day (due and overdue are relative
    to it) and the registries' version."""
    state = getattr(user, "state_key", None)
    if state is None:
        return None
    return (state, timezone.localdate(), _registry_version)


def _waiting_statement(user: Any) -> tuple[tuple[WorkKind, ...], tuple[str, ...], list[CountPart], str]:
    """USER's kinds of work, the page counts' keys, and the counts of both compiled (`count_parts`), with the
    database they run on: compiled once per user, day and registry (`_compiled`)."""
    key = _compiled_key(user)
    if key is not None and (kept := _compiled.get(key)) is not None:
        return kept
    kinds = kinds_for(user)
    page = list(_page_counts.items()) if getattr(user, "is_authenticated", False) else []
    querysets = [k.items(user) for k in kinds] + [items(user) for _, items in page]
    statement = (
        tuple(kinds),
        tuple(name for name, _ in page),
        count_parts(querysets, label="waiting"),
        querysets[0].db if querysets else DEFAULT_DB_ALIAS,
    )
    if key is not None:
        if len(_compiled) >= COMPILED_MAX:
            _compiled.clear()
        _compiled[key] = statement
    return statement


def _count_waiting(
    user: Any, also: list[QuerySet[Any]], *, with_page: bool = True
) -> tuple[list[WorkCount], dict[str, int], list[int]]:
    """`waiting_for(user)`, the page counts (`register_page_count`) of USER unless not WITH_PAGE, and the number of
    rows of each queryset of ALSO: one statement (none when there is nothing to count)."""
    kinds, page, parts, using = _waiting_statement(user)
    if not with_page:
        page, parts = (), parts[: len(kinds)]
    counts = run_counts(parts + count_parts(also, label="waiting", start=len(parts)), using)
    waiting = [WorkCount(k, n) for k, n in zip(kinds, counts, strict=False)]
    return waiting, dict(zip(page, counts[len(kinds) :], strict=False)), counts[len(kinds) + len(page) :]


def waiting_for(user: Any) -> list[WorkCount]:
    """Each kind of work USER has, with how many items wait: one query whatever the number of kinds."""
    return _count_waiting(user, [], with_page=False)[0]


def waiting_total(user: Any) -> int:
    """The navigation's count: everything waiting for USER (the sum of the home's counts), in one query."""
    return sum(c.count for c in waiting_for(user))


def waiting_for_request(request: HttpRequest) -> list[WorkCount]:
    """`waiting_for(request.user)`, counted once per request: the home's panel or "My tasks" and the navigation's
    count on the same page read the same numbers from one query. Kept on the request (which lives as long as the
    page), for the user it was counted for: a request whose user changes (signing in) counts again."""
    return _counted(request)[0][1]


def _counted(
    request: HttpRequest, also: list[QuerySet[Any]] | None = None
) -> tuple[tuple[Any, list[WorkCount], dict[str, int]], list[int]]:
    """The request's user, `waiting_for` them and the page counts (`register_page_count`), in one statement once
    per request and user; and the number of rows of each queryset of ALSO, in that statement when it runs now."""
    also = also or []
    user = getattr(request, "user", None)
    kept = getattr(request, "_duikou_waiting", None)
    if kept is not None and kept[0] is user:
        return kept, count_each(also, label="counted")
    waiting, page, counts = _count_waiting(user, also)
    kept = (user, waiting, page)
    request._duikou_waiting = kept  # type: ignore[attr-defined]
    return kept, counts


def count_with_waiting(request: HttpRequest, querysets: list[QuerySet[Any]]) -> list[int]:
    """The number of rows of each of QUERYSETS, counted in the statement that counts the request's waiting work
    when that has not run yet (the home's panels: one round trip for their counts and the work), else on their own."""
    return _counted(request, querysets)[1]


def page_count(request: HttpRequest, key: str) -> int:
    """The count KEY (`register_page_count`) of the request's user, from the statement that counts their work
    (0 for a visitor who is not signed in)."""
    return _counted(request)[0][2].get(key, 0)


def waiting_total_for_request(request: HttpRequest) -> int:
    """The navigation's count of the request's user, from `waiting_for_request`."""
    return sum(c.count for c in waiting_for_request(request))


def _sort_key(row: tuple[int, WorkRow]) -> tuple[bool, date, int]:
    order, r = row
    due = r.due.date() if isinstance(r.due, datetime) else r.due
    return (due is None, due or date.max, order)


def inbox(user: Any, per_kind: int = 50) -> list[tuple[WorkKind, WorkRow]]:
    """Every kind's first PER_KIND items, merged into one list sorted by due date (undated work last, in the
    registry's order). One query per kind."""
    rows: list[tuple[int, WorkKind, WorkRow]] = []
    for i, kind in enumerate(kinds_for(user)):
        rows.extend((i, kind, kind.row(obj)) for obj in kind.ordered(user)[:per_kind])
    rows.sort(key=lambda r: _sort_key((r[0], r[2])))
    return [(kind, row) for _, kind, row in rows]
