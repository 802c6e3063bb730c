"""The project list as the API serves it, written for speed: it is the page officials and other systems hit
most, at 100k projects (bench/project_list.py measures it).

The page's ids are picked from the project table (filters and ordering applied) in a subquery, and only those rows
are joined to their names and read as plain values — no model instances, no field-by-field serialisation — so a
page costs one statement with its total on PostgreSQL, however deep it is; without filters that statement is
compiled once per scope and ordering and kept. The output is exactly ProjectSerializer's (a test holds the two
together): both take their fields from one declaration, projects/api/columns.py, and each row is read by name
through a layout worked out once from it (which column each field comes from and how it is shown).
"""

import functools
import json
import re
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from types import SimpleNamespace
from typing import Any, cast

import orjson
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, models
from django.db.models import Func, IntegerField, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import get_language

from accounts.models import User

from . import policy
from .api.columns import PROJECT_LIST_FIELDS, Name
from .models import IATI_ACTIVITY_STATUS, Project, iati_finance_type

_AMOUNT = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]{2}")


def _amount(value: Any) -> str:
    """A funding source's amount as the serializer shows it (two places); stored amounts already are."""
    if isinstance(value, str) and _AMOUNT.fullmatch(value):
        return value
    return f"{Decimal(value):.2f}"


def _sources(value: Any) -> list[dict[str, Any]]:
    """The funding sources as the serializer shows them; raw rows bring the JSON as text (the ORM decodes it)."""
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:  # beyond orjson (an integer over 64 bits)
            value = json.loads(value)
    return [{"source": s["source"], "amount": _amount(s["amount"])} for s in value]


def page_ids(queryset: QuerySet[Project], number: int, size: int) -> tuple[list[int], int | None]:
    """The ids of page NUMBER of QUERYSET (filters and ordering applied) and the total, in one query: the total is
    an uncorrelated scalar subquery, which the database evaluates once. An empty page gives no total (None)."""
    start = (number - 1) * size
    total = Subquery(queryset.order_by().annotate(n_=_CountAll()).values("n_")[:1])
    found = list(queryset.annotate(total_=total).values_list("pk", "total_")[start : start + size])
    return [pk for pk, _ in found], (found[0][1] if found else None)


class _CountAll(Func):
    """COUNT(*) as a plain expression, so that a subquery can select it without a GROUP BY."""

    template = "COUNT(*)"
    output_field = IntegerField()


def _model_field(path: str) -> models.Field:
    """The model field a `values()` path from the project reaches."""
    model: Any = Project
    *joins, last = path.split("__")
    for part in joins:
        model = model._meta.get_field(part).related_model
    return model._meta.get_field(last)


def _decimal(value: Any) -> str | None:
    # numeric(p, s) arrives with its places: str() is what the serializer shows.
    return None if value is None else str(value)


# JSON columns, each read as the serializer shows it (there is no one way to show JSON).
_JSON_READERS: dict[str, Callable[[Any], Any]] = {"funding_sources": _sources}


class _Context:
    """What the computed fields of one page share: the caller, and allowed_actions by (state, proposed by them)."""

    def __init__(self, user: User) -> None:
        self.user = user
        self.actions: dict[tuple[str, bool], list[str]] = {}

    def allowed_actions(self, state: str, proposed_by: int | None) -> list[str]:
        key = (state, proposed_by == self.user.pk)
        allowed = self.actions.get(key)
        if allowed is None:
            # allowed_actions reads only the state and the proposer: a light stand-in, not a model instance
            # (whose construction costs more than the rest of the row).
            stand_in = cast(Project, SimpleNamespace(state=state, proposed_by_id=proposed_by))
            allowed = self.actions[key] = policy.allowed_actions(self.user, stand_in)
        return allowed


# The fields declared COMPUTED, each from the row's other fields (already read when it runs).
_COMPUTED: dict[str, Callable[[dict[str, Any], _Context], Any]] = {
    "pairing_label": lambda row, ctx: f"{row['assisting_organization_name']} → {row['recipient_region_name']}",
    "allowed_actions": lambda row, ctx: ctx.allowed_actions(row["state"], row["proposed_by"]),
    "iati_finance_type": lambda row, ctx: iati_finance_type(row["category"]),
    "iati_activity_status": lambda row, ctx: IATI_ACTIVITY_STATUS[row["state"]],
}


@dataclass(frozen=True, eq=False)  # compared and hashed by identity: the SQL compiled from it is kept by it
class _Layout:
    """How a row of the statement becomes a list row, worked out once from the declaration: which columns the
    statement selects (in that order), and by name which field each is read into and how."""

    columns: tuple[str, ...]
    template: dict[str, None]  # every field, in the serializer's order
    plain_fields: tuple[str, ...]
    plain: Callable[[tuple], tuple]  # the plain fields' values of a row, in plain_fields' order
    decimals: tuple[tuple[str, int], ...]
    stamps: tuple[tuple[str, int], ...]
    readers: tuple[tuple[str, int, Callable[[Any], Any]], ...]
    names: tuple[tuple[str, int, int], ...]  # field, Chinese column, English column
    computed: tuple[tuple[str, Callable[[dict[str, Any], _Context], Any]], ...]


def _getter(indices: list[int]) -> Callable[[tuple], tuple]:
    if len(indices) == 1:  # itemgetter of one index gives the value, not a tuple of it
        only = indices[0]
        return lambda r: (r[only],)
    return itemgetter(*indices)


def layout(fields: tuple[tuple[str, str | Name | None], ...]) -> _Layout:
    """The layout of FIELDS (a declaration like PROJECT_LIST_FIELDS); a field declared COMPUTED without its code
    here, or a JSON column without its reader, is an error at once rather than a row without it."""
    columns: list[str] = []

    def column(path: str) -> int:
        if path not in columns:
            columns.append(path)
        return columns.index(path)

    plain: list[tuple[str, int]] = []
    decimals: list[tuple[str, int]] = []
    stamps: list[tuple[str, int]] = []
    readers: list[tuple[str, int, Callable[[Any], Any]]] = []
    names: list[tuple[str, int, int]] = []
    computed: list[tuple[str, Callable[[dict[str, Any], _Context], Any]]] = []
    for name, source in fields:
        if source is None:
            if name not in _COMPUTED:
                raise ImproperlyConfigured(f"The project list has no code for its computed field {name!r}.")
            computed.append((name, _COMPUTED[name]))
        elif isinstance(source, Name):
            names.append((name, column(source.path), column(source.path_en)))
        else:
            field = _model_field(source)
            index = column(source)
            if isinstance(field, models.DecimalField):
                decimals.append((name, index))
            elif isinstance(field, models.DateTimeField):
                stamps.append((name, index))
            elif isinstance(field, models.JSONField):
                if name not in _JSON_READERS:
                    raise ImproperlyConfigured(f"The project list has no reader for its JSON field {name!r}.")
                readers.append((name, index, _JSON_READERS[name]))
            else:
                plain.append((name, index))
    return _Layout(
        columns=tuple(columns),
        template=dict.fromkeys(name for name, _source in fields),
        plain_fields=tuple(name for name, _index in plain),
        plain=_getter([index for _name, index in plain]),
        decimals=tuple(decimals),
        stamps=tuple(stamps),
        readers=tuple(readers),
        names=tuple(names),
        computed=tuple(computed),
    )


_LAYOUT: _Layout | None = None


def _layout() -> _Layout:
    """The layout of the declared fields (built on first use: the models must be ready)."""
    global _LAYOUT
    if _LAYOUT is None:
        _LAYOUT = layout(PROJECT_LIST_FIELDS)
    return _LAYOUT


def _represent(fetched: list[tuple], user: User) -> list[dict[str, Any]]:
    """The rows (the layout's columns, and maybe more after them) as the list shows them. Dates stay date objects:
    the renderer (orjson) writes them as the serializer does (ISO 8601)."""
    lay = _layout()
    english = (get_language() or "").startswith("en")
    tz = timezone.get_current_timezone()
    context = _Context(user)
    template, plain_fields, plain = lay.template, lay.plain_fields, lay.plain
    out: list[dict[str, Any]] = []
    append = out.append
    for r in fetched:
        row: dict[str, Any] = template.copy()
        row.update(zip(plain_fields, plain(r), strict=True))
        for name, i in lay.decimals:
            row[name] = _decimal(r[i])
        for name, i in lay.stamps:
            stamp = r[i]
            row[name] = None if stamp is None else stamp.astimezone(tz).isoformat()
        for name, i, read in lay.readers:
            row[name] = read(r[i])
        for name, zh, en in lay.names:
            row[name] = (r[en] or r[zh]) if english else r[zh]
        for name, compute in lay.computed:
            row[name] = compute(row, context)
        append(row)
    return out


@functools.cache
def _rows_sql(lay: _Layout) -> str:
    """The rows query of LAY's columns for a list of ids, compiled once from the ORM (PostgreSQL: `id = ANY(%s)`)."""
    sql, _params = Project.objects.filter(pk__in=[0]).order_by().values_list(*lay.columns).query.sql_with_params()
    head, sep, tail = sql.rpartition(" IN (%s)")
    if not sep:
        raise RuntimeError("unexpected SQL for the project rows")
    return f"{head} = ANY(%s){tail}"


def _fetch(ids: list[int]) -> list[tuple]:
    """The layout's columns of the projects IDS, in that order."""
    if not ids:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_rows_sql(_layout()), [ids])
            fetched = cursor.fetchall()
    else:
        fetched = list(Project.objects.filter(pk__in=ids).order_by().values_list(*_layout().columns))
    position = {pk: i for i, pk in enumerate(ids)}
    at = _layout().columns.index("id")
    fetched.sort(key=lambda r: position[r[at]])
    return fetched


def rows_for_ids(ids: list[int], user: User) -> list[dict[str, Any]]:
    """The list representation of the projects IDS, in that order."""
    return _represent(_fetch(ids), user)


@functools.cache
def _page_sql_parts(lay: _Layout) -> tuple[str, str]:
    """LAY's rows query cut in two around where the page's ids go (PostgreSQL): the ids arrive as an ordered array
    (`unnest(ARRAY(<ids query>)) WITH ORDINALITY`), so the rows come back in the page's order. The total comes
    after the layout's columns."""
    sql = _rows_sql(lay)
    table = '"projects_project"'
    select, sep, rest = sql.partition(f" FROM {table}")
    joins, sep2, _where = rest.partition(f' WHERE {table}."id" = ANY(%s)')
    if not sep or not sep2:
        raise RuntimeError("unexpected SQL for the project rows")
    head = f"{select}, (%%COUNT%%) AS total_ FROM unnest(ARRAY(%%IDS%%)) WITH ORDINALITY AS page_(id, pos)"
    tail = f' INNER JOIN {table} ON ({table}."id" = page_.id){joins} ORDER BY page_.pos'
    return head, tail


_IDS_HEAD = 'SELECT "projects_project"."id" AS "pk" FROM '


def _count_from(ids_sql: str, ids_params: tuple) -> tuple[str, tuple] | None:
    """The total's SQL cut from the page's ids SQL (same FROM and WHERE, no ORDER BY/LIMIT), which saves compiling
    the queryset a second time; None when the SQL is not of the expected shape (then the ORM compiles it)."""
    body, sep, order = ids_sql.rpartition(" ORDER BY ")
    if not sep or not body.startswith(_IDS_HEAD) or "%s" in order:
        return None
    # The ORM's own SQL for the queryset, its values left as parameters: nothing from the request is spliced in.
    return "SELECT COUNT(*) FROM " + body[len(_IDS_HEAD) :], ids_params  # noqa: S608


# Compiled page statements (SQL and its parameters, the page's LIMIT and OFFSET left as the last two), by a key
# the caller vouches determines the queryset entirely (projects.api: the caller's scope and the ordering asked).
# Bounded: the ordering comes from the request, so the keys are not a closed set.
_STATEMENTS: dict[Hashable, tuple[str, tuple]] = {}
_STATEMENTS_MAX = 512


def is_compiled(key: Hashable | None, *, counted: bool = True) -> bool:
    """Whether `page` has the statement of KEY already (then it needs no queryset); COUNTED: the statement that
    counts the total (no total given to `page`)."""
    return key is not None and (key, counted) in _STATEMENTS


def _compile(queryset: QuerySet[Project], *, count: bool = True) -> tuple[str, tuple]:
    """PostgreSQL: the page statement of QUERYSET — the total as a scalar subquery (NULL when not COUNT), the page's
    ids in order (LIMIT and OFFSET as parameters), their rows joined to their names."""
    ids_sql, ids_params = queryset.values("pk").query.sql_with_params()
    count_sql, count_params = (
        (
            _count_from(ids_sql, ids_params)
            or queryset.order_by().annotate(n_=_CountAll()).values("n_")[:1].query.sql_with_params()
        )
        if count
        else ("NULL", ())
    )
    head, tail = _page_sql_parts(_layout())
    sql = head.replace("%%COUNT%%", count_sql, 1).replace("%%IDS%%", f"{ids_sql} LIMIT %s OFFSET %s", 1) + tail
    return sql, (*count_params, *ids_params)


def _queryset(source: QuerySet[Project] | Callable[[], QuerySet[Project]]) -> QuerySet[Project]:
    return source if isinstance(source, QuerySet) else source()


def page(
    queryset: QuerySet[Project] | Callable[[], QuerySet[Project]],
    number: int,
    size: int,
    user: User,
    key: Hashable | None = None,
    total: int | None = None,
) -> tuple[list[dict[str, Any]], int | None]:
    """Page NUMBER of QUERYSET as list rows, and the total (None when the page is empty). A TOTAL the caller knows
    already (an unfiltered scope's, from the rollup) is returned as it is, and the statement counts nothing.

    PostgreSQL: one statement — the total as a scalar subquery, the page's ids in order, their rows joined to their
    names. With a KEY, the statement is compiled once and kept; QUERYSET may be a function that builds it, called
    only when the statement is not kept (see `is_compiled`).
    Elsewhere (SQLite for `make run`): the ids with the total, then the rows."""
    if connection.vendor != "postgresql":
        ids, total = page_ids(_queryset(queryset), number, size)
        return rows_for_ids(ids, user), total
    count = total is None
    kept = None if key is None else (key, count)
    statement = None if kept is None else _STATEMENTS.get(kept)
    if statement is None:
        statement = _compile(_queryset(queryset), count=count)
        if kept is not None:
            if len(_STATEMENTS) >= _STATEMENTS_MAX:
                _STATEMENTS.clear()  # rare (orderings made up by a client): start over, safe between threads
            _STATEMENTS[kept] = statement
    sql, params = statement
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, size, (number - 1) * size])
        fetched = cursor.fetchall()
    if not fetched:
        return [], None
    if count:
        total = fetched[0][len(_layout().columns)]  # selected after the layout's columns
    return _represent(fetched, user), total


def keyed_rows(
    queryset: QuerySet[Project],
    limit: int,
    user: User,
    keys: Sequence[str],
    count: QuerySet[Project] | None = None,
) -> tuple[list[dict[str, Any]], list[tuple[Any, ...]], int | None]:
    """The first LIMIT rows of QUERYSET (a page read by key: filters, seek and order applied; projects/keyset.py)
    as list rows — the same rows `page` gives — with the values of the columns KEYS of each (the row's key, for the
    neighbouring pages' cursors), and, given COUNT (the list's queryset without the seek), its total.

    PostgreSQL: one statement, as `page`'s (the total a scalar subquery, NULL when not asked), compiled each time
    (the boundary's values make the seek's shape: an empty value is compared otherwise). Elsewhere: the ids, the
    total, the rows."""
    at = [_layout().columns.index("id" if key == "pk" else key) for key in keys]
    if connection.vendor != "postgresql":
        fetched = _fetch(list(queryset.values_list("pk", flat=True)[:limit]))
        total = None if count is None else count.order_by().count()
    else:
        ids_sql, ids_params = queryset.values("pk").query.sql_with_params()
        count_sql: str = "NULL"
        count_params: tuple = ()
        if count is not None:
            count_ids_sql, count_ids_params = count.values("pk").query.sql_with_params()
            count_sql, count_params = _count_from(count_ids_sql, count_ids_params) or (
                count.order_by().annotate(n_=_CountAll()).values("n_")[:1].query.sql_with_params()
            )
        head, tail = _page_sql_parts(_layout())
        sql = head.replace("%%COUNT%%", count_sql, 1).replace("%%IDS%%", f"{ids_sql} LIMIT %s", 1) + tail
        with connection.cursor() as cursor:
            cursor.execute(sql, [*count_params, *ids_params, limit])
            fetched = cursor.fetchall()
        total = fetched[0][len(_layout().columns)] if fetched else None
        if not fetched and count is not None:  # no row to carry the total
            total = count.order_by().count()
    keyed = [tuple(r[i] for i in at) for r in fetched]
    return _represent(fetched, user), keyed, total
