"""Exports of the lists: the same rows the API lists for the same filters, written to XLSX or CSV.

Each kind names the API view that lists it; an export runs that view's own queryset and filters (its scope, its
FilterSet, its ordering) for the export's creator, and represents the rows with that view's own serializer (the
project list with its fast listing, which a test holds equal to the serializer). So a file can never hold a row, a
figure or a name the API would not show the same caller — there is no second query to drift.

The columns of each kind are declared here once: a key of the API's row, a header (in the creator's language) and
how the value is written. Money is written as a number in yuan with a number format, so a sum in Excel is a sum;
codes and names both, so a file can be matched back by code and read by people.

Rows are streamed: ids are read with a server-side cursor, represented a chunk at a time, and written with
openpyxl's write-only workbook (rows go to a temporary file as they come), so memory does not grow with the list.
"""

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, QueryDict
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions as drf_exceptions
from rest_framework.request import Request

from accounts.models import User
from core.errors import DomainError, NotFound, Problem
from evaluation.api import views as evaluation_views
from evaluation.models import ScoreStatus
from pairings.api import views as pairing_views
from pairings.models import (
    ContractingMode,
    DeploymentKind,
    Evidence,
    FlowKind,
    FlowSource,
    Pairing,
    PairingStatus,
)
from projects import listing
from projects.api import views as project_views
from projects.models import Category, ExecutionMode, Sector, State

#: Ids represented per round trip: big enough that queries are few, small enough that memory stays flat.
CHUNK = 1000

#: Query parameters of a list that say how to page it, not which rows: an export takes every page.
PAGING = frozenset({"page", "page_size", "cursor", "sort", "format"})


@dataclass(frozen=True)
class Column:
    """One column of a file: KEY of the API row, its HEADER, and how the value is written.

    TYPE: text, int, number, money (yuan, two places), date, datetime, bool, choice (the choice's label in the
    file's language, from CHOICES), name (an id shown by the name the kind's lookup finds for it), ref / ref_id
    (the name in the file's language / the id of a nested `{"id", "name", "name_en"}`), actor (a user's name),
    list and json (a list or an object written out as text)."""

    key: str
    header: str | Promise
    type: str = "text"
    choices: Any = None
    width: int = 16


@dataclass(frozen=True)
class ListKind:
    """A list that can be exported: its label, the API view that lists it and the columns of its file.

    PARENT names a filter the list cannot do without and the view keyword it feeds (the mandates of one pairing,
    the history of one project). LOOKUPS turn ids of a chunk into names with one query per chunk."""

    key: str
    label: str | Promise
    view: type
    columns: tuple[Column, ...]
    parent: tuple[str, str] | None = None
    lookups: dict[str, Callable[[set[int]], dict[int, str]]] = field(default_factory=dict)
    # A faster way to represent a chunk of ids the view's serializer would represent the same way.
    represent: Callable[[list[int], User], list[dict[str, Any]]] | None = None


def _pairing_names(ids: set[int]) -> dict[int, str]:
    found = Pairing.objects.filter(pk__in=ids).select_related("assisting_organization", "recipient_region")
    return {p.pk: str(p) for p in found}


_MONEY = _("(yuan)")


def _money(header: str | Promise) -> Promise:
    """A money column's header with its unit, translated when it is written (not when this module loads)."""
    return format_lazy("{} {}", header, _MONEY)


PROJECT_COLUMNS = (
    Column("id", _("ID"), "int", width=9),
    Column("code", _("code"), width=20),
    Column("title", _("title"), width=36),
    Column("program_code", _("programme code"), width=14),
    Column("program_name", _("programme"), width=24),
    Column("pairing", _("pairing ID"), "int", width=10),
    Column("pairing_label", _("pairing"), width=30),
    Column("assisting_organization_name", _("assisting organization"), width=24),
    Column("recipient_region", _("recipient region code"), width=12),
    Column("recipient_region_name", _("recipient region"), width=18),
    Column("location", _("location code"), width=12),
    Column("location_name", _("location"), width=18),
    Column("state", _("state"), "choice", State),
    Column("category", _("category"), "choice", Category),
    Column("sector", _("sector"), "choice", Sector),
    Column("execution_mode", _("execution mode"), "choice", ExecutionMode),
    Column("budget_requested", _("budget requested"), "money", width=18),
    Column("approved_budget", _("approved budget"), "money", width=18),
    Column("planned_start", _("planned start"), "date", width=12),
    Column("planned_end", _("planned end"), "date", width=12),
    Column("actual_start", _("actual start"), "date", width=12),
    Column("actual_end", _("actual end"), "date", width=12),
    Column("expected_beneficiaries", _("expected beneficiaries"), "int"),
    Column("reached_beneficiaries", _("beneficiaries reached"), "int"),
    Column("is_livelihood", _("livelihood"), "bool", width=10),
    Column("is_self_sustaining", _("self-sustaining"), "bool", width=10),
    Column("implementing_agency", _("implementing agency"), width=24),
    Column("latitude", _("latitude"), "number", width=11),
    Column("longitude", _("longitude"), "number", width=11),
    Column("is_synthetic", _("synthetic"), "bool", width=10),
    Column("created_at", _("created"), "datetime", width=18),
)

PAIRING_COLUMNS = (
    Column("id", _("ID"), "int", width=9),
    Column("program_name", _("programme"), width=24),
    Column("assisting_organization", _("assisting organization ID"), "int", width=10),
    Column("assisting_organization_name", _("assisting organization"), width=24),
    Column("recipient_region", _("recipient region code"), width=12),
    Column("recipient_region_name", _("recipient region"), width=18),
    Column("contracting_mode", _("contracting mode"), "choice", ContractingMode),
    Column("parent", _("parent pairing ID"), "int", width=10),
    Column("start_date", _("start date"), "date", width=12),
    Column("end_date", _("end date"), "date", width=12),
    Column("status", _("status"), "choice", PairingStatus, width=10),
    Column("evidence", _("evidence"), "choice", Evidence, width=12),
    Column("is_unverified", _("unverified"), "bool", width=10),
    Column("source", _("source"), width=40),
)

MANDATE_COLUMNS = (
    Column("pairing", _("pairing ID"), "int", width=10),
    Column("pairing", _("pairing"), "name", width=30),
    Column("year", _("year"), "int", width=8),
    Column("funds_required", _money(_("funds required")), "money", width=18),
    Column("pledged", _money(_("pledged")), "money", width=18),
    Column("committed", _money(_("committed")), "money", width=18),
    Column("received", _money(_("received")), "money", width=18),
    Column("spent", _money(_("spent")), "money", width=18),
    Column("fulfilment", _("fulfilment"), "number", width=12),
    Column("personnel_quota", _("personnel quota"), "int"),
    Column("basis_amount", _money(_("basis (fiscal revenue)")), "money", width=18),
    Column("is_manual", _("set by hand"), "bool", width=10),
    Column("is_unverified", _("unverified"), "bool", width=10),
    Column("reason", _("reason"), width=30),
)

REVENUE_COLUMNS = (
    Column("id", _("ID"), "int", width=9),
    Column("organization", _("organization ID"), "int", width=10),
    Column("organization_name", _("organization"), width=24),
    Column("year", _("year"), "int", width=8),
    Column("amount", _money(_("amount")), "money", width=20),
    Column("source", _("source"), width=40),
    Column("is_synthetic", _("synthetic"), "bool", width=10),
)

FLOW_COLUMNS = (
    Column("id", _("ID"), "int", width=9),
    Column("pairing", _("pairing ID"), "int", width=10),
    Column("pairing", _("pairing"), "name", width=30),
    Column("project", _("project ID"), "int", width=10),
    Column("kind", _("kind"), "choice", FlowKind, width=12),
    Column("amount", _money(_("amount")), "money", width=18),
    Column("date", _("date"), "date", width=12),
    Column("source", _("source of funds"), "choice", FlowSource, width=18),
    Column("pledge", _("pledge fulfilled (ID)"), "int", width=10),
    Column("reference", _("reference"), width=18),
    Column("note", _("note"), width=30),
    Column("is_synthetic", _("synthetic"), "bool", width=10),
)

DEPLOYMENT_COLUMNS = (
    Column("id", _("ID"), "int", width=9),
    Column("pairing", _("pairing ID"), "int", width=10),
    Column("pairing", _("pairing"), "name", width=30),
    Column("kind", _("kind"), "choice", DeploymentKind, width=12),
    Column("batch", _("batch"), width=14),
    Column("headcount", _("headcount"), "int", width=10),
    Column("start_date", _("start date"), "date", width=12),
    Column("end_date", _("end date"), "date", width=12),
    Column("group_style", _("group-style (组团式)"), "bool", width=10),
    Column("note", _("note"), width=30),
    Column("is_synthetic", _("synthetic"), "bool", width=10),
)

TRAINING_COLUMNS = (
    Column("id", _("ID"), "int", width=9),
    Column("pairing", _("pairing ID"), "int", width=10),
    Column("pairing", _("pairing"), "name", width=30),
    Column("topic", _("topic"), width=30),
    Column("people_trained", _("people trained"), "int", width=10),
    Column("days", _("days"), "number", width=8),
    Column("start_date", _("date"), "date", width=12),
    Column("note", _("note"), width=30),
    Column("is_synthetic", _("synthetic"), "bool", width=10),
)

PROJECT_SCORE_COLUMNS = (
    Column("run", _("run"), "int", width=8),
    Column("year", _("year"), "int", width=8),
    Column("project", _("project ID"), "int", width=10),
    Column("project_code", _("code"), width=20),
    Column("project_title", _("title"), width=36),
    Column("project_state", _("state"), "choice", State),
    Column("pairing", _("pairing"), "name", width=30),
    Column("score", _("score"), "number", width=10),
    Column("status", _("status"), "choice", ScoreStatus, width=16),
    Column("coverage", _("data coverage (%)"), "number", width=10),
    Column("required_coverage", _("required coverage (%)"), "number", width=10),
    Column("is_final", _("final"), "bool", width=8),
)

SCORECARD_COLUMNS = (
    Column("run", _("run"), "int", width=8),
    Column("year", _("year"), "int", width=8),
    Column("pairing", _("pairing ID"), "int", width=10),
    Column("pairing_label", _("pairing"), width=30),
    Column("recipient_region", _("recipient region code"), width=12),
    Column("score", _("score"), "number", width=10),
    Column("grade", _("grade"), width=8),
    Column("project_count", _("projects"), "int", width=10),
    Column("insufficient_data_count", _("projects left out for too little data"), "int", width=12),
    Column("budget", _money(_("budget")), "money", width=18),
    Column("flags", _("compliance flags"), "list", width=30),
)

RANKING_COLUMNS = (
    Column("rank", _("rank"), "int", width=8),
    Column("organization", _("organization ID"), "ref_id", width=10),
    Column("organization", _("organization"), "ref", width=24),
    Column("score", _("score"), "number", width=10),
    Column("grade", _("grade"), width=8),
    Column("previous_rank", _("previous rank"), "int", width=10),
    Column("previous_score", _("previous score"), "number", width=10),
    Column("trend", _("trend"), width=10),
    Column("pairing_count", _("pairings"), "int", width=10),
    Column("reasons", _("reasons"), "list", width=40),
    Column("run", _("run"), "int", width=8),
)

HISTORY_COLUMNS = (
    Column("at", _("at"), "datetime", width=18),
    Column("action_label", _("action"), width=16),
    Column("from_state", _("from state"), "choice", State, width=14),
    Column("to_state", _("to state"), "choice", State, width=14),
    Column("actor", _("by"), "actor", width=20),
    Column("comment", _("comment"), width=40),
    Column("changes", _("changed fields"), "json", width=40),
)


def _project_rows(ids: list[int], user: User) -> list[dict[str, Any]]:
    return listing.rows_for_ids(ids, user)


LISTS: dict[str, ListKind] = {
    kind.key: kind
    for kind in (
        ListKind("projects", _("Projects"), project_views.ProjectViewSet, PROJECT_COLUMNS, represent=_project_rows),
        ListKind("pairings", _("Pairings"), pairing_views.PairingViewSet, PAIRING_COLUMNS),
        ListKind(
            "mandates",
            _("Mandates"),
            pairing_views.MandateViewSet,
            MANDATE_COLUMNS,
            parent=("pairing", "pairing_pk"),
            lookups={"pairing": _pairing_names},
        ),
        ListKind("fiscal_revenues", _("Fiscal revenues"), pairing_views.FiscalRevenueViewSet, REVENUE_COLUMNS),
        ListKind(
            "fund_flows",
            _("Fund flows"),
            pairing_views.FundFlowViewSet,
            FLOW_COLUMNS,
            lookups={"pairing": _pairing_names},
        ),
        ListKind(
            "deployments",
            _("Deployments"),
            pairing_views.DeploymentViewSet,
            DEPLOYMENT_COLUMNS,
            lookups={"pairing": _pairing_names},
        ),
        ListKind(
            "trainings",
            _("Trainings"),
            pairing_views.TrainingViewSet,
            TRAINING_COLUMNS,
            lookups={"pairing": _pairing_names},
        ),
        ListKind(
            "project_scores",
            _("Project scores"),
            evaluation_views.ProjectScoreViewSet,
            PROJECT_SCORE_COLUMNS,
            lookups={"pairing": _pairing_names},
        ),
        ListKind("scorecards", _("Scorecards"), evaluation_views.ScorecardViewSet, SCORECARD_COLUMNS),
        ListKind(
            "rankings",
            _("Rankings"),
            evaluation_views.RankingViewSet,
            RANKING_COLUMNS,
        ),
        ListKind(
            "history",
            _("Project history"),
            project_views.HistoryViewSet,
            HISTORY_COLUMNS,
            parent=("project", "project_pk"),
        ),
    )
}

# --- the rows ----------------------------------------------------------------------------------------------


def _problems_of(exc: Exception) -> list[Problem]:
    """A refusal of the list's view, as problems on the export's `filters.<name>`: `invalid_filter` (the list's
    own rule refused the value, whatever its code there), or the view's own code for a problem of meaning."""
    if isinstance(exc, DomainError):
        return [
            Problem(
                "invalid_filter" if p.code == "invalid" else p.code,
                p.message,
                f"filters.{p.field}" if p.field else "filters",
            )
            for p in exc.problems
        ]
    if isinstance(exc, drf_exceptions.ValidationError):
        detail = exc.detail
        problems: list[Problem] = []
        items = detail.items() if isinstance(detail, dict) else [(None, detail)]
        for name, messages in items:
            for message in messages if isinstance(messages, list) else [messages]:
                problems.append(Problem("invalid_filter", str(message), f"filters.{name}" if name else "filters"))
        return problems
    if isinstance(exc, drf_exceptions.APIException):
        return [Problem("invalid_filter", str(exc.detail), "filters")]
    raise exc


def query_of(filters: dict[str, Any]) -> QueryDict:
    """FILTERS (a JSON object: a value, or a list of values for a filter that takes several) as a query string."""
    query = QueryDict(mutable=True)
    for name, value in filters.items():
        if name in PAGING:
            continue
        values = value if isinstance(value, list) else [value]
        for item in values:
            query.appendlist(str(name), "true" if item is True else "false" if item is False else str(item))
    return query


def check_filters(filters: Any) -> list[Problem]:
    """FILTERS is an object (the schema says so: `invalid` otherwise) of names to text (200 characters at most, no
    NUL), numbers, booleans or lists (of 100 at most) of those — what a query string can carry; any other value is
    one the list does not take (`invalid_filter`)."""
    if not isinstance(filters, dict):
        return [Problem("invalid", _("Filters are an object of names to values."), "filters")]
    problems = []
    for name, value in filters.items():
        values = value if isinstance(value, list) else [value]
        if (
            len(values) > 100
            or any(v is None or isinstance(v, dict | list) for v in values)
            or any(isinstance(v, str) and (len(v) > 200 or "\x00" in v) for v in values)
        ):
            problems.append(
                Problem(
                    "invalid_filter",
                    _("A filter's value is text (200 characters at most), a number or a list of those."),
                    f"filters.{name}",
                )
            )
    return problems


class Source:
    """The rows of one list for one caller and filters: the list's API view, run as that caller would run it."""

    def __init__(self, kind: ListKind, user: User, filters: dict[str, Any]) -> None:
        self.kind = kind
        self.user = user
        http = HttpRequest()
        http.method = "GET"
        http.GET = query_of(filters)  # type: ignore[assignment]
        http.META["SERVER_NAME"], http.META["SERVER_PORT"] = "duikou.local", "80"
        request = Request(http)
        request.user = user
        view = kind.view()
        view.action_map = {"get": "list"}
        view.action = "list"
        view.request = request
        view.args = ()
        view.format_kwarg = None
        view.kwargs = {}
        if kind.parent:
            name, keyword = kind.parent
            raw = str(filters.get(name, "")).strip()
            if not (raw.isascii() and raw.isdigit() and 0 < int(raw) < 2**63):
                code = "required" if name not in filters else "invalid_filter"
                message = _("This list needs the id of its %(parent)s.") % {"parent": name}
                raise DomainError.many([Problem(code, message, f"filters.{name}")])
            view.kwargs = {keyword: raw}
            http.GET = query_of({k: v for k, v in filters.items() if k != name})  # type: ignore[assignment]
            view.request = Request(http)
            view.request.user = user
        self.view = view
        try:
            self.queryset: QuerySet[Any] = view.filter_queryset(view.get_queryset())
            self.total = self.queryset.count()
        except Exception as exc:  # the view's refusals, as problems on the filters
            if isinstance(exc, Http404) and kind.parent:
                raise NotFound.many(
                    [Problem("not_found", _("There is no such object."), f"filters.{kind.parent[0]}")]
                ) from exc
            raise DomainError.many(_problems_of(exc)) from exc

    def ids(self) -> Iterator[int]:
        yield from self.queryset.values_list("pk", flat=True).iterator(chunk_size=CHUNK * 2)

    def chunks(self) -> Iterator[list[dict[str, Any]]]:
        """The API's rows, a chunk at a time, in the list's order."""
        batch: list[int] = []
        for pk in self.ids():
            batch.append(pk)
            if len(batch) == CHUNK:
                yield self._represent(batch)
                batch = []
        if batch:
            yield self._represent(batch)

    def _represent(self, ids: list[int]) -> list[dict[str, Any]]:
        if self.kind.represent is not None:
            return self.kind.represent(ids, self.user)
        found: dict[Any, Model] = {obj.pk: obj for obj in self.queryset.filter(pk__in=ids)}
        objects = [found[pk] for pk in ids if pk in found]
        return list(self.view.get_serializer(objects, many=True).data)


# --- writing -----------------------------------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


class Cells:
    """The cells of the columns of one kind: each API row's values as the file holds them, names looked up a
    chunk at a time."""

    def __init__(self, kind: ListKind) -> None:
        self.kind = kind
        self.names: dict[str, dict[int, str]] = {}

    def prepare(self, rows: list[dict[str, Any]]) -> None:
        for key, lookup in self.kind.lookups.items():
            ids = {row[key] for row in rows if isinstance(row.get(key), int)}
            self.names[key] = lookup(ids) if ids else {}

    def value(self, column: Column, row: dict[str, Any]) -> Any:
        raw = row.get(column.key)
        if raw is None or raw == "":
            return None
        match column.type:
            case "int":
                return int(raw) if not isinstance(raw, bool) else raw
            case "money" | "number":
                return _decimal(raw)
            case "date":
                return dt.date.fromisoformat(raw) if isinstance(raw, str) else raw
            case "datetime":
                value = dt.datetime.fromisoformat(raw) if isinstance(raw, str) else raw
                # Spreadsheets have no time zones: the local time of the site, as the pages show it.
                return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
            case "bool":
                return bool(raw)
            case "choice":
                try:
                    return str(column.choices(raw).label)
                except ValueError:
                    return str(raw)
            case "name":
                return self.names.get(column.key, {}).get(raw, raw)
            case "ref":
                if isinstance(raw, dict):
                    english = translation.get_language() == "en" and raw.get("name_en")
                    return raw.get("name_en") if english else raw.get("name")
                return str(raw)
            case "ref_id":
                return raw.get("id") if isinstance(raw, dict) else raw
            case "actor":
                return raw.get("name") or raw.get("username") if isinstance(raw, dict) else str(raw)
            case "list":
                return "; ".join(_item_text(item) for item in raw) if isinstance(raw, list) else str(raw)
            case "json":
                return "; ".join(f"{k}: {_item_text(v)}" for k, v in raw.items()) if isinstance(raw, dict) else str(raw)
        return str(raw)


def _item_text(item: Any) -> str:
    if isinstance(item, dict):
        for key in ("message", "label", "text", "reason", "code"):
            if item.get(key):
                return str(item[key])
        return ", ".join(f"{k}={v}" for k, v in item.items())
    if isinstance(item, list) and len(item) == 2:
        return f"{_item_text(item[0])} → {_item_text(item[1])}"
    return str(item)


Progress = Callable[[int], None]


def write_xlsx(source: Source, out: IO[bytes], progress: Progress | None = None) -> int:
    """The list as a workbook on OUT: a frozen header, an auto-filter, column widths, money as numbers. Returns
    the number of rows written."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    columns = source.kind.columns
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(source.kind.label)[:31])
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="E8EEF4")
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=str(column.header))
        cell.font, cell.fill, cell.alignment = bold, fill, Alignment(wrap_text=True, vertical="top")
        header.append(cell)
    sheet.append(header)
    formats = {"money": "#,##0.00", "date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "number": "0.##"}
    cells = Cells(source.kind)
    written = 0
    for rows in source.chunks():
        cells.prepare(rows)
        for row in rows:
            line: list[Any] = []
            for column in columns:
                value = cells.value(column, row)
                fmt = formats.get(column.type)
                if fmt and value is not None:
                    cell = WriteOnlyCell(sheet, value=value)
                    cell.number_format = fmt
                    line.append(cell)
                else:
                    line.append(value)
            sheet.append(line)
        written += len(rows)
        if progress:
            progress(written)
    last = get_column_letter(len(columns))
    sheet.auto_filter.ref = f"A1:{last}{written + 1}"
    workbook.save(out)
    return written


def write_csv(source: Source, out: IO[bytes], progress: Progress | None = None) -> int:
    """The list as CSV on OUT: UTF-8 with a byte-order mark (so that Excel reads Chinese right), money with two
    places and a point, dates ISO."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    writer = csv.writer(text)
    columns = source.kind.columns
    writer.writerow([str(c.header) for c in columns])
    cells = Cells(source.kind)
    written = 0
    for rows in source.chunks():
        cells.prepare(rows)
        writer.writerows([_csv_value(c, cells.value(c, row)) for c in columns] for row in rows)
        written += len(rows)
        if progress:
            progress(written)
    text.flush()
    text.detach()
    return written


def _csv_value(column: Column, value: Any) -> Any:
    if value is None:
        return ""
    if column.type == "money" and isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


WRITERS: dict[str, Callable[[Source, IO[bytes], Progress | None], int]] = {"xlsx": write_xlsx, "csv": write_csv}


def kinds_for_html() -> Iterable[tuple[str, str | Promise]]:
    return ((k.key, k.label) for k in LISTS.values())
