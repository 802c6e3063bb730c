"""The event feed: history events in the caller's scope, in commit order, for systems that poll.

Why not page by id: ids come from a sequence at insert, not at commit. Transaction T1 takes id 10 and stays
open, T2 takes id 11 and commits; a poller that read 11 and kept "after 11" never sees 10 once T1 commits.

So on PostgreSQL every event carries the id of the transaction that wrote it (`HistoryEvent.xact_id`, the
database default `pg_current_xact_id()`), and a page holds only events of transactions older than the oldest
one still running (`pg_snapshot_xmin(pg_current_snapshot())`): every transaction below that horizon has
committed or rolled back, so no event can appear below it later. Pages are ordered by (xact_id, id) and the
cursor is the last (xact_id, id) handed out; whatever commits later has a transaction id at or above the
horizon of the poll that produced the cursor, hence above the cursor. An event of a running transaction is
held back (with everything after it) until that transaction ends — a long transaction delays the feed, it never
loses an event.

SQLite (`make run`, one writer at a time) has no transaction ids: there the feed pages by id, which is commit
order when writes are serialised, and the cursor's transaction part is 0.
"""

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Model, Q, QuerySet
from django.db.models.expressions import RawSQL

from accounts.models import Organization, User
from accounts.selectors import organizations_visible_to, scope_for, users_visible_to
from core.models import HistoryEvent
from evaluation.models import EvaluationRun, IndicatorFramework
from evaluation.selectors import frameworks_visible_to, runs_visible_to
from pairings.models import AnnualMandate, Deployment, FiscalRevenue, FundFlow, Pairing, Program, Training
from pairings.selectors import (
    deployments_visible_to,
    fiscal_revenues_visible_to,
    fund_flows_visible_to,
    pairing_scope_q,
    pairings_visible_to,
    trainings_visible_to,
)
from projects.models import Project
from projects.selectors import projects_visible_to

#: Bigint bounds: a cursor part outside them cannot come from us.
_MAX = 2**63 - 1
_PREFIX = "v1"


class CursorError(ValueError):
    """An `after` value that is not a cursor this feed handed out."""


@dataclass(frozen=True, order=True)
class Cursor:
    xact: int
    id: int

    def encode(self) -> str:
        raw = f"{_PREFIX}:{self.xact}:{self.id}".encode("ascii")
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @classmethod
    def decode(cls, value: str) -> "Cursor":
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("ascii")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise CursorError(value) from None
        prefix, _, rest = raw.partition(":")
        xact, _, ident = rest.partition(":")
        if prefix != _PREFIX or not xact.isdigit() or not ident.isdigit():
            raise CursorError(value)
        cursor = cls(int(xact), int(ident))
        if cursor.xact > _MAX or cursor.id > _MAX:
            raise CursorError(value)
        return cursor

    @classmethod
    def of(cls, event: HistoryEvent) -> "Cursor":
        return cls(event.xact_id or 0, event.pk)


#: The oldest transaction that may still add events: `pg_snapshot_xmin(pg_current_snapshot())`, except that
#: the snapshot spans the whole cluster, so a transaction running in *another* database (known by
#: pg_stat_activity's `backend_xid`) need not hold the feed back; one that cannot be placed (a prepared
#: transaction, a session whose details this role may not read, one that ended meanwhile) still does.
#: The caller's own transaction counts too: its events are not committed yet.
HORIZON_SQL = """
SELECT LEAST(
    pg_snapshot_xmax(s.snap),
    (SELECT MIN(x::text::bigint)::text::xid8 FROM pg_snapshot_xip(s.snap) AS x
     WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a
                       WHERE a.backend_xid = x::xid AND a.datname IS DISTINCT FROM current_database())),
    pg_current_xact_id_if_assigned()
)::text::bigint
FROM (SELECT pg_current_snapshot() AS snap) s
"""


def commit_ordered() -> bool:
    """Whether the database gives transaction ids (PostgreSQL); otherwise the feed falls back to id order."""
    return connection.vendor == "postgresql"


def _in(model: type[Model], visible: QuerySet[Any] | None) -> Q:
    """Events on MODEL's objects; only those in VISIBLE unless it is None (everyone sees them all)."""
    ct = ContentType.objects.get_for_model(model)
    if visible is None:
        return Q(content_type_id=ct.pk)
    return Q(content_type_id=ct.pk, object_id__in=visible.order_by().values("pk"))


def events_scope_q(user: User) -> Q | None:
    """The events USER may read: those of objects they may see, by the same selectors as the lists of those
    objects. None means all (a national coordinator). Events on a kind of object not named here are left out
    for everyone else: a new kind stays private until someone decides who sees it."""
    if scope_for(user).is_national:
        return None
    return (
        _in(Project, projects_visible_to(user))
        | _in(Pairing, pairings_visible_to(user))
        # Programmes are public policy (programs_visible_to shows them all).
        | _in(Program, None)
        | _in(AnnualMandate, AnnualMandate.objects.filter(pairing_scope_q(user, "pairing__")))
        | _in(FundFlow, fund_flows_visible_to(user))
        | _in(Deployment, deployments_visible_to(user))
        | _in(Training, trainings_visible_to(user))
        | _in(FiscalRevenue, fiscal_revenues_visible_to(user))
        | _in(Organization, organizations_visible_to(user))
        | _in(User, users_visible_to(user))
        | _in(EvaluationRun, runs_visible_to(user))
        | _in(IndicatorFramework, frameworks_visible_to(user))
    )


def events_after(user: User, after: Cursor | None, limit: int) -> list[HistoryEvent]:
    """Up to LIMIT events USER may read, committed, after the cursor AFTER, in commit order (one query)."""
    qs = HistoryEvent.objects.select_related("actor", "content_type")
    scope = events_scope_q(user)
    if scope is not None:
        qs = qs.filter(scope)
    start = after or Cursor(0, 0)
    if commit_ordered():
        # Only transactions that have ended: nothing can appear below this horizon afterwards.
        horizon = RawSQL(HORIZON_SQL, [])  # noqa: S611 — a constant, no input in it
        qs = qs.filter(xact_id__lt=horizon).filter(Q(xact_id__gt=start.xact) | Q(xact_id=start.xact, id__gt=start.id))
        qs = qs.order_by("xact_id", "id")
    else:
        qs = qs.filter(id__gt=start.id).order_by("id")
    return list(qs[:limit])
