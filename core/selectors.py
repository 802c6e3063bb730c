"""Shared reads: the region table and the dashboard's figures."""

import logging
import re
import uuid
from datetime import datetime
from typing import Any, NamedTuple

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.cache import cache
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connections, models
from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from .models import HistoryEvent, Region, RegionLevel
from .statements import ForIds, Statement

logger = logging.getLogger(__name__)

#: The most words a search takes (each is a condition on every row): more is refused by the filters.
MAX_SEARCH_WORDS = 8
#: The longest search text the filters take.
MAX_SEARCH_LENGTH = 200
#: A word naming at most this many regions reaches the regions within them too (喀什 finds what lies in Kashgar);
#: one naming more (县, 市) matches the regions named only.
SUBTREE_LIMIT = 30


#: The cache key of the version of the names a search word is looked up in (regions, organizations, programmes,
#: pairings): any change to them bumps it (`names_changed`), which leaves every cached lookup behind.
NAMES_VERSION_KEY = "search:names:version"
#: How long a cached lookup stands at most, for writes that bypass the signals and `names_changed`.
NAMES_TIMEOUT = 300


def names_changed(**_: Any) -> None:
    """The regions, organizations, programmes or pairings changed: the cached lookups of search words are stale.
    (Connected to their post_save and post_delete signals; bulk writes call it themselves.)"""
    try:
        cache.set(NAMES_VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:
        logger.warning("search: the names' version could not be bumped in the cache")


def names_version() -> str | None:
    """The current version of the names (see NAMES_VERSION_KEY); None when the cache does not answer."""
    try:
        version = cache.get(NAMES_VERSION_KEY)
        if version is None:
            version = uuid.uuid4().hex
            if not cache.add(NAMES_VERSION_KEY, version, timeout=None):
                version = cache.get(NAMES_VERSION_KEY)
        return version
    except Exception:
        return None


def pinyin_query(text: str) -> str:
    """Typed TEXT as it is compared with a region's pinyin keys (core.region_names.search_keys): lower case, without
    spaces and apostrophes ("Shu Fu" → "shufu", "Xi'an" → "xian"); "" when it is not latin letters alone."""
    key = re.sub(r"[\s'’]", "", text).lower()
    return key if key.isascii() and key.isalpha() else ""


def search_words(text: str) -> list[str]:
    """TEXT's words: split on whitespace, NULs dropped; each must match somewhere for a row to match."""
    return text.replace("\x00", "").split()[:MAX_SEARCH_WORDS]


def region_word_q(word: str, prefix: str = "") -> Q:
    """Regions (through the relation PREFIX, '' or 'recipient_region__') that WORD names: its code starts with it,
    its Chinese or English name holds it, or — for latin letters — its pinyin or pinyin initials start with it
    (shufu, sfx → 疏附县)."""
    q = (
        Q(**{f"{prefix}code__startswith": word})
        | Q(**{f"{prefix}name__icontains": word})
        | Q(**{f"{prefix}name_en__icontains": word})
    )
    key = pinyin_query(word)
    if key:
        q |= Q(**{f"{prefix}name_pinyin__startswith": key}) | Q(**{f"{prefix}name_initials__startswith": key})
    return q


def region_search(queryset: QuerySet[Region], text: str) -> QuerySet[Region]:
    """Regions of QUERYSET that every word of TEXT names (`region_word_q`), in any order; or whose pinyin starts
    with the whole text run together ("shu fu", "Shu Fu Xian")."""
    words = search_words(text)
    if not words:
        return queryset
    match = Q()
    for word in words:
        match &= region_word_q(word)
    key = pinyin_query(text)
    if key and len(words) > 1:
        match |= Q(name_pinyin__startswith=key) | Q(name_initials__startswith=key)
    return queryset.filter(match)


def region_by_code_or_name(text: str) -> Region:
    """The region TEXT names: its code, or its Chinese or English name when one current region has it (as the region
    picker offers them). Otherwise a ValidationError — `unknown_region`, or `ambiguous_region` listing the codes of
    the regions of that name — for a form field or an API filter to put on its field."""
    text = text.strip()
    region = Region.objects.filter(code=text).first()
    if region is not None:
        return region
    named = list(Region.objects.filter(Q(name=text) | Q(name_en__iexact=text), superseded_by__isnull=True)[:6])
    if len(named) == 1:
        return named[0]
    if named:
        raise ValidationError(
            _("Several regions are called %(name)s: choose one from the list (%(codes)s)."),
            code="ambiguous_region",
            params={"name": text, "codes": ", ".join(r.code for r in named)},
        )
    raise ValidationError(_("No region has the code or name %(code)s."), code="unknown_region", params={"code": text})


#: A count compiled as one scalar subquery of a SELECT: its SQL and its parameters ("0" with none for a queryset
#: no row can pass).
CountPart = tuple[str, tuple[Any, ...]]


def count_parts(querysets: list[QuerySet[Any]], *, label: str = "counted", start: int = 0) -> list[CountPart]:
    """Each queryset's count compiled as a scalar subquery, named `<label>_<n>` from START on (`count_each`)."""
    parts: list[CountPart] = []
    for n, qs in enumerate(querysets, start):
        try:
            sql, p = qs.values("pk").order_by().query.get_compiler(using=qs.db).as_sql()
        except EmptyResultSet:  # `.none()`, or a filter no row can pass: nothing to ask the database
            parts.append(("0", ()))
            continue
        # The SQL is the ORM's own compilation, its values passed as parameters: nothing user-typed is spliced in.
        parts.append((f"(SELECT COUNT(*) FROM ({sql}) AS {label}_{n})", tuple(p)))  # noqa: S608
    return parts


def run_counts(parts: list[CountPart], using: str) -> list[int]:
    """The counts of PARTS (`count_parts`) in one statement on the database USING."""
    if not parts:
        return []
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(sql for sql, _ in parts), [v for _, p in parts for v in p])
        row = cursor.fetchone()
    return [int(n) for n in row]


def count_each(querysets: list[QuerySet[Any]], *, label: str = "counted") -> list[int]:
    """The number of rows of each queryset, in ONE query: a SELECT of scalar subqueries, one per queryset (each a
    round trip less than `.count()` apiece). LABEL names the subqueries (`<label>_0`, …) in the SQL."""
    if not querysets:
        return []
    return run_counts(count_parts(querysets, label=label), querysets[0].db)


#: `region_counts`'s statement, compiled once (`core.statements`).
_REGIONS_BY_LEVEL = Statement(lambda: Region.objects.order_by().values_list("level").annotate(n=Count("id")))


def region_counts() -> dict[str, int]:
    counts = dict.fromkeys(RegionLevel.values, 0)
    counts.update(dict(_REGIONS_BY_LEVEL.rows()))
    return counts


class RecentChange(NamedTuple):
    """An event as the home's list shows it: when, who (the actor's username, None for the system), what, which."""

    at: datetime
    actor_username: str | None
    action: str
    object_repr: str


#: What a timeline reads of each event (every column: no field of an event is left deferred) and of its actor (what
#: a timeline writes of the actor: `core.templatetags.history.history_list`).
_EVENT_FIELDS = tuple(f.attname for f in HistoryEvent._meta.concrete_fields)
_ACTOR_FIELDS = ("username", "first_name", "last_name")
_TIMELINE = ForIds(
    lambda ids, content_type_id, limit: HistoryEvent.objects.filter(
        content_type_id=content_type_id, object_id__in=ids
    ).values_list(*_EVENT_FIELDS, *(f"actor__{name}" for name in _ACTOR_FIELDS))[:limit]
)


def timeline(obj: models.Model, limit: int) -> list[HistoryEvent]:
    """The latest LIMIT events of OBJ, newest first, as a page's timeline shows them: each event with its content
    type (from ContentType's cache) and its actor's names (the actor's other columns are not read). One statement,
    compiled once per model and limit (`core.statements`), in place of building and compiling the queryset with
    its two joins on every page that shows a timeline."""
    content_type = ContentType.objects.get_for_model(obj)
    user_model = get_user_model()
    db = HistoryEvent.objects.db
    count = len(_EVENT_FIELDS)
    events = []
    for row in _TIMELINE.rows([obj.pk], content_type.pk, limit):
        event = HistoryEvent.from_db(db, _EVENT_FIELDS, row[:count])
        event.content_type = content_type
        if event.actor_id is not None:
            event.actor = user_model.from_db(db, ("id", *_ACTOR_FIELDS), (event.actor_id, *row[count:]))
        events.append(event)
    return events


def recent_history(limit: int = 10) -> list[RecentChange]:
    """The latest events, newest first, as plain values: their changes, comments and actors' other columns stay in
    the database."""
    return [RecentChange(*row) for row in _RECENT.rows(limit)]


#: `recent_history`'s statement, compiled once per limit (`core.statements`).
_RECENT = Statement(
    lambda limit: HistoryEvent.objects.values_list("at", "actor__username", "action", "object_repr")[:limit]
)
