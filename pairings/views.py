"""Pages for officials: programmes, pairings with their mandates, flows and people, and the forms that
record them. Each form posts to a service; a refusal is shown on the fields with what was typed kept."""

import html
from collections.abc import Callable
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import connection
from django.db.models import (
    BooleanField,
    CharField,
    Count,
    DateField,
    DecimalField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Cast
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from accounts.forms import RegionPicker
from accounts.models import Organization, User
from accounts.selectors import scope_for
from core.demo_texts import in_language
from core.errors import DomainError, NotFound, PermissionDenied
from core.forms import add_more_problems, apply_domain_error
from core.list_filters import ListFilters
from core.models import choice_label, name_in_language
from core.money import Unit, data_amount, format_cny, unit_for
from core.selectors import timeline
from core.statements import ForIds
from core.templatetags.dates import date as date_filter

from . import charts, figures, forms, policy, selectors, services
from .api.filters import FiscalRevenueFilter, PairingFilter
from .models import (
    AnnualMandate,
    ContractingMode,
    Deployment,
    FlowKind,
    FundFlow,
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


def _programme_rows(rows: list[dict[str, Any]], required_unit: Unit, received_unit: Unit) -> SafeString:
    """The rows of the programme's table of pairings, one string each (a programme has dozens of pairings: a
    template row with a dozen variables each cost more than the rest of the page). The markup is the template's
    own: the status badge as pairings/includes/status.html draws it, the bar as bar.html, amounts as `cny`."""
    breakdown = f' <span class="badge text-bg-light border">{_escaped(_("breakdown"))}</span>'
    out = []
    for r in rows:
        money = r["money"]
        out.append(
            f'<tr><td><a href="{_escaped(r["url"])}">{_escaped(r["assisting_organization"])}</a>'
            f"{breakdown if r['is_breakdown'] else ''}</td><td>{_escaped(r['recipient_region'])}</td>"
            f"<td>{_escaped(r['mode'])}</td>\n"
            f'          <td><span class="badge text-bg-{"success" if r["status"] == "active" else "secondary"}">'
            f"{_escaped(r['status_label'])}</span></td>\n"
            f'          <td class="num" data-figure="required" data-amount="{data_amount(money.required)}">'
            f"{_escaped(required_unit.format(money.required))}</td>"
            f'<td class="num" data-figure="received" data-amount="{data_amount(money.received)}">'
            f"{_escaped(received_unit.format(money.received))}</td><td>{r['bar']}</td></tr>\n"
        )
    return SafeString("".join(out))


#: What the lists of sources show of each (pairings/includes/sources.html).
_SOURCE_SHOWN = ("key", "title", "language", "publisher", "published", "url", "is_mirror")


def _programme_sources_rows(ids: list[int]) -> QuerySet[Any]:
    """The sources of the programmes IDS and of their funding rules: the two many-to-many tables, UNION ALL; a row
    is (rule id or None, *_SOURCE_SHOWN)."""
    shown = [f"source__{name}" for name in _SOURCE_SHOWN]
    own = Program.sources.through.objects.filter(program__in=ids).values_list(
        Value(None, output_field=IntegerField()), *shown
    )
    of_rules = FundingRule.sources.through.objects.filter(fundingrule__program__in=ids).values_list(
        "fundingrule_id", *shown
    )
    return own.union(of_rules, all=True).order_by("source__key")


#: `_programme_sources`'s statement, compiled once (`core.statements`).
_PROGRAMME_SOURCES = ForIds(_programme_sources_rows)


def _programme_sources(program: Program) -> tuple[list[dict[str, Any]], dict[int, list[dict[str, Any]]]]:
    """The programme's sources, and those of each of its funding rules by rule id, in one statement, each list in
    the sources' order (by key)."""
    sources: list[dict[str, Any]] = []
    by_rule: dict[int, list[dict[str, Any]]] = {}
    for rule_id, *values in _PROGRAMME_SOURCES.rows([program.pk]):
        source = dict(zip(_SOURCE_SHOWN, values, strict=True))
        (sources if rule_id is None else by_rule.setdefault(rule_id, [])).append(source)
    return sources, by_rule


#: Every column of a funding rule (none left deferred), and what the page shows of the organization it is for.
_RULE_FIELDS = tuple(f.attname for f in FundingRule._meta.concrete_fields)
_PROGRAMME_RULES = ForIds(
    lambda ids: (
        FundingRule.objects.filter(program__in=ids)
        .order_by("-version")
        .values_list(*_RULE_FIELDS, "organization__name", "organization__name_en")
    )
)


def _programme_rules(program: Program) -> list[FundingRule]:
    """PROGRAM's funding rules, the newest version first, each with the organization it is for (its names only):
    one statement compiled once (`core.statements`)."""
    db, count = FundingRule.objects.db, len(_RULE_FIELDS)
    rules = []
    for row in _PROGRAMME_RULES.rows([program.pk]):
        rule = FundingRule.from_db(db, _RULE_FIELDS, row[:count])
        rule.program = program
        if rule.organization_id is not None:
            rule.organization = Organization.from_db(
                db, ("id", "name", "name_en"), (rule.organization_id, *row[count:])
            )
        rules.append(rule)
    return rules


#: A programme's pairings in a scope as its page lists them, compiled once per scope (`core.statements`).
_PROGRAMME_PAIRINGS = ForIds(
    lambda ids, scope: (
        Pairing.objects.filter(selectors.pairing_scope_q_of(scope), program__in=ids)
        .order_by("assisting_organization__name", "recipient_region__code")
        .values_list(
            "pk",
            "parent_id",
            "status",
            "contracting_mode",
            "assisting_organization__name",
            "assisting_organization__name_en",
            "recipient_region__name",
            "recipient_region__name_en",
        )
    )
)


@login_required
def program_detail(request: HttpRequest, code: str) -> HttpResponse:
    program = get_object_or_404(selectors.programs_visible_to(_user(request)), code=code)
    # Plain values, not model instances: the names in the active language as `display_name` gives them, the
    # labels from one map per page, the links from one reverse.
    scope = scope_for(_user(request))
    ordered = _PROGRAMME_PAIRINGS.rows([program.pk], scope, key=scope.key)
    status_field, mode_field = Pairing._meta.get_field("status"), Pairing._meta.get_field("contracting_mode")
    url = reverse("pairings:pairing_detail", args=[0]).removesuffix("0/")
    rows: list[dict[str, Any]] = [
        {
            "pk": pk,
            "url": f"{url}{pk}/",
            "parent_id": parent_id,
            "is_breakdown": parent_id is not None,
            "status": status,
            "status_label": choice_label(status_field, status),
            "mode": choice_label(mode_field, mode),
            "assisting_organization": name_in_language(org, org_en),
            "recipient_region": name_in_language(region, region_en),
        }
        for pk, parent_id, status, mode, org, org_en, region, region_en in ordered
    ]
    money = figures.money_by_pairing(r["pk"] for r in rows)
    # The programme's total from the same rows (`figures.scope_money`: what `figures.money` of these pairings gives).
    parents = {r["pk"]: r["parent_id"] for r in rows}
    for r in rows:
        r["money"] = money[r["pk"]]
        r["fulfilment"] = r["money"].fulfilment
        r["bar"] = charts.bar(r["fulfilment"])
    chart_rows = [
        {"label": f"{r['assisting_organization']} → {r['recipient_region']}", "fulfilment": r["money"].fulfilment}
        for r in rows
        if r["money"].required
    ]
    total = figures.scope_money(money, parents)
    sources, rule_sources = _programme_sources(program)
    rules = _programme_rules(program)
    for rule in rules:
        rule.listed_sources = rule_sources.get(rule.pk, [])  # type: ignore[attr-defined]
    # One unit per column, the total's included (as `money_unit` chooses it).
    required_unit = unit_for([*(r["money"].required for r in rows), total.required])
    received_unit = unit_for([*(r["money"].received for r in rows), total.received])
    return render(
        request,
        "pairings/program_detail.html",
        {
            "program": program,
            "rules": rules,
            "sources": sources,
            "rows": rows,
            "rows_html": _programme_rows(rows, required_unit, received_unit),
            "required_unit": required_unit,
            "received_unit": received_unit,
            # The programme's money in the user's scope, all years: the same figure as the evaluation overview's.
            "total": total,
            "chart": charts.fulfilment_bars(chart_rows),
            "history": timeline(program, 20),
        },
    )


# --- pairings ----------------------------------------------------------------------------------------------


@login_required
def pairing_list(request: HttpRequest) -> HttpResponse:
    visible = selectors.pairings_visible_to(_user(request))
    programmes, organizations = _filter_choices(visible)
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
            "program": [("", _("All programmes")), *programmes],
            "assisting_organization": [("", _("All assisting organizations")), *organizations],
            "status": [("", _("Any status")), *PairingStatus.choices],
            "contracting_mode": [("", _("Any mode")), *ContractingMode.choices],
        },
        widgets={"recipient_region": RegionPicker()},
    )
    # Sorted by a column as the API's `ordering` sorts (selectors.pairing_orderings); an unknown sort falls back to
    # the default order: it changes how the rows are shown, never which.
    sort = request.GET.get("sort", "")
    # The sort expressions (the money figures' subqueries among them) are built only when a sort is asked for.
    key = selectors.pairing_orderings().get(sort.lstrip("-")) if sort else None
    if key is None:
        sort = ""
        qs = filters.qs.order_by(
            "program__start_year", "program__code", "assisting_organization__name", "recipient_region__code", "id"
        )
    elif sort.startswith("-"):
        qs = filters.qs.order_by(key.desc(nulls_last=True), "-id")
    else:
        qs = filters.qs.order_by(key.asc(nulls_last=True), "id")
    # Plain values, not model instances: the row's names in the active language as `display_name` gives them,
    # its labels from one map per page, its link from one reverse.
    page = filters.page(cast(Any, _CountedBy(qs.values(*_PAIRING_ROW_FIELDS), qs)), 50)
    money = figures.money_by_pairing(p["pk"] for p in page)
    # Each money column in one unit, as `money_unit` chose it for the column; the cells written here, not per row
    # by the template's filters.
    required_unit = unit_for(m.required for m in money.values())
    received_unit = unit_for(m.received for m in money.values())
    status_field, mode_field = Pairing._meta.get_field("status"), Pairing._meta.get_field("contracting_mode")
    url = reverse("pairings:pairing_detail", args=[0]).removesuffix("0/")

    def name(p: dict[str, Any], relation: str) -> str:
        return name_in_language(p[f"{relation}__name"], p[f"{relation}__name_en"])

    rows = [
        {
            "pk": p["pk"],
            "url": f"{url}{p['pk']}/",
            "is_breakdown": p["parent_id"] is not None,
            "assisting_organization": name(p, "assisting_organization"),
            "recipient_region": name(p, "recipient_region"),
            "region_code": p["recipient_region__code"],
            "program": name(p, "program"),
            "mode": choice_label(mode_field, p["contracting_mode"]),
            "term": f"{date_filter(p['start_date'], 'Y-m-d')} – {date_filter(p['end_date'], 'Y-m-d') or '…'}",
            "status": p["status"],
            "status_label": choice_label(status_field, p["status"]),
            "money": money[p["pk"]],
            "required": format_cny(money[p["pk"]].required, unit=required_unit),
            "received": format_cny(money[p["pk"]].received, unit=received_unit),
            "bar": charts.bar(money[p["pk"]].fulfilment),
        }
        for p in page
    ]
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


class _CountedBy:
    """ROWS to page through, counted by COUNTED, the same rows without the names the page reads: the count joins no
    name table (the values read join three)."""

    def __init__(self, rows: QuerySet[Any], counted: QuerySet[Any]) -> None:
        self.rows, self.counted = rows, counted

    def count(self) -> int:
        return self.counted.count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key: Any) -> Any:
        return self.rows[key]


#: What a row of the pairing list shows, read as values.
_PAIRING_ROW_FIELDS = (
    "pk",
    "parent_id",
    "status",
    "contracting_mode",
    "start_date",
    "end_date",
    "assisting_organization__name",
    "assisting_organization__name_en",
    "recipient_region__name",
    "recipient_region__name_en",
    "recipient_region__code",
    "program__name",
    "program__name_en",
)


def _filter_choices(visible: QuerySet[Pairing]) -> tuple[list[tuple[str, str]], list[tuple[int, str]]]:
    """The choices of the list's two selects: the programmes by code (as `program` takes them), in order of their
    start, and the assisting organizations of the VISIBLE pairings by id, in the organizations' order; each with its
    name in the active language. One statement (UNION ALL), each part sorted here."""
    programmes = Program.objects.order_by().values_list(
        Value(False), "code", "name", "name_en", "start_year", Value("", output_field=CharField())
    )
    organizations = (
        Organization.objects.filter(pairings__in=visible)
        .distinct()
        .order_by()
        .values_list(
            Value(True), Cast("pk", CharField()), "name", "name_en", Value(0, output_field=IntegerField()), "path"
        )
    )
    rows = sorted(programmes.union(organizations, all=True).order_by(), key=lambda r: (r[0], r[4], r[5]))
    return (
        [(key, name_in_language(name, en)) for is_org, key, name, en, _y, _p in rows if not is_org],
        [(int(key), name_in_language(name, en)) for is_org, key, name, en, _y, _p in rows if is_org],
    )


@login_required
def pairing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    # Whether it has mandates and children, asked with the pairing: a section with nothing to show costs no query.
    # Its parent is not joined (`_parent` reads it when there is one): a fifth join made the statement cost more to
    # plan than to run.
    pairing = get_object_or_404(
        selectors.pairings_visible_to(_user(request))
        .select_related(None)
        .select_related("program", "assisting_organization", "recipient_region")
        .annotate(
            has_mandates=Exists(AnnualMandate.objects.filter(pairing=OuterRef("pk"))),
            has_children=Exists(Pairing.objects.filter(parent=OuterRef("pk"))),
            flow_count=figures.flow_count_expression(),
        ),
        pk=pk,
    )
    parent = _parent(request, pairing)
    has_mandates, has_children = pairing.has_mandates, pairing.has_children  # type: ignore[attr-defined]
    mandates: list[Any] = list(selectors.mandates_for(pairing)) if has_mandates else []
    for m in mandates:
        m.fulfilment = figures.fulfilment(m.received, m.funds_required)
        m.bar = charts.bar(m.fulfilment)
    chart = charts.mandate_vs_received(
        [
            {"year": m.year, "required": m.funds_required, "committed": m.committed, "received": m.received}
            for m in mandates
        ]
    )
    children = list(selectors.pairings_visible_to(_user(request)).filter(parent=pairing)) if has_children else []
    # A child the user may not see still takes its share of the breakdown.
    breakdowns = [selectors.breakdown(m) for m in mandates] if has_children else []
    flows = _latest_flows(pairing)
    deployments, trainings = _latest_people(pairing)
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
            "flows": flows,
            "flow_rows": _flow_rows(flows),
            "flow_count": pairing.flow_count,  # type: ignore[attr-defined]  # figures.flow_count, read above
            "deployment_rows": _deployment_rows(deployments),
            "training_rows": _training_rows(trainings),
            "history": timeline(pairing, 30),
            "actions": policy.allowed_actions(_user(request), pairing),
            "visible_parent": parent if parent is not None and parent.visible else None,  # type: ignore[attr-defined]
        },
    )


def _latest_flows(pairing: Pairing) -> list[dict[str, Any]]:
    """The pairing's latest 25 flows as the page's table shows them, read as values and written here (no model
    instances, no filters per cell): the amounts in one unit, as `money_unit` chose it for the column."""
    flows = list(
        pairing.fund_flows.order_by("-date", "-id").values(
            "date", "kind", "pledge_id", "is_synthetic", "amount", "source", "reference"
        )[:25]
    )
    unit = unit_for(f["amount"] for f in flows)
    kind, source = FundFlow._meta.get_field("kind"), FundFlow._meta.get_field("source")
    return [
        {
            "date": date_filter(f["date"], "Y-m-d"),
            "kind": choice_label(kind, f["kind"]),
            "fulfils_pledge": bool(f["pledge_id"]),
            "is_synthetic": f["is_synthetic"],
            "amount": format_cny(f["amount"], unit=unit),
            "source": choice_label(source, f["source"]),
            "reference": f["reference"],
        }
        for f in flows
    ]


def _escaped(value: Any) -> str:
    """VALUE as the template language writes a variable: Django's `escape`, without its wrapper for lazy strings (the
    rows of a page's tables call it hundreds of times)."""
    return html.escape(str(value))


def _synthetic_badge() -> str:
    return f' <span class="badge text-bg-warning dk-synthetic">{_escaped(_("synthetic"))}</span>'


def _flow_rows(flows: list[dict[str, Any]]) -> SafeString:
    """The rows of the page's table of flows (`_latest_flows`), written here in the markup the template wrote for
    each (tests/pairings/test_detail_rows.py renders both): dozens of rows, a dozen nodes each."""
    pledge = f' <span class="small text-body-secondary">({_escaped(_("fulfils a pledge"))})</span>'
    synthetic = _synthetic_badge()
    return SafeString(
        "".join(
            f'<tr><td class="text-nowrap">{_escaped(f["date"])}</td><td>{_escaped(f["kind"])}'
            f"{pledge if f['fulfils_pledge'] else ''}{synthetic if f['is_synthetic'] else ''}</td>"
            f'<td class="num">{_escaped(f["amount"])}</td><td class="small">{_escaped(f["source"])}</td>'
            f'<td class="small">{_escaped(f["reference"])}</td></tr>\n'
            for f in flows
        )
    )


#: What a row of the page's tables of deployments and of trainings shows, read as values.
_DEPLOYMENT_SHOWN = ("kind", "group_style", "is_synthetic", "batch", "headcount", "start_date", "end_date")
_TRAINING_SHOWN = ("topic", "is_synthetic", "people_trained", "days", "start_date")


def _latest_people(pairing: Pairing) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The pairing's latest 20 deployments (`_DEPLOYMENT_SHOWN`) and latest 20 trainings (`_TRAINING_SHOWN`), as
    values: one statement where the database takes an order and a limit in each part of a UNION ALL (PostgreSQL),
    the two parts padded to the same columns; two statements otherwise."""
    deployments, trainings = pairing.deployments.order_by("-start_date"), pairing.trainings.order_by("-start_date")
    if not connection.features.supports_slicing_ordering_in_compound:
        return list(deployments.values_list(*_DEPLOYMENT_SHOWN)[:20]), list(
            trainings.values_list(*_TRAINING_SHOWN)[:20]
        )
    # (is a training, a text, a flag, is synthetic, a count, days, a text, a date, a date): each part's own columns
    # where the other has none.
    none = {kind: Value(None, output_field=kind()) for kind in (BooleanField, CharField, DateField, DecimalField)}
    padded_deployments = deployments.values_list(
        Value(False),
        "kind",
        "group_style",
        "is_synthetic",
        "headcount",
        none[DecimalField],
        "batch",
        "start_date",
        "end_date",
    )[:20]
    padded_trainings = trainings.values_list(
        Value(True),
        "topic",
        none[BooleanField],
        "is_synthetic",
        "people_trained",
        "days",
        none[CharField],
        "start_date",
        none[DateField],
    )[:20]
    deployed: list[tuple[Any, ...]] = []
    trained: list[tuple[Any, ...]] = []
    for is_training, text, flag, synthetic, count, days, batch, start, end in padded_deployments.union(
        padded_trainings, all=True
    ).order_by():  # each part in its own order (the models' default order would name columns the union lacks)
        if is_training:
            trained.append((text, synthetic, count, days, start))
        else:
            deployed.append((text, flag, synthetic, batch, count, start, end))
    return deployed, trained


def _deployment_rows(deployments: list[tuple[Any, ...]]) -> SafeString:
    """The rows of the page's table of deployments (`_latest_people`), written here in the markup the template wrote
    for each (tests/pairings/test_detail_rows.py renders both); "" when there are none."""
    kind_field = Deployment._meta.get_field("kind")
    group_style = f' <span class="badge text-bg-light border">{_escaped(_("group-style"))}</span>'
    synthetic = _synthetic_badge()
    return SafeString(
        "".join(
            f"<tr><td>{_escaped(choice_label(kind_field, kind))}{group_style if grouped else ''}"
            f'{synthetic if is_synthetic else ""}</td><td class="small">{_escaped(in_language(batch or ""))}</td>'
            f'<td class="num">{_escaped(localize(headcount))}</td><td class="small text-nowrap">'
            f"{_escaped(date_filter(start, 'Y-m'))} – {_escaped(date_filter(end, 'Y-m') or '…')}</td></tr>\n"
            for kind, grouped, is_synthetic, batch, headcount, start, end in deployments
        )
    )


def _training_rows(trainings: list[tuple[Any, ...]]) -> SafeString:
    """The rows of the page's table of trainings (`_latest_people`), as `_deployment_rows` writes those."""
    synthetic = _synthetic_badge()
    return SafeString(
        "".join(
            f"<tr><td>{_escaped(in_language(topic or ''))}{synthetic if is_synthetic else ''}</td>"
            f'<td class="num">{_escaped(localize(people))}</td><td class="num">{_escaped(localize(days))}</td>'
            f'<td class="small text-nowrap">{_escaped(date_filter(start, "Y-m-d"))}</td></tr>\n'
            for topic, is_synthetic, people, days, start in trainings
        )
    )


def _parent(request: HttpRequest, pairing: Pairing) -> Pairing | None:
    """PAIRING's parent, set on it for the policy's checks, with `visible`: whether the user may see it (a city's
    official may not see the province's). One statement, none when there is no parent."""
    if pairing.parent_id is None:
        return None
    visible = selectors.pairings_visible_to(_user(request)).filter(pk=OuterRef("pk"))
    parent = (
        Pairing.objects.select_related("assisting_organization", "recipient_region")
        .annotate(visible=Exists(visible))
        .get(pk=pairing.parent_id)
    )
    pairing.parent = parent
    return parent


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
