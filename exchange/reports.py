"""Reports as PDF: a pairing's scorecard, a programme-year's ranking and a project's dossier, made with WeasyPrint.

Each report shows what its page shows, read through the same scoped selectors and figure functions and written
with the same template filters and includes (the explanation table, the timeline), so a figure in a PDF is the
figure on the page. What the caller may not see answers as what does not exist (404).

`check_report` is cheap and runs before an export is queued; `render_report` makes the bytes (in a Celery task)
through exchange/pdf.py, which reads nothing but the project's own files (no URL ever reaches the network)."""

from dataclasses import dataclass
from typing import Any

from django.db.models import F, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import User
from core.api.bounds import BIGINT_MAX
from core.models import HistoryEvent
from evaluation import selectors as evaluation_selectors
from evaluation.measures import SHARE_BASIS_NOTE
from evaluation.models import EvaluationRun, PairingScorecard, RunStatus
from pairings.models import FundFlow, Program
from pairings.selectors import fund_flows_visible_to, programs_visible_to
from pairings.services import PROGRAMME_YEAR_MAX, PROGRAMME_YEAR_MIN, current_rule
from projects import figures as project_figures
from projects import selectors as project_selectors
from projects.models import DocumentKind, Project

REPORT_KINDS: tuple[str, ...] = ("scorecard", "ranking", "project")
#: The filters each kind takes (the object kinds take none).
FILTERS: dict[str, tuple[str, ...]] = {"scorecard": (), "ranking": ("program", "year"), "project": ()}
#: Photos embedded in a dossier, at most (the others are listed with the documents).
MAX_PHOTOS = 40


class ReportRefused(Exception):
    """The report cannot be made for this caller: `errors` maps a field ("object", "filters.program",
    "filters.year") to a message (translated). `status` is 404 when the object does not exist or the caller may
    not see it, 400 for bad input. `codes` gives a field's stable code where it is not the status's own
    (`not_found` for 404, `invalid` otherwise): `unknown_field`, `does_not_exist`, `no_ranking`."""

    def __init__(self, errors: dict[str, str], status: int = 400, codes: dict[str, str] | None = None) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in errors.items()))
        self.errors = errors
        self.status = status
        self.codes = codes or {}

    def code_of(self, field: str) -> str:
        return self.codes.get(field) or ("not_found" if self.status == 404 else "invalid")


# --- what each kind is about, checked -----------------------------------------------------------------------


def _not_found() -> ReportRefused:
    # One message whether the object does not exist or lies outside the caller's scope: a 404 must not tell.
    return ReportRefused({"object": _("Not found.")}, status=404)


def _object_pk(object_id: Any) -> int:
    """OBJECT_ID as a row's id: missing or not a whole number is bad input (400); one no row can have, not found."""
    if object_id is None or object_id == "":
        raise ReportRefused({"object": _("This field is required.")})
    if isinstance(object_id, bool):
        raise ReportRefused({"object": _("A valid integer is required.")})
    if isinstance(object_id, str):
        text = object_id.strip()
        if not (text.isascii() and text.isdigit() and len(text) < 20):
            raise ReportRefused({"object": _("A valid integer is required.")})
        object_id = int(text)
    if not isinstance(object_id, int):
        raise ReportRefused({"object": _("A valid integer is required.")})
    if not 1 <= object_id <= BIGINT_MAX:
        raise _not_found()
    return object_id


def _check_filters(kind: str, object_id: Any, filters: Any) -> dict[str, Any]:
    if not isinstance(filters, dict):
        raise ReportRefused({"filters": _("Expected a dictionary of items.")})
    errors = {f"filters.{name}": _("Unknown filter.") for name in filters if name not in FILTERS[kind]}
    codes = dict.fromkeys(errors, "unknown_field")
    if kind == "ranking" and object_id not in (None, ""):
        errors["object"] = _("A ranking is chosen by its filters, not by an object.")
        codes["object"] = "unknown_field"
    if errors:
        raise ReportRefused(errors, codes=codes)
    return filters


def _scorecard(user: User, object_id: Any) -> PairingScorecard:
    pk = _object_pk(object_id)
    card = evaluation_selectors.scorecards_visible_to(user).filter(pk=pk).first()
    if card is None:
        raise _not_found()
    return card


def _project(user: User, object_id: Any) -> Project:
    pk = _object_pk(object_id)
    project = project_selectors.project_list_rows(user).filter(pk=pk).first()
    if project is None:
        raise _not_found()
    return project


@dataclass(frozen=True)
class RankingTarget:
    program: Program
    year: int
    run: EvaluationRun


def _year(value: Any) -> int:
    """The filter's year as a whole number within the programmes' years; ReportRefused otherwise."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() and len(value.strip()) < 10:
        number = int(value.strip())
    if number is None:
        raise ReportRefused({"filters.year": _("The year is a number, e.g. 2010.")})
    if not PROGRAMME_YEAR_MIN <= number <= PROGRAMME_YEAR_MAX:
        raise ReportRefused(
            {
                "filters.year": _("Enter a year from %(min)s to %(max)s.")
                % {"min": PROGRAMME_YEAR_MIN, "max": PROGRAMME_YEAR_MAX}
            }
        )
    return number


def _ranking(user: User, filters: dict[str, Any]) -> RankingTarget:
    """The programme-year of FILTERS and its latest succeeded run, as the rankings page finds them (the latest
    year with a finished run when no year is given). Every problem with the filters is told at once."""
    errors: dict[str, str] = {}
    codes: dict[str, str] = {}
    program: Program | None = None
    code = filters.get("program")
    if code is None or (isinstance(code, str) and not code.strip()):
        errors["filters.program"] = _("Choose a programme.")
    elif isinstance(code, bool) or not isinstance(code, str | int):
        errors["filters.program"] = _("Give the programme's code or id.")
    else:
        text = str(code).strip()
        visible = programs_visible_to(user)
        program = visible.filter(code=text).first() if "\x00" not in text else None
        if program is None and text.isascii() and text.isdigit() and int(text) <= BIGINT_MAX:
            program = visible.filter(pk=int(text)).first()
        if program is None:
            errors["filters.program"] = _("No programme has this code or id.")
            codes["filters.program"] = "does_not_exist"
    year: int | None = None
    if filters.get("year") not in (None, ""):
        try:
            year = _year(filters["year"])
        except ReportRefused as exc:
            errors.update(exc.errors)
    if errors or program is None:
        raise ReportRefused(errors, codes=codes)
    done = evaluation_selectors.runs_visible_to(user).filter(status=RunStatus.SUCCEEDED, program=program)
    if year is None:
        year = done.order_by("-year").values_list("year", flat=True).first()
        if year is None:
            raise ReportRefused(
                {"filters.program": _("No finished evaluation run of %(program)s yet.") % {"program": program}},
                codes={"filters.program": "no_ranking"},
            )
    run = evaluation_selectors.latest_run(program, year) if done.filter(year=year).exists() else None
    if run is None:
        raise ReportRefused(
            {
                "filters.year": _("No finished evaluation run of %(program)s for %(year)s yet.")
                % {"program": program, "year": year}
            },
            codes={"filters.year": "no_ranking"},
        )
    return RankingTarget(program=program, year=year, run=run)


def _kind(kind: str) -> str:
    if kind not in REPORT_KINDS:
        raise ReportRefused({"kind": _("Choose one of: %(kinds)s.") % {"kinds": ", ".join(REPORT_KINDS)}})
    return kind


def check_report(kind: str, *, user: User, object_id: int | None, filters: dict[str, Any]) -> str:
    """Validate cheaply before queueing (the object exists and USER sees it; the filters are well formed) and
    return the file name's stem, e.g. "scorecard-<pairing>-<year>"; raise ReportRefused otherwise."""
    filters = _check_filters(_kind(kind), object_id, filters)
    if kind == "scorecard":
        card = _scorecard(user, object_id)
        return f"scorecard-{card.pairing_id}-{card.run.year}"
    if kind == "project":
        return f"project-{_project(user, object_id).code}"
    target = _ranking(user, filters)
    return f"ranking-{target.program.code}-{target.year}"


# --- what each report shows: the page's figures, from the page's selectors ------------------------------------


def _scorecard_context(user: User, card: PairingScorecard) -> dict[str, Any]:
    """What evaluation.views.scorecard_detail shows, its projects in the page's default order (best first)."""
    run = card.run
    framework = evaluation_selectors.frameworks_visible_to(user).get(pk=run.framework_id)
    lines = evaluation_selectors.explain_score(framework, "pairing", card.measures)
    history = list(evaluation_selectors.score_history(card.pairing_id))
    return {
        "title": f"{_('Scorecard')}: {card.pairing}",
        "card": card,
        "run": run,
        "framework": framework,
        "lines": lines,
        "indicators": {i.code: i for i in framework.indicators.all()},
        "total": evaluation_selectors.explained_total(lines),
        "grade": evaluation_selectors.grade_of(framework, card.score),
        "rank": evaluation_selectors.rankings_of(run).filter(organization_id=card.organization_id).first(),
        "rule": current_rule(run.program, run.year),
        "share_basis_note": SHARE_BASIS_NOTE,
        "history": history,
        "chart": [(f"{h.run.year} #{h.run_id}", h.score) for h in history],
        "projects": evaluation_selectors.project_scores_visible_to(user)
        .filter(run=run, pairing_id=card.pairing_id)
        .order_by(F("score").desc(nulls_last=True), "project__code"),
    }


def _ranking_context(user: User, target: RankingTarget) -> dict[str, Any]:
    """What evaluation.views.rankings shows for the programme-year: every ranked party (rankings are published),
    and the scorecards only of the pairings USER sees."""
    run = target.run
    cards: dict[int, list[PairingScorecard]] = {}
    for card in (
        evaluation_selectors.scorecards_visible_to(user)
        .filter(run=run, pairing__parent__isnull=True)
        .order_by("pairing__recipient_region__code")
    ):
        cards.setdefault(card.organization_id, []).append(card)
    compared = None
    if run.compared_with_id:
        compared = evaluation_selectors.runs_visible_to(user).filter(pk=run.compared_with_id).first()
    return {
        "title": _("Ranking of %(program)s, %(year)s") % {"program": target.program, "year": target.year},
        "program": target.program,
        "year": target.year,
        "run": run,
        "compared": compared,
        "rows": [(r, cards.get(r.organization_id, [])) for r in evaluation_selectors.rankings_of(run)],
        "indicators": {i.code: i for i in run.framework.indicators.all()},
    }


def _project_context(user: User, project: Project) -> dict[str, Any]:
    """What projects.views.project_detail shows (all of it, not the page's latest few), the project's fund
    flows, and its photos (the latest MAX_PHOTOS that are images) with the URLs they are embedded by."""
    from . import pdf

    documents = list(project.documents.select_related("uploaded_by"))
    photos = [(d, pdf.photo_url(d)) for d in documents if d.kind == DocumentKind.PHOTO]
    flows: QuerySet[FundFlow] = fund_flows_visible_to(user).filter(project_id=project.pk).order_by("date", "pk")
    return {
        "title": f"{project.code} {project.title}",
        "project": project,
        "money": project_figures.project_money(project),
        "latest": project_selectors.latest_progress(project),
        "flows": flows,
        "reports": project.progress_reports.select_related("reported_by", "reviewed_by"),
        "inspections": project.inspections.select_related("inspector"),
        "rectifications": project.rectifications.select_related("evidence"),
        "documents": documents,
        "photos": [(d, url) for d, url in photos if url][:MAX_PHOTOS],
        "milestones": project.milestones.all(),
        "history": HistoryEvent.objects.for_object(project).select_related("actor", "content_type"),
        "today": timezone.localdate(),
    }


# --- making the PDF ---------------------------------------------------------------------------------------


def _page_words() -> str:
    """The footer's "Page 2 of 5" as CSS `content`: the translated sentence around the page counters."""
    marker = "\x00"
    text = _("Page %(page)s of %(pages)s") % {"page": f"{marker}page{marker}", "pages": f"{marker}pages{marker}"}
    parts = []
    for i, piece in enumerate(text.split(marker)):
        if i % 2:
            parts.append(f"counter({piece})")
        elif piece:
            parts.append(_css_string(piece))
    return " ".join(parts)


def _css_string(text: str) -> str:
    """TEXT as a quoted CSS string for a `<style>` element: quotes, backslashes, control characters and the
    characters that could end the element (`</style>` in a project's title) are written as CSS escapes."""
    escaped = "".join(c if c.isprintable() and c not in '"\\<>&' else f"\\{ord(c):x} " for c in text)
    return f'"{escaped}"'


TEMPLATES = {
    "scorecard": "exchange/reports/scorecard.html",
    "ranking": "exchange/reports/ranking.html",
    "project": "exchange/reports/project.html",
}


def render_report(kind: str, *, user: User, object_id: int | None, filters: dict[str, Any], language: str) -> bytes:
    """The PDF bytes, in LANGUAGE ("zh-hans" or "en"), showing only what USER may see."""
    with translation.override(language):
        filters = _check_filters(_kind(kind), object_id, filters)
        if kind == "scorecard":
            context = _scorecard_context(user, _scorecard(user, object_id))
        elif kind == "ranking":
            context = _ranking_context(user, _ranking(user, filters))
        else:
            context = _project_context(user, _project(user, object_id))
        now = timezone.localtime()
        context.update(
            kind=kind,
            generated_at=now,
            page_words=_page_words(),
            title_css=_css_string(str(context["title"])),
            footer_css=_css_string(_("Duikou · generated %(date)s") % {"date": f"{now:%Y-%m-%d %H:%M}"}),
        )
        html = render_to_string(TEMPLATES[kind], context)
    from . import pdf  # WeasyPrint and Pango load in the worker that makes the file, not in every web process

    return pdf.write_pdf(html, photos={url: d for d, url in context.get("photos", [])})
