"""The project list as the API serves it, written for speed: it is the page officials and other systems hit
most, at 100k projects (bench/project_list.py measures it).

The page's ids are picked from the project table (filters and ordering applied) in a subquery, and only those rows
are joined to their names and read as plain values — no model instances, no field-by-field serialisation — so a
page costs one statement with its total on PostgreSQL, however deep it is; without filters that statement is
compiled once per scope and ordering and kept. The output is exactly ProjectSerializer's (a test holds the two
together).
"""

import json
import re
from collections.abc import Callable, Hashable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any, cast

import orjson
from django.db import connection
from django.db.models import Func, IntegerField, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import get_language

from accounts.models import User

from . import services
from .models import IATI_ACTIVITY_STATUS, Category, Project

COLUMNS = (
    "id", "code", "title", "pairing_id", "pairing__program_id", "pairing__program__code", "pairing__program__name",
    "pairing__program__name_en", "pairing__assisting_organization_id", "pairing__assisting_organization__name",
    "pairing__assisting_organization__name_en", "pairing__recipient_region__code",
    "pairing__recipient_region__name", "pairing__recipient_region__name_en", "category", "sector",
    "execution_mode", "location__code", "location__name", "location__name_en", "latitude", "longitude",
    "is_livelihood", "is_self_sustaining", "budget_requested", "approved_budget", "funding_sources",
    "planned_start", "planned_end", "actual_start", "actual_end", "expected_beneficiaries",
    "reached_beneficiaries", "implementing_agency", "description", "repayment_terms", "state", "proposed_by_id",
    "is_synthetic", "created_at", "updated_at",
)  # fmt: skip


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


_ROWS_SQL: str | None = None


def _rows_sql() -> str:
    """The rows query for a list of ids, compiled once from the ORM (PostgreSQL: `id = ANY(%s)`)."""
    global _ROWS_SQL
    if _ROWS_SQL is None:
        sql, _params = Project.objects.filter(pk__in=[0]).order_by().values_list(*COLUMNS).query.sql_with_params()
        head, sep, tail = sql.rpartition(" IN (%s)")
        if not sep:
            raise RuntimeError("unexpected SQL for the project rows")
        _ROWS_SQL = f"{head} = ANY(%s){tail}"
    return _ROWS_SQL


def rows_for_ids(ids: list[int], user: User) -> list[dict[str, Any]]:
    """The list representation of the projects IDS, in that order."""
    if not ids:
        return []
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_rows_sql(), [ids])
            fetched = cursor.fetchall()
    else:
        fetched = list(Project.objects.filter(pk__in=ids).order_by().values_list(*COLUMNS))
    position = {pk: i for i, pk in enumerate(ids)}
    fetched.sort(key=lambda r: position[r[0]])
    return _represent(fetched, user)


def rows(queryset: QuerySet[Project], user: User) -> list[dict[str, Any]]:
    """The list representation of QUERYSET's projects (a page, in its order), as the caller USER sees them."""
    return _represent(list(queryset.values_list(*COLUMNS)), user)


def _represent(fetched: list[tuple], user: User) -> list[dict[str, Any]]:
    """The rows (COLUMNS, and maybe more after them) as the list shows them. Dates stay date objects: the renderer
    (orjson) writes them as the serializer does (ISO 8601)."""
    english = (get_language() or "").startswith("en")
    tz = timezone.get_current_timezone()
    reimbursable = Category.REIMBURSABLE.value
    status = IATI_ACTIVITY_STATUS
    # allowed_actions reads only the state and the proposer: a light stand-in, not a model instance (whose
    # construction costs more than the rest of the row).
    actions: dict[tuple[str, bool], list[str]] = {}
    pk = user.pk
    out: list[dict[str, Any]] = []
    append = out.append
    for r in fetched:
        state = r[36]
        key = (state, r[37] == pk)
        allowed = actions.get(key)
        if allowed is None:
            allowed = actions[key] = services.allowed_actions(
                user, cast(Project, SimpleNamespace(state=state, proposed_by_id=r[37]))
            )
        if english:
            org, region, program = r[10] or r[9], r[13] or r[12], r[7] or r[6]
            location = None if r[17] is None else r[19] or r[18]
        else:
            org, region, program = r[9], r[12], r[6]
            location = None if r[17] is None else r[18]
        append(
            {
                "id": r[0],
                "code": r[1],
                "title": r[2],
                "pairing": r[3],
                "pairing_label": f"{org} → {region}",
                "program": r[4],
                "program_code": r[5],
                "program_name": program,
                "assisting_organization": r[8],
                "assisting_organization_name": org,
                "recipient_region": r[11],
                "recipient_region_name": region,
                "category": r[14],
                "sector": r[15],
                "execution_mode": r[16],
                "location": r[17],
                "location_name": location,
                # numeric(9, 6) and numeric(18, 2): the values arrive with their places, str() is the serializer's
                "latitude": None if r[20] is None else str(r[20]),
                "longitude": None if r[21] is None else str(r[21]),
                "is_livelihood": r[22],
                "is_self_sustaining": r[23],
                "budget_requested": None if r[24] is None else str(r[24]),
                "approved_budget": None if r[25] is None else str(r[25]),
                "funding_sources": _sources(r[26]),
                "planned_start": r[27],
                "planned_end": r[28],
                "actual_start": r[29],
                "actual_end": r[30],
                "expected_beneficiaries": r[31],
                "reached_beneficiaries": r[32],
                "implementing_agency": r[33],
                "description": r[34],
                "repayment_terms": r[35],
                "state": state,
                "allowed_actions": allowed,
                "proposed_by": r[37],
                "iati_finance_type": 410 if r[14] == reimbursable else 110,
                "iati_activity_status": status[state],
                "is_synthetic": r[38],
                "created_at": r[39].astimezone(tz).isoformat(),
                "updated_at": r[40].astimezone(tz).isoformat(),
            }
        )
    return out


_PAGE_SQL: tuple[str, str] | None = None


def _page_sql_parts() -> tuple[str, str]:
    """The rows query cut in two around where the page's ids go (PostgreSQL): the ids arrive as an ordered array
    (`unnest(ARRAY(<ids query>)) WITH ORDINALITY`), so the rows come back in the page's order."""
    global _PAGE_SQL
    if _PAGE_SQL is None:
        sql = _rows_sql()
        table = '"projects_project"'
        select, sep, rest = sql.partition(f" FROM {table}")
        joins, sep2, _where = rest.partition(f' WHERE {table}."id" = ANY(%s)')
        if not sep or not sep2:
            raise RuntimeError("unexpected SQL for the project rows")
        head = f"{select}, (%%COUNT%%) AS total_ FROM unnest(ARRAY(%%IDS%%)) WITH ORDINALITY AS page_(id, pos)"
        tail = f' INNER JOIN {table} ON ({table}."id" = page_.id){joins} ORDER BY page_.pos'
        _PAGE_SQL = (head, tail)
    return _PAGE_SQL


_IDS_HEAD = 'SELECT "projects_project"."id" AS "pk" FROM '


def _count_from(ids_sql: str, ids_params: tuple) -> tuple[str, tuple] | None:
    """The total's SQL cut from the page's ids SQL (same FROM and WHERE, no ORDER BY/LIMIT), which saves compiling
    the queryset a second time; None when the SQL is not of the expected shape (then the ORM compiles it)."""
    body, sep, order = ids_sql.rpartition(" ORDER BY ")
    if not sep or not body.startswith(_IDS_HEAD) or "%s" in order:
        return None
    return "SELECT COUNT(*) FROM " + body[len(_IDS_HEAD) :], ids_params


# Compiled page statements (SQL and its parameters, the page's LIMIT and OFFSET left as the last two), by a key
# the caller vouches determines the queryset entirely (projects.api: the caller's scope and the ordering asked).
# Bounded: the ordering comes from the request, so the keys are not a closed set.
_STATEMENTS: dict[Hashable, tuple[str, tuple]] = {}
_STATEMENTS_MAX = 512


def is_compiled(key: Hashable | None) -> bool:
    """Whether `page` has the statement of KEY already (then it needs no queryset)."""
    return key is not None and key in _STATEMENTS


def _compile(queryset: QuerySet[Project]) -> tuple[str, tuple]:
    """PostgreSQL: the page statement of QUERYSET — the total as a scalar subquery, the page's ids in order (LIMIT
    and OFFSET as parameters), their rows joined to their names."""
    ids_sql, ids_params = queryset.values("pk").query.sql_with_params()
    count_sql, count_params = _count_from(ids_sql, ids_params) or (
        queryset.order_by().annotate(n_=_CountAll()).values("n_")[:1].query.sql_with_params()
    )
    head, tail = _page_sql_parts()
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
) -> tuple[list[dict[str, Any]], int | None]:
    """Page NUMBER of QUERYSET as list rows, and the total (None when the page is empty).

    PostgreSQL: one statement — the total as a scalar subquery, the page's ids in order, their rows joined to their
    names. With a KEY, the statement is compiled once and kept; QUERYSET may be a function that builds it, called
    only when the statement is not kept (see `is_compiled`).
    Elsewhere (SQLite for `make run`): the ids with the total, then the rows."""
    if connection.vendor != "postgresql":
        ids, total = page_ids(_queryset(queryset), number, size)
        return rows_for_ids(ids, user), total
    statement = None if key is None else _STATEMENTS.get(key)
    if statement is None:
        statement = _compile(_queryset(queryset))
        if key is not None:
            if len(_STATEMENTS) >= _STATEMENTS_MAX:
                _STATEMENTS.clear()  # rare (orderings made up by a client): start over, safe between threads
            _STATEMENTS[key] = statement
    sql, params = statement
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, size, (number - 1) * size])
        fetched = cursor.fetchall()
    if not fetched:
        return [], None
    total = fetched[0][-1]
    return _represent(fetched, user), total
