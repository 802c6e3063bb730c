"""The projects' rollup: how many projects each pairing has in each state (`ProjectStateCount`).

`projects.figures.scope_stage_counts` reads a whole scope's counts by state and stage from it — the home's projects
panel, the evaluation overview's blocks, the project list's unfiltered total — so no page counts every project.
Triggers keep it exact (see `core.rollups`); an UPDATE that changes neither the state nor the pairing of a row
touches no count (so editing projects never waits on a count row another transaction holds).
"""

from django.db.models import Count

from core.rollups import Rollup, Totals, pg_statement_triggers, register

from .models import Project, ProjectStateCount


def live_counts() -> Totals:
    """The rollup as the projects make it now: (pairing, state) → (projects,)."""
    rows = Project.objects.order_by().values_list("pairing_id", "state").annotate(n=Count("id"))
    return {(pairing_id, state): (n,) for pairing_id, state, n in rows}


_PG_DELTA = """
INSERT INTO projects_projectstatecount AS t (pairing_id, state, projects)
SELECT pairing_id, state, SUM(n) FROM (
    SELECT n.pairing_id, n.state, 1 AS n FROM {new} n {moved}
    UNION ALL
    SELECT o.pairing_id, o.state, -1 FROM {old} o {moved_old}
) d
GROUP BY 1, 2 HAVING SUM(n) <> 0 ORDER BY 1, 2
ON CONFLICT (pairing_id, state) DO UPDATE SET projects = t.projects + EXCLUDED.projects
"""

_NONE = "(SELECT * FROM projects_project WHERE false)"
# An UPDATE counts only the rows whose state or pairing it changed.
_MOVED_NEW = "JOIN old_rows x ON x.id = n.id WHERE (x.state, x.pairing_id) IS DISTINCT FROM (n.state, n.pairing_id)"
_MOVED_OLD = "JOIN new_rows y ON y.id = o.id WHERE (o.state, o.pairing_id) IS DISTINCT FROM (y.state, y.pairing_id)"

_PG_INSTALL, _PG_UNINSTALL = pg_statement_triggers(
    "projects_state_counts",
    "projects_project",
    on_insert=_PG_DELTA.format(new="new_rows", old=_NONE, moved="", moved_old=""),
    on_update=_PG_DELTA.format(new="new_rows", old="old_rows", moved=_MOVED_NEW, moved_old=_MOVED_OLD),
    on_delete=_PG_DELTA.format(new=_NONE, old="old_rows", moved="", moved_old=""),
)


def _sqlite_add(row: str, n: int) -> str:
    return (
        "INSERT INTO projects_projectstatecount (pairing_id, state, projects) "  # noqa: S608  (trigger DDL of constants)
        f"VALUES ({row}.pairing_id, {row}.state, {n}) "
        "ON CONFLICT (pairing_id, state) DO UPDATE SET projects = projects + excluded.projects;"
    )


_TRIGGERS = ("projects_state_counts_insert", "projects_state_counts_update", "projects_state_counts_delete")

_SQLITE_INSTALL = [
    *(f"DROP TRIGGER IF EXISTS {name}" for name in _TRIGGERS),
    f"CREATE TRIGGER projects_state_counts_insert AFTER INSERT ON projects_project BEGIN {_sqlite_add('NEW', 1)} END",
    "CREATE TRIGGER projects_state_counts_update AFTER UPDATE OF state, pairing_id ON projects_project "
    "WHEN OLD.state IS NOT NEW.state OR OLD.pairing_id IS NOT NEW.pairing_id "
    f"BEGIN {_sqlite_add('OLD', -1)} {_sqlite_add('NEW', 1)} END",
    f"CREATE TRIGGER projects_state_counts_delete AFTER DELETE ON projects_project BEGIN {_sqlite_add('OLD', -1)} END",
]

_SQLITE_UNINSTALL = _SQLITE_INSTALL[:3]


STATE_COUNTS = register(
    Rollup(
        name="projects.state_counts",
        model=ProjectStateCount,
        key=("pairing_id", "state"),
        values=("projects",),
        live=live_counts,
        triggers={
            "postgresql": (_PG_INSTALL, _PG_UNINSTALL),
            "sqlite": (_SQLITE_INSTALL, _SQLITE_UNINSTALL),
        },
    )
)
