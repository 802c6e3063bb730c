"""What waits for a user: one function per kind of work, declared once. Core cannot import the apps above it, so
each app registers its kinds (in its AppConfig.ready); the home, "My tasks" and the navigation's count all read
them here, so the three can never disagree."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db import connections
from django.db.models import F, QuerySet
from django.utils.functional import Promise


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

    def visible_to(self, user: Any) -> bool:
        return self.allowed is None or bool(self.allowed(user))

    def ordered(self, user: Any) -> QuerySet[Any]:
        """The items, soonest due first (those without a date last), oldest first among equals."""
        qs = self.items(user)
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


def _count_all(querysets: list[QuerySet[Any]]) -> list[int]:
    """Count every queryset in ONE query: a SELECT of scalar subqueries, one per kind."""
    if not querysets:
        return []
    parts: list[str] = []
    params: list[Any] = []
    using = querysets[0].db
    for qs in querysets:
        sql, p = qs.values("pk").order_by().query.get_compiler(using=using).as_sql()
        # The SQL is the ORM's own compilation, its values passed as parameters: nothing user-typed is spliced in.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS waiting_{len(parts)})")  # noqa: S608
        params.extend(p)
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return [int(n) for n in row]


def waiting_for(user: Any) -> list[WorkCount]:
    """Each kind of work USER has, with how many items wait: one query whatever the number of kinds."""
    kinds = kinds_for(user)
    counts = _count_all([k.items(user) for k in kinds])
    return [WorkCount(k, n) for k, n in zip(kinds, counts, strict=True)]


def waiting_total(user: Any) -> int:
    """The navigation's count: everything waiting for USER (the sum of the home's counts), in one query."""
    return sum(c.count for c in waiting_for(user))


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
