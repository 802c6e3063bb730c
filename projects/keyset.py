"""Keyset (seek) pagination of the project list, for the API (`?cursor=`) and the HTML list.

A page is read from its boundary row on, never by skipping the rows before it: `WHERE key > boundary ORDER BY key
LIMIT n+1` where the key is the list's ordering (ending with the unique id), so the last page costs what the first
costs (an OFFSET of 99 950 reads and drops 99 950 rows). Walking back reads the rows before the boundary in the
reverse order and turns them round; the last page is the first page of the reverse order.

Empty values (a project without a planned start or budget) sort last both ways, as the page-number list sorts
them, and the seek says so: after a row with a value come the larger (or smaller) values *and* every row without
one; after a row without one, only those without one with a larger id.

A cursor is opaque to the client: base64url of JSON `[ordering, "n"|"p", [key values]]` ("n": the rows after the
boundary, "p": those before it), or the words `first` and `last`. It is read strictly — its ordering must be the
one asked, each value of its key's type and range — and anything else is a `BadCursor`, which the API turns into a
400 naming `cursor` and the page into its first page with a message. A cursor names a position, not a right:
the rows are always those of the caller's scope and filters.
"""

import base64
import binascii
import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import reduce
from operator import or_
from typing import Any

from django.db import models
from django.db.models import F, Q
from django.db.models.expressions import OrderBy
from django.utils.translation import gettext as _

from core.api.bounds import BIGINT_MAX

from .models import Project

FIRST = "first"
LAST = "last"
# Longer than any cursor the list writes (a 200-character title in JSON escapes, the ordering, the id).
MAX_CURSOR_LENGTH = 2048
# numeric(18, 2), the budgets' column: larger values cannot be a row's.
_DECIMAL = re.compile(r"-?[0-9]{1,16}(?:\.[0-9]{1,2})?")


class BadCursor(ValueError):
    """A cursor the list did not write for this ordering (garbled, tampered with, of another ordering)."""


@dataclass(frozen=True)
class Term:
    """One key of the ordering: the field (or annotation) NAME, its direction, whether it may be empty, and the
    type of its values ("int", "str", "decimal", "date", "datetime")."""

    name: str
    descending: bool
    nullable: bool
    kind: str
    max_length: int | None = None


_KINDS: tuple[tuple[type[models.Field], str], ...] = (
    (models.DateTimeField, "datetime"),  # before DateField, its parent
    (models.DateField, "date"),
    (models.DecimalField, "decimal"),
    (models.IntegerField, "int"),
    (models.BigAutoField, "int"),
    (models.AutoField, "int"),
    (models.CharField, "str"),
)


def term_of(name: str, descending: bool, *, field: str | None = None) -> Term:
    """The term ordering by NAME, typed and made nullable as the project's column FIELD (NAME by default) is."""
    column = Project._meta.get_field(field or name)
    kind = next((k for cls, k in _KINDS if isinstance(column, cls)), None)
    if kind is None:
        raise ValueError(f"no keyset ordering by {name!r}")
    return Term(name, descending, bool(column.null), kind, getattr(column, "max_length", None))


def terms_of(ordering: Sequence[Any]) -> tuple[Term, ...]:
    """The terms of an ORDERING of project columns as StrictOrderingFilter gives it (OrderBy of F, or names with
    an optional `-`); the last must be the id, so that every row has a place of its own."""
    terms = []
    for item in ordering:
        if isinstance(item, OrderBy) and isinstance(item.expression, F):
            terms.append(term_of(item.expression.name, item.descending))  # type: ignore[attr-defined]
        elif isinstance(item, str):
            terms.append(term_of(item.lstrip("-"), item.startswith("-")))
        else:
            raise ValueError(f"no keyset ordering by {item!r}")
    if not terms or terms[-1].name not in ("id", "pk"):
        raise ValueError("a keyset ordering ends with the id")
    return tuple(terms)


def signature(terms: Sequence[Term]) -> str:
    """The ordering as a cursor carries it (`-created_at,-id`)."""
    return ",".join(("-" if t.descending else "") + t.name for t in terms)


# --- cursors --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    """Where a page starts: the rows after (or, BEFORE, before) the boundary row's key VALUES; no values: from the
    start (first page) or, BEFORE, from the end (last page)."""

    before: bool = False
    values: tuple[Any, ...] | None = None


def _dump(term: Term, value: Any) -> Any:
    if value is None or term.kind in ("int", "str"):
        return value
    if term.kind == "datetime":
        return value.astimezone(dt.UTC).isoformat()
    if term.kind == "date":
        return value.isoformat()
    return str(value)  # decimal


def encode(terms: Sequence[Term], values: Sequence[Any], *, before: bool) -> str:
    """The cursor of the rows after (BEFORE: before) the row whose key is VALUES."""
    body = [signature(terms), "p" if before else "n", [_dump(t, v) for t, v in zip(terms, values, strict=True)]]
    raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _load(term: Term, value: Any) -> Any:
    """VALUE of TERM as the cursor carries it, checked; BadCursor when it cannot be a value of that column."""
    if value is None:
        if term.nullable:
            return None
        raise BadCursor
    if term.kind == "int":
        if type(value) is not int or not 0 < value <= BIGINT_MAX:
            raise BadCursor
        return value
    if type(value) is not str:
        raise BadCursor
    if term.kind == "str":
        if "\x00" in value or (term.max_length is not None and len(value) > term.max_length):
            raise BadCursor
        return value
    try:
        if term.kind == "decimal":
            if not _DECIMAL.fullmatch(value):
                raise BadCursor
            return Decimal(value)
        if term.kind == "date":
            return dt.date.fromisoformat(value) if len(value) == 10 else _refuse()
        stamp = dt.datetime.fromisoformat(value)
    except (ValueError, InvalidOperation):
        raise BadCursor from None
    if stamp.tzinfo is None:
        raise BadCursor
    return stamp


def _refuse() -> Any:
    raise BadCursor


def decode(raw: str, terms: Sequence[Term]) -> Cursor:
    """The cursor RAW for the ordering TERMS (`first`, `last` or one `encode` wrote); BadCursor otherwise."""
    if raw == FIRST:
        return Cursor()
    if raw == LAST:
        return Cursor(before=True)
    if not raw or len(raw) > MAX_CURSOR_LENGTH or not raw.isascii():
        raise BadCursor
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        body = json.loads(text)
    except (binascii.Error, ValueError, RecursionError):
        raise BadCursor from None
    if not (isinstance(body, list) and len(body) == 3 and body[0] == signature(terms) and body[1] in ("n", "p")):
        raise BadCursor
    values = body[2]
    if not isinstance(values, list) or len(values) != len(terms):
        raise BadCursor
    return Cursor(before=body[1] == "p", values=tuple(_load(t, v) for t, v in zip(terms, values, strict=True)))


def message() -> str:
    """What the API says of a cursor it cannot read."""
    return _("This cursor is not one of this list's, or not for this ordering: start again from the first page.")


def page_message() -> str:
    """What the HTML list says when it shows its first page instead of a cursor it cannot read."""
    return _("This link's place in the list could not be read (it may be of another sort): here is the first page.")


# --- the query ------------------------------------------------------------------------------------------------


def _beyond(term: Term, value: Any, before: bool) -> Q:
    """The rows whose TERM comes strictly after VALUE (BEFORE: strictly before it) in the list's order."""
    if before:
        if value is None:  # before an empty value: every row with one
            return Q(**{f"{term.name}__isnull": False})
        return Q(**{f"{term.name}__{'gt' if term.descending else 'lt'}": value})
    if value is None:  # nothing comes after an empty value (but the same, by a later key)
        return Q(pk__in=[])
    after = Q(**{f"{term.name}__{'lt' if term.descending else 'gt'}": value})
    return after | Q(**{f"{term.name}__isnull": True}) if term.nullable else after


def _same(term: Term, value: Any) -> Q:
    return Q(**{f"{term.name}__isnull": True}) if value is None else Q(**{term.name: value})


def _bound(term: Term, value: Any, before: bool) -> Q | None:
    """A bound on the first key alone, implied by the seek, that an index on that key can serve (PostgreSQL does
    not draw it from the seek's OR)."""
    if value is None:
        return None if before else Q(**{f"{term.name}__isnull": True})
    if before:
        return Q(**{f"{term.name}__{'gte' if term.descending else 'lte'}": value})
    if term.nullable:
        return None
    return Q(**{f"{term.name}__{'lte' if term.descending else 'gte'}": value})


def seek(terms: Sequence[Term], cursor: Cursor) -> Q | None:
    """The rows after (or before) the cursor's boundary in the order TERMS; None from either end."""
    if cursor.values is None:
        return None
    branches = []
    same = Q()
    for term, value in zip(terms, cursor.values, strict=True):
        branches.append(same & _beyond(term, value, cursor.before))
        same &= _same(term, value)
    condition = reduce(or_, branches)
    bound = _bound(terms[0], cursor.values[0], cursor.before)
    return condition if bound is None else bound & condition


def order_by(terms: Sequence[Term], *, reverse: bool = False) -> list[OrderBy]:
    """The order TERMS (REVERSE: turned round). Empty values last (first when turned round); a column that is never
    empty gets no NULLS clause, so that an index on it serves both directions."""
    ordering = []
    for term in terms:
        descending = term.descending != reverse
        nulls = {} if not term.nullable else {"nulls_first": True} if reverse else {"nulls_last": True}
        expression = F(term.name)
        ordering.append(expression.desc(**nulls) if descending else expression.asc(**nulls))
    return ordering


@dataclass
class Window:
    """One page read by key: its ROWS in the list's order, and the cursors of the neighbouring pages (None where
    there is none)."""

    rows: list[Any]
    next: str | None
    previous: str | None


def window(terms: Sequence[Term], cursor: Cursor, rows: list[Any], keys: list[tuple[Any, ...]], size: int) -> Window:
    """The page from ROWS as read in the cursor's direction (up to SIZE + 1, KEYS their key values, in the same
    order): turned round when walking back, and its neighbours' cursors."""
    more = len(rows) > size
    rows, keys = rows[:size], keys[:size]
    if cursor.before:
        rows.reverse()
        keys.reverse()
    came_from = cursor.values is not None  # a boundary on the other side: there are rows there
    has_next = came_from if cursor.before else more
    has_previous = more if cursor.before else came_from
    if not rows:
        # Past an end (the boundary row gone, or nothing after it): back across the boundary.
        back = None if cursor.values is None else encode(terms, cursor.values, before=not cursor.before)
        return Window(rows, back if cursor.before else None, None if cursor.before else back)
    return Window(
        rows,
        encode(terms, keys[-1], before=False) if has_next else None,
        encode(terms, keys[0], before=True) if has_previous else None,
    )
