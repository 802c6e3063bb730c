"""The bodies of the pairings API: programmes and their funding rules, pairings, mandates, fiscal revenues,
fund flows, deployments and trainings."""

from typing import Any, ClassVar

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Organization
from core.api.bounds import BIGINT_MAX, INT_MAX, SMALLINT_MAX
from core.api.fields import NamedChoiceField, fraction, money, region_by_code
from core.api.serializers import QuerySerializerMixin, StrictSerializerMixin, WriteSerializerMixin
from pairings import figures, services
from pairings.models import (
    AnnualMandate,
    ContractingMode,
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
    Program,
    Source,
    Training,
)

from .fields import VisiblePairingField, VisiblePledgeField

# --- programmes --------------------------------------------------------------------------------------------


class SourceSerializer(serializers.ModelSerializer):
    """A publication that reference data rests on: its title in its own `language`, publisher, date as precise as
    known (`2008-06-18`, `2010-11`, `2010`), address, and whether the address is a mirror copy."""

    class Meta:
        model = Source
        fields = ["key", "title", "language", "publisher", "published", "url", "is_mirror"]
        read_only_fields = fields


class FundingRuleSerializer(WriteSerializerMixin, serializers.ModelSerializer):
    """One version of a programme's funding rule. Rules are never edited: posting one records the next version."""

    basis = serializers.ChoiceField(choices=FundingBasis.choices)
    rate = fraction(help_text="Share of the prior year's fiscal revenue, as a fraction (0.01 = 1 %).")
    fixed_amount = money(required=False, allow_null=True)
    escalation = fraction(help_text="Yearly escalation as a fraction (0.08 = 8 % a year).")
    escalation_years = serializers.IntegerField(required=False, allow_null=True, max_value=SMALLINT_MAX)
    min_county_share = fraction()
    min_livelihood_share = fraction()
    sources = SourceSerializer(many=True, read_only=True)
    effective_to_year = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=SMALLINT_MAX,
        help_text="The last year this version applies to; a year no version covers gives no mandate.",
    )
    effective_from_year = serializers.IntegerField(
        required=False,
        allow_null=True,
        max_value=SMALLINT_MAX,
        help_text="The first year this version applies to (null: from the programme's start).",
    )

    class Meta:
        model = FundingRule
        fields = [
            "version",
            "basis",
            "rate",
            "fixed_amount",
            "escalation",
            "escalation_years",
            "min_county_share",
            "min_livelihood_share",
            "effective_from_year",
            "effective_to_year",
            "organization",
            "is_unverified",
            "reason",
            "source",
            "sources",
            "created_at",
        ]
        read_only_fields = ["version", "created_at"]
        validators: ClassVar[list[Any]] = []
        extra_kwargs: ClassVar[dict[str, dict[str, Any]]] = {
            "organization": {
                "allow_null": True,
                "required": False,
                "help_text": "An assisting party whose own rate this is (it overrides the programme's rule for it).",
            },
        }


class ProgramSerializer(WriteSerializerMixin, serializers.ModelSerializer):
    """A paired-assistance programme with its current funding rule (read-only here; see `rules/`)."""

    funding_rule = serializers.SerializerMethodField(
        help_text="The latest version of the funding rule (see its `effective_from_year`); null before the first."
    )
    sources = SourceSerializer(many=True, read_only=True)

    class Meta:
        model = Program
        fields = [
            "id",
            "code",
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
            "sources",
            "funding_rule",
        ]
        read_only_fields = ["id"]
        # Uniqueness of the code is the service's call (it reports the duplicate with its own code).
        extra_kwargs: ClassVar[dict[str, dict[str, Any]]] = {
            "code": {"validators": []},
            "lead_agency": {"allow_null": True, "required": False},
            # The service's bounds (pairings.services.PROGRAMME_YEAR_*), checked here too so the schema shows them.
            "start_year": {"min_value": services.PROGRAMME_YEAR_MIN, "max_value": services.PROGRAMME_YEAR_MAX},
            "end_year": {"min_value": services.PROGRAMME_YEAR_MIN, "max_value": services.PROGRAMME_YEAR_MAX},
        }
        validators: ClassVar[list[Any]] = []

    @extend_schema_field(FundingRuleSerializer(allow_null=True, read_only=True))
    def get_funding_rule(self, obj: Program) -> dict[str, Any] | None:
        # The list prefetches every version, newest first; a programme just written reads its own.
        newest_first = getattr(obj, "rules_newest_first", None)
        rule = services.current_rule(obj) if newest_first is None else next(iter(newest_first), None)
        return FundingRuleSerializer(rule).data if rule is not None else None


class ProgramUpdateSerializer(ProgramSerializer):
    """A programme's code names it in URLs and documents: it is set once."""

    writable = frozenset(
        {
            "name",
            "name_en",
            "model",
            "start_year",
            "end_year",
            "policy_reference",
            "principles",
            "lead_agency",
            "source",
        }
    )


# --- pairings ----------------------------------------------------------------------------------------------


class PairingSerializer(WriteSerializerMixin, serializers.ModelSerializer):
    """An assisting organization paired with a recipient region under a programme; the `*_name` fields are
    for display, in the language of the request."""

    recipient_region = region_by_code(help_text="The recipient region's code.")
    # `parent` and `source` shadow Field attributes in the type stubs only; DRF collects declared fields by name.
    parent = VisiblePairingField(required=False, allow_null=True)  # type: ignore[assignment]
    children = serializers.PrimaryKeyRelatedField(  # type: ignore[var-annotated]
        many=True, read_only=True, help_text="The pairings this one is broken down into."
    )
    sources = SourceSerializer(many=True, read_only=True)
    is_unverified = serializers.BooleanField(
        read_only=True,
        help_text="True when no source supports the pairing, or when it is a whole prefecture recorded because its "
        "counties are not sourced (it then claims none of them).",
    )
    contracting_mode = serializers.ChoiceField(
        choices=ContractingMode.choices,
        required=False,
        allow_null=True,
        help_text="Derived from the parties' levels when left out; a different one needs `mode_reason`.",
    )
    program_name = serializers.CharField(source="program.display_name", read_only=True)
    assisting_organization_name = serializers.CharField(source="assisting_organization.display_name", read_only=True)
    recipient_region_name = serializers.CharField(source="recipient_region.display_name", read_only=True)

    class Meta:
        model = Pairing
        fields = [
            "id",
            "program",
            "program_name",
            "assisting_organization",
            "assisting_organization_name",
            "recipient_region",
            "recipient_region_name",
            "contracting_mode",
            "mode_overridden",
            "mode_reason",
            "parent",
            "children",
            "start_date",
            "start_precision",
            "end_date",
            "status",
            "evidence",
            "covers_unsourced",
            "mandate_from_rule",
            "is_unverified",
            "source",
            "sources",
            "note",
        ]
        read_only_fields = ["id", "mode_overridden", "status"]
        # "One active pairing per recipient" is the service's call (code `recipient_taken` on recipient_region).
        validators: ClassVar[list[Any]] = []


#: What `pairing_list_rows` reads of each pairing, as `values_list` columns in this order.
PAIRING_LIST_COLUMNS = (
    "id",
    "program_id",
    "program__name",
    "program__name_en",
    "assisting_organization_id",
    "assisting_organization__name",
    "assisting_organization__name_en",
    "recipient_region__code",
    "recipient_region__name",
    "recipient_region__name_en",
    "contracting_mode",
    "mode_overridden",
    "mode_reason",
    "parent_id",
    "start_date",
    "start_precision",
    "end_date",
    "status",
    "evidence",
    "covers_unsourced",
    "mandate_from_rule",
    "source",
    "note",
)


def pairing_list_rows(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """The pairings ROWS (`PAIRING_LIST_COLUMNS`) as PairingSerializer represents each, field for field, from plain
    values: through the serializer a page of 50 built some 300 model instances and 1 200 fields. Their children and
    sources in two statements. Dates stay date objects: the renderer (orjson) writes them as the serializer does
    (ISO 8601)."""
    ids = [r[0] for r in rows]
    children: dict[int, list[int]] = {}
    for parent_id, pk in Pairing.objects.filter(parent_id__in=ids).order_by("id").values_list("parent_id", "id"):
        children.setdefault(parent_id, []).append(pk)
    shown = SourceSerializer.Meta.fields
    sources: dict[int, list[dict[str, Any]]] = {}
    listed = Pairing.sources.through.objects.filter(pairing_id__in=ids).order_by("source__key")
    for pairing_id, *values in listed.values_list("pairing_id", *(f"source__{name}" for name in shown)):
        sources.setdefault(pairing_id, []).append(dict(zip(shown, values, strict=True)))
    # A name in the request's language as the models' `display_name` gives it: English where it is known.
    english = (get_language() or "").startswith("en")
    unverified = Evidence.UNVERIFIED
    return [
        {
            "id": pk,
            "program": program,
            "program_name": (program_en or program_zh) if english else program_zh,
            "assisting_organization": organization,
            "assisting_organization_name": (organization_en or organization_zh) if english else organization_zh,
            "recipient_region": region,
            "recipient_region_name": (region_en or region_zh) if english else region_zh,
            "contracting_mode": mode,
            "mode_overridden": mode_overridden,
            "mode_reason": mode_reason,
            "parent": parent,
            "children": children.get(pk, []),
            "start_date": start_date,
            "start_precision": start_precision,
            "end_date": end_date,
            "status": status,
            "evidence": evidence,
            "covers_unsourced": covers_unsourced,
            "mandate_from_rule": mandate_from_rule,
            "is_unverified": evidence == unverified or covers_unsourced,  # Pairing.is_unverified
            "source": source,
            "sources": sources.get(pk, []),
            "note": note,
        }
        for (
            pk,
            program,
            program_zh,
            program_en,
            organization,
            organization_zh,
            organization_en,
            region,
            region_zh,
            region_en,
            mode,
            mode_overridden,
            mode_reason,
            parent,
            start_date,
            start_precision,
            end_date,
            status,
            evidence,
            covers_unsourced,
            mandate_from_rule,
            source,
            note,
        ) in rows
    ]


class PairingUpdateSerializer(PairingSerializer):
    """The parties of a pairing are not edited (end it and create another); its status changes by `end/`."""

    writable = frozenset({"start_date", "end_date", "contracting_mode", "mode_reason", "note", "source"})

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # The service reads "not given" as "unchanged", so null could only be ignored: refuse it instead.
        fields["end_date"].allow_null = False
        fields["contracting_mode"].allow_null = False
        return fields


class PairingEndSerializer(StrictSerializerMixin, serializers.Serializer):
    """Ending a pairing keeps its history, mandates and flows; nothing more can be recorded on it."""

    end_date = serializers.DateField()
    comment = serializers.CharField(required=False, allow_blank=True, default="", help_text="Why it ends (required).")


# --- mandates ----------------------------------------------------------------------------------------------


class MandateSerializer(serializers.ModelSerializer):
    """A pairing's mandate for a year, with what that year's flows add up to (derived, never typed in)."""

    pledged = money(read_only=True, help_text="Pledges of the year not yet committed.")
    committed = money(read_only=True)
    received = money(read_only=True, help_text="Disbursements of the year: what the recipient received.")
    spent = money(read_only=True)
    fulfilment = serializers.SerializerMethodField(help_text="received ÷ funds_required, 4 places; null when 0.")
    rule_version = serializers.IntegerField(
        source="rule.version", read_only=True, allow_null=True, help_text="Null when the mandate was set by hand."
    )
    is_unverified = serializers.BooleanField(
        read_only=True, help_text="Computed with a rule whose rate or base year no source gives."
    )

    class Meta:
        model = AnnualMandate
        fields = [
            "id",
            "pairing",
            "year",
            "funds_required",
            "personnel_quota",
            "pledged",
            "committed",
            "received",
            "spent",
            "fulfilment",
            "is_manual",
            "is_unverified",
            "reason",
            "rule_version",
            "basis_amount",
            "shared_by",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.DecimalField(max_digits=9, decimal_places=4, allow_null=True, read_only=True))
    def get_fulfilment(self, obj: AnnualMandate) -> str | None:
        value = figures.fulfilment(getattr(obj, "received", None), obj.funds_required)
        return None if value is None else str(value)


class MandateWriteSerializer(StrictSerializerMixin, serializers.Serializer):
    """`{"year"}` computes the mandate from the programme's rule and the assisting party's revenue;
    `{"year", "funds_required", "reason"}` sets it by hand."""

    year = serializers.IntegerField(min_value=1949, max_value=2100)
    funds_required = money(required=False, help_text="Set by hand (with a reason); leave out to compute.")
    reason = serializers.CharField(required=False, allow_blank=True, help_text="Why the mandate is set by hand.")
    personnel_quota = serializers.IntegerField(required=False, allow_null=True, max_value=INT_MAX)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "reason" in attrs and "funds_required" not in attrs:
            raise serializers.ValidationError(
                {
                    "funds_required": [
                        serializers.ErrorDetail(_("A mandate set by hand needs its amount."), code="required")
                    ]
                }
            )
        return attrs


class BreakdownChildSerializer(MandateSerializer):
    """A child pairing's mandate for the year, with the child's parties."""

    assisting_organization = serializers.IntegerField(source="pairing.assisting_organization_id", read_only=True)
    assisting_organization_name = serializers.CharField(
        source="pairing.assisting_organization.display_name", read_only=True
    )
    recipient_region = serializers.CharField(source="pairing.recipient_region.code", read_only=True)
    recipient_region_name = serializers.CharField(source="pairing.recipient_region.display_name", read_only=True)

    class Meta(MandateSerializer.Meta):
        fields = [
            *MandateSerializer.Meta.fields,
            "assisting_organization",
            "assisting_organization_name",
            "recipient_region",
            "recipient_region_name",
        ]
        read_only_fields = fields


class BreakdownSerializer(serializers.Serializer):
    """A parent pairing's mandate for a year against the mandates of the pairings it is broken down into."""

    mandate = MandateSerializer(read_only=True)
    children = BreakdownChildSerializer(many=True, read_only=True, help_text="The children pairings' mandates.")
    allocated = money(read_only=True, help_text="What the children's mandates add up to.")
    unallocated = money(read_only=True, help_text="The parent's mandate less what is allocated.")


# --- fiscal revenue ----------------------------------------------------------------------------------------


class FiscalRevenueSerializer(WriteSerializerMixin, serializers.ModelSerializer):
    """An organization's general public budget revenue for a year (the basis of mandates)."""

    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    organization_name = serializers.CharField(source="organization.display_name", read_only=True)
    year = serializers.IntegerField()
    amount = money(help_text="Yuan.")

    class Meta:
        model = FiscalRevenue
        fields = ["id", "organization", "organization_name", "year", "amount", "source", "is_synthetic"]
        read_only_fields = ["id", "is_synthetic"]
        # One revenue per organization and year is the service's call (code `duplicate` on year).
        validators: ClassVar[list[Any]] = []


class FiscalRevenueCorrectSerializer(FiscalRevenueSerializer):
    """A correction changes the amount only, and says why."""

    writable = frozenset({"amount", "reason"})
    reason = serializers.CharField(write_only=True, required=False, allow_blank=True, default="")

    class Meta(FiscalRevenueSerializer.Meta):
        fields = [*FiscalRevenueSerializer.Meta.fields, "reason"]

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        # A PATCH is partial, but a correction without an amount corrects nothing.
        if "amount" not in attrs:
            raise serializers.ValidationError(
                {"amount": [serializers.ErrorDetail(_("Enter the corrected amount."), code="required")]}
            )
        return attrs


# --- fund flows --------------------------------------------------------------------------------------------


class FundFlowSerializer(WriteSerializerMixin, serializers.ModelSerializer):
    """Money moving in a pairing. Flows are append-only: a mistake is put right by another flow."""

    pairing = VisiblePairingField()
    project = serializers.IntegerField(
        source="project_id", required=False, allow_null=True, min_value=1, max_value=BIGINT_MAX
    )
    kind = NamedChoiceField(FlowKind, enum_name="FundFlowKindEnum")
    source = serializers.ChoiceField(choices=FlowSource.choices)  # type: ignore[assignment]
    amount = money(help_text="Yuan, more than 0.")
    pledge = VisiblePledgeField(
        required=False, allow_null=True, help_text="For a commitment: the pledge it turns into a commitment."
    )

    class Meta:
        model = FundFlow
        fields = [
            "id",
            "pairing",
            "project",
            "kind",
            "amount",
            "date",
            "source",
            "pledge",
            "reference",
            "note",
            "is_synthetic",
            "created_at",
        ]
        read_only_fields = ["id", "is_synthetic", "created_at"]
        validators: ClassVar[list[Any]] = []


# --- people ------------------------------------------------------------------------------------------------


class DeploymentSerializer(WriteSerializerMixin, serializers.ModelSerializer):
    """A batch of people (cadres, teachers, doctors, technicians) sent by the assisting side."""

    pairing = VisiblePairingField()
    kind = NamedChoiceField(DeploymentKind, enum_name="DeploymentKindEnum")
    headcount = serializers.IntegerField(min_value=1, max_value=INT_MAX)

    class Meta:
        model = Deployment
        fields = [
            "id",
            "pairing",
            "kind",
            "batch",
            "headcount",
            "start_date",
            "end_date",
            "group_style",
            "note",
            "is_synthetic",
            "created_at",
        ]
        read_only_fields = ["id", "is_synthetic", "created_at"]
        validators: ClassVar[list[Any]] = []


class TrainingSerializer(WriteSerializerMixin, serializers.ModelSerializer):
    """Training given to the recipient side's people."""

    pairing = VisiblePairingField()
    people_trained = serializers.IntegerField(min_value=1, max_value=INT_MAX)
    days = serializers.DecimalField(max_digits=6, decimal_places=1)

    class Meta:
        model = Training
        fields = [
            "id",
            "pairing",
            "topic",
            "people_trained",
            "days",
            "start_date",
            "note",
            "is_synthetic",
            "created_at",
        ]
        read_only_fields = ["id", "is_synthetic", "created_at"]
        validators: ClassVar[list[Any]] = []


# --- figures -----------------------------------------------------------------------------------------------


class FiguresQuerySerializer(QuerySerializerMixin, serializers.Serializer):
    """The period of a figures request: `year`, or all years when left out."""

    year = serializers.IntegerField(
        required=False, min_value=1949, max_value=2100, help_text="A calendar year; all years when left out."
    )


class MoneyFiguresSerializer(serializers.Serializer):
    """The money of a scope in a period, by the definitions of `pairings.figures`."""

    # `required` shadows a Field attribute in the type stubs only; DRF collects declared fields by name.
    required = money(  # type: ignore[assignment]
        read_only=True,
        help_text="The mandates of the period; a broken-down mandate counted once, with its parent when the parent "
        "is in the scope.",
    )
    pledged = money(read_only=True, help_text="Pledges dated in the period not yet committed.")
    committed = money(read_only=True, help_text="Commitments dated in the period.")
    received = money(
        read_only=True, help_text="Disbursements dated in the period, whether or not the year has a mandate."
    )
    spent = money(read_only=True, help_text="Expenditures dated in the period.")
    fulfilment = serializers.DecimalField(
        max_digits=9, decimal_places=4, allow_null=True, read_only=True, help_text="received ÷ required; null when 0."
    )
    delivery = serializers.DecimalField(
        max_digits=9, decimal_places=4, allow_null=True, read_only=True, help_text="received ÷ committed; null when 0."
    )


class PeopleFiguresSerializer(serializers.Serializer):
    deployed = serializers.IntegerField(
        read_only=True, help_text="Headcount of the deployments active in the period (all years: every deployment)."
    )
    trained = serializers.IntegerField(read_only=True, help_text="People trained in trainings held in the period.")


class FiguresSerializer(serializers.Serializer):
    """Money and people of a scope — the caller's pairings (narrowed by the filters), a programme's among them, or
    one pairing — in a period: the figures every page shows for the same scope and period."""

    year = serializers.IntegerField(read_only=True, allow_null=True, help_text="The period; null for all years.")
    money = MoneyFiguresSerializer(read_only=True)
    people = PeopleFiguresSerializer(read_only=True)
