"""Every write on programmes, pairings, revenues, mandates and flows. Each checks the actor's role and
scope, validates, writes, and records history in the same transaction."""

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Organization, User
from core.errors import DomainError, NotFound, Problem
from core.models import Region, RegionLevel
from core.services import diff_fields, history_record

from . import policy, rules
from .models import (
    AnnualMandate,
    ContractingMode,
    DatePrecision,
    Deployment,
    DeploymentKind,
    Evidence,
    FiscalRevenue,
    FlowKind,
    FlowSource,
    FundFlow,
    FundingBasis,
    FundingRule,
    Pairing,
    PairingStatus,
    Program,
    ProgramModel,
    Source,
    Training,
)
from .selectors import pairing_scope_q

# Flows may name a project. Projects live in an app above this one, so that app registers how to tell
# whether a project id belongs to a pairing (projects.apps); until it does, no flow can name a project.
_project_check: Callable[[Pairing, int], bool] | None = None


def register_project_check(check: Callable[[Pairing, int], bool]) -> None:
    global _project_check
    _project_check = check


# What an app above this one keeps in step with a programme (evaluation: its default indicator framework, made
# with the programme and kept at the programme's rule until someone revises it). Called by `program_create` and
# `funding_rule_set`, in their transaction, after the change: the one place those follow-ups start.
_program_hooks: list[Callable[[Program], None]] = []


def register_program_hook(hook: Callable[[Program], None]) -> None:
    if hook not in _program_hooks:
        _program_hooks.append(hook)


def _program_changed(program: Program) -> None:
    for hook in _program_hooks:
        hook(program)


# Administrative rank of a party, to derive the contracting mode: the region an organization stands for.
LEVEL_RANK = {
    RegionLevel.PROVINCE: 1,
    RegionLevel.PREFECTURE: 2,
    RegionLevel.COUNTY: 3,
    RegionLevel.XPCC_DIVISION: 3,  # a division counts as county level
    RegionLevel.TOWNSHIP: 4,
}


# --- checks shared by the services -------------------------------------------------------------------------


class _Problems:
    """Collects every problem of one request so the official can fix them all in one pass."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, code: str, message: str, field: str | None = None) -> None:
        self.items.append(Problem(code, message, field))

    def raise_if_any(self) -> None:
        if self.items:
            raise DomainError.many(self.items)


def _visible_pairing(by: User | None, pairing: Pairing, *, lock: bool = False) -> Pairing:
    """Re-read PAIRING (locked when asked) through the actor's scope: outside it, it does not exist."""
    qs = Pairing.objects.select_related("program", "assisting_organization", "recipient_region", "parent")
    if lock:
        qs = qs.select_for_update(of=("self",))
    if by is not None:
        qs = qs.filter(pairing_scope_q(by))
    found = qs.filter(pk=pairing.pk).first()
    if found is None:
        raise NotFound("not_found", _("No such pairing."), "pairing")
    return found


def _decimal(
    value: Any,
    field: str,
    problems: _Problems,
    *,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
    strict_minimum: bool = False,
) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        problems.add("invalid", _("Enter a number."), field)
        return None
    if not number.is_finite():
        problems.add("invalid", _("Enter a number."), field)
        return None
    if minimum is not None and (number <= minimum if strict_minimum else number < minimum):
        if strict_minimum:
            problems.add("min_value", _("Must be greater than %(min)s.") % {"min": minimum}, field)
        else:
            problems.add("min_value", _("Must be at least %(min)s.") % {"min": minimum}, field)
    if maximum is not None and number > maximum:
        problems.add("max_value", _("Must be at most %(max)s.") % {"max": maximum}, field)
    return number


def _int(value: Any, field: str, problems: _Problems, *, minimum: int | None = None) -> int | None:
    """VALUE as a whole number, or a problem on FIELD (a service must refuse, never crash, on bad input)."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        problems.add("invalid", _("Enter a whole number."), field)
        return None
    if minimum is not None and number < minimum:
        problems.add("min_value", _("Must be at least %(min)s.") % {"min": minimum}, field)
    return number


def _dates_in_order(start: dt.date | None, end: dt.date | None, problems: _Problems, field: str = "end_date") -> None:
    if start and end and end < start:
        problems.add("dates_out_of_order", _("The end date is before the start date."), field)


def _rank(region: Region | None) -> int | None:
    return LEVEL_RANK.get(region.level) if region is not None else None  # type: ignore[call-overload]


def derive_contracting_mode(assisting: Organization, recipient: Region) -> str:
    """Diagonal when the parties' administrative levels differ (a province helping a county), direct
    otherwise. An organization without a region (a central enterprise) counts as provincial."""
    own = _rank(assisting.region) or LEVEL_RANK[RegionLevel.PROVINCE]
    return ContractingMode.DIRECT if own == _rank(recipient) else ContractingMode.DIAGONAL


# --- programmes and their funding rules --------------------------------------------------------------------


#: The years a programme may start and end in: paired assistance began after 1949, and a year past 2100 is a typo.
#: A year outside them (0 from a form left empty, 20100) would give mandates and evaluation runs of no real year.
PROGRAMME_YEAR_MIN = 1949
PROGRAMME_YEAR_MAX = 2100


def _check_programme_years(problems: "_Problems", start_year: Any, end_year: Any) -> None:
    """The one rule for a programme's years, on create and on change (the API's serializer shows the same bounds)."""
    message = _("Enter a year from %(min)s to %(max)s.") % {"min": PROGRAMME_YEAR_MIN, "max": PROGRAMME_YEAR_MAX}
    bad_start = not PROGRAMME_YEAR_MIN <= start_year <= PROGRAMME_YEAR_MAX
    bad_end = end_year is not None and not PROGRAMME_YEAR_MIN <= end_year <= PROGRAMME_YEAR_MAX
    if bad_start:
        problems.add("invalid_year", message, "start_year")
    if bad_end:
        problems.add("invalid_year", message, "end_year")
    if not (bad_start or bad_end) and end_year is not None and end_year < start_year:
        problems.add("dates_out_of_order", _("The end year is before the start year."), "end_year")


def program_create(
    *,
    by: User | None,
    code: str,
    name: str,
    model: str,
    start_year: int,
    name_en: str = "",
    end_year: int | None = None,
    policy_reference: str = "",
    principles: str = "",
    principles_en: str = "",
    lead_agency: Organization | None = None,
    source: str = "",
) -> Program:
    policy.may_manage_programmes(by).enforce()
    problems = _Problems()
    if not code.strip():
        problems.add("required", _("Enter a code."), "code")
    elif Program.objects.filter(code=code.strip()).exists():
        problems.add("duplicate", _("A programme with this code already exists."), "code")
    if not name.strip():
        problems.add("required", _("Enter a name."), "name")
    if model not in ProgramModel.values:
        problems.add("invalid_choice", _("Choose a valid model."), "model")
    _check_programme_years(problems, start_year, end_year)
    problems.raise_if_any()
    try:
        with transaction.atomic():
            program = Program.objects.create(
                code=code.strip(),
                name=name.strip(),
                name_en=name_en.strip(),
                model=model,
                start_year=start_year,
                end_year=end_year,
                policy_reference=policy_reference,
                principles=principles,
                principles_en=principles_en,
                lead_agency=lead_agency,
                source=source,
            )
            history_record(obj=program, action="created", actor=by, changes={"code": (None, program.code)})
            _program_changed(program)
    except IntegrityError as exc:
        # Two coordinators creating the same code at once: the unique index decides.
        raise DomainError("duplicate", _("A programme with this code already exists."), "code") from exc
    return program


def program_update(*, by: User | None, program: Program, **values: Any) -> Program:
    policy.may_manage_programmes(by).enforce()
    allowed = {
        "name",
        "name_en",
        "model",
        "start_year",
        "end_year",
        "policy_reference",
        "principles",
        "principles_en",
        "lead_agency",
        "source",
    }
    unknown = set(values) - allowed
    if unknown:
        raise DomainError(
            "unknown_field", _("These fields cannot be changed: %(f)s.") % {"f": ", ".join(sorted(unknown))}
        )
    with transaction.atomic():
        locked = Program.objects.select_for_update().get(pk=program.pk)
        start, end = values.get("start_year", locked.start_year), values.get("end_year", locked.end_year)
        problems = _Problems()
        _check_programme_years(problems, start, end)
        if "name" in values and not str(values["name"] or "").strip():
            problems.add("required", _("Enter a name."), "name")
        if "model" in values and values["model"] not in ProgramModel.values:
            problems.add("invalid_choice", _("Choose a valid model."), "model")
        problems.raise_if_any()
        changes = diff_fields(locked, values)
        for k, v in values.items():
            setattr(locked, k, v)
        locked.save()
        if changes:
            history_record(obj=locked, action="updated", actor=by, changes=changes)
    return locked


def funding_rule_set(
    *,
    by: User | None,
    program: Program,
    basis: str,
    rate: Any = None,
    fixed_amount: Any = None,
    escalation: Any = None,
    escalation_years: int | None = None,
    min_county_share: Any = None,
    min_livelihood_share: Any = None,
    effective_from_year: int | None = None,
    effective_to_year: int | None = None,
    organization: Organization | None = None,
    is_unverified: bool = False,
    reason: str = "",
    source: str = "",
    sources: Iterable[Source] = (),
) -> FundingRule:
    """Record a new version of PROGRAM's funding rule. Earlier versions stay, with the mandates computed by them.
    With ORGANIZATION the version is that assisting party's own rate, which overrides the programme's rule for it;
    EFFECTIVE_FROM_YEAR/EFFECTIVE_TO_YEAR bound the years it applies to (a year no version covers has no mandate)."""
    policy.may_manage_programmes(by).enforce()
    problems = _Problems()
    one = Decimal(1)
    rate_d = _decimal(rate, "rate", problems, minimum=Decimal(0), maximum=one)
    fixed_d = _decimal(fixed_amount, "fixed_amount", problems, minimum=Decimal(0))
    esc_d = _decimal(escalation, "escalation", problems, minimum=Decimal(0), maximum=one)
    county_d = _decimal(min_county_share, "min_county_share", problems, minimum=Decimal(0), maximum=one)
    livelihood_d = _decimal(min_livelihood_share, "min_livelihood_share", problems, minimum=Decimal(0), maximum=one)
    if basis not in FundingBasis.values:
        problems.add("invalid_choice", _("Choose a valid basis."), "basis")
    elif basis == FundingBasis.FISCAL_REVENUE and rate_d is None and not any(p.field == "rate" for p in problems.items):
        problems.add("required", _("A share of fiscal revenue needs its rate."), "rate")
    elif basis == FundingBasis.FIXED and fixed_d is None and not any(p.field == "fixed_amount" for p in problems.items):
        problems.add("required", _("A fixed rule needs its amount."), "fixed_amount")
    if escalation_years is not None and escalation_years < 0:
        problems.add("min_value", _("Must be at least %(min)s.") % {"min": 0}, "escalation_years")
    if effective_from_year is not None and effective_from_year < program.start_year:
        problems.add(
            "before_programme",
            _("The programme starts in %(year)s.") % {"year": program.start_year},
            "effective_from_year",
        )
    if effective_to_year is not None and effective_to_year < (effective_from_year or program.start_year):
        problems.add("dates_out_of_order", _("The last year is before the first year."), "effective_to_year")
    if effective_to_year is not None and program.end_year is not None and effective_to_year > program.end_year:
        problems.add(
            "after_programme", _("The programme ends in %(year)s.") % {"year": program.end_year}, "effective_to_year"
        )
    problems.raise_if_any()
    with transaction.atomic():
        Program.objects.select_for_update().get(pk=program.pk)  # versions are numbered one at a time
        last = program.rules.order_by("-version").first()
        rule = FundingRule.objects.create(
            program=program,
            version=(last.version + 1) if last else 1,
            basis=basis,
            rate=rate_d if basis == FundingBasis.FISCAL_REVENUE else None,
            fixed_amount=fixed_d if basis == FundingBasis.FIXED else None,
            escalation=esc_d,
            escalation_years=escalation_years,
            min_county_share=county_d,
            min_livelihood_share=livelihood_d,
            effective_from_year=effective_from_year,
            effective_to_year=effective_to_year,
            organization=organization,
            is_unverified=is_unverified,
            reason=reason,
            source=source,
            created_by=by,
        )
        rule.sources.set(list(sources))
        changes = {
            "rule_version": (last.version if last else None, rule.version),
            "basis": (last.basis if last else None, basis),
            "rate": (last.rate if last else None, rule.rate),
            "fixed_amount": (last.fixed_amount if last else None, rule.fixed_amount),
            "escalation": (last.escalation if last else None, rule.escalation),
            "escalation_years": (last.escalation_years if last else None, rule.escalation_years),
            "min_county_share": (last.min_county_share if last else None, rule.min_county_share),
            "min_livelihood_share": (last.min_livelihood_share if last else None, rule.min_livelihood_share),
            "effective_from_year": (last.effective_from_year if last else None, effective_from_year),
            "effective_to_year": (last.effective_to_year if last else None, effective_to_year),
            "organization": (last.organization if last else None, organization),
            "is_unverified": (last.is_unverified if last else False, is_unverified),
        }
        history_record(
            obj=program,
            action="rule_changed",
            actor=by,
            comment=reason,
            changes={k: v for k, v in changes.items() if v[0] != v[1]},
        )
        _program_changed(program)
    return rule


def current_rule(
    program: Program, year: int | None = None, organization: Organization | None = None
) -> FundingRule | None:
    """The programme's rule: the latest version, or the latest one in force in YEAR (None when no version applies
    that year: the rule gives no mandate then, not zero). For ORGANIZATION, its own rate overrides the
    programme's; without it, only the programme's rule for every party is looked at."""
    return rules_in_force(program.rules.select_related("program"), year, organization).first()


def rules_in_force(
    rules: models.QuerySet[FundingRule], year: Any = None, organization: Organization | None = None
) -> models.QuerySet[FundingRule]:
    """RULES (a programme's) narrowed to those `current_rule` chooses from, the one it takes first. YEAR may be an
    expression (`OuterRef`): a page reads its rule with the row it belongs to, as a subquery."""
    rules_qs = rules.order_by("-version")
    if organization is None:
        rules_qs = rules_qs.filter(organization__isnull=True)
    else:
        rules_qs = rules_qs.filter(Q(organization__isnull=True) | Q(organization=organization)).order_by(
            models.F("organization").desc(nulls_last=True), "-version"
        )
    if year is not None:
        rules_qs = rules_qs.filter(
            Q(effective_from_year__isnull=True, program__start_year__lte=year) | Q(effective_from_year__lte=year),
            Q(effective_to_year__isnull=True) | Q(effective_to_year__gte=year),
        )
    return rules_qs


def sharing_pairings(pairing: Pairing, year: int) -> int:
    """How many top-level pairings the assisting party holds in the programme in YEAR and owes a share of the
    rule's amount to (at least this one)."""
    n = (
        Pairing.objects.filter(
            program_id=pairing.program_id,
            assisting_organization_id=pairing.assisting_organization_id,
            parent__isnull=True,
            mandate_from_rule=True,
            start_date__year__lte=year,
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__year__gte=year))
        .count()
    )
    return max(n, 1)


# --- pairings ----------------------------------------------------------------------------------------------


def _check_pairing_parties(
    problems: _Problems, *, program: Program, assisting: Organization, recipient: Region, parent: Pairing | None
) -> None:
    if parent is None:
        return
    if parent.program_id != program.pk:
        problems.add("parent_other_program", _("The parent pairing belongs to another programme."), "parent")
    if not parent.recipient_region.contains(recipient) or parent.recipient_region_id == recipient.pk:
        problems.add(
            "outside_parent",
            _("The recipient region must lie within the parent pairing's recipient region (%(region)s).")
            % {"region": parent.recipient_region},
            "recipient_region",
        )
    if not assisting.path.startswith(parent.assisting_organization.path):
        problems.add(
            "not_under_parent",
            _("The assisting organization must be the parent pairing's assisting party or sit under it (%(org)s).")
            % {"org": parent.assisting_organization},
            "assisting_organization",
        )


def claim_conflict(*, program: Program, recipient: Region, parent: Pairing | None = None) -> Pairing | None:
    """An active pairing of PROGRAM that already claims RECIPIENT or part of it: one on the region itself, on a
    region containing it, or on a region within it. Prefecture pairings whose counties are not sourced claim
    nothing, and the pairings RECIPIENT's pairing would be broken down from do not count."""
    parts = recipient.path.strip("/").split("/")
    enclosing = ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
    ancestors: list[int] = []
    while parent is not None:
        if parent.recipient_region_id != recipient.pk:  # a breakdown on its parent's own region is a second claim
            ancestors.append(parent.pk)
        parent = parent.parent
    return (
        Pairing.objects.filter(program=program, status=PairingStatus.ACTIVE, covers_unsourced=False)
        .filter(Q(recipient_region__path__in=enclosing) | Q(recipient_region__path__startswith=recipient.path))
        .exclude(pk__in=ancestors)
        .select_related("recipient_region", "assisting_organization")
        .first()
    )


def _taken_message(taken: Pairing, recipient: Region) -> str:
    if taken.recipient_region_id == recipient.pk:
        return _("This region already has an active pairing in this programme.")
    return (
        _("%(region)s already lies within an active pairing of this programme (%(pairing)s).")
        % {
            "region": recipient,
            "pairing": taken,
        }
        if taken.recipient_region.contains(recipient)
        else _("%(other)s, within this region, already has an active pairing in this programme (%(pairing)s).")
        % {"other": taken.recipient_region, "pairing": taken}
    )


def pairing_create(
    *,
    by: User | None,
    program: Program,
    assisting_organization: Organization,
    recipient_region: Region,
    start_date: dt.date,
    end_date: dt.date | None = None,
    parent: Pairing | None = None,
    contracting_mode: str | None = None,
    mode_reason: str = "",
    source: str = "",
    note: str = "",
    start_precision: str = DatePrecision.DAY,
    evidence: str = Evidence.SOURCED,
    covers_unsourced: bool = False,
    mandate_from_rule: bool = True,
    sources: Iterable[Source] = (),
) -> Pairing:
    """Pair ASSISTING_ORGANIZATION with RECIPIENT_REGION. The contracting mode is derived from the parties'
    levels unless given, in which case a reason is required.

    The invariant: one active pairing per programme per county-level unit. A pairing claims its recipient region
    and everything within it, so a county pairing inside a whole-prefecture pairing is refused (and the other way
    round), while several parties may each hold counties of one prefecture. A prefecture pairing recorded only
    because its counties are not sourced (COVERS_UNSOURCED) claims none of them. A pairing broken down from
    another lies within its parent, which it does not conflict with."""
    if parent is not None and by is not None:
        parent = _visible_pairing(by, parent)
    policy.may_create_pairing(by, parent).enforce()
    problems = _Problems()
    _dates_in_order(start_date, end_date, problems)
    _check_pairing_parties(
        problems, program=program, assisting=assisting_organization, recipient=recipient_region, parent=parent
    )
    derived = derive_contracting_mode(assisting_organization, recipient_region)
    mode = contracting_mode or derived
    if mode not in ContractingMode.values:
        problems.add("invalid_choice", _("Choose a valid contracting mode."), "contracting_mode")
    overridden = mode != derived
    if overridden and not mode_reason.strip():
        problems.add(
            "reason_required",
            _("Say why the mode differs from the one the parties' levels give (%(mode)s).")
            % {"mode": ContractingMode(derived).label},
            "mode_reason",
        )
    if start_precision not in DatePrecision.values:
        problems.add("invalid_choice", _("Choose a valid precision."), "start_precision")
    if evidence not in Evidence.values:
        problems.add("invalid_choice", _("Choose a valid kind of evidence."), "evidence")
    if covers_unsourced and parent is not None:
        problems.add(
            "unsourced_breakdown",
            _("Only a whole-prefecture pairing may be recorded with its counties not sourced."),
            "covers_unsourced",
        )
    if not assisting_organization.is_active:
        problems.add("inactive", _("This organization is inactive."), "assisting_organization")
    if not covers_unsourced:
        same = Pairing.objects.filter(
            program=program, recipient_region=recipient_region, status=PairingStatus.ACTIVE, covers_unsourced=False
        ).first()
        # The whole tree is looked at only for a recipient that is otherwise acceptable (one outside its parent's
        # region would report its neighbours too).
        if same is None and not any(p.field == "recipient_region" for p in problems.items):
            same = claim_conflict(program=program, recipient=recipient_region, parent=parent)
        if same is not None:
            problems.add("recipient_taken", _taken_message(same, recipient_region), "recipient_region")
    problems.raise_if_any()
    try:
        with transaction.atomic():
            # Pairings of one programme are created one at a time, so two overlapping claims cannot both pass: the
            # check is made again under the programme's row lock.
            Program.objects.select_for_update().get(pk=program.pk)
            if not covers_unsourced:
                taken = claim_conflict(program=program, recipient=recipient_region, parent=parent)
                if taken is not None:
                    raise DomainError("recipient_taken", _taken_message(taken, recipient_region), "recipient_region")
            pairing = Pairing.objects.create(
                program=program,
                assisting_organization=assisting_organization,
                recipient_region=recipient_region,
                contracting_mode=mode,
                mode_overridden=overridden,
                mode_reason=mode_reason.strip() if overridden else "",
                parent=parent,
                start_date=start_date,
                start_precision=start_precision,
                end_date=end_date,
                evidence=evidence,
                covers_unsourced=covers_unsourced,
                mandate_from_rule=mandate_from_rule,
                source=source,
                note=note,
            )
            pairing.sources.set(list(sources))
            history_record(
                obj=pairing,
                action="created",
                actor=by,
                to_state=PairingStatus.ACTIVE,
                changes={
                    "assisting_organization": (None, assisting_organization),
                    "recipient_region": (None, recipient_region),
                    "contracting_mode": (None, mode),
                    "parent": (None, parent),
                },
            )
    except IntegrityError as exc:
        # Two coordinators pairing the same region at once: the partial unique index decides.
        raise DomainError(
            "recipient_taken", _("This region already has an active pairing in this programme."), "recipient_region"
        ) from exc
    return pairing


def pairing_update(
    *,
    by: User | None,
    pairing: Pairing,
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    contracting_mode: str | None = None,
    mode_reason: str | None = None,
    note: str | None = None,
    source: str | None = None,
) -> Pairing:
    """Change a pairing's term, mode or note. Parties are not edited: end the pairing and create another."""
    with transaction.atomic():
        locked = _visible_pairing(by, pairing, lock=True)
        policy.may_change_pairing(by, locked).enforce()
        values: dict[str, Any] = {}
        if start_date is not None:
            values["start_date"] = start_date
        if end_date is not None:
            values["end_date"] = end_date
        if note is not None:
            values["note"] = note
        if source is not None:
            values["source"] = source
        problems = _Problems()
        _dates_in_order(values.get("start_date", locked.start_date), values.get("end_date", locked.end_date), problems)
        if contracting_mode is not None or mode_reason is not None:
            derived = derive_contracting_mode(locked.assisting_organization, locked.recipient_region)
            mode = contracting_mode or locked.contracting_mode
            if mode not in ContractingMode.values:
                problems.add("invalid_choice", _("Choose a valid contracting mode."), "contracting_mode")
            reason = (mode_reason if mode_reason is not None else locked.mode_reason).strip()
            if mode != derived and not reason:
                problems.add(
                    "reason_required",
                    _("Say why the mode differs from the one the parties' levels give (%(mode)s).")
                    % {"mode": ContractingMode(derived).label},
                    "mode_reason",
                )
            values.update(
                contracting_mode=mode, mode_overridden=mode != derived, mode_reason=reason if mode != derived else ""
            )
        problems.raise_if_any()
        changes = diff_fields(locked, values)
        for k, v in values.items():
            setattr(locked, k, v)
        locked.save()
        if changes:
            history_record(obj=locked, action="updated", actor=by, changes=changes)
    return locked


def pairing_end(*, by: User | None, pairing: Pairing, end_date: dt.date, comment: str) -> Pairing:
    """End a pairing. Its history, mandates, flows and projects stay; no new flows can be recorded."""
    with transaction.atomic():
        locked = _visible_pairing(by, pairing, lock=True)
        policy.may_end_pairing(by, locked).enforce()
        problems = _Problems()
        if not comment.strip():
            problems.add("comment_required", _("Say why the pairing ends."), "comment")
        _dates_in_order(locked.start_date, end_date, problems)
        if locked.children.filter(status=PairingStatus.ACTIVE).exists():
            problems.add("active_children", _("End the pairings it was broken down into first."), "status")
        problems.raise_if_any()
        old_end = locked.end_date
        locked.status = PairingStatus.ENDED
        locked.end_date = end_date
        locked.save(update_fields=["status", "end_date"])
        history_record(
            obj=locked,
            action="ended",
            actor=by,
            from_state=PairingStatus.ACTIVE,
            to_state=PairingStatus.ENDED,
            changes={"end_date": (old_end, end_date)},
            comment=comment,
        )
    return locked


# --- fiscal revenue ----------------------------------------------------------------------------------------


def fiscal_revenue_record(
    *, by: User | None, organization: Organization, year: int, amount: Any, source: str = "", is_synthetic: bool = False
) -> FiscalRevenue:
    policy.may_record_revenue(by, organization).enforce()
    problems = _Problems()
    amount_d = _decimal(amount, "amount", problems, minimum=Decimal(0))
    if amount_d is None and not problems.items:
        problems.add("required", _("Enter the amount."), "amount")
    this_year = timezone.localdate().year
    year_n = _int(year, "year", problems)
    if year_n is not None and not (1949 <= year_n <= this_year):
        problems.add("invalid_year", _("Enter a year between 1949 and %(year)s.") % {"year": this_year}, "year")
    if FiscalRevenue.objects.filter(organization=organization, year=year).exists():
        problems.add(
            "duplicate", _("A revenue is already recorded for this organization and year; correct it instead."), "year"
        )
    problems.raise_if_any()
    assert amount_d is not None  # noqa: S101 — an invariant of our own code, not a check of input
    try:
        with transaction.atomic():
            revenue = FiscalRevenue.objects.create(
                organization=organization,
                year=year,
                amount=amount_d,
                source=source,
                is_synthetic=is_synthetic,
                recorded_by=by,
            )
            history_record(
                obj=revenue, action="created", actor=by, changes={"amount": (None, amount_d), "year": (None, year)}
            )
    except IntegrityError as exc:
        raise DomainError(
            "duplicate", _("A revenue is already recorded for this organization and year; correct it instead."), "year"
        ) from exc
    return revenue


def fiscal_revenue_correct(*, by: User | None, revenue: FiscalRevenue, amount: Any, reason: str) -> FiscalRevenue:
    """Correct a recorded revenue. Mandates already computed from it keep their amount until recomputed."""
    policy.may_correct_revenue(by, revenue).enforce()
    problems = _Problems()
    amount_d = _decimal(amount, "amount", problems, minimum=Decimal(0))
    if amount_d is None and not problems.items:
        problems.add("required", _("Enter the amount."), "amount")
    if not reason.strip():
        problems.add("reason_required", _("Say why the revenue is corrected."), "reason")
    problems.raise_if_any()
    with transaction.atomic():
        locked = FiscalRevenue.objects.select_for_update().get(pk=revenue.pk)
        old = locked.amount
        locked.amount = amount_d  # type: ignore[assignment]
        locked.save(update_fields=["amount"])
        history_record(obj=locked, action="corrected", actor=by, changes={"amount": (old, amount_d)}, comment=reason)
    return locked


# --- mandates ----------------------------------------------------------------------------------------------


def _check_children_fit(pairing: Pairing, year: int, amount: Decimal, problems: _Problems) -> None:
    """Children's mandates for a year sum to no more than their parent's."""
    # Lock this pairing's own mandate before its children's total is read, and the parent's before its siblings'
    # total is read: a parent's change and a child's allocation then queue on the parent's row instead of each
    # passing its check against the other's old figure. `of=("self",)`: the default ordering joins the pairing,
    # programme, organization and region, whose rows must not be locked too (that deadlocked against the parent
    # pairing's own lock).
    AnnualMandate.objects.select_for_update(of=("self",)).filter(pairing_id=pairing.pk, year=year).first()
    if pairing.parent_id is not None:
        parent_mandate = (
            AnnualMandate.objects.select_for_update(of=("self",))
            .filter(pairing_id=pairing.parent_id, year=year)
            .first()
        )
        if parent_mandate is None:
            problems.add(
                "parent_mandate_missing",
                _("Set the parent pairing's mandate for %(year)s first.") % {"year": year},
                "year",
            )
            return
        siblings = AnnualMandate.objects.filter(pairing__parent_id=pairing.parent_id, year=year).exclude(
            pairing_id=pairing.pk
        ).aggregate(t=Sum("funds_required"))["t"] or Decimal(0)
        if siblings + amount > parent_mandate.funds_required:
            problems.add(
                "above_parent",
                _(
                    "With this amount the pairings broken down from %(parent)s would need %(total)s, more than its mandate of %(limit)s."
                )
                % {"parent": pairing.parent, "total": siblings + amount, "limit": parent_mandate.funds_required},
                "funds_required",
            )
    children_total = AnnualMandate.objects.filter(pairing__parent_id=pairing.pk, year=year).aggregate(
        t=Sum("funds_required")
    )["t"] or Decimal(0)
    if children_total > amount:
        problems.add(
            "below_children",
            _("The pairings broken down from this one already need %(total)s for %(year)s.")
            % {"total": children_total, "year": year},
            "funds_required",
        )


def _save_mandate(
    *, by: User | None, pairing: Pairing, year: int, values: dict[str, Any], action: str, comment: str = ""
) -> AnnualMandate:
    mandate = AnnualMandate.objects.select_for_update(of=("self",)).filter(pairing=pairing, year=year).first()
    if mandate is None:
        mandate = AnnualMandate.objects.create(pairing=pairing, year=year, **values)
        history_record(
            obj=mandate,
            action=action,
            actor=by,
            comment=comment,
            changes={"funds_required": (None, mandate.funds_required)},
        )
        return mandate
    changes = diff_fields(mandate, values)
    for k, v in values.items():
        setattr(mandate, k, v)
    mandate.save()
    if changes:
        history_record(obj=mandate, action=action, actor=by, changes=changes, comment=comment)
    return mandate


def mandate_compute(
    *, by: User | None, pairing: Pairing, year: int, personnel_quota: int | None = None
) -> AnnualMandate:
    """Compute PAIRING's mandate for YEAR from the programme's current rule and the assisting party's
    revenue. A mandate set by hand is not overwritten (set it again by hand, or clear it, to change it)."""
    with transaction.atomic():
        locked = _visible_pairing(by, pairing, lock=True)
        policy.may_compute_mandate(by, locked).enforce()
        program = locked.program
        problems = _Problems()
        if year < program.start_year or (program.end_year is not None and year > program.end_year):
            raise DomainError(
                "outside_programme",
                _("The programme runs %(start)s–%(end)s.")
                % {"start": program.start_year, "end": program.end_year or "…"},
                "year",
            )
        rule = current_rule(program, year, locked.assisting_organization)
        if rule is None:
            if not program.rules.exists():
                raise DomainError("no_rule", _("The programme has no funding rule yet."), "program")
            raise DomainError(
                "no_rule_in_year",
                _("No version of the programme's funding rule applies in %(year)s, so it gives no mandate.")
                % {"year": year},
                "year",
            )
        spec = rules.Rule(
            basis=rule.basis,
            rate=rule.rate,
            fixed_amount=rule.fixed_amount,
            escalation=rule.escalation,
            escalation_years=rule.escalation_years,
        )
        revenue = None
        if rule.basis == FundingBasis.FISCAL_REVENUE:
            basis_year = rules.basis_year(spec, year, rule.first_year)
            revenue = FiscalRevenue.objects.filter(organization=locked.assisting_organization, year=basis_year).first()
            if revenue is None:
                problems.add(
                    "revenue_missing",
                    _("Record %(org)s's fiscal revenue for %(year)s first.")
                    % {"org": locked.assisting_organization, "year": basis_year},
                    "year",
                )
        existing = AnnualMandate.objects.filter(pairing=locked, year=year).first()
        if existing is not None and existing.is_manual:
            problems.add("manual_mandate", _("This mandate was set by hand; change it by hand."), "year")
        problems.raise_if_any()
        whole = rules.required_funds(
            spec, year=year, start_year=rule.first_year, revenue=revenue.amount if revenue else None
        )
        shared_by = sharing_pairings(locked, year)
        amount = rules.share(whole, shared_by)
        _check_children_fit(locked, year, amount, problems)
        problems.raise_if_any()
        values: dict[str, Any] = {
            "funds_required": amount,
            "rule": rule,
            "basis_revenue": revenue,
            "basis_amount": revenue.amount if revenue else None,
            "shared_by": shared_by,
            "is_manual": False,
            "reason": "",
        }
        if personnel_quota is not None:
            values["personnel_quota"] = personnel_quota
        return _save_mandate(by=by, pairing=locked, year=year, values=values, action="mandate_computed")


def mandate_set(
    *,
    by: User | None,
    pairing: Pairing,
    year: int,
    funds_required: Any,
    reason: str,
    personnel_quota: int | None = None,
) -> AnnualMandate:
    """Set a mandate by hand (an allocation from a parent pairing, a negotiated figure), with the reason."""
    with transaction.atomic():
        locked = _visible_pairing(by, pairing, lock=True)
        policy.may_set_mandate(by, locked).enforce()
        problems = _Problems()
        amount = _decimal(funds_required, "funds_required", problems, minimum=Decimal(0))
        if amount is None and not problems.items:
            problems.add("required", _("Enter the amount."), "funds_required")
        if not reason.strip():
            problems.add("reason_required", _("Say why the mandate is set by hand."), "reason")
        if personnel_quota is not None and personnel_quota < 0:
            problems.add("min_value", _("Must be at least %(min)s.") % {"min": 0}, "personnel_quota")
        problems.raise_if_any()
        _check_children_fit(locked, year, amount, problems)  # type: ignore[arg-type]
        problems.raise_if_any()
        values: dict[str, Any] = {
            "funds_required": amount,
            "rule": None,
            "basis_revenue": None,
            "basis_amount": None,
            "shared_by": 1,
            "is_manual": True,
            "reason": reason.strip(),
        }
        if personnel_quota is not None:
            values["personnel_quota"] = personnel_quota
        return _save_mandate(by=by, pairing=locked, year=year, values=values, action="mandate_set", comment=reason)


# --- flows of money and people -----------------------------------------------------------------------------


def _check_dated(pairing: Pairing, date: dt.date | None, problems: _Problems, field: str = "date") -> None:
    """A date within the pairing's term (whether the pairing still takes records is the policy's)."""
    if date is None:
        problems.add("required", _("Enter the date."), field)
    elif date < pairing.start_date:
        problems.add(
            "before_pairing",
            _("The date is before the pairing began (%(date)s).") % {"date": pairing.start_date},
            field,
        )
    elif date > timezone.localdate() + dt.timedelta(days=366):
        problems.add("too_far_ahead", _("The date is more than a year ahead."), field)


def record_date_problems(pairing: Pairing, values: dict[str, Any]) -> list[Problem]:
    """The date rules of a record on PAIRING (a flow's `date`, a deployment's or training's `start_date` within the
    pairing's term; an end not before the start), for a form that refused other fields already: it shows these too,
    so an official sees every mistake after one submit (the recording services apply the same rules again)."""
    problems = _Problems()
    for field in ("date", "start_date"):
        if values.get(field) is not None:
            _check_dated(pairing, values[field], problems, field)
    _dates_in_order(values.get("start_date"), values.get("end_date"), problems)
    return problems.items


#: The longest external reference a record keeps (`Recorded.external_ref`).
EXTERNAL_REF_MAX = 100


def _check_external_ref(
    model: type[FundFlow] | type[Deployment] | type[Training], pairing: Pairing, ref: str, problems: _Problems
) -> None:
    """An external reference names one record of its kind in a pairing (checked under the pairing's row lock, which
    every recording of the kind takes, so two recordings cannot both pass)."""
    ref = ref.strip()
    if not ref:
        return
    if len(ref) > EXTERNAL_REF_MAX:
        problems.add("max_length", _("At most %(max)s characters.") % {"max": EXTERNAL_REF_MAX}, "external_ref")
    elif model.objects.filter(pairing=pairing, external_ref=ref).exists():
        problems.add(
            "duplicate", _("A record with this external reference already exists in this pairing."), "external_ref"
        )


def fund_flow_record(
    *,
    by: User | None,
    pairing: Pairing,
    kind: str,
    amount: Any,
    date: dt.date | None,
    source: str,
    pledge: FundFlow | None = None,
    project_id: int | None = None,
    reference: str = "",
    note: str = "",
    is_synthetic: bool = False,
    external_ref: str = "",
) -> FundFlow:
    """Record money moving in PAIRING. A commitment may name the pledge it fulfils (each pledge once). EXTERNAL_REF
    is the id the flow has in the system it comes from (an import matches rows by it): once per pairing."""
    with transaction.atomic():
        # The pairing row is locked so that ending it and recording on it cannot cross; two officials
        # recording at once queue here and both land.
        locked = _visible_pairing(by, pairing, lock=True)
        policy.may_record_flow(by, locked, kind).enforce()
        problems = _Problems()
        if kind not in FlowKind.values:
            problems.add("invalid_choice", _("Choose a valid kind."), "kind")
        if source not in FlowSource.values:
            problems.add("invalid_choice", _("Choose a valid source."), "source")
        amount_d = _decimal(amount, "amount", problems, minimum=Decimal(0), strict_minimum=True)
        if amount_d is None and not any(p.field == "amount" for p in problems.items):
            problems.add("required", _("Enter the amount."), "amount")
        _check_dated(locked, date, problems)
        if pledge is not None:
            pledge = FundFlow.objects.select_for_update().filter(pk=pledge.pk).first()
            if kind != FlowKind.COMMITMENT:
                problems.add("pledge_for_commitment", _("Only a commitment fulfils a pledge."), "pledge")
            elif pledge is None or pledge.pairing_id != locked.pk or pledge.kind != FlowKind.PLEDGE:
                problems.add("invalid_pledge", _("Choose a pledge of this pairing."), "pledge")
            elif FundFlow.objects.filter(pledge=pledge).exists():
                problems.add("pledge_committed", _("This pledge has already been committed."), "pledge")
        if project_id is not None and (_project_check is None or not _project_check(locked, project_id)):
            problems.add("invalid_project", _("Choose a project of this pairing."), "project")
        _check_external_ref(FundFlow, locked, external_ref, problems)
        problems.raise_if_any()
        assert amount_d is not None and date is not None  # noqa: PT018, S101 — an invariant of our own code, not a check of input
        try:
            with transaction.atomic():
                flow = FundFlow.objects.create(
                    pairing=locked,
                    kind=kind,
                    amount=amount_d,
                    date=date,
                    source=source,
                    pledge=pledge,
                    project_id=project_id,
                    reference=reference,
                    note=note,
                    is_synthetic=is_synthetic,
                    recorded_by=by,
                    external_ref=external_ref.strip(),
                )
        except IntegrityError as exc:
            raise DomainError("pledge_committed", _("This pledge has already been committed."), "pledge") from exc
        history_record(
            obj=locked,
            action="flow_recorded",
            actor=by,
            changes={"kind": (None, kind), "amount": (None, amount_d), "date": (None, date), "source": (None, source)},
            comment=note,
        )
        history_record(obj=flow, action="created", actor=by, changes={"amount": (None, amount_d)})
    return flow


def deployment_record(
    *,
    by: User | None,
    pairing: Pairing,
    kind: str,
    headcount: int,
    start_date: dt.date | None,
    end_date: dt.date | None = None,
    batch: str = "",
    group_style: bool = False,
    note: str = "",
    is_synthetic: bool = False,
    external_ref: str = "",
) -> Deployment:
    with transaction.atomic():
        locked = _visible_pairing(by, pairing, lock=True)
        policy.may_record_deployment(by, locked).enforce()
        problems = _Problems()
        if kind not in DeploymentKind.values:
            problems.add("invalid_choice", _("Choose a valid kind."), "kind")
        _int(headcount, "headcount", problems, minimum=1)
        _check_dated(locked, start_date, problems, "start_date")
        _dates_in_order(start_date, end_date, problems)
        _check_external_ref(Deployment, locked, external_ref, problems)
        problems.raise_if_any()
        assert start_date is not None  # noqa: S101 — an invariant of our own code, not a check of input
        deployment = Deployment.objects.create(
            pairing=locked,
            kind=kind,
            headcount=headcount,
            start_date=start_date,
            end_date=end_date,
            batch=batch,
            group_style=group_style,
            note=note,
            is_synthetic=is_synthetic,
            recorded_by=by,
            external_ref=external_ref.strip(),
        )
        history_record(
            obj=locked,
            action="people_deployed",
            actor=by,
            changes={"kind": (None, kind), "headcount": (None, headcount), "start_date": (None, start_date)},
            comment=note,
        )
    return deployment


def training_record(
    *,
    by: User | None,
    pairing: Pairing,
    topic: str,
    people_trained: int,
    days: Any,
    start_date: dt.date | None,
    note: str = "",
    is_synthetic: bool = False,
    external_ref: str = "",
) -> Training:
    with transaction.atomic():
        locked = _visible_pairing(by, pairing, lock=True)
        policy.may_record_training(by, locked).enforce()
        problems = _Problems()
        if not topic.strip():
            problems.add("required", _("Enter the topic."), "topic")
        _int(people_trained, "people_trained", problems, minimum=1)
        days_d = _decimal(days, "days", problems, minimum=Decimal(0), strict_minimum=True)
        if days_d is None and not any(p.field == "days" for p in problems.items):
            problems.add("required", _("Enter the number of days."), "days")
        _check_dated(locked, start_date, problems, "start_date")
        _check_external_ref(Training, locked, external_ref, problems)
        problems.raise_if_any()
        assert days_d is not None and start_date is not None  # noqa: PT018, S101 — an invariant of our own code, not a check of input
        training = Training.objects.create(
            pairing=locked,
            topic=topic.strip(),
            people_trained=people_trained,
            days=days_d,
            start_date=start_date,
            note=note,
            is_synthetic=is_synthetic,
            recorded_by=by,
            external_ref=external_ref.strip(),
        )
        history_record(
            obj=locked,
            action="training_recorded",
            actor=by,
            changes={"topic": (None, topic), "people_trained": (None, people_trained)},
            comment=note,
        )
    return training
