"""Spreadsheet imports: projects, fund flows, fiscal revenues, deployments and trainings.

Each kind declares its columns once (`KINDS`): the template's header row and its sheet of allowed values are
written from the declaration, and an uploaded file is read by it, with headers in Chinese or English (or the
column keys). A row is matched to the record it made before by a key every kind has: the project's code, the
revenue's organization and year, and for flows, deployments and trainings the importer's own id
(`external_ref`) within the pairing — so importing a file twice never counts money or people twice.

Checking (the dry run) and committing are one procedure: every row that would add or change something goes through
the same service as the form (same guards, same history, the caller's scope), each in a savepoint so that one
row's refusal does not hide the next one's; a dry run then rolls everything back, a commit keeps it only when no
row was refused. A row that matches its record field for field is left alone (no write, no history).
"""

import csv
import datetime as dt
import io
import os
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import DatabaseError, models, transaction
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from accounts.models import Organization, User
from accounts.policy import Decision
from core.errors import Conflict, DomainError, NotFound, Problem
from core.models import Region
from core.services import history_record
from pairings import policy as pairing_policy
from pairings import services as pairing_services
from pairings.models import (
    Deployment,
    DeploymentKind,
    FiscalRevenue,
    FlowKind,
    FlowSource,
    FundFlow,
    Pairing,
    Training,
)
from pairings.selectors import pairings_visible_to, revenue_organizations_for
from projects import policy as project_policy
from projects import services as project_services
from projects.models import Category, ExecutionMode, Project, Sector
from projects.selectors import projects_visible_to

from . import import_policy
from .models import Import, ImportKind, ImportStatus

#: Row actions, as the dry run reports them.
NEW, UPDATED, UNCHANGED, INVALID = "new", "updated", "unchanged", "invalid"
ACTIONS = (NEW, UPDATED, UNCHANGED, INVALID)

#: A spreadsheet's parts together may unpack to at most this many times the upload limit (a "zip bomb" is refused
#: before openpyxl inflates it).
MAX_UNPACKED_RATIO = 20
ZIP_MAGIC = b"PK\x03\x04"


# --- the declaration ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a kind's sheet: its key (also accepted as a header), its label (the header, in the reader's
    language), whether every row must fill it, and what its cells hold."""

    key: str
    label: str | Promise
    holds: str = "text"  # text, int, decimal, date, bool, choice, pairing, organization, region, project
    required: bool = False
    choices: type[models.TextChoices] | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class Kind:
    columns: tuple[Column, ...]
    #: The columns that find a row's record again.
    key: tuple[str, ...]

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


# The labels are lazy: each request reads them in its own language.
PAIRING = Column("pairing", gettext_lazy("pairing"), "pairing", required=True)
EXTERNAL_REF = Column("external_ref", gettext_lazy("external reference"), required=True, max_length=100)
NOTE = Column("note", gettext_lazy("note"))

KINDS: dict[str, Kind] = {
    ImportKind.PROJECTS: Kind(
        columns=(
            Column("code", gettext_lazy("code"), required=True, max_length=24),
            PAIRING,
            Column("title", gettext_lazy("title"), required=True, max_length=200),
            Column("category", gettext_lazy("category"), "choice", choices=Category),
            Column("sector", gettext_lazy("sector"), "choice", choices=Sector),
            Column("execution_mode", gettext_lazy("execution mode"), "choice", choices=ExecutionMode),
            Column("location", gettext_lazy("location"), "region"),
            Column("is_livelihood", gettext_lazy("livelihood"), "bool"),
            Column("is_self_sustaining", gettext_lazy("self-sustaining (造血)"), "bool"),
            Column("budget_requested", gettext_lazy("budget requested"), "decimal"),
            Column("planned_start", gettext_lazy("planned start"), "date"),
            Column("planned_end", gettext_lazy("planned end"), "date"),
            Column("expected_beneficiaries", gettext_lazy("expected beneficiaries"), "int"),
            Column("implementing_agency", gettext_lazy("implementing agency"), max_length=200),
            Column("description", gettext_lazy("description")),
        ),
        key=("code",),
    ),
    ImportKind.FUND_FLOWS: Kind(
        columns=(
            EXTERNAL_REF,
            PAIRING,
            Column("kind", gettext_lazy("kind"), "choice", required=True, choices=FlowKind),
            Column("amount", gettext_lazy("amount"), "decimal", required=True),
            Column("date", gettext_lazy("date"), "date", required=True),
            Column("source", gettext_lazy("source of funds"), "choice", required=True, choices=FlowSource),
            Column("project", gettext_lazy("project"), "project"),
            Column("reference", gettext_lazy("reference"), max_length=120),
            NOTE,
        ),
        key=("pairing", "external_ref"),
    ),
    ImportKind.FISCAL_REVENUES: Kind(
        columns=(
            Column("organization", gettext_lazy("organization"), "organization", required=True),
            Column("year", gettext_lazy("year"), "int", required=True),
            Column("amount", gettext_lazy("amount"), "decimal", required=True),
            Column("source", gettext_lazy("source")),
            Column("reason", gettext_lazy("reason")),
        ),
        key=("organization", "year"),
    ),
    ImportKind.DEPLOYMENTS: Kind(
        columns=(
            EXTERNAL_REF,
            PAIRING,
            Column("kind", gettext_lazy("kind"), "choice", required=True, choices=DeploymentKind),
            Column("headcount", gettext_lazy("headcount"), "int", required=True),
            Column("start_date", gettext_lazy("start date"), "date", required=True),
            Column("end_date", gettext_lazy("end date"), "date"),
            Column("batch", gettext_lazy("batch"), max_length=60),
            Column("group_style", gettext_lazy("group-style (组团式)"), "bool"),
            NOTE,
        ),
        key=("pairing", "external_ref"),
    ),
    ImportKind.TRAININGS: Kind(
        columns=(
            EXTERNAL_REF,
            PAIRING,
            Column("topic", gettext_lazy("topic"), required=True, max_length=200),
            Column("people_trained", gettext_lazy("people trained"), "int", required=True),
            Column("days", gettext_lazy("days"), "decimal", required=True),
            Column("start_date", gettext_lazy("start date"), "date", required=True),
            NOTE,
        ),
        key=("pairing", "external_ref"),
    ),
}

LANGUAGES = ("zh-hans", "en")


def _labels(column: Column) -> set[str]:
    """Every header that names COLUMN: its key and its label in each language, compared case-blind."""
    names = {column.key.casefold()}
    for language in LANGUAGES:
        with translation.override(language):
            names.add(str(column.label).strip().casefold())
    return names


# --- refusing a file ----------------------------------------------------------------------------------------


class FileRefused(DomainError):
    """The upload is not a sheet this import can read (named on `file`, a 400)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message, "file")


def check_size(size: int | None) -> None:
    """Refuse a file over the limit (called on the request's length before the body is read, and on the file)."""
    if size is not None and size > settings.IMPORT_MAX_BYTES:
        raise FileRefused(
            "too_large",
            _("The file is larger than %(mb)s MB.") % {"mb": round(settings.IMPORT_MAX_BYTES / 1024 / 1024, 1)},
        )


# --- reading a file -----------------------------------------------------------------------------------------


@dataclass
class Table:
    """What a file holds: its headers (as written), the column each names, and its data rows, each with the row
    number a spreadsheet shows and the raw value of each named column."""

    headers: dict[str, str]  # column key → header as in the file
    rows: list[tuple[int, dict[str, Any]]]


def _cells_xlsx(data: bytes) -> Iterator[list[Any]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileRefused("not_a_spreadsheet", _("The file is not a readable XLSX or CSV spreadsheet.")) from exc
    if unpacked > MAX_UNPACKED_RATIO * settings.IMPORT_MAX_BYTES:
        raise FileRefused("too_large", _("The spreadsheet unpacks to far more than its size allows."))
    try:
        # read_only streams the sheet; data_only=False keeps formulas as formulas, so they can be refused.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds of error on a damaged file; all mean the same here
        raise FileRefused("not_a_spreadsheet", _("The file is not a readable XLSX or CSV spreadsheet.")) from exc
    try:
        if not book.worksheets:
            raise FileRefused("no_sheet", _("The spreadsheet has no sheet."))
        sheet = book.worksheets[0]
        try:
            for row in sheet.iter_rows():
                values = []
                for cell in row:
                    if getattr(cell, "data_type", None) == "f":
                        raise FileRefused(
                            "formula",
                            _("Cell %(cell)s holds a formula: enter values only.")
                            % {"cell": getattr(cell, "coordinate", "?")},
                        )
                    values.append(getattr(cell, "value", None))
                yield values
        except FileRefused:
            raise
        except Exception as exc:
            raise FileRefused("not_a_spreadsheet", _("The file is not a readable XLSX or CSV spreadsheet.")) from exc
    finally:
        book.close()


def _cells_csv(data: bytes) -> Iterator[list[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused(
            "not_a_spreadsheet", _("The file is not a readable XLSX or CSV spreadsheet (CSV must be UTF-8).")
        ) from exc
    if "\x00" in text:
        raise FileRefused("not_a_spreadsheet", _("The file is not a readable XLSX or CSV spreadsheet."))
    try:
        for number, row in enumerate(csv.reader(io.StringIO(text, newline="")), start=1):
            for index, value in enumerate(row):
                # What a spreadsheet program would run as a formula is refused here too.
                if value.startswith("="):
                    raise FileRefused(
                        "formula",
                        _("Cell %(cell)s holds a formula: enter values only.")
                        % {"cell": f"{_column_letter(index)}{number}"},
                    )
            yield list(row)
    except csv.Error as exc:
        raise FileRefused("not_a_spreadsheet", _("The file is not a readable XLSX or CSV spreadsheet.")) from exc


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_table(data: bytes, kind: str) -> Table:
    """The rows of DATA (an XLSX or CSV file) under KIND's columns, or FileRefused naming what is wrong."""
    check_size(len(data))
    if not data:
        raise FileRefused("empty", _("The file is empty."))
    spec = KINDS[kind]
    cells = _cells_xlsx(data) if data.startswith(ZIP_MAGIC) else _cells_csv(data)
    header = next(cells, None)
    if header is None or all(_blank(v) for v in header):
        raise FileRefused("no_header", _("The first row must hold the column headers."))
    by_name: dict[str, Column] = {}
    for column in spec.columns:
        for name in _labels(column):
            by_name[name] = column
    positions: dict[int, Column] = {}
    headers: dict[str, str] = {}
    unknown: list[str] = []
    for index, raw in enumerate(header):
        if _blank(raw):
            continue
        text = str(raw).strip()
        named = by_name.get(text.casefold())
        if named is None:
            unknown.append(text)
        elif named.key in headers:
            raise FileRefused("duplicate_column", _("The column %(column)s appears twice.") % {"column": text})
        else:
            positions[index] = named
            headers[named.key] = text
    problems = []
    if unknown:
        problems.append(
            Problem(
                "unknown_column",
                _("Unknown columns: %(columns)s. Use the template of this kind.") % {"columns": ", ".join(unknown)},
                "file",
            )
        )
    missing = [str(c.label) for c in spec.columns if c.required and c.key not in headers]
    if missing:
        problems.append(
            Problem(
                "missing_column",
                _("Missing columns: %(columns)s. Use the template of this kind.") % {"columns": ", ".join(missing)},
                "file",
            )
        )
    if problems:
        raise DomainError.many(problems)
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, values in enumerate(cells, start=2):
        if all(_blank(v) for v in values):
            continue
        if len(rows) >= settings.IMPORT_MAX_ROWS:
            # Stop reading at once: the rest of a huge file is never looked at.
            raise FileRefused(
                "too_many_rows",
                _("The file has more than %(max)s rows; split it into smaller files.")
                % {"max": settings.IMPORT_MAX_ROWS},
            )
        rows.append(
            (number, {c.key: values[i] if i < len(values) else None for i, c in positions.items()}),
        )
    if not rows:
        raise FileRefused("no_rows", _("The file has no rows below its headers."))
    return Table(headers=headers, rows=rows)


# --- cells to values ----------------------------------------------------------------------------------------


class CellError(Exception):
    def __init__(self, code: str, message: str) -> None:
        self.code, self.message = code, message
        super().__init__(message)


TRUE = {"1", "true", "yes", "y", "是", "x", "✓"}
FALSE = {"0", "false", "no", "n", "否"}


@dataclass
class Lookups:
    """What the rows refer to, read once per import and only within the caller's scope."""

    user: User
    pairings: dict[int, Pairing] = field(default_factory=dict)
    organizations: dict[str, Organization] = field(default_factory=dict)
    regions: dict[str, Region | None] = field(default_factory=dict)
    projects: dict[str, Project | None] = field(default_factory=dict)
    #: The records the rows' keys already name (read once, not row by row), and the projects among them the
    #: caller may see.
    existing: dict[Any, Any] = field(default_factory=dict)
    visible_projects: set[int] = field(default_factory=set)

    @classmethod
    def for_table(cls, user: User, table: Table, kind: str) -> "Lookups":
        lookups = cls(user=user)
        ids = {pk for _, v in table.rows if (pk := _plain_int(v.get("pairing"))) is not None}
        lookups.pairings = {p.pk: p for p in pairings_visible_to(user).filter(pk__in=ids)}
        codes = {str(v["location"]).strip() for _, v in table.rows if not _blank(v.get("location"))}
        found = {r.code: r for r in Region.objects.filter(code__in=codes)}
        lookups.regions = {code: found.get(code) for code in codes}
        codes = {str(v["project"]).strip() for _, v in table.rows if not _blank(v.get("project"))}
        seen = {p.code: p for p in projects_visible_to(user).filter(code__in=codes)}
        lookups.projects = {code: seen.get(code) for code in codes}
        if any("organization" in v for _, v in table.rows):
            for org in Organization.objects.filter(is_active=True):
                lookups.organizations[str(org.pk)] = org
                lookups.organizations[org.name.casefold()] = org
                if org.name_en:
                    lookups.organizations.setdefault(org.name_en.casefold(), org)
        lookups._read_existing(table, kind)
        return lookups

    def _read_existing(self, table: Table, kind: str) -> None:
        if kind == ImportKind.PROJECTS:
            codes = {_text(v["code"]) for _, v in table.rows if not _blank(v.get("code"))}
            self.existing = {p.code: p for p in Project.objects.filter(code__in=codes)}
            self.visible_projects = set(
                projects_visible_to(self.user).filter(code__in=codes).values_list("pk", flat=True)
            )
        elif kind in RECORDED:
            refs = {_text(v["external_ref"]) for _, v in table.rows if not _blank(v.get("external_ref"))}
            records = RECORDED[kind].objects.filter(pairing_id__in=list(self.pairings), external_ref__in=refs)
            self.existing = {(r.pairing_id, r.external_ref): r for r in records}
        elif kind == ImportKind.FISCAL_REVENUES:
            years = {y for _, v in table.rows if (y := _plain_int(v.get("year"))) is not None}
            revenues = FiscalRevenue.objects.filter(year__in=years).select_related("organization")
            self.existing = {(r.organization_id, r.year): r for r in revenues}


#: The kinds whose rows are matched by the importer's own reference within the pairing.
RECORDED: dict[str, type[FundFlow] | type[Deployment] | type[Training]] = {
    ImportKind.FUND_FLOWS: FundFlow,
    ImportKind.DEPLOYMENTS: Deployment,
    ImportKind.TRAININGS: Training,
}


def _text(raw: Any) -> str:
    """A cell as text: a whole number typed into a text column (a code) without its ".0"."""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


def _plain_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def _convert(column: Column, raw: Any, lookups: Lookups) -> Any:
    """RAW (a cell) as the value COLUMN holds, or CellError."""
    if column.holds == "text":
        text = _text(raw)
        if column.max_length and len(text) > column.max_length:
            raise CellError("max_length", _("At most %(max)s characters.") % {"max": column.max_length})
        return text
    if column.holds == "int":
        number = _plain_int(raw)
        if number is None:
            raise CellError("invalid", _("Enter a whole number."))
        return number
    if column.holds == "decimal":
        try:
            amount = Decimal(str(raw).strip().replace(",", ""))
        except InvalidOperation as exc:
            raise CellError("invalid", _("Enter a number.")) from exc
        if not amount.is_finite():
            raise CellError("invalid", _("Enter a number."))
        return amount
    if column.holds == "date":
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        try:
            return dt.date.fromisoformat(str(raw).strip()[:10])
        except ValueError as exc:
            raise CellError("invalid_date", _("Enter a date as YYYY-MM-DD.")) from exc
    if column.holds == "bool":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().casefold()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise CellError("invalid", _("Enter yes or no."))
    if column.holds == "choice":
        assert column.choices is not None  # noqa: S101 — the declaration's own invariant
        text = str(raw).strip()
        if text in column.choices.values:
            return text
        for value, label in column.choices.choices:
            for language in LANGUAGES:
                with translation.override(language):
                    if text.casefold() == str(label).casefold():
                        return value
        raise CellError("invalid_choice", _("Choose one of the allowed values (see the second sheet)."))
    if column.holds == "pairing":
        pk = _plain_int(raw)
        pairing = lookups.pairings.get(pk) if pk is not None else None
        if pairing is None:
            raise CellError("not_found", _("No such pairing."))
        return pairing
    if column.holds == "organization":
        text = str(int(raw)) if isinstance(raw, float) and raw.is_integer() else str(raw).strip()
        org = lookups.organizations.get(text) or lookups.organizations.get(text.casefold())
        if org is None:
            raise CellError("not_found", _("No such organization."))
        return org
    if column.holds == "region":
        region = lookups.regions.get(str(raw).strip())
        if region is None:
            raise CellError("not_found", _("No region has this code."))
        return region
    if column.holds == "project":
        project = lookups.projects.get(str(raw).strip())
        if project is None:
            raise CellError("not_found", _("No such project."))
        return project
    raise AssertionError(column.holds)


# --- what each row does -------------------------------------------------------------------------------------


@dataclass
class Plan:
    """What a row would do: its action and, unless it is unchanged, the service call that does it."""

    action: str
    perform: Callable[[], Any] | None = None
    #: Problems found before any service is asked (a field the import cannot change), by column key.
    problems: list[Problem] = field(default_factory=list)


DIFFERENT_RECORD = gettext_lazy(
    "The record with this key holds another value here; recorded money and people are not changed by an import."
)


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        try:
            return Decimal(str(old)) == Decimal(str(new))
        except InvalidOperation:
            return False
    return old == new


def _plan_project(by: User, values: dict[str, Any], lookups: Lookups) -> Plan:
    code = values.pop("code")
    pairing = values.pop("pairing")
    title = values.pop("title")
    existing = lookups.existing.get(code)
    if existing is None:
        return Plan(
            NEW, lambda: project_services.project_create(by=by, pairing=pairing, title=title, own_code=code, **values)
        )
    if existing.pk not in lookups.visible_projects:
        # Do not confirm that a project out of the caller's scope exists: the code is simply not theirs to use.
        return Plan(INVALID, problems=[Problem("code_taken", _("This code cannot be used."), "code")])
    if existing.pairing_id != pairing.pk:
        return Plan(
            INVALID, problems=[Problem("pairing_fixed", _("A project's pairing cannot be changed."), "pairing")]
        )
    changes = {
        name: value for name, value in {"title": title, **values}.items() if not _same(getattr(existing, name), value)
    }
    if not changes:
        return Plan(UNCHANGED)
    return Plan(UPDATED, lambda: project_services.project_update(by=by, project=existing, **changes))


def _recorded_plan(
    lookups: Lookups,
    values: dict[str, Any],
    compare: dict[str, str],
    record: Callable[[], Any],
) -> Plan:
    """A flow, deployment or training: new, or the same as recorded (never changed by an import)."""
    existing = lookups.existing.get((values["pairing"].pk, values["external_ref"]))
    if existing is None:
        return Plan(NEW, record)
    problems = [
        Problem("already_recorded", str(DIFFERENT_RECORD), column)
        for column, attribute in compare.items()
        if column in values and not _same(getattr(existing, attribute), values[column])
    ]
    return Plan(INVALID, problems=problems) if problems else Plan(UNCHANGED)


def _plan_fund_flow(by: User, values: dict[str, Any], lookups: Lookups) -> Plan:
    if "project" in values:
        values["project_id"] = values.pop("project").pk
    compare = {c: c for c in ("kind", "amount", "date", "source", "reference", "note") if c in values} | (
        {"project_id": "project_id"} if "project_id" in values else {}
    )
    return _recorded_plan(
        lookups,
        values,
        compare,
        lambda: pairing_services.fund_flow_record(by=by, **values),
    )


def _plan_deployment(by: User, values: dict[str, Any], lookups: Lookups) -> Plan:
    compare = {c: c for c in ("kind", "headcount", "start_date", "end_date", "batch", "group_style", "note")}
    return _recorded_plan(lookups, values, compare, lambda: pairing_services.deployment_record(by=by, **values))


def _plan_training(by: User, values: dict[str, Any], lookups: Lookups) -> Plan:
    compare = {c: c for c in ("topic", "people_trained", "days", "start_date", "note")}
    return _recorded_plan(lookups, values, compare, lambda: pairing_services.training_record(by=by, **values))


def _plan_revenue(by: User, values: dict[str, Any], lookups: Lookups) -> Plan:
    organization, year, amount = values["organization"], values["year"], values["amount"]
    existing = lookups.existing.get((organization.pk, year))
    if existing is None:
        return Plan(
            NEW,
            lambda: pairing_services.fiscal_revenue_record(
                by=by, organization=organization, year=year, amount=amount, source=values.get("source", "")
            ),
        )
    if _same(existing.amount, amount):
        return Plan(UNCHANGED)
    return Plan(
        UPDATED,
        lambda: pairing_services.fiscal_revenue_correct(
            by=by, revenue=existing, amount=amount, reason=values.get("reason", "")
        ),
    )


PLANNERS: dict[str, Callable[[User, dict[str, Any], Lookups], Plan]] = {
    ImportKind.PROJECTS: _plan_project,
    ImportKind.FUND_FLOWS: _plan_fund_flow,
    ImportKind.FISCAL_REVENUES: _plan_revenue,
    ImportKind.DEPLOYMENTS: _plan_deployment,
    ImportKind.TRAININGS: _plan_training,
}

#: The right a row needs even when it writes nothing (an unchanged row): the form's policy with the row's object, so
#: that a row the caller could not record is an error whether or not it is already there.
ROW_RIGHTS: dict[str, Callable[[User, dict[str, Any]], Decision]] = {
    ImportKind.PROJECTS: lambda by, v: project_policy.may_update_project(by),
    ImportKind.FUND_FLOWS: lambda by, v: pairing_policy.may_record_flow(by, v["pairing"], v["kind"]),
    ImportKind.FISCAL_REVENUES: lambda by, v: pairing_policy.may_record_revenue(by, v["organization"]),
    ImportKind.DEPLOYMENTS: lambda by, v: pairing_policy.may_record_deployment(by, v["pairing"]),
    ImportKind.TRAININGS: lambda by, v: pairing_policy.may_record_training(by, v["pairing"]),
}

#: A service's field where it differs from the column that feeds it.
FIELD_TO_COLUMN = {"project_id": "project"}


# --- running a file -----------------------------------------------------------------------------------------


@dataclass
class Result:
    rows: dict[str, int]
    errors: list[dict[str, Any]]
    outcome: list[dict[str, Any]]

    @property
    def ok(self) -> bool:
        return not self.errors


def _column_name(table: Table, kind: str, key: str | None) -> str | None:
    """The header of KEY as the file writes it; the label when the file has no such column; None for the row."""
    if key is None:
        return None
    key = FIELD_TO_COLUMN.get(key, key)
    if key in table.headers:
        return table.headers[key]
    spec = KINDS[kind]
    if any(c.key == key for c in spec.columns):
        return str(spec.column(key).label)
    return None


def _row_key(spec: Kind, values: dict[str, Any]) -> str:
    parts = []
    for key in spec.key:
        value = values.get(key)
        parts.append(str(value.pk) if isinstance(value, models.Model) else str(value))
    return " / ".join(parts)


def run(*, by: User, kind: str, table: Table) -> Result:
    """Check every row of TABLE and do what it says, through the services; the caller decides, by rolling back or
    not, whether it was a dry run. Must run inside a transaction."""
    spec = KINDS[kind]
    lookups = Lookups.for_table(by, table, kind)
    counts = dict.fromkeys(("total", *ACTIONS), 0)
    errors: list[dict[str, Any]] = []
    outcome: list[dict[str, Any]] = []
    seen: dict[str, int] = {}

    def error(number: int, key: str | None, code: str, message: Any) -> None:
        errors.append({"row": number, "column": _column_name(table, kind, key), "code": code, "message": str(message)})

    for number, raw in table.rows:
        counts["total"] += 1
        before = len(errors)
        values: dict[str, Any] = {}
        for column in spec.columns:
            cell = raw.get(column.key)
            if _blank(cell):
                if column.required:
                    error(number, column.key, "required", _("This column must be filled."))
                # An empty cell leaves the field as it is (a new record takes the form's default).
                continue
            try:
                values[column.key] = _convert(column, cell, lookups)
            except CellError as exc:
                error(number, column.key, exc.code, exc.message)
        key = ""
        if len(errors) == before:
            key = _row_key(spec, values)
            if key in seen:
                error(
                    number,
                    spec.key[-1],
                    "duplicate_in_file",
                    _("Row %(row)s of this file has the same key.") % {"row": seen[key]},
                )
            else:
                seen[key] = number
        action = INVALID
        if len(errors) == before:
            decision = ROW_RIGHTS[kind](by, values)
            if not decision:
                error(number, decision.field, decision.code, decision.message)
        if len(errors) == before:
            plan = PLANNERS[kind](by, values, lookups)
            for problem in plan.problems:
                error(number, problem.field, problem.code, problem.message)
            if plan.perform is not None and not plan.problems:
                try:
                    # A savepoint per row: a refused row is undone alone and the next rows are still checked.
                    with transaction.atomic():
                        plan.perform()
                except DomainError as exc:
                    for problem in exc.problems:
                        error(number, problem.field, problem.code, problem.message)
                except DatabaseError:
                    error(number, None, "database", _("The database refused this row."))
            if len(errors) == before:
                action = plan.action
        counts[action] += 1
        outcome.append({"row": number, "action": action, "key": key})
    return Result(rows=counts, errors=errors, outcome=outcome)


# --- the template -------------------------------------------------------------------------------------------


def _allowed_values(user: User, column: Column) -> list[tuple[str, str]]:
    """COLUMN's allowed values as (code, name), in the active language; empty when any value will do."""
    if column.choices is not None:
        return [(str(v), str(label)) for v, label in column.choices.choices]
    if column.holds == "pairing":
        return [
            (str(p.pk), f"{p.program} · {p.assisting_organization} → {p.recipient_region}")
            for p in pairings_visible_to(user).filter(status="active").order_by("program__code", "pk")
        ]
    if column.holds == "organization":
        return [(str(o.pk), str(o)) for o in revenue_organizations_for(user).order_by("path")]
    if column.holds == "region":
        # The regions within the recipient regions of the caller's pairings (a region inside another counts once).
        roots: list[str] = []
        for path in sorted(set(pairings_visible_to(user).values_list("recipient_region__path", flat=True))):
            if not any(path.startswith(root) for root in roots):
                roots.append(path)
        query = models.Q(pk__in=[])
        for path in roots:
            query |= models.Q(path__startswith=path)
        return [(r.code, str(r)) for r in Region.objects.filter(query).order_by("code")]
    if column.holds == "bool":
        return [(str(_("yes")), str(_("yes"))), (str(_("no")), str(_("no")))]
    if column.holds == "date":
        return [("YYYY-MM-DD", str(_("a date")))]
    return []


def template_xlsx(user: User, kind: str) -> bytes:
    """The template of KIND for USER: the headers (in the active language; required ones bold) on the first sheet,
    the allowed values (codes and names, only what USER may use) on the second."""
    spec = KINDS[kind]
    book = Workbook(write_only=True)
    sheet = book.create_sheet(str(_("Data"))[:31])
    sheet.freeze_panes = "A2"
    header = []
    for column in spec.columns:
        cell = WriteOnlyCell(sheet, value=str(column.label))
        if column.required:
            cell.font = Font(bold=True)
        header.append(cell)
    for index, column in enumerate(spec.columns):
        sheet.column_dimensions[_column_letter(index)].width = max(12, len(str(column.label)) * 2)
    sheet.append(header)
    allowed = book.create_sheet(str(_("Allowed values"))[:31])
    allowed.append([str(_("Column")), str(_("Required")), str(_("Code")), str(_("Name"))])
    for column in spec.columns:
        required = str(_("yes")) if column.required else ""
        values = _allowed_values(user, column)
        if not values:
            allowed.append([str(column.label), required, "", ""])
        for code, name in values:
            allowed.append([str(column.label), required, code, name])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def template_filename(kind: str) -> str:
    return f"duikou-{kind}-template-{timezone.localdate():%Y%m%d}.xlsx"


# --- the services: upload (check, and commit at once when asked) and commit --------------------------------


class _Undo(Exception):
    """Leaves the transaction of a dry run, or of a commit with a refused row, taking the result along."""

    def __init__(self, result: Result) -> None:
        self.result = result
        super().__init__("undo")


def _apply(*, by: User, kind: str, table: Table, commit: bool) -> tuple[Result, bool]:
    """Run TABLE; keep what it did only when COMMIT and no row was refused. Returns the result and whether it was
    kept."""
    try:
        with transaction.atomic():
            result = run(by=by, kind=kind, table=table)
            if not commit or not result.ok:
                raise _Undo(result)
    except _Undo as undo:
        return undo.result, False
    return result, True


def _store(record: Import, result: Result, *, kept: bool, committing: bool) -> None:
    record.rows, record.errors, record.outcome = result.rows, result.errors, result.outcome
    if kept:
        record.status = ImportStatus.COMMITTED
        record.committed_at = timezone.now()
    elif committing:
        record.status = ImportStatus.FAILED
    else:
        record.status = ImportStatus.CHECKED if result.ok else ImportStatus.INVALID


def _committed(record: Import, by: User) -> None:
    """The import's one history event (a hook for what follows a commit, such as webhooks)."""
    history_record(
        obj=record,
        action="committed",
        actor=by,
        changes={key: (None, record.rows.get(key, 0)) for key in ("total", NEW, UPDATED, UNCHANGED)},
    )


def import_upload(*, by: User, upload: UploadedFile, kind: str, dry_run: bool = True) -> Import:
    """Check an uploaded sheet of KIND and keep it as an import record with what each row would do and every
    error; with DRY_RUN false and no error, commit it at once. A file that cannot be read is refused (nothing is
    kept)."""
    import_policy.may_import(by, kind).enforce()
    check_size(upload.size)
    data = upload.read(settings.IMPORT_MAX_BYTES + 1)
    table = read_table(data, kind)
    name = os.path.basename(upload.name or "") or f"{kind}.xlsx"
    with transaction.atomic():
        record = Import(created_by=by, kind=kind, filename=name[:200], status=ImportStatus.CHECKED)
        stored = get_valid_filename(name)[-100:] or "import"
        record.file.save(stored, ContentFile(data), save=False)
        try:
            result, kept = _apply(by=by, kind=kind, table=table, commit=not dry_run)
            _store(record, result, kept=kept, committing=False)
            record.save()
            if kept:
                _committed(record, by)
        except BaseException:
            # The file was stored before its row: if the row is not written, do not leave the file behind.
            record.file.storage.delete(record.file.name or "")
            raise
    return record


def import_commit(*, by: User, record: Import) -> Import:
    """Commit a checked import, all or nothing: every row is checked again and goes through its service; one
    refusal undoes every row, and the import is marked failed with the errors. A committed or invalid import
    cannot be committed (409)."""
    with transaction.atomic():
        locked = Import.objects.select_for_update().filter(pk=record.pk, created_by=by).first()
        if locked is None:
            raise NotFound("not_found", _("No such import."), None)
        if locked.status not in (ImportStatus.CHECKED, ImportStatus.FAILED):
            message = (
                _("This import is already committed.")
                if locked.status == ImportStatus.COMMITTED
                else _("This import has errors: fix the file and upload it again.")
            )
            raise Conflict("not_committable", message, "status")
        import_policy.may_import(by, locked.kind).enforce()
        with locked.file.open("rb") as stored:
            data = stored.read()
        result, kept = _apply(by=by, kind=locked.kind, table=read_table(data, locked.kind), commit=True)
        _store(locked, result, kept=kept, committing=True)
        locked.save(update_fields=["rows", "errors", "outcome", "status", "committed_at"])
        if kept:
            _committed(locked, by)
    return locked


def imports_of(user: User) -> models.QuerySet[Import]:
    """USER's own imports, newest first (nobody else sees them)."""
    return Import.objects.filter(created_by=user).order_by("-created_at", "-id")
