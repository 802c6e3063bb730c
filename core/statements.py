"""Statements compiled once from the ORM: the queryset built and compiled on the first request, its SQL run after.

A page's statement costs the database 0.2–0.6 ms, and the ORM as much again or more to build the queryset, resolve
its lookups, compile it and convert its rows — on every request, for SQL that is the same every time. Here a read
is declared once with the function that builds its queryset (a `values_list`, or a union of them: rows as tuples):

- `Statement(build)`: BUILD(*args). Compiled once per arguments, or per a key the caller gives that stands for them
  (equal keys, the same queryset: `accounts.selectors.Scope.key` for the pairings a user may see).
- `ForIds(build)`: BUILD(ids, *args), a read by a list of ids (`pk__in=ids`). Compiled with a marker id, and each
  `IN (%s)` holding the marker becomes `= ANY(%s)`: one statement of one shape whatever the number of ids (the SQL
  the ORM writes has a placeholder per id, a new shape for every number of ids, which psycopg splits anew and
  PostgreSQL prepares anew), the ids sent as one array.

The columns' converters are taken from the compiler once and applied as the ORM applies them (a JSON column comes
back decoded). On another database (SQLite, in local runs) the queryset is built and run as it stands.
"""

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import QuerySet

#: The id the queryset is compiled with, standing for the list: no row has it (ids are positive).
MARKER = -7_304_611
#: Where the ids go among a compiled statement's parameters.
_IDS = object()


@dataclass(frozen=True)
class _Compiled:
    sql: str
    #: The statement's parameters, `_IDS` where the ids go.
    params: tuple[Any, ...]
    #: The columns' converters as the compiler gives them (position, (functions, expression)), applied as it does.
    converters: tuple[tuple[int, tuple[list[Callable[..., Any]], Any]], ...] = ()


class UnexpectedSql(RuntimeError):
    """The compiled SQL is not of the shape this module rewrites (a marker outside `IN (%s)`)."""


def _rewrite(sql: str, params: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
    """SQL with each `IN (%s)` whose parameter is the MARKER made `= ANY(%s)`, its parameter left to fill."""
    if "%%" in sql:
        raise UnexpectedSql("a literal % in the SQL")
    pieces = sql.split("%s")
    if len(pieces) != len(params) + 1:
        raise UnexpectedSql("placeholders and parameters differ in number")
    out, kept = [pieces[0]], []
    for i, param in enumerate(params):
        after = pieces[i + 1]
        if param == MARKER:
            if not out[-1].endswith(" IN (") or not after.startswith(")"):
                raise UnexpectedSql("the marker id outside IN (…)")
            out[-1] = out[-1].removesuffix(" IN (") + " = ANY("
            kept.append(_IDS)
        else:
            kept.append(param)
        out.append("%s")
        out.append(after)
    if not any(p is _IDS for p in kept):
        raise UnexpectedSql("no IN (…) of the marker id")
    return "".join(out), tuple(kept)


class _Compiling:
    """What `Statement` and `ForIds` share: the store of compiled statements and running one."""

    MAX_COMPILED = 512
    #: Whether the queryset holds `IN (<the marker id>)` for a list of ids (`ForIds`).
    takes_ids = False

    def __init__(self, build: Callable[..., QuerySet[Any]]) -> None:
        self.build = build
        self._compiled: dict[Hashable, _Compiled] = {}

    def _statement(self, alias: str, key: Hashable, args: tuple[Any, ...]) -> _Compiled:
        compiled = self._compiled.get((alias, key))
        if compiled is None:
            compiler = (self.build([MARKER], *args) if self.takes_ids else self.build(*args)).query.get_compiler(alias)
            try:
                sql, params = compiler.as_sql()
            except EmptyResultSet:  # a filter that nothing can match (an empty scope): no statement, no rows
                sql, params = "", ()
            if self.takes_ids and sql:
                sql, params = _rewrite(sql, params)
            # What `results_iter` converts, read from the compiler once (as_sql has set up its columns).
            converters = compiler.get_converters([s[0] for s in compiler.select[: compiler.col_count]]) if sql else {}
            if len(self._compiled) >= self.MAX_COMPILED:
                self._compiled.clear()
            compiled = self._compiled[(alias, key)] = _Compiled(sql, tuple(params), tuple(converters.items()))
        return compiled

    def _run(self, ids: list[int] | None, args: tuple[Any, ...], key: Hashable, using: str) -> list[tuple[Any, ...]]:
        connection = connections[using]
        if connection.vendor != "postgresql":
            queryset = self.build(ids, *args) if self.takes_ids else self.build(*args)
            return [tuple(row) for row in queryset.using(using)]
        statement = self._statement(using, args if key is None else key, args)
        if not statement.sql:
            return []
        params = [ids if p is _IDS else p for p in statement.params]
        with connection.cursor() as cursor:
            cursor.execute(statement.sql, params)
            fetched = cursor.fetchall()
        if not statement.converters:
            return fetched
        rows = []
        for row in fetched:
            values = list(row)
            for pos, (functions, expression) in statement.converters:
                value = values[pos]
                for convert in functions:
                    value = convert(value, expression, connection)
                values[pos] = value
            rows.append(tuple(values))
        return rows


class Statement(_Compiling):
    """A read whose inputs are a few hashable arguments: BUILD(*args) gives the queryset (a `values_list`, or a
    union of them: rows as tuples). Compiled once per process and arguments — or per KEY, when the caller gives one
    that stands for the arguments (equal keys, the same queryset: a user's scope for the user) — on PostgreSQL.
    At most `MAX_COMPILED` keys are kept (then all are dropped: arguments may come from a request)."""

    def rows(self, *args: Any, key: Hashable = None, using: str = "default") -> list[tuple[Any, ...]]:
        """The rows for ARGS (hashable, unless KEY stands for them)."""
        return self._run(None, args, key, using)


class ForIds(_Compiling):
    """A read whose inputs are a list of ids, and maybe arguments as `Statement`'s: BUILD(ids, *args) filters by
    `IN ids`, which the compiled statement takes as one array (see the module's docstring)."""

    takes_ids = True

    def rows(
        self, ids: Iterable[int], *args: Any, key: Hashable = None, using: str = "default"
    ) -> list[tuple[Any, ...]]:
        """The rows for IDS and ARGS (none for no ids)."""
        ids = list(ids)
        if not ids:
            return []
        return self._run(ids, args, key, using)
