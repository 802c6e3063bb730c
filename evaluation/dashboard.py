"""The national evaluation dashboard: per programme, the money (mandate, committed, received), the projects by
stage, the latest ranking's top and bottom and the compliance warnings of its scorecards, with charts.

Everything is read in a fixed number of queries whatever the number of programmes: one per kind of figure,
grouped by programme. Money and projects are the user's scope (pairing_scope_q); rankings are published
results that every signed-in user sees; scorecards (the warnings) are scoped like pairings.
"""

import html
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple, cast

from django.contrib.auth.decorators import login_required
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.selectors import scope_for
from core.models import name_in_language
from core.statements import ForIds, Statement
from pairings import figures as pairing_figures
from pairings.charts import GOLD, GREY, RED
from pairings.selectors import pairing_scope_q_of, pairings_visible_to, programs_visible_to
from projects import figures as project_figures

from .models import EvaluationRun, PairingScorecard, Ranking, RunStatus
from .policy import may_run
from .templatetags.evaluation_tags import GRADE_CLASSES, flag_text, grade_badge, score

#: How many organizations the dashboard shows at each end of a ranking.
ENDS = 3
#: How many compliance warnings a programme's block lists before it points to the ranking for the rest.
WARNINGS_SHOWN = 6

STAGE_LABELS: dict[str, Promise] = {
    "selection": gettext_lazy("Selection"),
    "approval": gettext_lazy("Approval"),
    "construction": gettext_lazy("Construction"),
    "supervision": gettext_lazy("Accepted"),
    "evaluation": gettext_lazy("Evaluated"),
    "cancelled": gettext_lazy("Cancelled"),
}
# From the first stage to the last, light to dark; cancelled projects in the palest grey.
STAGE_COLORS = {
    "selection": GREY,
    "approval": "#f2cf7a",
    "construction": GOLD,
    "supervision": "#cf5a2c",
    "evaluation": RED,
    "cancelled": "#dee2e6",
}


# --- charts (server-rendered SVG, as pairings.charts) --------------------------------------------------------------


def swatch(color: str) -> SafeString:
    """A small colour square for a legend written in HTML."""
    return format_html(
        '<svg width="10" height="10" viewBox="0 0 10 10" aria-hidden="true" class="me-1">'
        '<rect width="10" height="10" fill="{}"/></svg>',
        color,
    )


def stage_bar(stages: Sequence[dict[str, Any]]) -> SafeString:
    """One bar split by stage in proportion to the number of projects. STAGES: key, label, count, color."""
    total = sum(s["count"] for s in stages)
    if not total:
        return SafeString("")
    width, height = 600, 26
    x = 0.0
    parts = []
    for s in stages:
        if not s["count"]:
            continue
        w = width * s["count"] / total
        parts.append(
            (
                f"{x:.2f}",
                f"{w:.2f}",
                s["color"],
                f"{s['label']} · {s['count']}",
                format_html(
                    '<text x="{}" y="17" font-size="12" text-anchor="middle" fill="{}">{}</text>',
                    f"{x + w / 2:.2f}",
                    "#fff" if s["key"] in ("supervision", "evaluation") else "#212529",
                    s["count"],
                )
                if w >= 8 * len(str(s["count"])) + 6
                else "",
            )
        )
        x += w
    rects = format_html_join(
        "", '<g><rect x="{}" y="0" width="{}" height="26" fill="{}"><title>{}</title></rect>{}</g>', parts
    )
    return format_html(
        '<svg class="dk-chart" viewBox="0 0 {} {}" preserveAspectRatio="none" role="img" aria-label="{}">{}</svg>',
        width,
        height,
        _("Projects by stage"),
        rects,
    )


#: Bootstrap's colours behind the grade badges' classes, so a bar has its badge's colour.
BADGE_COLORS = {
    "text-bg-success": "#198754",
    "text-bg-primary": "#0d6efd",
    "text-bg-warning": "#ffc107",
    "text-bg-danger": "#dc3545",
}


def _grade_colors(bands: Any) -> dict[str, str]:
    """Each grade's colour: its badge's for the usual letters, else the best red, the next gold, the rest grey
    (bands are [lowest score, grade])."""
    ordered = [str(g) for _lo, g in sorted(bands or [], key=lambda b: -float(b[0]))]
    palette = [RED, GOLD]
    colors = {g: palette[i] if i < len(palette) else GREY for i, g in enumerate(ordered)}
    colors.update({g: BADGE_COLORS[css] for g, css in GRADE_CLASSES.items() if css in BADGE_COLORS})
    return colors


class Placed(NamedTuple):
    """An organization's place in a ranking, as the overview shows it: read as values (`RANKING_SHOWN`), the
    organization named in the active language."""

    run_id: int
    organization_id: int
    score: float
    grade: str
    rank: int
    organization: str


class ProgrammeShown(NamedTuple):
    """A programme as the overview shows it: read as values (`PROGRAM_SHOWN`), with the id of its latest finished
    run; written as its name in the active language, as `Program` is."""

    pk: int
    code: str
    name: str
    name_en: str
    start_year: int
    end_year: int | None
    latest_run_id: int | None

    def __str__(self) -> str:
        return name_in_language(self.name, self.name_en)


class LatestRun(NamedTuple):
    """A programme's latest finished run, as the overview shows it: read as values (`RUN_SHOWN`)."""

    pk: int
    program_id: int
    year: int
    finished_at: datetime | None
    framework_version: int
    grade_bands: Any


class FlaggedCard(NamedTuple):
    """A scorecard with compliance flags, as the overview lists it: read as values (`WARNING_SHOWN`), the pairing's
    two parties named in the active language."""

    pk: int
    run_id: int
    pairing_id: int
    flags: list[dict[str, Any]]
    assisting_organization: str
    recipient_region: str


def _text_width(text: str, size: float = 13) -> float:
    """Roughly how wide TEXT is at font SIZE: CJK characters are square, Latin ones about half as wide."""
    return sum(size if ord(c) >= 0x2E80 else size * 0.56 for c in text)


def ranking_chart(rankings: Sequence[Placed], bands: Any) -> SafeString:
    """Horizontal bars of a ranking's scores (0–100), best first, coloured by grade."""
    if not rankings:
        return SafeString("")
    row_h, width, right = 24, 600, 56
    names = [str(r.organization) for r in rankings]
    labels = [
        f"{r.rank}. {name if len(name) <= 28 else name[:27] + '…'}" for r, name in zip(rankings, names, strict=True)
    ]
    # The label column as wide as the longest label needs (Chinese names are short, English ones long).
    left = int(min(250, max(90, max(_text_width(t) for t in labels) + 12)))
    plot_w = width - left - right
    height = row_h * len(rankings) + 22
    colors = _grade_colors(bands)
    # A string per row with its texts escaped (the numbers and colours are ours): a whole ranking is drawn, and
    # format_html escaped every number of every row too. (`html.escape` is Django's `escape` without its lazy-string
    # wrapper: the same text.)
    rows = []
    for i, (r, label, name) in enumerate(zip(rankings, labels, names, strict=True)):
        y = 4 + i * row_h
        w = plot_w * max(0.0, min(float(r.score), 100.0)) / 100.0
        name, grade, score = html.escape(name), html.escape(r.grade), f"{r.score:.1f}"
        rows.append(
            f'<text x="0" y="{y + 14}" font-size="13">{html.escape(label)}<title>{name}</title></text>'
            f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="16" fill="{colors.get(r.grade, GREY)}">'
            f"<title>{r.rank}. {name} · {score} · {grade}</title></rect>"
            f'<text x="{left + w + 6}" y="{y + 15}" font-size="12">{score} {grade}</text>'
        )
    body = SafeString("".join(rows))
    ticks = format_html_join(
        "",
        '<line x1="{}" y1="0" x2="{}" y2="{}" stroke="#dee2e6"/>'
        '<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="#6c757d">{}</text>',
        (
            (
                f"{left + plot_w * t / 100:.1f}",
                f"{left + plot_w * t / 100:.1f}",
                height - 14,
                f"{left + plot_w * t / 100:.1f}",
                height - 2,
                t,
            )
            for t in (0, 25, 50, 75, 100)
        ),
    )
    return format_html(
        '<svg class="dk-chart dk-chart-rows" viewBox="0 0 {} {}" role="img" aria-label="{}">{}{}</svg>',
        width,
        height,
        _("Scores of the ranking"),
        ticks,
        body,
    )


# --- the lists of a programme's block, written here (a template's loop and tags per item were most of the block) -


def _esc(value: Any) -> str:
    """The text of VALUE escaped as a template writes a variable (a safe string as it is)."""
    as_html = getattr(value, "__html__", None)
    return as_html() if as_html is not None else html.escape(str(value))


def stage_legend(stages: Sequence[dict[str, Any]]) -> SafeString:
    """The legend of `stage_bar`: a stage with projects an item (swatch, label, count)."""
    return SafeString(
        "".join(
            f'<li class="list-inline-item text-nowrap me-3" data-stage="{_esc(s["key"])}">{_esc(s["swatch"])}'
            f'{_esc(s["label"])} <span class="fw-semibold">{_esc(s["count"])}</span></li>'
            for s in stages
            if s["count"]
        )
    )


def end_rows(rows: Sequence[Placed], program_code: str, year: int) -> SafeString:
    """The rows of an end of the ranking (rank, party linked to the ranking, score, grade badge)."""
    href = f"{_esc(reverse('evaluation:rankings'))}?program={_esc(program_code)}&amp;year={_esc(year)}"
    badges: dict[str, str] = {}
    out = []
    for r in rows:
        if r.grade not in badges:
            badges[r.grade] = grade_badge(r.grade)
        out.append(
            f'\n    <tr data-organization="{_esc(r.organization_id)}">\n'
            f'      <td class="text-body-secondary text-nowrap">{_esc(r.rank)}.</td>\n'
            f'      <td><a href="{href}">{_esc(r.organization)}</a></td>\n'
            f'      <td class="num">{_esc(score(r.score))}</td>\n'
            f'      <td class="text-nowrap">{badges[r.grade]}</td>\n'
            "    </tr>\n"
        )
    return SafeString("".join(out))


def warning_items(cards: Sequence[FlaggedCard]) -> SafeString:
    """The compliance warnings shown: each scorecard linked, its flags in words."""
    out = []
    link = reverse("evaluation:scorecard_detail", args=[0]).removesuffix("0/")
    for card in cards:
        flags = "".join(f'<div class="text-body-secondary">{_esc(flag_text(f))}</div>' for f in card.flags)
        out.append(
            '\n          <li class="col-md-6 col-xl-4"><div class="border-start border-3 border-danger ps-2 h-100">\n'
            f'            <a href="{_esc(f"{link}{card.pk}/")}">'
            f"{_esc(card.assisting_organization)} → {_esc(card.recipient_region)}</a>\n"
            f"            {flags}\n"
            "          </div></li>\n          "
        )
    return SafeString("".join(out))


# --- the figures -------------------------------------------------------------------------------------------------


@dataclass
class ProgrammeBlock:
    """A programme's figures in the user's scope, all years: its money (`pairings.figures`), its projects by stage
    (`projects.figures`), and its latest ranking."""

    program: ProgrammeShown
    money: pairing_figures.Money = field(default_factory=pairing_figures.Money)
    stages: list[dict[str, Any]] = field(default_factory=list)
    project_count: int = 0
    run: LatestRun | None = None
    rankings: list[Placed] = field(default_factory=list)
    warnings: list[FlaggedCard] = field(default_factory=list)

    @property
    def required(self) -> Decimal:
        return self.money.required

    @property
    def committed(self) -> Decimal:
        return self.money.committed

    @property
    def received(self) -> Decimal:
        return self.money.received

    @property
    def fulfilment(self) -> Decimal | None:
        return self.money.fulfilment

    @property
    def top(self) -> list[Placed]:
        return self.rankings[:ENDS]

    @property
    def bottom(self) -> list[Placed]:
        """The last ENDS, worst last; none that are already among the top."""
        return self.rankings[max(ENDS, len(self.rankings) - ENDS) :]

    @property
    def warnings_shown(self) -> list[FlaggedCard]:
        return self.warnings[:WARNINGS_SHOWN]

    @property
    def warnings_more(self) -> int:
        return max(0, len(self.warnings) - WARNINGS_SHOWN)

    @property
    def stage_chart(self) -> SafeString:
        return stage_bar(self.stages)

    @property
    def has_figures(self) -> bool:
        """Whether the user sees any money or project of the programme (a scoped user may see none)."""
        return bool(self.required or self.committed or self.received or self.project_count)

    @property
    def ranking_chart(self) -> SafeString:
        return ranking_chart(self.rankings, self.run.grade_bands if self.run else None)

    @property
    def stage_legend(self) -> SafeString:
        return stage_legend(self.stages)

    @property
    def top_rows(self) -> SafeString:
        return end_rows(self.top, self.program.code, self.run.year) if self.run else SafeString("")

    @property
    def bottom_rows(self) -> SafeString:
        return end_rows(self.bottom, self.program.code, self.run.year) if self.run else SafeString("")

    @property
    def warning_items(self) -> SafeString:
        return warning_items(self.warnings_shown)


def _latest_run_ids() -> Subquery:
    return Subquery(
        EvaluationRun.objects.filter(program=OuterRef("pk"), status=RunStatus.SUCCEEDED)
        .order_by("-year", "-finished_at", "-pk")
        .values("pk")[:1]
    )


#: The columns the overview shows of each row it reads (the rest — a ranking's reasons, a scorecard's measures, a
#: framework's indicators — stay in the database: decoding them was most of the page's time).
PROGRAM_SHOWN = ("pk", "code", "name", "name_en", "start_year", "end_year")
RUN_SHOWN = ("pk", "program_id", "year", "finished_at", "framework__version", "framework__grade_bands")
NAMES = ("name", "name_en")
RANKING_SHOWN = ("run_id", "organization_id", "score", "grade", "rank", *(f"organization__{n}" for n in NAMES))
WARNING_SHOWN = (
    "pk",
    "run_id",
    "pairing_id",
    "flags",
    *(f"pairing__assisting_organization__{n}" for n in NAMES),
    *(f"pairing__recipient_region__{n}" for n in NAMES),
)


#: The overview's statements, compiled once (`core.statements`): the programmes (public: one statement for the
#: users of a scope), the latest runs and their rankings by run ids, and the compliance warnings of a scope.
_PROGRAMMES = Statement(
    lambda user: (
        programs_visible_to(user)
        .select_related(None)
        .annotate(latest_run_id=_latest_run_ids())
        .order_by("start_year", "code")
        .values_list(*PROGRAM_SHOWN, "latest_run_id")
    )
)
_RUNS = ForIds(lambda ids: EvaluationRun.objects.filter(pk__in=ids).values_list(*RUN_SHOWN))
_PLACES = ForIds(lambda ids: Ranking.objects.filter(run_id__in=ids).order_by("rank", "pk").values_list(*RANKING_SHOWN))
_WARNINGS = ForIds(
    lambda ids, scope: (
        PairingScorecard.objects.filter(pairing_scope_q_of(scope, "pairing__"), run_id__in=ids)
        .exclude(flags=[])
        .order_by("pairing__assisting_organization__name", "pairing__recipient_region__code")
        .values_list(*WARNING_SHOWN)
    )
)


def national_dashboard(user: User) -> list[ProgrammeBlock]:
    """A block per programme, in six statements whatever the number of programmes, each compiled once per scope."""
    scope = scope_for(user)
    programs = [ProgrammeShown(*row) for row in _PROGRAMMES.rows(user, key=scope.key)]
    pairings = pairings_visible_to(user)
    money = pairing_figures.money_by_program(pairings, key=scope.key)
    stages = project_figures.scope_stage_counts_by_program(pairings, key=scope.key)
    run_ids = [p.latest_run_id for p in programs if p.latest_run_id]
    runs = {r[0]: LatestRun(*r) for r in _RUNS.rows(run_ids)}
    rankings: dict[int, list[Placed]] = defaultdict(list)
    for run_id, organization_id, points, grade, rank, name, name_en in _PLACES.rows(run_ids):
        rankings[run_id].append(Placed(run_id, organization_id, points, grade, rank, name_in_language(name, name_en)))
    warnings: dict[int, list[FlaggedCard]] = defaultdict(list)
    for pk, run_id, pairing_id, flags, org, org_en, region, region_en in _WARNINGS.rows(run_ids, scope, key=scope.key):
        warnings[run_id].append(
            FlaggedCard(
                pk, run_id, pairing_id, flags, name_in_language(org, org_en), name_in_language(region, region_en)
            )
        )

    blocks = []
    for p in programs:
        counts = stages.get(p.pk, project_figures.StageCounts())
        block = ProgrammeBlock(
            program=p,
            money=money.get(p.pk, pairing_figures.Money()),
            stages=[
                {
                    "key": key,
                    "label": str(STAGE_LABELS[key]),
                    "count": n,
                    "color": STAGE_COLORS[key],
                    "swatch": swatch(STAGE_COLORS[key]),
                }
                for key, n in counts.stages.items()
            ],
            project_count=counts.total,
        )
        run_id = p.latest_run_id
        if run_id:
            block.run = runs.get(run_id)
            block.rankings = rankings.get(run_id, [])
            block.warnings = warnings.get(run_id, [])
        blocks.append(block)
    return blocks


def totals(blocks: Sequence[ProgrammeBlock]) -> dict[str, Any]:
    """Every programme together: the money of the user's whole scope (`pairings.figures.total`), its projects and
    the warnings shown."""
    money = pairing_figures.total(b.money for b in blocks)
    return {
        "money": money,
        **money.as_dict(),
        "projects": sum(b.project_count for b in blocks),
        "warnings": sum(len(b.warnings) for b in blocks),
    }


# --- the home dashboard's panel ------------------------------------------------------------------------------------


#: The leaders of the latest runs, by run ids, with each run's year: compiled once (`core.statements`).
_LEADERS = ForIds(
    lambda ids: (
        Ranking.objects.filter(run_id__in=ids, rank__lte=ENDS)
        .order_by("rank", "pk")
        .values_list(*RANKING_SHOWN, "run__year")
    )
)


def evaluation_panel(request: HttpRequest) -> dict[str, Any]:
    """The latest ranking of each programme that has one: who leads, in two queries (the overview's programmes)."""
    user = cast(User, request.user)
    programs = [
        p for p in map(ProgrammeShown._make, _PROGRAMMES.rows(user, key=scope_for(user).key)) if p.latest_run_id
    ]
    leaders: dict[int, list[Placed]] = defaultdict(list)
    years: dict[int, int] = {}
    for run_id, organization_id, points, grade, rank, name, name_en, year in _LEADERS.rows(
        [p.latest_run_id for p in programs if p.latest_run_id]
    ):
        leaders[run_id].append(Placed(run_id, organization_id, points, grade, rank, name_in_language(name, name_en)))
        years[run_id] = year
    rows = []
    for p in programs:
        run_id = p.latest_run_id or 0
        rows.append({"program": p, "year": years.get(run_id), "leaders": leaders.get(run_id, [])})
    return {"rows": rows, "rows_html": leader_rows(rows)}


def leader_rows(rows: Sequence[dict[str, Any]]) -> SafeString:
    """The home panel's rows written in Python: what evaluation/dashboard_panel.html wrote per programme, element
    for element (tests/evaluation/test_home_panel_rows.py renders both) — the programme, its ranking's year, who leads it."""
    from django.urls import reverse
    from django.utils.formats import localize

    from .templatetags.evaluation_tags import grade_badge, score

    rankings = reverse("evaluation:rankings")
    nobody = format_html('<span class="text-body-secondary">{}</span>', _("Nobody ranked."))
    written = []
    for row in rows:
        program, year = row["program"], row["year"]
        shown = (
            format_html(
                '<a href="{}?program={}&amp;year={}">{}</a>', rankings, program.code, localize(year), localize(year)
            )
            if year
            else "—"
        )
        leading = format_html_join(
            "",
            '<span class="text-nowrap me-3">{}. {} <span class="text-body-secondary">{}</span> {}</span>',
            ((localize(r.rank), r.organization, score(r.score), grade_badge(r.grade)) for r in row["leaders"]),
        )
        written.append(
            format_html(
                '\n        <tr>\n          <td>{}</td>\n          <td>{}</td>\n          <td class="small">{}</td>\n'
                "        </tr>\n      ",
                program,
                shown,
                leading or nobody,
            )
        )
    return SafeString("".join(written))


# --- the page ------------------------------------------------------------------------------------------------------


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = cast(User, request.user)
    blocks = national_dashboard(user)
    return render(
        request,
        "evaluation/dashboard.html",
        {
            "blocks": blocks,
            "totals": totals(blocks),
            "is_national": scope_for(user).is_national,
            "may_run": may_run(user),
        },
    )
