"""Rollups: running totals kept in the database beside the rows they add up, exact at every commit.

The home, the evaluation overview, the pairing list and the programme pages show sums over every fund flow and
counts over every project of a scope. Summed per request they grow with the data (the home read 281 199 flows and
100 000 projects on every visit); read from a rollup they cost what the number of pairings costs.

A rollup here is a table of totals by key (a pairing and a year and a kind of flow; a pairing and a state) that
**triggers on the base table** keep exact: every INSERT, UPDATE and DELETE — through a service, a bulk import,
`queryset.update()`, the synthetic generator or by hand in psql — changes the totals in the same transaction, so
a figure read from the rollup is the figure the rows make, committed together or not at all. On PostgreSQL the
triggers run once per statement over its transition tables (a bulk insert of thousands of rows adds its deltas
in one grouped upsert); on SQLite (`make run`) they run per row.

Rollups are declared by the apps that own their tables (`pairings.rollups`, `projects.rollups`) and registered
here, so that core's reconciliation — the Celery task `core.tasks.reconcile_rollups` and `manage.py
reconcile_rollups` — can check each one against its live aggregate without importing the apps above it. A
difference means a write bypassed the triggers (a TRUNCATE of one table, triggers disabled by hand): it is logged
as an error and, with `repair`, the rollup is rebuilt from the rows.
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction

logger = logging.getLogger(__name__)

#: A rollup's rows as {key tuple: values tuple}.
Totals = dict[tuple[Any, ...], tuple[Any, ...]]


@dataclass(frozen=True)
class Rollup:
    """One rollup: its table (a model), the key and value columns, and the live aggregate it must equal."""

    name: str
    model: type[models.Model]
    key: tuple[str, ...]
    values: tuple[str, ...]
    #: The totals as the base rows make them now (the truth the triggers keep the table equal to).
    live: Callable[[], Totals]
    #: The triggers' DDL by database vendor: (install statements, uninstall statements).
    triggers: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)

    def stored(self) -> Totals:
        rows = self.model._default_manager.values_list(*self.key, *self.values)
        return {tuple(r[: len(self.key)]): tuple(r[len(self.key) :]) for r in rows}

    def rebuild(self) -> None:
        """Replace the stored totals with the live ones (the migration's backfill and the repair)."""
        with transaction.atomic():
            self.model._default_manager.all().delete()
            self.model._default_manager.bulk_create(
                [self.model(**dict(zip(self.key + self.values, k + v, strict=True))) for k, v in self.live().items()],
                batch_size=1000,
            )

    def install(self, schema_editor: Any = None) -> None:
        """Create (or replace) the triggers on this database."""
        self._run(0, schema_editor)

    def uninstall(self, schema_editor: Any = None) -> None:
        self._run(1, schema_editor)

    def _run(self, which: int, schema_editor: Any) -> None:
        conn = schema_editor.connection if schema_editor else connection
        statements = self.triggers.get(conn.vendor, ([], []))[which]
        with conn.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def pg_statement_triggers(
    function: str, table: str, *, on_insert: str, on_update: str, on_delete: str
) -> tuple[list[str], list[str]]:
    """PostgreSQL's install and uninstall statements of a rollup kept by statement triggers on TABLE: the plpgsql
    FUNCTION runs ON_INSERT (which reads the transition table `new_rows`), ON_UPDATE (`old_rows` and `new_rows`) or
    ON_DELETE (`old_rows`), once per statement whatever its number of rows; its three triggers are named
    FUNCTION_insert, FUNCTION_update and FUNCTION_delete."""
    events = ("insert", "update", "delete")
    drop = [f"DROP TRIGGER IF EXISTS {function}_{event} ON {table}" for event in events]
    referencing = {
        "insert": "NEW TABLE AS new_rows",
        "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "delete": "OLD TABLE AS old_rows",
    }
    body = f"""
CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    IF TG_OP = 'INSERT' THEN
        {on_insert};
    ELSIF TG_OP = 'DELETE' THEN
        {on_delete};
    ELSE
        {on_update};
    END IF;
    RETURN NULL;
END
$body$
"""
    create = [
        f"CREATE TRIGGER {function}_{event} AFTER {event.upper()} ON {table} "
        f"REFERENCING {referencing[event]} FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        for event in events
    ]
    return [body, *drop, *create], [*drop, f"DROP FUNCTION IF EXISTS {function}()"]


@dataclass(frozen=True)
class Difference:
    """A key whose stored totals differ from the live ones (absent on one side: None)."""

    key: tuple[Any, ...]
    stored: tuple[Any, ...] | None
    live: tuple[Any, ...] | None


_ROLLUPS: dict[str, Rollup] = {}


def register(rollup: Rollup) -> Rollup:
    _ROLLUPS[rollup.name] = rollup
    return rollup


def registered() -> list[Rollup]:
    return list(_ROLLUPS.values())


def _is_zero(values: Iterable[Any]) -> bool:
    return all(not v for v in values)


def _same(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    # SQLite keeps decimals as floating point: compare money to the cent.
    return all(
        Decimal(str(x)).quantize(Decimal("0.01")) == Decimal(str(y)).quantize(Decimal("0.01"))
        for x, y in zip(a, b, strict=True)
    )


def differences(rollup: Rollup) -> list[Difference]:
    """Where ROLLUP's table differs from its live aggregate (rows of zeros, left by deletions, count as absent)."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        # One snapshot for both reads on PostgreSQL, so a write committing in between is not a false alarm.
        if outermost and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        stored = {k: v for k, v in rollup.stored().items() if not _is_zero(v)}
        live = {k: v for k, v in rollup.live().items() if not _is_zero(v)}
    found = []
    for key in sorted(stored.keys() | live.keys(), key=repr):
        s, li = stored.get(key), live.get(key)
        if s is None or li is None or not _same(s, li):
            found.append(Difference(key, s, li))
    return found


def reconcile(*, repair: bool = False) -> dict[str, list[Difference]]:
    """Check every registered rollup against its rows; log each difference, and rebuild the rollup when REPAIR.
    Returns the differences found, by rollup name (empty lists when all is exact)."""
    report = {}
    for rollup in registered():
        found = differences(rollup)
        report[rollup.name] = found
        if found:
            logger.error(
                "rollup %s differs from its rows at %d keys (first: %r)%s",
                rollup.name,
                len(found),
                found[0],
                "; rebuilding it" if repair else "",
            )
            if repair:
                rollup.rebuild()
    return report
