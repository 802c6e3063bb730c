"""What every app shares: the administrative-division reference table and the append-only history."""

import functools
from typing import Any, NoReturn

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone
from django.utils.hashable import make_hashable
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.TextChoices):
    PROVINCE = "province", _("Province")
    PREFECTURE = "prefecture", _("Prefecture")
    COUNTY = "county", _("County")
    TOWNSHIP = "township", _("Township")
    # A division of the Xinjiang Production and Construction Corps: not a GB/T 2260 unit (its key is e.g.
    # "XPCC-14"), but it counts as county level for the programmes' shares to county level and below.
    XPCC_DIVISION = "xpcc_division", _("XPCC division")


#: Levels that count as "county level and below" for the programmes' compliance shares.
COUNTY_LEVEL_AND_BELOW: tuple[str, ...] = (RegionLevel.COUNTY, RegionLevel.TOWNSHIP, RegionLevel.XPCC_DIVISION)


class RegionQuerySet(models.QuerySet["Region"]):
    def within(self, region: "Region") -> "RegionQuerySet":
        """The region and its whole subtree."""
        return self.filter(path__startswith=region.path)

    def current(self) -> "RegionQuerySet":
        """Regions in use today: retired codes (kept as aliases of their successors) left out."""
        return self.filter(superseded_by__isnull=True)


@functools.lru_cache(maxsize=512)
def _choice_labels(field: models.Field, language: str | None) -> dict[Any, str]:
    """FIELD's choices as {value: label} in LANGUAGE (the active one when called), built once."""
    return {make_hashable(value): str(label) for value, label in field.flatchoices}


def choice_label(field: models.Field, value: Any) -> Any:
    """What `get_FOO_display()` shows for VALUE of FIELD in the active language (VALUE itself when not a choice), from
    the map built once per field and language: for rows read as plain values."""
    try:
        return _choice_labels(field, get_language()).get(make_hashable(value), value)
    except TypeError:  # a value that cannot be a key
        return dict(field.flatchoices).get(value, value)


def name_in_language(name: str, name_en: str) -> str:
    """A name shown in the active language: English where it is known and the language is English, else Chinese."""
    if name_en and (get_language() or "").startswith("en"):
        return name_en
    return name


class ChoiceLabels:
    """A model mixin: `get_FOO_display()` from a map built once per field and language.

    Django's own builds a dict of the field's choices on every call, hashing each lazily translated label (a
    gettext per choice): a list page showing two labels on 50 rows made some 1 300 gettext calls for them."""

    def _get_FIELD_display(self, field: models.Field) -> Any:
        value = getattr(self, field.attname)
        try:
            return _choice_labels(field, get_language()).get(make_hashable(value), value)
        except TypeError:  # a value that cannot be a key: Django's way
            return super()._get_FIELD_display(field)  # type: ignore[misc]


class Region(models.Model):
    """An administrative division (GB/T 2260 code). `path` holds the codes from the root, so a
    subtree is one indexed prefix query on any database."""

    code = models.CharField(_("code"), max_length=12, unique=True)
    name = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=150, blank=True)
    # What a picker matches typed pinyin against (core.region_names.search_keys): set from `name` on every save.
    name_pinyin = models.CharField(_("name (pinyin)"), max_length=300, blank=True, editable=False, db_index=True)
    name_initials = models.CharField(
        _("name (pinyin initials)"), max_length=100, blank=True, editable=False, db_index=True
    )
    level = models.CharField(_("level"), max_length=16, choices=RegionLevel.choices)
    is_xpcc = models.BooleanField(
        _("XPCC"),
        default=False,
        help_text=_("Run by the Xinjiang Production and Construction Corps: a division, or a city a division runs."),
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=64, db_index=True, editable=False)
    division_number = models.PositiveSmallIntegerField(
        _("division number"), null=True, blank=True, help_text=_("For an XPCC division: its number (14 for the 14th).")
    )
    city = models.ForeignKey(
        "self",
        verbose_name=_("division's city"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="divisions",
        help_text=_("For an XPCC division: the county-level city it runs (石河子市 for the 8th), where it has one."),
    )
    superseded_by = models.ForeignKey(
        "self",
        verbose_name=_("superseded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="aliases",
        help_text=_("A retired code kept so that old records still resolve: the region that replaced it."),
    )
    longitude = models.DecimalField(_("longitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    latitude = models.DecimalField(_("latitude"), max_digits=9, decimal_places=6, null=True, blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True)

    objects = RegionQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("region")
        verbose_name_plural = _("regions")
        indexes = [models.Index(fields=["level", "code"])]

    def __str__(self) -> str:
        return self.display_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.path = self.compute_path()
        self.set_search_keys()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "name_pinyin", "name_initials"}
        super().save(*args, **kwargs)

    def set_search_keys(self) -> None:
        """The pinyin a picker finds the region by, from its Chinese name (for writes that bypass `save`, such as
        bulk_create)."""
        from .region_names import search_keys  # pypinyin's tables load on the first write, not on every start

        self.name_pinyin, self.name_initials = search_keys(self.name)

    @property
    def display_name(self) -> str:
        """The name in the active language (English falls back to Chinese where unknown)."""
        return name_in_language(self.name, self.name_en)

    @property
    def counts_as_county_level(self) -> bool:
        """County level and below, for the programmes' shares (an XPCC division counts as county level)."""
        return self.level in COUNTY_LEVEL_AND_BELOW

    def contains(self, other: "Region") -> bool:
        return other.path.startswith(self.path)

    def compute_path(self) -> str:
        prefix = self.parent.path if self.parent_id and self.parent else "/"
        return f"{prefix}{self.code}/"


class AppendOnlyError(Exception):
    """History is evidence: once written, an event is never changed or removed."""


class CurrentXactId(models.Func):
    """The id of the inserting transaction, as the column's database default: PostgreSQL's
    `pg_current_xact_id()` (64 bits, never wraps), so that readers can order events by the transaction that wrote
    them and hold back those of transactions still running (exchange.events). Other databases have no such id:
    NULL there, and the feed falls back to id order."""

    output_field = models.BigIntegerField()
    arity = 0
    template = "NULL"

    def as_postgresql(self, compiler: Any, connection: Any, **extra_context: Any) -> Any:
        return self.as_sql(compiler, connection, template="(pg_current_xact_id()::text::bigint)", **extra_context)


class HistoryEventQuerySet(models.QuerySet["HistoryEvent"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("History events are append-only; they cannot be updated.")

    def delete(self) -> NoReturn:  # type: ignore[override]
        raise AppendOnlyError("History events are append-only; they cannot be deleted.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> NoReturn:  # type: ignore[override]
        raise AppendOnlyError("History events are append-only; they cannot be updated.")

    def for_object(self, obj: models.Model) -> "HistoryEventQuerySet":
        ct = ContentType.objects.get_for_model(obj)
        return self.filter(content_type=ct, object_id=obj.pk)


class HistoryEvent(models.Model):
    """One thing that happened to one object: who, when, what, from which state to which, which fields."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Empty when the system acted (a scheduled task)."),
    )
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    target = GenericForeignKey("content_type", "object_id")
    object_repr = models.CharField(_("object"), max_length=200)
    action = models.CharField(_("action"), max_length=64)
    from_state = models.CharField(_("from state"), max_length=32, blank=True)
    to_state = models.CharField(_("to state"), max_length=32, blank=True)
    changes = models.JSONField(_("changed fields"), default=dict, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    # Set by the database at insert, never by Python: the event feed pages in commit order by (xact_id, id).
    xact_id = models.BigIntegerField(
        _("transaction"), null=True, blank=True, editable=False, db_default=CurrentXactId()
    )

    objects = HistoryEventQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("history event")
        verbose_name_plural = _("history events")
        indexes = [
            models.Index(fields=["content_type", "object_id", "-at"]),
            models.Index(fields=["xact_id", "id"], name="core_history_xact_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("History events are append-only; they cannot be updated.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise AppendOnlyError("History events are append-only; they cannot be deleted.")
