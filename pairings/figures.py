"""The figures of money and people: each one computed here and nowhere else, for a scope and a period.

A **scope** is a set of pairings: the pairings a user may see (`selectors.pairings_visible_to`), those of a
programme among them, or one pairing. A **period** is a calendar year, or all time (`year=None`). Every page, API
response and dashboard panel that shows one of these figures reads it from here; a page of a lower app gets it
through a registry (core's dashboard panels), never by importing this module upward.

The definitions, once:

- **required** — the funds the mandates of the period require (`AnnualMandate.funds_required`). A broken-down
  pairing's mandate is allocated out of its parent's, so it is counted once: with its parent when the parent is in
  the scope, on its own when the scope holds the child without its parent (a city's official sees the city's part).
- **pledged** (outstanding) — pledges dated in the period against which no commitment has been recorded yet.
- **committed** — commitments dated in the period.
- **received** — disbursements dated in the period: what the recipient received (到位), whether or not the year
  has a mandate.
- **spent** — expenditures dated in the period.
- Flows count for the pairing they are recorded on; a scope holding a parent and its children adds the flows of
  each (a child's money is not recorded again on its parent).
- **fulfilment** — received ÷ required, 4 places; none when nothing is required.
- **delivery** — received ÷ committed, 4 places; none when nothing is committed.
- **deployed** — the headcount of the deployments active in the period (started by its end, not ended before its
  start); all time: every deployment's headcount.
- **trained** — the people trained in trainings held (started) in the period.

Each function reads its figure in a fixed number of queries, grouped by programme or pairing when asked for
several at once.
"""

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, fields, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, TypeVar

from django.db.models import (
    CharField,
    DecimalField,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, NullIf

from core.statements import ForIds, Statement

from .models import AnnualMandate, Deployment, FlowKind, FlowTotal, FlowYearTotal, Pairing, Training
from .rollups import PLEDGE_OPEN

ZERO = Value(Decimal("0.00"), output_field=DecimalField(max_digits=18, decimal_places=2))
CENT = Decimal("0.01")
K = TypeVar("K")


def fulfilment(received: Decimal | None, required: Decimal | None) -> Decimal | None:
    """Received ÷ required (or any part ÷ whole), 4 places; None when the whole is nothing."""
    if not required:
        return None
    return (Decimal(received or 0) / Decimal(required)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Money:
    """The money of a scope in a period (see the module's definitions)."""

    required: Decimal = Decimal("0.00")
    pledged: Decimal = Decimal("0.00")
    committed: Decimal = Decimal("0.00")
    received: Decimal = Decimal("0.00")
    spent: Decimal = Decimal("0.00")

    @property
    def fulfilment(self) -> Decimal | None:
        return fulfilment(self.received, self.required)

    @property
    def delivery(self) -> Decimal | None:
        return fulfilment(self.received, self.committed)

    @property
    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))

    def as_dict(self) -> dict[str, Any]:
        """The five amounts and the two ratios, for an API response or a test."""
        return {
            **{f.name: getattr(self, f.name) for f in fields(self)},
            "fulfilment": self.fulfilment,
            "delivery": self.delivery,
        }


@dataclass(frozen=True)
class People:
    """The people of a scope in a period: deployed (headcount) and trained."""

    deployed: int = 0
    trained: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"deployed": self.deployed, "trained": self.trained}


def _ids(scope: QuerySet[Pairing]) -> Any:
    # The scope as a subquery of ids: its select_related and ordering do not reach the aggregate.
    return scope.order_by().values("pk")


def is_every_pairing(scope: QuerySet[Pairing]) -> bool:
    """Whether SCOPE is every pairing, unfiltered (a national user's scope): a sum over it needs no filter by its
    ids (each a semi-join of every rollup row with every pairing, for nothing)."""
    query = scope.query
    return not query.where and not query.is_sliced and not query.combinator


def _amount(value: Any) -> Decimal:
    return Decimal(value or 0).quantize(CENT)


# --- money -----------------------------------------------------------------------------------------------------

MONEY_FIELDS = ("required", "pledged", "committed", "received", "spent")


def _mandates(scope: QuerySet[Pairing] | None, year: int | None) -> QuerySet[AnnualMandate]:
    """The mandates whose funds make the required of SCOPE: of the period, a child's only when its parent is not in
    the scope (counted once). Without a scope (each pairing its own scope): every mandate of the period."""
    mandates = AnnualMandate.objects.all()
    if scope is not None and is_every_pairing(scope):
        # Every parent is in the scope: each broken-down mandate is counted with its parent's.
        mandates = mandates.filter(pairing__parent__isnull=True)
    elif scope is not None:
        ids = _ids(scope)
        mandates = mandates.filter(pairing__in=ids).filter(
            Q(pairing__parent__isnull=True) | ~Q(pairing__parent__in=ids)
        )
    return mandates if year is None else mandates.filter(year=year)


def _flows(scope: QuerySet[Pairing] | None, year: int | None) -> QuerySet[FlowYearTotal] | QuerySet[FlowTotal]:
    """The flows' totals of SCOPE's pairings (every pairing when None) in YEAR, from the rollups
    (`pairings.rollups`): a few rows per pairing and year, however many flows; all years (YEAR None) from the
    all-years rollup, a row per pairing and kind."""
    totals: QuerySet[FlowYearTotal] | QuerySet[FlowTotal]
    totals = FlowTotal.objects.all() if year is None else FlowYearTotal.objects.filter(year=year)
    if scope is None or is_every_pairing(scope):
        return totals
    return totals.filter(pairing__in=_ids(scope))


def _sum(rows: QuerySet[Any], group: str, field: str) -> Coalesce:
    """The sum of FIELD over ROWS whose GROUP is the outer row, as a subquery (0 when none)."""
    total = rows.filter(**{group: OuterRef("pk")}).order_by().values(group).annotate(t=Sum(field)).values("t")
    return Coalesce(Subquery(total, output_field=DecimalField(max_digits=18, decimal_places=2)), ZERO)


def _money_annotations(scope: QuerySet[Pairing] | None, year: int | None, group: str) -> dict[str, Coalesce]:
    """The five amounts of each outer row (a programme or a pairing, joined to the mandates and flows by GROUP)."""
    flows = _flows(scope, year)
    return {
        "required": _sum(_mandates(scope, year), group, "funds_required"),
        "pledged": _sum(flows.filter(kind=PLEDGE_OPEN), group, "amount"),
        "committed": _sum(flows.filter(kind=FlowKind.COMMITMENT), group, "amount"),
        "received": _sum(flows.filter(kind=FlowKind.DISBURSEMENT), group, "amount"),
        "spent": _sum(flows.filter(kind=FlowKind.EXPENDITURE), group, "amount"),
    }


def _money(row: dict[str, Any]) -> Money:
    return Money(**{name: _amount(row.get(name)) for name in MONEY_FIELDS})


#: The figure each kind of the flows' rollup makes.
_FLOW_FIGURES = {
    PLEDGE_OPEN: "pledged",
    FlowKind.COMMITMENT: "committed",
    FlowKind.DISBURSEMENT: "received",
    FlowKind.EXPENDITURE: "spent",
}


#: The mandates' part of `_grouped_money`'s statement, named apart from every flow kind.
_REQUIRED = "required"


def _grouped_rows(
    mandates: QuerySet[AnnualMandate], flows: QuerySet[FlowYearTotal] | QuerySet[FlowTotal], group: str | None
) -> QuerySet[Any]:
    """The statement of `_grouped_money`: rows of (group, kind, total), the mandates' under `_REQUIRED`."""
    if group is None:
        mandates = mandates.annotate(whole=Value(None, output_field=CharField()))
        flows = flows.annotate(whole=Value(None, output_field=CharField()))
        group = "whole"
    required = (
        mandates.order_by()
        .values_list(group)
        .annotate(kind=Value(_REQUIRED, output_field=CharField()), t=Sum("funds_required"))
    )
    # Every kind summed and those no figure is made of (all pledges) left out here: filtering the rollup's rows by
    # kind cost the statement more than grouping the few others.
    kinds = flows.order_by().values_list(group, "kind").annotate(t=Sum("amount"))
    return required.union(kinds, all=True).order_by()


def _money_of_rows(found: Iterable[tuple[Any, str, Any]]) -> dict[Any, Money]:
    figure_of = {_REQUIRED: "required", **_FLOW_FIGURES}
    rows: dict[Any, dict[str, Any]] = {}
    for key, kind, amount in found:
        if kind in figure_of:
            rows.setdefault(key, {})[figure_of[kind]] = amount
    return {key: _money(row) for key, row in rows.items()}


def _grouped_money(
    mandates: QuerySet[AnnualMandate], flows: QuerySet[FlowYearTotal] | QuerySet[FlowTotal], group: str | None
) -> dict[Any, Money]:
    """The money of each GROUP (a programme or a pairing) that has some: required from MANDATES, the flows' figures
    from their rollup rows FLOWS. One statement (the two grouped sums, over a few rows per pairing and year, joined
    by UNION ALL): a round trip and a compilation less per figure than a query each. GROUP None: the whole of
    MANDATES and FLOWS, under the key None (no join to the pairings to group by)."""
    return _money_of_rows(_grouped_rows(mandates, flows, group))


#: `money_by_program`'s statement, compiled once per scope key and year (`core.statements`).
_BY_PROGRAM = Statement(
    lambda scope, year: _grouped_rows(_mandates(scope, year), _flows(scope, year), "pairing__program")
)


def money_by_program(
    scope: QuerySet[Pairing], year: int | None = None, *, key: Hashable | None = None
) -> dict[int, Money]:
    """The money of SCOPE's pairings of each programme that has some, by programme id. One query.

    A parent and its children belong to one programme, so a programme's figures are those of the scope narrowed
    to the programme, a broken-down mandate counted once. KEY, when given, stands for SCOPE (equal keys, equal
    scopes: the `Scope.key` of the user whose pairings they are): the statement is then compiled once per key."""
    if key is None:
        return _grouped_money(_mandates(scope, year), _flows(scope, year), "pairing__program")
    return _money_of_rows(_BY_PROGRAM.rows(scope, year, key=(key, year)))


def total(parts: Iterable[Money]) -> Money:
    """The money of a scope from that of its programmes (`money_by_program`): a parent and its children are always
    of one programme, so the programmes' parts add up to the scope's, broken-down mandates still counted once."""
    parts = list(parts)
    return Money(**{name: sum((getattr(p, name) for p in parts), Decimal("0.00")) for name in MONEY_FIELDS})


#: `money`'s statement, compiled once per scope key and year (`core.statements`).
_SCOPE_MONEY = Statement(lambda scope, year: _grouped_rows(_mandates(scope, year), _flows(scope, year), None))


def money(scope: QuerySet[Pairing], year: int | None = None, *, key: Hashable | None = None) -> Money:
    """The money of the pairings in SCOPE in YEAR (all time when None): what `total` of its `money_by_program`
    parts gives, summed at once. One query. KEY, when given, stands for SCOPE as in `money_by_program`."""
    rows = (
        _grouped_rows(_mandates(scope, year), _flows(scope, year), None)
        if key is None
        else _SCOPE_MONEY.rows(scope, year, key=(key, year))
    )
    return _money_of_rows(rows).get(None, Money())


#: `money_by_pairing`'s statement, compiled once (`core.statements`): a page lists dozens of pairings.
_BY_PAIRING = ForIds(
    lambda ids, year: _grouped_rows(
        _mandates(None, year).filter(pairing__in=ids), _flows(None, year).filter(pairing__in=ids), "pairing"
    )
)


def money_by_pairing(pairing_ids: Iterable[int], year: int | None = None) -> dict[int, Money]:
    """The money of each pairing on its own — its own mandates (a child's too: it is its own scope) and the flows
    recorded on it — by pairing id. One query."""
    ids = list(pairing_ids)
    found = _money_of_rows(_BY_PAIRING.rows(ids, year))
    empty = Money()  # frozen: one for every pairing without money
    return {pk: found.get(pk, empty) for pk in ids}


def money_by_group[K](groups: Mapping[K, Iterable[int]], year: int | None = None) -> dict[K, Money]:
    """The money of each group of pairings (by its key), as `money` computes a scope's: a broken-down mandate
    counted once — with its parent when the parent is in the group, on its own when the group holds the child
    without its parent — and the flows of each pairing added. For the map's areas (the pairings whose recipients
    lie in one region). Two queries however many groups."""
    members = {key: set(ids) for key, ids in groups.items()}
    ids = set().union(*members.values()) if members else set()
    own = money_by_pairing(ids, year)
    parents = dict(Pairing.objects.filter(pk__in=ids).values_list("pk", "parent_id"))
    return {key: scope_money({pk: own[pk] for pk in group}, parents) for key, group in members.items()}


def scope_money(own: Mapping[int, Money], parents: Mapping[int, int | None]) -> Money:
    """The money of a scope from each of its pairings' own (`money_by_pairing`, keyed by pairing id; PARENTS gives
    each one's parent id), as `money` computes a scope's: a broken-down mandate counted once — with its parent when
    the parent is in the scope, on its own when the scope holds the child without its parent — and the flows of
    each pairing added. No query: for a page that shows the pairings' own money and their total, read once."""
    return total(
        money if parents.get(pk) not in own else replace(money, required=Decimal("0.00")) for pk, money in own.items()
    )


def flow_count(pairing: Pairing) -> int:
    """How many flows are recorded on PAIRING, all kinds, all years: from the rollup's counts. One query."""
    return Pairing.objects.filter(pk=pairing.pk).values_list(flow_count_expression(), flat=True).get()


def flow_count_expression() -> Coalesce:
    """Each pairing's `flow_count` as an expression on a Pairing queryset: a page that reads the pairing reads the
    count with it, in the same statement."""
    rows = (
        FlowTotal.objects.filter(pairing=OuterRef("pk"))
        .exclude(kind=PLEDGE_OPEN)
        .order_by()
        .values("pairing")
        .annotate(n=Sum("flows"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def pairing_money_expression(figure: str, year: int | None = None) -> Any:
    """Each pairing's own FIGURE — one of MONEY_FIELDS, or `fulfilment` (received ÷ required, NULL when nothing is
    required) — as an expression on a Pairing queryset, computed as `money_by_pairing` computes it: to sort a list
    of pairings by the figure it shows."""
    amounts = _money_annotations(None, year, "pairing")
    if figure == "fulfilment":
        required = NullIf(Cast(amounts["required"], FloatField()), Value(0.0))
        return Cast(amounts["received"], FloatField()) / required
    return amounts[figure]


def pairing_money(pairing: Pairing, year: int | None = None) -> Money:
    """The money of one pairing: its own mandates and the flows recorded on it. One query."""
    return money_by_pairing([pairing.pk], year)[pairing.pk]


# --- a mandate's year ------------------------------------------------------------------------------------------


def _flow_sum(kind: str) -> Coalesce:
    """The total of KIND of the outer mandate's pairing in the mandate's year: one rollup row (0 when none)."""
    total = FlowYearTotal.objects.filter(pairing=OuterRef("pairing_id"), year=OuterRef("year"), kind=kind)
    return Coalesce(
        Subquery(total.values("amount")[:1], output_field=DecimalField(max_digits=18, decimal_places=2)), ZERO
    )


def with_figures(mandates: QuerySet[AnnualMandate]) -> QuerySet[AnnualMandate]:
    """Annotate each mandate with its pairing's money in the mandate's year — `pledged`, `committed`, `received`,
    `spent`, by the definitions above (the pairing's own flows dated in that year). One query however many rows;
    for each row the same as `pairing_money(pairing, year)`."""
    return mandates.annotate(
        pledged=_flow_sum(PLEDGE_OPEN),
        committed=_flow_sum(FlowKind.COMMITMENT),
        received=_flow_sum(FlowKind.DISBURSEMENT),
        spent=_flow_sum(FlowKind.EXPENDITURE),
    )


# --- people ----------------------------------------------------------------------------------------------------


_DEPLOYED, _TRAINED = "deployed", "trained"


def _people_rows(scope: QuerySet[Pairing], year: int | None, key: str) -> tuple[dict[Any, int], dict[Any, int]]:
    ids = _ids(scope)
    deployments = Deployment.objects.filter(pairing__in=ids)
    trainings = Training.objects.filter(pairing__in=ids)
    if year is not None:
        deployments = deployments.filter(start_date__year__lte=year).filter(
            Q(end_date__isnull=True) | Q(end_date__year__gte=year)
        )
        trainings = trainings.filter(start_date__year=year)
    # One statement: the two grouped sums joined by UNION ALL, each row named by its figure.
    deployed_rows = deployments.values_list(key).annotate(
        figure=Value(_DEPLOYED, output_field=CharField()), n=Sum("headcount")
    )
    trained_rows = trainings.values_list(key).annotate(
        figure=Value(_TRAINED, output_field=CharField()), n=Sum("people_trained")
    )
    deployed: dict[Any, int] = {}
    trained: dict[Any, int] = {}
    for group, figure, n in deployed_rows.order_by().union(trained_rows.order_by(), all=True).order_by():
        (deployed if figure == _DEPLOYED else trained)[group] = n
    return deployed, trained


def people(scope: QuerySet[Pairing], year: int | None = None) -> People:
    """The people deployed and trained of the pairings in SCOPE in YEAR (all time when None). One query."""
    deployed, trained = _people_rows(scope, year, "pairing__program_id")
    return People(deployed=sum(deployed.values()), trained=sum(trained.values()))


def people_by_pairing(pairing_ids: Iterable[int], year: int | None = None) -> dict[int, People]:
    """The people of each pairing on its own, by pairing id. One query."""
    ids = list(pairing_ids)
    deployed, trained = _people_rows(Pairing.objects.filter(pk__in=ids), year, "pairing_id")
    return {pk: People(deployed=deployed.get(pk, 0), trained=trained.get(pk, 0)) for pk in ids}


def pairing_people(pairing: Pairing, year: int | None = None) -> People:
    return people_by_pairing([pairing.pk], year)[pairing.pk]
