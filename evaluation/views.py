"""Evaluation pages: runs with their progress (polled with htmx while they work), rankings with their reasons,
pairing scorecards and project scores explained line by line, and the ratings and expert scores officials give.
Reads go through `evaluation.selectors` (scoped), writes through `evaluation.services`; whatever lies outside
the user's scope answers 404, whatever the user may not do answers 403."""

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, ClassVar, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.paginator import Paginator
from django.db.models import (
    CharField,
    F,
    Func,
    IntegerField,
    OuterRef,
    QuerySet,
    StringAgg,
    Subquery,
    Value,
    prefetch_related_objects,
)
from django.db.models.expressions import OrderBy
from django.db.models.functions import Cast, Coalesce, JSONObject
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from core.api.bounds import BIGINT_MAX, SMALLINT_MAX
from core.api.routers import PLAIN_CODE
from core.errors import DomainError, NotFound, PermissionDenied
from core.forms import apply_domain_error
from core.list_filters import ListFilters, number_params
from core.models import name_in_language
from pairings.models import FundingRule, Pairing, Program
from pairings.selectors import programs_visible_to
from pairings.services import rules_in_force
from projects.models import Project
from projects.selectors import projects_visible_to
from projects.templatetags.project_tags import state_badge

from . import forms, policy, selectors, services
from .api.filters import RunFilter, WorklistFilter
from .measures import FINAL_STATES, SHARE_BASIS_NOTE
from .models import (
    EvaluationRun,
    IndicatorFramework,
    PairingScorecard,
    ProjectScore,
    Ranking,
    RunStatus,
    SatisfactionRating,
)
from .work import projects_to_score

RUNS_PER_PAGE = 25
ROWS_PER_PAGE = 50


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _handle(form: Any, action: Callable[[], Any]) -> Any | None:
    """Run a service: its refusals go on the form; a domain 404/403 becomes the page's 404/403."""
    try:
        return action()
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    except DomainError as exc:
        apply_domain_error(form, exc)
        return None


def _digits(value: str | None) -> int | None:
    """A run's id from the query string, None when it is not one (ASCII digits: `¹` is a digit to Python only)."""
    value = (value or "").strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


def _framework(run: EvaluationRun) -> IndicatorFramework:
    """The framework RUN used (loaded with the run), with its indicators (one query)."""
    framework = run.framework
    prefetch_related_objects([framework], "indicators")
    return framework


# --- runs ----------------------------------------------------------------------------------------------------


def _run_list_page(request: HttpRequest, form: forms.RunStartForm | None, programs: list[Program]) -> HttpResponse:
    filters = ListFilters(
        request,
        RunFilter,
        selectors.runs_visible_to(_user(request)),
        shown={"program": _("Programme"), "year": _("Year"), "status": _("Status")},
        choices={
            "program": [("", _("All programmes")), *((p.code, str(p)) for p in programs)],
            "status": [("", _("Any status")), *RunStatus.choices],
        },
    )
    page = filters.page(filters.qs.order_by("-created_at", "-id"), RUNS_PER_PAGE)
    return render(
        request,
        "evaluation/run_list.html",
        {"page": page, "filters": filters, "form": form, "all_programs": forms.ALL_PROGRAMS},
        status=filters.status,
    )


def _programs(user: User) -> list[Program]:
    return list(programs_visible_to(user).order_by("start_year", "code"))


@login_required
@require_GET
def run_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    programs = _programs(user)
    form = None
    if policy.may_run(user):
        form = forms.RunStartForm(programs=programs, initial={"year": timezone.localdate().year})
    return _run_list_page(request, form, programs)


@login_required
@require_POST
def run_start(request: HttpRequest) -> HttpResponse:
    """Start a run of a programme's year (or of every programme's); a refusal comes back on the form with what
    was typed."""
    user = _user(request)
    decision = policy.may_run(user)
    if not decision:
        raise DjangoPermissionDenied(decision.message)
    programs = _programs(user)
    form = forms.RunStartForm(request.POST, programs=programs)
    if form.is_valid():
        code, year = form.cleaned_data["program"], form.cleaned_data["year"]
        if code == forms.ALL_PROGRAMS:
            started = _handle(form, lambda: services.runs_start_all(year=year, by=user))
            if started is not None:
                new = sum(1 for _run, created in started if created)
                messages.success(
                    request,
                    _("Runs for %(year)s: %(new)s started, %(old)s already under way.")
                    % {"year": started[0][0].year, "new": new, "old": len(started) - new},
                )
                return redirect(f"{reverse('evaluation:run_list')}?year={started[0][0].year}")
        else:
            program = next(p for p in programs if p.code == code)
            result = _handle(form, lambda: services.run_start(program=program, year=year, by=user))
            if result is not None:
                run, created = result
                what = {"program": program, "year": run.year}
                if created:
                    messages.success(request, _("The run of %(program)s %(year)s has started.") % what)
                else:
                    messages.info(request, _("A run of %(program)s %(year)s is already under way: here it is.") % what)
                return redirect("evaluation:run_detail", pk=run.pk)
    return _run_list_page(request, form, programs)


def _run_context(run: EvaluationRun) -> dict[str, Any]:
    return {"run": run, "chunks": list(run.chunks.order_by("index"))}


@login_required
@require_GET
def run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    run = get_object_or_404(selectors.runs_visible_to(user), pk=pk)
    others = (
        selectors.runs_visible_to(user)
        .filter(status=RunStatus.SUCCEEDED, program_id=run.program_id)
        .exclude(pk=run.pk)
        .order_by("-year", "-finished_at", "-pk")[:50]
    )
    return render(
        request, "evaluation/run_detail.html", {**_run_context(run), "others": others, "compared": run.compared_with}
    )


@login_required
@require_GET
def run_progress(request: HttpRequest, pk: int) -> HttpResponse:
    """The fragment htmx polls while a run works: its row in the list (`?part=row`) or its status block on its
    page. Once the run has finished the fragment comes back without the trigger, and the polling stops."""
    run = get_object_or_404(selectors.runs_visible_to(_user(request)), pk=pk)
    if request.GET.get("part") == "row":
        return render(request, "evaluation/includes/run_row.html", {"run": run})
    return render(request, "evaluation/includes/run_status.html", _run_context(run))


@login_required
@require_GET
def run_compare(request: HttpRequest) -> HttpResponse:
    """Two runs' rankings side by side: each organization's score and rank in both, and the difference,
    in the order of the second run."""
    user = _user(request)
    visible = selectors.runs_visible_to(user)
    a_id, b_id = _digits(request.GET.get("a")), _digits(request.GET.get("b"))
    if (request.GET.get("a") and a_id is None) or (request.GET.get("b") and b_id is None):
        raise Http404
    a = get_object_or_404(visible, pk=a_id) if a_id else None
    b = get_object_or_404(visible, pk=b_id) if b_id else None
    rows: list[dict[str, Any]] = []
    if a is not None and b is not None:
        in_a = {r.organization_id: r for r in selectors.rankings_of(a)}
        in_b = list(selectors.rankings_of(b))
        for r in in_b:
            before = in_a.pop(r.organization_id, None)
            rows.append(
                {
                    "organization": r.organization,
                    "a": before,
                    "b": r,
                    "diff": r.score - before.score if before else None,
                    "moved": before.rank - r.rank if before else None,
                }
            )
        for before in sorted(in_a.values(), key=lambda x: x.rank):
            rows.append({"organization": before.organization, "a": before, "b": None, "diff": None, "moved": None})
    choices = visible.filter(status=RunStatus.SUCCEEDED).order_by("-year", "-finished_at", "-pk")[:100]
    return render(request, "evaluation/run_compare.html", {"a": a, "b": b, "rows": rows, "choices": choices})


# --- rankings ------------------------------------------------------------------------------------------------


@login_required
@require_GET
def rankings(request: HttpRequest) -> HttpResponse:
    """A programme-year's ranking from its latest succeeded run (or the run named by `?run=`), with trend arrows
    against the run it was compared with, grades, and the reasons in words."""
    user = _user(request)
    done = selectors.runs_visible_to(user).filter(status=RunStatus.SUCCEEDED)
    programs = list(
        programs_visible_to(user)
        .filter(pk__in=done.values("program_id"))
        .annotate(
            latest=Subquery(done.filter(program=OuterRef("pk")).order_by("-finished_at").values("finished_at")[:1]),
            # The years it has a succeeded run of, read with it ("2015,2016").
            run_years=Subquery(
                done.filter(program=OuterRef("pk"))
                .order_by()
                .values("program")
                .annotate(years=StringAgg(Cast("year", CharField()), Value(","), distinct=True))
                .values("years")
            ),
        )
        .order_by("start_year", "code")
    )
    code = request.GET.get("program", "").strip()
    program: Program | None
    if code:
        program = next((p for p in programs if p.code == code), None)
        if program is None:
            # A programme with no succeeded run yet is an empty page; one that does not exist is not found, nor
            # is a code no programme can have (a NUL byte would fail in the database).
            if not re.fullmatch(PLAIN_CODE, code):
                raise Http404
            program = get_object_or_404(programs_visible_to(user), code=code)
    else:
        program = max(programs, key=lambda p: p.latest, default=None)  # type: ignore[attr-defined]
    years: list[int] = []
    run = None
    if program is not None:
        # A programme not among those with a succeeded run has none: no year.
        run_years = getattr(program, "run_years", None) or ""
        years = sorted({int(y) for y in run_years.split(",") if y}, reverse=True)
    asked, problems = number_params(request, {"year": (1, SMALLINT_MAX), "run": (1, BIGINT_MAX)})
    year, run_id = asked["year"], asked["run"]
    if year is None and years and not problems:
        year = years[0]
    if program is not None and year in years and not problems:
        if run_id is not None:
            run = get_object_or_404(done.filter(program=program, year=year), pk=run_id)
        else:
            run = selectors.latest_run(program, year)
    rows: list[Any] = []
    indicators: dict[str, Any] = {}
    cards: dict[int, list[tuple[str, str]]] = defaultdict(list)
    compared = None
    if run is not None:
        rows = list(selectors.rankings_of(run))
        indicators = {i.code: i for i in run.framework.indicators.all()}
        # Rankings are published to everyone; each organization's scorecards only to those who see its pairings.
        # Each is a link and its region's name: plain values, not a scorecard with its measures and six relations.
        # (A region's name as `Region.__str__` gives it: `name_in_language`.)
        first = reverse("evaluation:scorecard_detail", args=[1])
        prefix = first[: first.rindex("/1/") + 1]
        label = _("scorecard: %(region)s")
        for card_id, organization_id, name, name_en in (
            selectors.scorecards_visible_to(user)
            .filter(run=run, pairing__parent__isnull=True)
            .order_by("pairing__recipient_region__code")
            .values_list(
                "pk", "organization_id", "pairing__recipient_region__name", "pairing__recipient_region__name_en"
            )
        ):
            region = name_in_language(name, name_en)
            cards[organization_id].append((f"{prefix}{card_id}/", label % {"region": region}))
        if run.compared_with_id:
            # Its id, year and end are shown: the run alone, not joined to its programme, framework and requester.
            compared = selectors.runs_visible_to(user).select_related(None).filter(pk=run.compared_with_id).first()
    return render(
        request,
        "evaluation/rankings.html",
        {
            "programs": programs,
            "program": program,
            "years": years,
            "year": year,
            "run": run,
            "compared": compared,
            "rows": [(r, cards.get(r.organization_id, [])) for r in rows],
            "indicators": indicators,
            "problems": [(name, "", " ".join(msgs)) for name, msgs in problems.items()],
        },
        status=400 if problems else 200,
    )


# --- scorecards ----------------------------------------------------------------------------------------------

PROJECT_SORTS = {
    "code": F("project__code"),
    "title": F("project__title"),
    "score": F("score"),
    "state": F("project__state"),
}


@dataclass(frozen=True, slots=True)
class _ScoredProject:
    """A row of a scorecard's project table, from plain values (a page of 50 would otherwise build 400 model
    instances over eight joined tables). It answers what the row's template and `not_enough_data_badge` read."""

    FIELDS: ClassVar = (
        "pk",
        "project__code",
        "project__title",
        "project__state",
        "score",
        "status",
        "is_final",
        "coverage",
    )

    pk: int
    url: str
    code: str
    title: str
    state_badge: str
    score: float | None
    has_enough_data: bool
    is_final: bool
    coverage: float | None
    run: EvaluationRun


def _scored_projects(rows: Any, run: EvaluationRun) -> list[_ScoredProject]:
    """The page's rows: each link from one reversed URL, each state's badge written once (as every project list
    writes it, `state_badge`), and whether it has enough data by `ProjectScore.has_enough_data` itself."""
    first = reverse("evaluation:project_score_detail", args=[1])
    prefix = first[: first.rindex("/1/") + 1]
    badges: dict[str, str] = {}
    enough: dict[str, bool] = {}
    out = []
    for pk, code, title, state, score, status, is_final, coverage in rows:
        if state not in badges:
            badges[state] = state_badge(state, Project(state=state).get_state_display())
        if status not in enough:
            enough[status] = ProjectScore(status=status).has_enough_data
        out.append(
            _ScoredProject(
                pk=pk,
                url=f"{prefix}{pk}/",
                code=code,
                title=title,
                state_badge=badges[state],
                score=score,
                has_enough_data=enough[status],
                is_final=is_final,
                coverage=coverage,
                run=run,
            )
        )
    return out


def _up_to_page_score(
    projects: QuerySet[ProjectScore], order: OrderBy, offset: int, descending: bool
) -> QuerySet[ProjectScore]:
    """The page of PROJECTS (ordered by score, ties by project code) from OFFSET, reading only the scores that
    reach its last one (read by a subquery of the same statement): the order's tie-break would otherwise join every
    score of the pairing (700 at scale) to its project to show 50. Every row up to the page's last has a score at
    least as good as that row's, so the page is the same slice of those rows; the rows without a score come last
    either way, so keeping them changes no page; when the page's last score is null (or the page is not full),
    every row is kept. A row without a score counts as the worst score: it is kept only when the page's last row
    has none (the page reaches them), not joined to its project for nothing otherwise."""
    last = Subquery(projects.order_by(order).values("score")[offset + 49 : offset + 50])
    worst = Value(float("-inf") if descending else float("inf"))
    score, bound = Coalesce(F("score"), worst), Coalesce(last, worst)
    reached = GreaterThanOrEqual(score, bound) if descending else LessThanOrEqual(score, bound)
    return projects.filter(reached)[offset : offset + 50]


def _page_rows(
    projects: QuerySet[ProjectScore], order: OrderBy, by_score: bool, descending: bool, number: int
) -> list[tuple[Any, ...]]:
    """The rows (`_ScoredProject.FIELDS`) of page NUMBER of PROJECTS, each ending with how many PROJECTS there are:
    one statement for the count and the page (by score, `_up_to_page_score`); none when the page has no row. The
    count is a subquery of the scores alone: the page's values would otherwise join every counted score to its
    project."""
    offset = (number - 1) * 50
    count = Func(F("pk"), function="COUNT", output_field=IntegerField())
    counted = projects.annotate(total=Subquery(projects.order_by().annotate(n=count).values("n")))
    rows = _up_to_page_score(counted, order, offset, descending) if by_score else counted[offset : offset + 50]
    return list(rows.values_list(*_ScoredProject.FIELDS, "total"))


def _page_asked(value: str | None) -> int | None:
    """The page number VALUE asks for when it is plainly one (none asks for the first), else None."""
    if not value:
        return 1
    number = _digits(value)
    return number if number and number < 10_000_000 else None


def _ranked() -> Subquery:
    """A scorecard's party's rank in its run, read with the card: the figures its page shows of its `Ranking`
    (the run ranks a party once), None when the run did not rank it."""
    return Subquery(
        Ranking.objects.filter(run=OuterRef("run_id"), organization=OuterRef("organization_id"))
        .order_by()
        .values(figures=JSONObject(pk="pk", rank="rank", previous_rank="previous_rank"))[:1]
    )


#: The programme minimums a scorecard's page shows of its run's rule.
MINIMUMS = ("min_county_share", "min_livelihood_share")


def _minimums() -> dict[str, Subquery]:
    """The minimums of the rule `current_rule` gives for a scorecard's run (its programme and year), read with the
    card (`rule_<name>`, None when no rule applies): a statement less than asking for the rule."""
    rules = rules_in_force(FundingRule.objects.filter(program=OuterRef("run__program")), OuterRef("run__year"))
    return {f"rule_{name}": Subquery(rules.values(name)[:1]) for name in MINIMUMS}


@login_required
@require_GET
def scorecard_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    # The card with its run (its programme and framework), its party's rank and its rule's minimums; then its
    # pairing with the names the page shows (with the history). Two statements of a few tables each: joined to all
    # eight tables, one statement cost the database some 3 ms to plan. (Not its pairing's programme: the run's is
    # the same one.)
    card = get_object_or_404(
        selectors.scorecards_visible_to(user)
        .select_related(None)
        .select_related("run__program", "run__framework")
        .annotate(ranked=_ranked(), **_minimums()),
        pk=pk,
    )
    # Each shows its run, its year and when it finished, and its score (not its measures); the pairing comes with
    # them (every one is of the card's pairing): a statement less. Read apart when no succeeded run scored it yet.
    history = list(
        selectors.score_history(card.pairing_id)
        .select_related("pairing__assisting_organization", "pairing__recipient_region")
        .only("score", "run__year", "run__finished_at", "pairing__assisting_organization", "pairing__recipient_region")
    )
    card.pairing = (
        history[0].pairing
        if history
        else Pairing.objects.select_related("assisting_organization", "recipient_region").get(pk=card.pairing_id)
    )
    if card.organization_id == card.pairing.assisting_organization_id:  # as a rule: the pairing's own party
        card.organization = card.pairing.assisting_organization
    run = card.run
    framework = _framework(run)
    lines = selectors.explain_score(framework, "pairing", card.measures)
    ranked = card.ranked  # type: ignore[attr-defined]
    rank = None if ranked is None else Ranking(run=run, organization=card.organization, **ranked)
    sort = request.GET.get("sort", "-score")
    if sort.lstrip("-") not in PROJECT_SORTS:
        sort = "-score"
    key = PROJECT_SORTS[sort.lstrip("-")]
    order = key.desc(nulls_last=True) if sort.startswith("-") else key.asc(nulls_last=True)
    projects = (
        selectors.project_scores_visible_to(user)
        .select_related(None)  # the rows are read as values (`_ScoredProject`)
        .filter(run=run, pairing_id=card.pairing_id)
        .order_by(order, "project__code")
    )
    # 50 at a time: a province's pairing has thousands of scored projects at scale. The asked page's rows come with
    # how many there are, in one statement (`_page_rows`); a page with no row (past the last) is asked again the
    # paginator's way, which turns it into the last page.
    paginator = Paginator(projects, 50)
    descending, asked = sort.startswith("-"), _page_asked(request.GET.get("page"))
    by_score = sort.lstrip("-") == "score"
    found = [] if asked is None else _page_rows(projects, order, by_score, descending, asked)
    if found:
        paginator.count = found[0][-1]  # type: ignore[misc]
        page = paginator.get_page(asked)
        values: Any = [row[:-1] for row in found]
    else:
        page = paginator.get_page(request.GET.get("page"))
        chosen = cast(QuerySet[ProjectScore], page.object_list)
        if by_score:
            chosen = _up_to_page_score(projects, order, (page.number - 1) * 50, descending)
        values = chosen.values_list(*_ScoredProject.FIELDS)
    page.object_list = _scored_projects(values, run)  # type: ignore[assignment]
    return render(
        request,
        "evaluation/scorecard.html",
        {
            "card": card,
            "run": run,
            "framework": framework,
            "lines": lines,
            "indicators": {i.code: i for i in framework.indicators.all()},
            "total": selectors.explained_total(lines),
            "grade": selectors.grade_of(framework, card.score),
            "rank": rank,
            "rule": SimpleNamespace(**{name: getattr(card, f"rule_{name}") for name in MINIMUMS}),
            "share_basis_note": SHARE_BASIS_NOTE,
            "history": history,
            "chart": [(f"{h.run.year} #{h.run_id}", h.score) for h in history],
            "page": page,
            "sort": sort,
        },
    )


# --- project scores, expert scores and satisfaction ------------------------------------------------------------


def _assessment(request: HttpRequest, project: Project) -> tuple[dict[str, Any], HttpResponse | None]:
    """The expert-score forms (evaluators) and the satisfaction form (recipient officers) of PROJECT; on POST the
    one named by `form` goes to its service. Returns the page's context, or a redirect once it is saved."""
    user = _user(request)
    posted = request.POST.get("form", "") if request.method == "POST" else ""
    may_score, may_rate = policy.may_score(user), policy.may_rate(user)
    indicators = services.expert_indicators(project) if may_score else []
    # One's own expert scores and rating are read only for the forms that show them.
    mine = {
        e.indicator_code: e
        for e in (
            selectors.expert_scores_visible_to(user).filter(project=project, evaluator=user) if indicators else []
        )
    }
    expert_forms = []
    for ind in indicators:
        prefix = f"expert-{ind.code}"
        given = mine.get(ind.code)
        form = forms.ExpertScoreForm(
            request.POST if posted == prefix else None,
            prefix=prefix,
            initial={"score": given.score, "comment": given.comment} if given else {},
        )
        expert_forms.append((ind, form, given))
    rating = selectors.ratings_visible_to(user).filter(project=project, rated_by=user).first() if may_rate else None
    rating_form = forms.SatisfactionForm(
        request.POST if posted == "rating" else None,
        prefix="rating",
        initial={"score": str(rating.score), "comment": rating.comment} if rating else {},
    )
    here = request.get_full_path()
    if posted.startswith("expert-"):
        code = posted.removeprefix("expert-")
        form = next((f for i, f, _g in expert_forms if i.code == code), None) or forms.ExpertScoreForm(
            request.POST, prefix=posted
        )
        if form.is_valid():
            d = form.cleaned_data
            saved = _handle(
                form,
                lambda: services.expert_score_set(
                    project=project, by=user, indicator_code=code, score=d["score"], comment=d["comment"]
                ),
            )
            if saved is not None:
                messages.success(request, _("Expert score saved. It counts from the next evaluation run."))
                return {}, redirect(here)
    elif posted == "rating":
        if rating_form.is_valid():
            d = rating_form.cleaned_data
            saved = _handle(
                rating_form,
                lambda: services.satisfaction_rate(project=project, by=user, score=d["score"], comment=d["comment"]),
            )
            if saved is not None:
                messages.success(request, _("Satisfaction rated. It counts from the next evaluation run."))
                return {}, redirect(here)
    elif posted:
        raise Http404
    return {
        "project": project,
        "expert_forms": expert_forms,
        "may_score": may_score,
        "may_rate": may_rate,
        "can_rate": may_rate and project.state in FINAL_STATES,
        "rating": rating,
        "rating_form": rating_form,
        "posted": posted,
    }, None


def _with_card(user: User, scores: QuerySet[ProjectScore]) -> QuerySet[ProjectScore]:
    """SCORES, each with the id of its pairing's scorecard in its run that USER sees (`card_id`, None if none)."""
    cards = selectors.scorecards_visible_to(user).filter(run=OuterRef("run_id"), pairing_id=OuterRef("pairing_id"))
    return scores.annotate(card_id=Subquery(cards.order_by("pk").values("pk")[:1]))


def _card_of(score: ProjectScore) -> PairingScorecard | None:
    """The scorecard of SCORE's pairing in its run (read with the score, `_with_card`), as far as the breadcrumb
    reads it: its id, and its pairing (the score's own, already loaded with the names it shows)."""
    card_id = score.card_id  # type: ignore[attr-defined]
    if card_id is None:
        return None
    return PairingScorecard(pk=card_id, pairing=score.pairing)


def _scores_with_card(user: User) -> QuerySet[ProjectScore]:
    """The project scores USER sees, each with its run (its programme and framework) and its scorecard's id
    (`_with_card`); its project and the names it shows are read after it (`_scored_project`): one statement joining
    all seven tables cost the database more to plan than a second round trip."""
    scores = (
        selectors.project_scores_visible_to(user).select_related(None).select_related("run__program", "run__framework")
    )
    return _with_card(user, scores)


def _scored_project(score: ProjectScore) -> Project:
    """SCORE's project with its pairing and the pairing's names (that its page shows); the score's pairing is the
    same one when it is the project's."""
    project = Project.objects.select_related("pairing__assisting_organization", "pairing__recipient_region").get(
        pk=score.project_id
    )
    score.project = project
    if project.pairing_id == score.pairing_id:
        score.pairing = project.pairing
    return project


def _project_score_page(request: HttpRequest, project: Project, score: ProjectScore | None) -> HttpResponse:
    user = _user(request)
    context, done = _assessment(request, project)
    if done is not None:
        return done
    history = list(
        selectors.project_scores_visible_to(user)
        .filter(project=project, run__status=RunStatus.SUCCEEDED)
        # A row shows its run, and its framework's required coverage when it has too little data.
        .select_related(None)
        .select_related("run__framework")
        .defer("measures")
        .order_by("run__year", "run__finished_at", "run_id")
    )
    if score is None and history:
        context["latest"] = history[-1]
    if score is not None:
        framework = _framework(score.run)
        lines = selectors.explain_score(framework, "project", score.measures)
        context.update(
            score=score,
            framework=framework,
            lines=lines,
            total=selectors.explained_total(lines),
            grade=selectors.grade_of(framework, score.score),
            card=_card_of(score),
        )
    context.update(history=history, chart=[(f"{h.run.year} #{h.run_id}", h.score) for h in history])
    return render(request, "evaluation/project_score.html", context)


@login_required
def project_score_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    score = get_object_or_404(_scores_with_card(user), pk=pk)
    return _project_score_page(request, _scored_project(score), score)


@login_required
def project_latest_score(request: HttpRequest, project_id: int) -> HttpResponse:
    """The score of PROJECT in the latest succeeded run that scored it; a project no run has scored yet shows its
    page saying so, with its expert scores and ratings (404 only for a project the user may not see)."""
    user = _user(request)
    score = (
        _scores_with_card(user)
        .filter(project_id=project_id, run__status=RunStatus.SUCCEEDED)
        .order_by("-run__finished_at", "-run_id")
        .first()
    )
    if score is None:
        return project_assess(request, project_id)
    return _project_score_page(request, _scored_project(score), score)


@login_required
def project_assess(request: HttpRequest, project_id: int) -> HttpResponse:
    """Expert scores and satisfaction for a project, whether or not a run has scored it yet."""
    project = get_object_or_404(
        projects_visible_to(_user(request)).select_related(
            "pairing__program", "pairing__assisting_organization", "pairing__recipient_region"
        ),
        pk=project_id,
    )
    return _project_score_page(request, project, None)


# --- ratings worklist ----------------------------------------------------------------------------------------


def _worklist_rows(qs: QuerySet[Project]) -> QuerySet[Project]:
    return qs.select_related("pairing__program", "pairing__assisting_organization", "pairing__recipient_region")


@login_required
@require_GET
def ratings(request: HttpRequest) -> HttpResponse:
    """What waits for the user: accepted projects to rate (recipient officers), projects to score (evaluators)."""
    user = _user(request)
    filters = ListFilters(
        request,
        WorklistFilter,
        projects_visible_to(user),
        shown={"program": _("Programme")},
        choices={"program": [("", _("All programmes")), *((p.code, str(p)) for p in _programs(user))]},
    )
    visible = filters.qs
    to_rate = to_score = None
    if policy.may_rate(user):
        mine = SatisfactionRating.objects.filter(project=OuterRef("pk"), rated_by=user)
        rate_rows = (
            _worklist_rows(visible.filter(state__in=FINAL_STATES))
            .annotate(my_rating=Subquery(mine.values("score")[:1]))
            .order_by(F("my_rating").asc(nulls_first=True), "-updated_at", "-id")
        )
        to_rate = filters.page(rate_rows, ROWS_PER_PAGE)
    if policy.may_score(user):
        # The same items as "My tasks" and the home count (evaluation.work), with this page's filters.
        score_rows = projects_to_score(user, visible).order_by("-updated_at", "-id")
        to_score = filters.page(score_rows, ROWS_PER_PAGE, "spage")
    return render(
        request,
        "evaluation/ratings.html",
        {"to_rate": to_rate, "to_score": to_score, "filters": filters},
        status=filters.status,
    )
