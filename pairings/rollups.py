"""The fund flows' rollup: each pairing's flows added up by calendar year and kind (`FlowYearTotal`).

`pairings.figures` reads every flow total from it — pledged, committed, received, spent of a scope, a programme, a
pairing or a mandate's year — so no page sums the flows themselves. Kinds are the flow kinds, and one more:
`pledge_open`, the pledges against which no commitment has been recorded yet (what *pledged* means in the figures).

Triggers keep it exact (see `core.rollups`). A commitment that fulfils a pledge closes the pledge, which is another
row, maybe of another year: the PostgreSQL trigger therefore compares each pledge a statement touches — its own
rows, and the pledges its commitments name — as it was before the statement (open or not, in which year) with how
it is after, and adds the difference. It reads the old and new rows of the whole statement, so the order of rows
inside a bulk insert (a commitment before its pledge) does not matter. SQLite's row triggers see the table after
each row, where the same rules per row are exact.
"""

from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import ExtractYear

from core.rollups import Rollup, Totals, pg_statement_triggers, register

from .models import FlowKind, FlowTotal, FlowYearTotal, FundFlow

#: The kind under which the rollup keeps the pledges no commitment has fulfilled yet.
PLEDGE_OPEN = "pledge_open"


def live_totals() -> Totals:
    """The rollup as the flows make it now: (pairing, year, kind) → (amount, flows)."""
    totals: Totals = {}
    by_kind = FundFlow.objects.values_list("pairing_id", ExtractYear("date"), "kind").annotate(
        a=Sum("amount"), n=Count("id")
    )
    open_pledges = (
        FundFlow.objects.filter(kind=FlowKind.PLEDGE, commitment__isnull=True)
        .values_list("pairing_id", ExtractYear("date"))
        .annotate(a=Sum("amount"), n=Count("id"))
    )
    for pairing_id, year, kind, amount, n in by_kind.order_by():
        totals[(pairing_id, year, kind)] = (Decimal(amount), n)
    for pairing_id, year, amount, n in open_pledges.order_by():
        totals[(pairing_id, year, PLEDGE_OPEN)] = (Decimal(amount), n)
    return totals


# --- PostgreSQL: one grouped upsert per statement ---------------------------------------------------------------

_PG_DELTA = """
WITH o AS (SELECT id, pairing_id, kind, amount, date, pledge_id FROM {old} AS src),
n AS (SELECT id, pairing_id, kind, amount, date, pledge_id FROM {new} AS src),
-- Every pledge whose openness or amount the statement may change: its own pledge rows, and the pledges its
-- commitments fulfilled before or fulfil after.
s AS (
    SELECT id FROM o WHERE kind = 'pledge' UNION SELECT id FROM n WHERE kind = 'pledge'
    UNION SELECT pledge_id FROM o WHERE pledge_id IS NOT NULL
    UNION SELECT pledge_id FROM n WHERE pledge_id IS NOT NULL
),
-- Those pledges before the statement: the old version of a row it changed or deleted, the row itself otherwise
-- (a row it inserted did not exist before).
was AS (
    SELECT o.id, o.pairing_id, o.amount, o.date FROM o WHERE o.kind = 'pledge'
    UNION ALL
    SELECT f.id, f.pairing_id, f.amount, f.date FROM pairings_fundflow f JOIN s ON s.id = f.id
    WHERE f.kind = 'pledge' AND NOT EXISTS (SELECT 1 FROM o WHERE o.id = f.id)
        AND NOT EXISTS (SELECT 1 FROM n WHERE n.id = f.id)
),
-- Open before: no commitment named it among the rows as they were (the table without the statement's new
-- versions, with its old ones).
was_open AS (
    SELECT w.* FROM was w
    WHERE NOT EXISTS (
        SELECT 1 FROM pairings_fundflow c
        WHERE c.pledge_id = w.id AND NOT EXISTS (SELECT 1 FROM n WHERE n.id = c.id)
    ) AND NOT EXISTS (SELECT 1 FROM o WHERE o.pledge_id = w.id)
),
is_open AS (
    SELECT f.id, f.pairing_id, f.amount, f.date FROM pairings_fundflow f JOIN s ON s.id = f.id
    WHERE f.kind = 'pledge' AND NOT EXISTS (SELECT 1 FROM pairings_fundflow c WHERE c.pledge_id = f.id)
),
delta AS (
    SELECT pairing_id, date, kind, amount, 1 AS flows FROM n
    UNION ALL SELECT pairing_id, date, kind, -amount, -1 FROM o
    UNION ALL SELECT pairing_id, date, 'pledge_open', amount, 1 FROM is_open
    UNION ALL SELECT pairing_id, date, 'pledge_open', -amount, -1 FROM was_open
)
INSERT INTO pairings_flowyeartotal AS t (pairing_id, year, kind, amount, flows)
SELECT pairing_id, EXTRACT(YEAR FROM date)::integer, kind, SUM(amount), SUM(flows)
FROM delta GROUP BY 1, 2, 3 HAVING SUM(amount) <> 0 OR SUM(flows) <> 0
ORDER BY 1, 2, 3
ON CONFLICT (pairing_id, year, kind)
DO UPDATE SET amount = t.amount + EXCLUDED.amount, flows = t.flows + EXCLUDED.flows
"""

_NONE = "(SELECT * FROM pairings_fundflow WHERE false)"

_PG_INSTALL, _PG_UNINSTALL = pg_statement_triggers(
    "pairings_flow_totals",
    "pairings_fundflow",
    on_insert=_PG_DELTA.format(old=_NONE, new="new_rows"),
    on_update=_PG_DELTA.format(old="old_rows", new="new_rows"),
    on_delete=_PG_DELTA.format(old="old_rows", new=_NONE),
)


# --- SQLite: per row ------------------------------------------------------------------------------------------


def _sqlite_add(row: str, amount: str, flows: str, kind: str, where: str) -> str:
    return (
        "INSERT INTO pairings_flowyeartotal (pairing_id, year, kind, amount, flows) "
        f"SELECT {row}.pairing_id, CAST(strftime('%Y', {row}.date) AS INTEGER), {kind}, {amount}, {flows} "
        f"{where} "
        "ON CONFLICT (pairing_id, year, kind) "
        "DO UPDATE SET amount = amount + excluded.amount, flows = flows + excluded.flows;"
    )


def _sqlite_change(row: str, sign: str) -> str:
    """The statements that put ROW (NEW, SIGN '') into the totals or take it (OLD, SIGN '-') out of them: its own
    kind; its amount as an open pledge when it is a pledge no commitment names; and, for a commitment, the pledge
    it fulfils, closed when it comes and open again when it goes."""
    other = "" if sign == "-" else "-"
    return " ".join(
        [
            _sqlite_add(row, f"{sign}{row}.amount", f"{sign}1", f"{row}.kind", "WHERE true"),
            _sqlite_add(
                row,
                f"{sign}{row}.amount",
                f"{sign}1",
                "'pledge_open'",
                f"WHERE {row}.kind = 'pledge' AND NOT EXISTS "  # noqa: S608  (trigger DDL made of constants)
                f"(SELECT 1 FROM pairings_fundflow c WHERE c.pledge_id = {row}.id)",
            ),
            _sqlite_add(
                "p",
                f"{other}p.amount",
                f"{other}1",
                "'pledge_open'",
                f"FROM pairings_fundflow p WHERE p.id = {row}.pledge_id",
            ),
        ]
    )


_SQLITE_INSTALL = [
    "DROP TRIGGER IF EXISTS pairings_flow_totals_insert",
    "DROP TRIGGER IF EXISTS pairings_flow_totals_update",
    "DROP TRIGGER IF EXISTS pairings_flow_totals_delete",
    f"CREATE TRIGGER pairings_flow_totals_insert AFTER INSERT ON pairings_fundflow BEGIN {_sqlite_change('NEW', '')} END",
    "CREATE TRIGGER pairings_flow_totals_update AFTER UPDATE ON pairings_fundflow "
    f"BEGIN {_sqlite_change('OLD', '-')} {_sqlite_change('NEW', '')} END",
    f"CREATE TRIGGER pairings_flow_totals_delete AFTER DELETE ON pairings_fundflow BEGIN {_sqlite_change('OLD', '-')} END",
]

_SQLITE_UNINSTALL = _SQLITE_INSTALL[:3]


FLOW_TOTALS = register(
    Rollup(
        name="pairings.flow_totals",
        model=FlowYearTotal,
        key=("pairing_id", "year", "kind"),
        values=("amount", "flows"),
        live=live_totals,
        triggers={
            "postgresql": (_PG_INSTALL, _PG_UNINSTALL),
            "sqlite": (_SQLITE_INSTALL, _SQLITE_UNINSTALL),
        },
    )
)


# --- All years: the rollup of the rollup ------------------------------------------------------------------------
#
# `FlowTotal` is `FlowYearTotal` without the year. Its triggers are on the year rollup's table, not on the flows':
# every change to a year's row (a trigger's upsert, a rebuild's deletion and insertion) is added to the row of its
# pairing and kind, so the pledges' rules are written once, above, and the two tables can never disagree.


def live_all_years() -> Totals:
    """The all-years rollup as the flows make it now: (pairing, kind) → (amount, flows)."""
    totals: dict[tuple[int, str], tuple[Decimal, int]] = {}
    for (pairing_id, _year, kind), (amount, n) in live_totals().items():
        was_amount, was_n = totals.get((pairing_id, kind), (Decimal("0.00"), 0))
        totals[(pairing_id, kind)] = (was_amount + amount, was_n + n)
    return dict(totals)


_PG_ALL_YEARS_DELTA = """
INSERT INTO pairings_flowtotal AS t (pairing_id, kind, amount, flows)
SELECT pairing_id, kind, SUM(amount), SUM(flows) FROM (
    SELECT pairing_id, kind, amount, flows FROM {new} AS n
    UNION ALL SELECT pairing_id, kind, -amount, -flows FROM {old} AS o
) AS delta
GROUP BY 1, 2 HAVING SUM(amount) <> 0 OR SUM(flows) <> 0
ORDER BY 1, 2
ON CONFLICT (pairing_id, kind)
DO UPDATE SET amount = t.amount + EXCLUDED.amount, flows = t.flows + EXCLUDED.flows
"""

_NO_YEARS = "(SELECT * FROM pairings_flowyeartotal WHERE false)"

# An upsert into the year rollup (the flows' trigger) fires the statement triggers of both INSERT and UPDATE, each
# with the rows it inserted or updated: every change is seen once.
_PG_ALL_YEARS_INSTALL, _PG_ALL_YEARS_UNINSTALL = pg_statement_triggers(
    "pairings_flow_all_years",
    "pairings_flowyeartotal",
    on_insert=_PG_ALL_YEARS_DELTA.format(old=_NO_YEARS, new="new_rows"),
    on_update=_PG_ALL_YEARS_DELTA.format(old="old_rows", new="new_rows"),
    on_delete=_PG_ALL_YEARS_DELTA.format(old="old_rows", new=_NO_YEARS),
)


def _sqlite_all_years(row: str, sign: str) -> str:
    """The statement that adds ROW (NEW, SIGN '') of the year rollup to its pairing's and kind's total, or takes it
    (OLD, SIGN '-') out of it."""
    return (
        "INSERT INTO pairings_flowtotal (pairing_id, kind, amount, flows) "  # noqa: S608  (trigger DDL of constants)
        f"VALUES ({row}.pairing_id, {row}.kind, {sign}{row}.amount, {sign}{row}.flows) "
        "ON CONFLICT (pairing_id, kind) "
        "DO UPDATE SET amount = amount + excluded.amount, flows = flows + excluded.flows;"
    )


_SQLITE_ALL_YEARS_INSTALL = [
    "DROP TRIGGER IF EXISTS pairings_flow_all_years_insert",
    "DROP TRIGGER IF EXISTS pairings_flow_all_years_update",
    "DROP TRIGGER IF EXISTS pairings_flow_all_years_delete",
    "CREATE TRIGGER pairings_flow_all_years_insert AFTER INSERT ON pairings_flowyeartotal "
    f"BEGIN {_sqlite_all_years('NEW', '')} END",
    "CREATE TRIGGER pairings_flow_all_years_update AFTER UPDATE ON pairings_flowyeartotal "
    f"BEGIN {_sqlite_all_years('OLD', '-')} {_sqlite_all_years('NEW', '')} END",
    "CREATE TRIGGER pairings_flow_all_years_delete AFTER DELETE ON pairings_flowyeartotal "
    f"BEGIN {_sqlite_all_years('OLD', '-')} END",
]

_SQLITE_ALL_YEARS_UNINSTALL = _SQLITE_ALL_YEARS_INSTALL[:3]


FLOW_ALL_YEARS = register(
    Rollup(
        name="pairings.flow_all_years",
        model=FlowTotal,
        key=("pairing_id", "kind"),
        values=("amount", "flows"),
        live=live_all_years,
        triggers={
            "postgresql": (_PG_ALL_YEARS_INSTALL, _PG_ALL_YEARS_UNINSTALL),
            "sqlite": (_SQLITE_ALL_YEARS_INSTALL, _SQLITE_ALL_YEARS_UNINSTALL),
        },
    )
)
