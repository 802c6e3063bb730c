"""Pages for officials: programmes, pairings with their mandates, flows and people, and the forms that
record them. Each form posts to a service; a refusal is shown on the fields with what was typed kept."""

from collections.abc import Callable
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.forms import RegionPicker
from accounts.models import Organization, User
from core.errors import DomainError, NotFound, PermissionDenied
from core.forms import add_more_problems, apply_domain_error
from core.list_filters import ListFilters
from core.models import HistoryEvent

from . import charts, figures, forms, policy, selectors, services
from .api.filters import FiscalRevenueFilter, PairingFilter
from .models import (
    ContractingMode,
    FlowKind,
    FundingRule,
    Pairing,
    PairingStatus,
    Program,
)


def _handle(form: Any, action: Callable[[], Any]) -> Any | None:
    """Run a service; put its refusal on the form. Domain 404/403 become the pages' 404/403."""
    try:
        return action()
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except PermissionDenied as exc:
        raise DjangoPermissionDenied(exc.message) from exc
    except DomainError as exc:
        apply_domain_error(form, exc)
        return None


def _user(request: HttpRequest) -> User:
    """The signed-in official (every view here is behind login_required)."""
    return cast(User, request.user)


def _pairing_or_404(request: HttpRequest, pk: int) -> Pairing:
    return get_object_or_404(selectors.pairings_visible_to(_user(request)), pk=pk)


# --- programmes --------------------------------------------------------------------------------------------


@login_required
def program_list(request: HttpRequest) -> HttpResponse:
    visible = selectors.pairing_scope_q(_user(request), "pairings__")
    programs = selectors.programs_visible_to(_user(request)).annotate(
        pairing_count=Count("pairings", filter=visible, distinct=True),
        active_count=Count("pairings", filter=visible & Q(pairings__status=PairingStatus.ACTIVE), distinct=True),
    )
    rules = _latest_rules()
    rows = [{"program": p, "rule": rules.get(p.pk)} for p in programs]
    return render(request, "pairings/program_list.html", {"rows": rows})


def _latest_rules() -> dict[int, FundingRule]:
    """The current rule of every programme (programmes are few: one query, the last version wins)."""
    latest: dict[int, FundingRule] = {}
    for r in FundingRule.objects.order_by("program_id", "version"):
        latest[r.program_id] = r
    return latest


@login_required
def program_detail(request: HttpRequest, code: str) -> HttpResponse:
    program = get_object_or_404(selectors.programs_visible_to(_user(request)), code=code)
    pairings = selectors.pairings_visible_to(_user(request)).filter(program=program)
    ordered = list(pairings.order_by("assisting_organization__name", "recipient_region__code"))
    money = figures.money_by_pairing(p.pk for p in ordered)
    rows = [{"pairing": p, "money": money[p.pk], "fulfilment": money[p.pk].fulfilment} for p in ordered]
    chart_rows = [
        {"label": f"{p.assisting_organization} → {p.recipient_region}", "fulfilment": money[p.pk].fulfilment}
        for p in ordered
        if money[p.pk].required
    ]
    return render(
        request,
        "pairings/program_detail.html",
        {
            "program": program,
            "rules": program.rules.select_related("created_by", "organization")
            .prefetch_related("sources")
            .order_by("-version"),
            "sources": program.sources.all(),
            "rows": rows,
            # The programme's money in the user's scope, all years: the same figure as the evaluation overview's.
            "total": figures.money(pairings),
            "chart": charts.fulfilment_bars(chart_rows),
            "history": HistoryEvent.objects.for_object(program).select_related("actor", "content_type")[:20],
        },
    )


# --- pairings ----------------------------------------------------------------------------------------------


@login_required
def pairing_list(request: HttpRequest) -> HttpResponse:
    visible = selectors.pairings_visible_to(_user(request))
    orgs = Organization.objects.filter(pairings__in=visible).distinct().order_by("path")
    filters = ListFilters(
        request,
        PairingFilter,
        visible,
        shown={
            "search": _("Region, party or programme"),
            "program": _("Programme"),
            "assisting_organization": _("Assisting organization"),
            "recipient_region": _("Recipient region"),
            "status": _("Status"),
            "contracting_mode": _("Contracting mode"),
        },
        choices={
            "program": _programme_choices(),
            "assisting_organization": [("", _("All assisting organizations")), *((o.pk, str(o)) for o in orgs)],
            "status": [("", _("Any status")), *PairingStatus.choices],
            "contracting_mode": [("", _("Any mode")), *ContractingMode.choices],
        },
        widgets={"recipient_region": RegionPicker()},
    )
    # Sorted by a column as the API's `ordering` sorts (selectors.pairing_orderings); an unknown sort falls back to
    # the default order: it changes how the rows are shown, never which.
    sort = request.GET.get("sort", "")
    orderings = selectors.pairing_orderings()
    key = orderings.get(sort.lstrip("-"))
    if key is None:
        sort = ""
        qs = filters.qs.order_by(
            "program__start_year", "program__code", "assisting_organization__name", "recipient_region__code", "id"
        )
    elif sort.startswith("-"):
        qs = filters.qs.order_by(key.desc(nulls_last=True), "-id")
    else:
        qs = filters.qs.order_by(key.asc(nulls_last=True), "id")
    page = filters.page(qs, 50)
    money = figures.money_by_pairing(p.pk for p in page)
    rows = [{"pairing": p, "money": money[p.pk], "bar": charts.bar(money[p.pk].fulfilment)} for p in page]
    return render(
        request,
        "pairings/pairing_list.html",
        {
            "page": page,
            "rows": rows,
            "filters": filters,
            "sort": sort,
            "sort_kept": {"sort": sort} if sort else {},
            "can_create": policy.may_create_pairing(_user(request), None),
        },
        status=filters.status,
    )


def _programme_choices() -> list[tuple[str, str]]:
    """The programmes as a filter's choices (by code, as `program` takes them), after "All programmes"."""
    return [("", _("All programmes")), *((p.code, str(p)) for p in Program.objects.order_by("start_year"))]


@login_required
def pairing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    pairing = _pairing_or_404(request, pk)
    mandates: list[Any] = list(selectors.mandates_for(pairing))
    for m in mandates:
        m.fulfilment = figures.fulfilment(m.received, m.funds_required)
        m.bar = charts.bar(m.fulfilment)
    chart = charts.mandate_vs_received(
        [
            {"year": m.year, "required": m.funds_required, "committed": m.committed, "received": m.received}
            for m in mandates
        ]
    )
    children = selectors.pairings_visible_to(_user(request)).filter(parent=pairing)
    breakdowns = [selectors.breakdown(m) for m in mandates if pairing.children.exists()]
    return render(
        request,
        "pairings/pairing_detail.html",
        {
            "pairing": pairing,
            "sources": pairing.sources.all(),
            "mandates": mandates,
            "chart": chart,
            "children": children,
            "breakdowns": [b for b in breakdowns if b["children"]],
            # The pairing's own money and people, all years (its children's are on their own pages).
            "money": figures.pairing_money(pairing),
            "people": figures.pairing_people(pairing),
            "flows": pairing.fund_flows.select_related("recorded_by", "pledge").order_by("-date", "-id")[:25],
            "flow_count": figures.flow_count(pairing),
            "deployments": pairing.deployments.order_by("-start_date")[:20],
            "trainings": pairing.trainings.order_by("-start_date")[:20],
            "history": HistoryEvent.objects.for_object(pairing).select_related("actor", "content_type")[:30],
            "actions": policy.allowed_actions(_user(request), pairing),
            "visible_parent": _visible_parent(request, pairing),
        },
    )


def _visible_parent(request: HttpRequest, pairing: Pairing) -> Pairing | None:
    """The parent pairing, when the user may see it (a city's official may not see the province's)."""
    if pairing.parent_id is None:
        return None
    return selectors.pairings_visible_to(_user(request)).filter(pk=pairing.parent_id).first()


@login_required
def pairing_create(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    parents = selectors.pairings_visible_to(user).filter(status=PairingStatus.ACTIVE)
    initial: dict[str, Any] = {"start_date": timezone.localdate()}
    parent_id = request.GET.get("parent", "")
    if parent_id.isascii() and parent_id.isdigit() and len(parent_id) <= 18:  # a prefill: anything else is ignored
        parent = parents.filter(pk=parent_id).first()
        if parent:
            initial.update(parent=parent, program=parent.program)
    form = forms.PairingForm(request.POST or None, initial=initial, parents=parents)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        pairing = _handle(
            form,
            lambda: services.pairing_create(
                by=user,
                program=d["program"],
                assisting_organization=d["assisting_organization"],
                recipient_region=d["recipient_region"],
                start_date=d["start_date"],
                end_date=d["end_date"],
                parent=d["parent"],
                contracting_mode=d["contracting_mode"] or None,
                mode_reason=d["mode_reason"],
                source=d["source"],
                note=d["note"],
            ),
        )
        if pairing is not None:
            messages.success(request, _("Pairing %(pairing)s created.") % {"pairing": pairing})
            return redirect("pairings:pairing_detail", pk=pairing.pk)
    return render(
        request, "pairings/form.html", {"form": form, "title": _("New pairing"), "back": "pairings:pairing_list"}
    )


@login_required
def pairing_edit(request: HttpRequest, pk: int) -> HttpResponse:
    pairing = _pairing_or_404(request, pk)
    form = forms.PairingEditForm(
        request.POST or None,
        initial={
            "start_date": pairing.start_date,
            "end_date": pairing.end_date,
            "contracting_mode": pairing.contracting_mode,
            "mode_reason": pairing.mode_reason,
            "note": pairing.note,
        },
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        done = _handle(
            form,
            lambda: services.pairing_update(
                by=_user(request),
                pairing=pairing,
                start_date=d["start_date"],
                end_date=d["end_date"],
                contracting_mode=d["contracting_mode"],
                mode_reason=d["mode_reason"],
                note=d["note"],
            ),
        )
        if done is not None:
            messages.success(request, _("Pairing saved."))
            return redirect("pairings:pairing_detail", pk=pairing.pk)
    return render(request, "pairings/form.html", {"form": form, "pairing": pairing, "title": _("Edit pairing")})


@login_required
def pairing_end(request: HttpRequest, pk: int) -> HttpResponse:
    pairing = _pairing_or_404(request, pk)
    form = forms.PairingEndForm(request.POST or None, initial={"end_date": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        done = _handle(
            form,
            lambda: services.pairing_end(
                by=_user(request),
                pairing=pairing,
                end_date=d["end_date"],
                comment=d["comment"],
            ),
        )
        if done is not None:
            messages.success(request, _("The pairing has ended. Its history, mandates and flows are kept."))
            return redirect("pairings:pairing_detail", pk=pairing.pk)
    return render(
        request,
        "pairings/form.html",
        {
            "form": form,
            "pairing": pairing,
            "title": _("End pairing"),
            "danger": True,
            "explain": _(
                "Ending keeps the pairing's history, mandates, flows and projects; nothing more can be recorded on it."
            ),
        },
    )


def _pairing_form_view(
    form_class: type,
    title: str,
    run: Callable[..., Any],
    success: str,
    form_kwargs: Callable[[Pairing], dict] | None = None,
    initial: Callable[[], dict] | None = None,
):
    """A page with one form that records something on a pairing through RUN(by, pairing, data)."""

    @login_required
    def view(request: HttpRequest, pk: int) -> HttpResponse:
        pairing = _pairing_or_404(request, pk)
        kwargs = form_kwargs(pairing) if form_kwargs else {}
        form = form_class(request.POST or None, initial=initial() if initial else None, **kwargs)
        if request.method == "POST" and form.is_valid():
            done = _handle(form, lambda: run(_user(request), pairing, form.cleaned_data))
            if done is not None:
                messages.success(request, success)
                return redirect("pairings:pairing_detail", pk=pairing.pk)
        elif request.method == "POST":
            accepted = {k: v for k, v in form.cleaned_data.items() if k not in form.errors}
            add_more_problems(form, services.record_date_problems(pairing, accepted))
        return render(request, "pairings/form.html", {"form": form, "pairing": pairing, "title": title})

    return view


def _today() -> dict:
    return {"date": timezone.localdate(), "start_date": timezone.localdate(), "year": timezone.localdate().year}


flow_create = _pairing_form_view(
    forms.FundFlowForm,
    _("Record a fund flow"),
    lambda by, p, d: services.fund_flow_record(
        by=by,
        pairing=p,
        kind=d["kind"],
        amount=d["amount"],
        date=d["date"],
        source=d["source"],
        pledge=d["pledge"],
        reference=d["reference"],
        note=d["note"],
    ),
    _("Fund flow recorded."),
    form_kwargs=lambda p: {"pledges": p.fund_flows.filter(kind=FlowKind.PLEDGE, commitment__isnull=True)},
    initial=_today,
)
deployment_create = _pairing_form_view(
    forms.DeploymentForm,
    _("Record people deployed"),
    lambda by, p, d: services.deployment_record(
        by=by,
        pairing=p,
        kind=d["kind"],
        headcount=d["headcount"],
        start_date=d["start_date"],
        end_date=d["end_date"],
        batch=d["batch"],
        group_style=d["group_style"],
        note=d["note"],
    ),
    _("Deployment recorded."),
    initial=_today,
)
training_create = _pairing_form_view(
    forms.TrainingForm,
    _("Record a training"),
    lambda by, p, d: services.training_record(
        by=by,
        pairing=p,
        topic=d["topic"],
        people_trained=d["people_trained"],
        days=d["days"],
        start_date=d["start_date"],
        note=d["note"],
    ),
    _("Training recorded."),
    initial=_today,
)
mandate_compute = _pairing_form_view(
    forms.MandateComputeForm,
    _("Compute a mandate"),
    lambda by, p, d: services.mandate_compute(by=by, pairing=p, year=d["year"], personnel_quota=d["personnel_quota"]),
    _("Mandate computed."),
    initial=_today,
)
mandate_set = _pairing_form_view(
    forms.MandateSetForm,
    _("Set a mandate by hand"),
    lambda by, p, d: services.mandate_set(
        by=by,
        pairing=p,
        year=d["year"],
        funds_required=d["funds_required"],
        reason=d["reason"],
        personnel_quota=d["personnel_quota"],
    ),
    _("Mandate set."),
    initial=_today,
)


# --- fiscal revenue ----------------------------------------------------------------------------------------


@login_required
def revenue_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    visible = selectors.fiscal_revenues_visible_to(user)
    organizations = Organization.objects.filter(pk__in=visible.values("organization_id")).order_by("path")
    filters = ListFilters(
        request,
        FiscalRevenueFilter,
        visible,
        shown={"organization": _("Organization"), "year": _("Year")},
        choices={"organization": [("", _("All organizations")), *((o.pk, str(o)) for o in organizations)]},
    )
    page = filters.page(filters.qs.order_by("organization__path", "-year"), 50)
    recordable = selectors.revenue_organizations_for(user)
    form = None
    if policy.may_record_revenue(user) and recordable.exists():
        form = forms.FiscalRevenueForm(
            request.POST or None,
            organizations=recordable.order_by("path"),
            initial={
                "year": timezone.localdate().year - 1,
                "organization": user.organization if user.organization_id else None,
            },
        )
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            done = _handle(
                form,
                lambda: services.fiscal_revenue_record(
                    by=user,
                    organization=d["organization"],
                    year=d["year"],
                    amount=d["amount"],
                    source=d["source"],
                ),
            )
            if done is not None:
                messages.success(
                    request,
                    _("Fiscal revenue of %(org)s for %(year)s recorded.")
                    % {"org": d["organization"], "year": d["year"]},
                )
                return redirect("pairings:revenue_list")
    elif request.method == "POST":
        raise DjangoPermissionDenied
    return render(
        request, "pairings/revenue_list.html", {"page": page, "form": form, "filters": filters}, status=filters.status
    )
