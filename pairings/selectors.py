"""Reads shared by pages, API and tasks: what a user may see. The figures (money, people) are `figures`'s."""

import hashlib
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce, NullIf
from django.utils.translation import get_language

from accounts.models import Organization, User
from accounts.selectors import Scope, organization_word_q, scope_for
from core.models import Region
from core.selectors import NAMES_TIMEOUT, SUBTREE_LIMIT, names_version, region_word_q, search_words

from .figures import pairing_money_expression, with_figures
from .models import (
    AnnualMandate,
    Deployment,
    FiscalRevenue,
    FundFlow,
    Pairing,
    Program,
    Training,
)

logger = logging.getLogger(__name__)


def pairing_scope_q(user: User, prefix: str = "") -> Q:
    """The pairings USER may see, as a filter on a Pairing relation named by PREFIX ('' or 'pairing__').

    National: all. Otherwise: pairings whose assisting party is the user's organization or one under it,
    and pairings whose recipient region lies within the organization's region.
    """
    return pairing_scope_q_of(scope_for(user), prefix)


def pairing_scope_q_of(scope: Scope, prefix: str = "") -> Q:
    """`pairing_scope_q` of a user's SCOPE (`accounts.selectors.scope_for`)."""
    if scope.is_national:
        return Q()
    org = scope.organization
    if org is None:
        return Q(pk__in=[])
    q = Q(**{f"{prefix}assisting_organization__path__startswith": org.path})
    if org.region_id is not None and org.region is not None:
        q |= Q(**{f"{prefix}recipient_region__path__startswith": org.region.path})
    return q


def pairings_visible_to(user: User) -> QuerySet[Pairing]:
    return Pairing.objects.filter(pairing_scope_q(user)).select_related(
        "program", "assisting_organization", "recipient_region", "parent"
    )


def programs_visible_to(user: User) -> QuerySet[Program]:
    """Programmes are public policy: everyone signed in sees them (pairings inside are scoped)."""
    return Program.objects.select_related("lead_agency")


def fund_flows_visible_to(user: User) -> QuerySet[FundFlow]:
    return FundFlow.objects.filter(pairing_scope_q(user, "pairing__")).select_related(
        "pairing__program", "pairing__assisting_organization", "pairing__recipient_region", "recorded_by"
    )


def deployments_visible_to(user: User) -> QuerySet[Deployment]:
    return Deployment.objects.filter(pairing_scope_q(user, "pairing__")).select_related(
        "pairing__assisting_organization", "pairing__recipient_region"
    )


def trainings_visible_to(user: User) -> QuerySet[Training]:
    return Training.objects.filter(pairing_scope_q(user, "pairing__")).select_related(
        "pairing__assisting_organization", "pairing__recipient_region"
    )


def fiscal_revenues_visible_to(user: User) -> QuerySet[FiscalRevenue]:
    """Revenues of the organizations the user acts for, and of the assisting parties of pairings they see
    (a recipient official may check the basis of what is owed to them)."""
    qs = FiscalRevenue.objects.select_related("organization", "recorded_by")
    scope = scope_for(user)
    if scope.is_national:
        return qs
    if scope.organization is None:
        return qs.none()
    assisting = Pairing.objects.filter(pairing_scope_q(user)).values("assisting_organization_id")
    return qs.filter(Q(organization__path__startswith=scope.organization.path) | Q(organization_id__in=assisting))


def revenue_organizations_for(user: User) -> QuerySet[Organization]:
    """Organizations whose revenue USER may record: the ones they act for (national: all)."""
    scope = scope_for(user)
    qs = Organization.objects.filter(is_active=True)
    if scope.is_national:
        return qs
    if scope.organization is None:
        return qs.none()
    return qs.filter(path__startswith=scope.organization.path)


def mandates_for(pairing: Pairing) -> QuerySet[AnnualMandate]:
    return with_figures(pairing.mandates.select_related("rule", "basis_revenue").order_by("year"))


def mandates_visible_to(user: User) -> QuerySet[AnnualMandate]:
    return with_figures(
        AnnualMandate.objects.filter(pairing_scope_q(user, "pairing__")).select_related(
            "pairing__assisting_organization", "pairing__recipient_region", "pairing__program", "rule"
        )
    )


def breakdown(mandate: AnnualMandate) -> dict[str, Any]:
    """A parent mandate and its children's mandates for the same year, with what is left unallocated."""
    children = list(
        with_figures(
            AnnualMandate.objects.filter(pairing__parent_id=mandate.pairing_id, year=mandate.year).select_related(
                "pairing__assisting_organization", "pairing__recipient_region", "rule"
            )
        ).order_by("pairing__recipient_region__code")
    )
    allocated = sum((c.funds_required for c in children), Decimal(0))
    return {
        "mandate": mandate,
        "children": children,
        "allocated": allocated,
        "unallocated": mandate.funds_required - allocated,
    }


def user_sees_pairing(user: User, pairing: Pairing) -> bool:
    """The same rule as pairing_scope_q, for one pairing already loaded (no query when the user's
    organization and region are loaded)."""
    scope = scope_for(user)
    if scope.is_national:
        return True
    org = scope.organization
    if org is None:
        return False
    if pairing.assisting_organization.path.startswith(org.path):
        return True
    return org.region is not None and pairing.recipient_region.path.startswith(org.region.path)


# --- search --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Named:
    """What one search word names: regions (with those within them) and pairings (by their recipient region, within
    one of those regions, their assisting party or their programme)."""

    regions: frozenset[int]
    pairings: frozenset[int]


def _pairing_name_q(word: str) -> Q:
    return (
        Q(program__code__icontains=word)
        | Q(program__name__icontains=word)
        | Q(program__name_en__icontains=word)
        | organization_word_q(word, "assisting_organization__")
    )


def named_by(words: list[str]) -> dict[str, Named]:
    """For each of WORDS, the regions and pairings it names (`Named`), looked up in the small tables before a list is
    searched: one query for them all, and a second when a word names a place. A word naming a region names the
    regions within it too (喀什 reaches Kashgar's counties) unless it names more than SUBTREE_LIMIT (县, 市: those
    regions themselves).

    Kept in the cache under the names' version (`core.selectors.names_version`), which every change to a region,
    organization, programme or pairing bumps: a word is looked up once until they change."""
    words = list(dict.fromkeys(words))
    if not words:
        return {}
    version = names_version()
    if version is None:  # no cache: look them up
        return _named_by(words)
    keys = {word: f"search:named:{version}:{hashlib.sha256(word.encode()).hexdigest()[:32]}" for word in words}
    try:
        kept = cache.get_many(list(keys.values()))
    except Exception:
        kept = {}
    missing = [word for word in words if keys[word] not in kept]
    fresh = _named_by(missing) if missing else {}
    if fresh:
        try:
            cache.set_many({keys[word]: named for word, named in fresh.items()}, timeout=NAMES_TIMEOUT)
        except Exception:
            logger.warning("search: looked-up words could not be kept in the cache")
    return {word: fresh[word] if word in fresh else kept[keys[word]] for word in words}


def _named_by(words: list[str]) -> dict[str, Named]:
    """`named_by` from the database."""
    arms = []
    for i, word in enumerate(words):
        regions = Region.objects.filter(region_word_q(word)).annotate(t=Value(f"r{i}"), ref=F("pk"), p=F("path"))
        pairings = Pairing.objects.filter(_pairing_name_q(word)).annotate(t=Value(f"p{i}"), ref=F("pk"), p=Value(""))
        arms += [q.order_by().values_list("t", "pk", "ref", "p") for q in (regions, pairings)]
    named: dict[str, list[tuple[int, str]]] = {f"r{i}": [] for i in range(len(words))}
    by_name: dict[str, set[int]] = {f"p{i}": set() for i in range(len(words))}
    for tag, pk, _ref, path in arms[0].union(*arms[1:], all=True).order_by():
        if tag.startswith("r"):
            named[tag].append((pk, path))
        else:
            by_name[tag].add(pk)
    # The regions within those named (or those named alone, when many), and the pairings whose recipient is one.
    prefixes = {path for rows in named.values() if len(rows) <= SUBTREE_LIMIT for _pk, path in rows}
    many = {pk for rows in named.values() if len(rows) > SUBTREE_LIMIT for pk, _path in rows}
    within_rows: list[tuple[str, int, int, str]] = []
    if prefixes or many:
        within = Q(pk__in=many) if many else Q()
        for path in prefixes:
            within |= Q(path__startswith=path)
        recipients = Q(recipient_region_id__in=many) if many else Q()
        for path in prefixes:
            recipients |= Q(recipient_region__path__startswith=path)
        regions_within = Region.objects.filter(within).annotate(t=Value("r"), ref=F("pk"), p=F("path"))
        pairings_within = Pairing.objects.filter(recipients).annotate(
            t=Value("p"), ref=F("recipient_region_id"), p=Value("")
        )
        arms = [q.order_by().values_list("t", "pk", "ref", "p") for q in (regions_within, pairings_within)]
        within_rows = list(arms[0].union(arms[1], all=True).order_by())
    result: dict[str, Named] = {}
    for i, word in enumerate(words):
        rows = named[f"r{i}"]
        region_ids: frozenset[int]
        if len(rows) > SUBTREE_LIMIT:
            region_ids = frozenset(pk for pk, _path in rows)
        else:
            paths = tuple(path for _pk, path in rows)
            region_ids = frozenset(
                pk for tag, pk, _ref, path in within_rows if tag == "r" and paths and path.startswith(paths)
            )
        pairing_ids = by_name[f"p{i}"] | {pk for tag, pk, ref, _p in within_rows if tag == "p" and ref in region_ids}
        result[word] = Named(regions=region_ids, pairings=frozenset(pairing_ids))
    return result


def pairing_search(queryset: QuerySet[Pairing], text: str) -> QuerySet[Pairing]:
    """Pairings of QUERYSET that every word of TEXT names (`named_by`: the recipient region, within a region, the
    assisting party, the programme), in any order ("广东 疏附", "Shufu Guangdong"). The one search of the pairing
    list, page and API alike."""
    words = search_words(text)
    match = Q()
    for named in named_by(words).values():
        match &= Q(pk__in=sorted(named.pairings))
    return queryset.filter(match) if words else queryset


#: What a pairing list sorts by (the API's `ordering`, the page's `sort`), each as the list shows it.
PAIRING_ORDERINGS = (
    "assisting_organization",
    "recipient_region",
    "program",
    "status",
    "start_date",
    "funds_required",
    "received",
    "fulfilment",
)


def pairing_orderings(year: int | None = None) -> dict[str, Any]:
    """PAIRING_ORDERINGS as expressions on a Pairing queryset: the names in the active language (in English the
    English name, the Chinese one where none is known), the money figures as the list computes them
    (`figures.pairing_money_expression`, all time unless YEAR)."""
    english = (get_language() or "").startswith("en")

    def name(relation: str) -> Any:
        if english:
            return Coalesce(NullIf(F(f"{relation}__name_en"), Value("")), F(f"{relation}__name"))
        return F(f"{relation}__name")

    return {
        "assisting_organization": name("assisting_organization"),
        "recipient_region": name("recipient_region"),
        "program": name("program"),
        "status": F("status"),
        "start_date": F("start_date"),
        "funds_required": pairing_money_expression("required", year),
        "received": pairing_money_expression("received", year),
        "fulfilment": pairing_money_expression("fulfilment", year),
    }
