"""What waits for a user: one function per kind of work, declared once. Core cannot import the apps above it, so
each app registers its kinds (in its AppConfig.ready); the home, "My tasks" and the navigation's count all read
them here, so the three can never disagree."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.utils.functional import Promise

from .selectors import count_each


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


def register_work(kind: WorkKind) -> None:
    _kinds[kind.key] = kind


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
    _page_counts[key] = items


def _waiting_and(user: Any, also: list[QuerySet[Any]]) -> tuple[list[WorkCount], list[int]]:
    """`waiting_for(user)`, and the number of rows of each queryset of ALSO, counted in the same statement."""
    kinds = kinds_for(user)
    counts = count_each([k.items(user) for k in kinds] + also, label="waiting")
    return [WorkCount(k, n) for k, n in zip(kinds, counts, strict=False)], counts[len(kinds) :]


def waiting_for(user: Any) -> list[WorkCount]:
    """Each kind of work USER has, with how many items wait: one query whatever the number of kinds."""
    return _waiting_and(user, [])[0]


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
    page = list(_page_counts.items()) if getattr(user, "is_authenticated", False) else []
    waiting, counts = _waiting_and(user, [items(user) for _, items in page] + also)
    kept = (user, waiting, {key: n for (key, _), n in zip(page, counts, strict=False)})
    request._duikou_waiting = kept  # type: ignore[attr-defined]
    return kept, counts[len(page) :]


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
