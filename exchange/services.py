"""The state changes of data exchange. Exports: create (checked in full, made at once when small, queued when not),
make (the Celery task's work), expire."""

import datetime as dt
import logging
import tempfile
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.services import notify
from core.errors import DomainError, Problem

from . import exports, reports
from .models import Export, ExportFormat, ExportStatus

logger = logging.getLogger(__name__)


def _sync_rows() -> int:
    """Lists up to this many rows are made in the request (201); longer ones, and every PDF, in Celery (202)."""
    return int(settings.EXPORT_SYNC_ROWS)


def _ttl() -> dt.timedelta:
    return dt.timedelta(hours=int(settings.EXPORT_TTL_HOURS))


EXPORT_KINDS: tuple[str, ...] = (*exports.LISTS, *(k for k in reports.REPORT_KINDS if k not in exports.LISTS))


def export_formats(kind: str) -> tuple[str, ...]:
    """The formats KIND can be written in: lists as XLSX or CSV, reports as PDF, a ranking as either."""
    formats: tuple[str, ...] = ()
    if kind in exports.LISTS:
        formats += (ExportFormat.XLSX, ExportFormat.CSV)
    if kind in reports.REPORT_KINDS:
        formats += (ExportFormat.PDF,)
    return formats


def export_create(
    *, by: User, kind: Any, format: Any, filters: Any = None, object_id: Any = None, language: str | None = None
) -> Export:
    """Check the request in full (every problem at once: kind, format, each filter, the object), then make the
    file now when the list is short or queue it. The export belongs to BY; its headers and names are in LANGUAGE
    (BY's current language by default)."""
    filters = {} if filters is None else filters
    problems: list[Problem] = []
    if not isinstance(kind, str) or kind not in EXPORT_KINDS:
        problems.append(
            Problem("invalid_choice", _("Choose one of: %(kinds)s.") % {"kinds": ", ".join(EXPORT_KINDS)}, "kind")
        )
    elif not isinstance(format, str) or format not in export_formats(kind):
        allowed = ", ".join(export_formats(kind))
        problems.append(
            Problem("invalid_choice", _("This kind is exported as: %(formats)s.") % {"formats": allowed}, "format")
        )
    problems += exports.check_filters(filters)
    if object_id is not None and (isinstance(object_id, bool) or not isinstance(object_id, int) or object_id < 1):
        problems.append(Problem("invalid", _("The object is a positive whole number: an id."), "object"))
        object_id = None
    if problems:
        raise DomainError.many(problems)
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    source: exports.Source | None = None
    stem = kind
    with translation.override(language):
        if format == ExportFormat.PDF:
            try:
                stem = reports.check_report(kind, user=by, object_id=object_id, filters=filters)
            except reports.ReportRefused as refused:
                raise _refusal(refused) from refused
        else:
            if object_id is not None:
                raise DomainError("invalid", _("A list takes filters, not an object."), "object")
            source = exports.Source(exports.LISTS[kind], by, filters)
    export = Export.objects.create(
        created_by=by,
        kind=kind,
        format=format,
        filters=filters,
        object_id=object_id,
        language=language,
        total=source.total if source else 1,
    )
    export.filename = f"{stem}-{timezone.localtime(export.created_at):%Y%m%d-%H%M%S}.{format}"
    export.save(update_fields=["filename"])
    if source is not None and source.total <= _sync_rows():
        _make(export, source)
    else:
        from .tasks import make_export

        transaction.on_commit(lambda: make_export.delay(export.pk))
    return export


def _refusal(refused: "reports.ReportRefused") -> DomainError:
    from core.errors import NotFound

    problems = [Problem(refused.code_of(f), m, f) for f, m in refused.errors.items()]
    error = (NotFound if refused.status == 404 else DomainError).many(problems)
    return error


def _progress(export: Export) -> exports.Progress:
    """Count rows written, in their own statement (visible to pollers at once: the task runs outside a
    transaction), at most every CHUNK rows."""

    def done(count: int) -> None:
        Export.objects.filter(pk=export.pk).update(done=count)

    return done


def _make(export: Export, source: "exports.Source | None" = None) -> Export:
    """Write the export's file and mark it done (or failed, with the reason)."""
    Export.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING)
    with translation.override(export.language), tempfile.TemporaryFile() as out:
        try:
            if export.format == ExportFormat.PDF:
                out.write(
                    reports.render_report(
                        export.kind,
                        user=export.created_by,
                        object_id=export.object_id,
                        filters=export.filters,
                        language=export.language,
                    )
                )
                written = 1
            else:
                source = source or exports.Source(exports.LISTS[export.kind], export.created_by, export.filters)
                Export.objects.filter(pk=export.pk).update(total=source.total)
                written = exports.WRITERS[export.format](source, out, _progress(export))
            out.seek(0)
            export.file.save(export.filename, File(out), save=False)
        except (DomainError, reports.ReportRefused) as refused:
            return _failed(export, refused)
    now = timezone.now()
    export.status, export.done, export.finished_at, export.expires_at = ExportStatus.DONE, written, now, now + _ttl()
    export.total = max(export.total, written)
    export.save(update_fields=["status", "done", "total", "file", "finished_at", "expires_at"])
    return export


def _failed(export: Export, error: Exception) -> Export:
    if isinstance(error, DomainError):
        reason = "; ".join(str(p.message) for p in error.problems)
    elif isinstance(error, reports.ReportRefused):
        reason = "; ".join(error.errors.values())
    else:
        reason = _("The file could not be made; the error was recorded for the administrators.")
    export.status, export.error, export.finished_at = ExportStatus.FAILED, reason[:2000], timezone.now()
    export.save(update_fields=["status", "error", "finished_at"])
    return export


def export_make(export_id: int) -> Export | None:
    """The Celery task's work: make a queued export (again, if a worker died making it), then tell its creator
    by e-mail. A finished or expired export is left as it is."""
    export = Export.objects.select_related("created_by").filter(pk=export_id).first()
    if export is None or export.status not in (ExportStatus.QUEUED, ExportStatus.RUNNING):
        return export
    try:
        export = _make(export)
    except Exception as error:
        logger.exception("export %s failed", export_id)
        export = _failed(export, error)
    _tell(export)
    return export


def _tell(export: Export) -> None:
    user = export.created_by
    kind = "export_ready" if export.status == ExportStatus.DONE else "export_failed"
    try:
        notify([user], kind, {"name": export.filename, "export": export.pk}, reverse("exchange:export_list"))
    except Exception:  # the file is on the exports page either way
        logger.exception("export %s: its creator's notification could not be made", export.pk)
    if not user.mails_at_once:  # no address, or they chose the daily digest (which lists it) or no e-mail
        return
    with translation.override(export.language):
        link = settings.SITE_URL.rstrip("/") + reverse("exchange:export_list")
        if export.status == ExportStatus.DONE:
            subject = _("Your export %(name)s is ready") % {"name": export.filename}
            body = _(
                "The file %(name)s (%(rows)s rows) is ready to download until %(until)s on the exports page. %(link)s"
            )
        else:
            subject = _("Your export %(name)s failed") % {"name": export.filename}
            body = _("The file %(name)s could not be made: %(reason)s %(link)s")
        message = body % {
            "name": export.filename,
            "rows": export.done,
            "until": timezone.localtime(export.expires_at).strftime("%Y-%m-%d %H:%M") if export.expires_at else "",
            "reason": export.error,
            "link": link,
        }
    try:
        send_mail(subject, message, None, [user.email])
    except OSError:
        # The file is made and on the exports page either way; a mail server that does not answer is logged.
        logger.warning("export %s: the e-mail to its creator could not be sent", export.pk, exc_info=True)


def exports_expire(now: dt.datetime | None = None) -> int:
    """Delete the files of exports past their expiry and mark them expired (the record stays, for the list).
    Returns how many."""
    now = now or timezone.now()
    expired = 0
    for export in Export.objects.filter(status=ExportStatus.DONE, expires_at__lte=now).iterator():
        if export.file:
            export.file.delete(save=False)
        export.status = ExportStatus.EXPIRED
        export.save(update_fields=["status", "file"])
        expired += 1
    return expired
