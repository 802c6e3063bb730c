"""API: programmes and their funding rules, pairings and their mandates, fiscal revenues, fund flows,
deployments and trainings.

Serializers check the *shape* of a request: types, formats, lengths, the storage range of numbers, and that a
row it names exists and — for pairings and pledges — lies in the caller's scope. The services check its
*meaning* (ranges, states, rights) and answer with coded problems that core/api/errors.py turns into the error
format. A pairing outside the caller's scope answers 404 in a URL and 400 `does_not_exist` on the field in a
body, exactly as an unknown id does, so neither door confirms that a hidden pairing exists.

Before any body is read, a caller whose roles can never make a write of that kind gets 403 (`forbidden`);
the service checks again, with scope and state.
"""

from typing import Any, ClassVar, cast

import django_filters
from django.db import models
from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Organization, Role, User
from accounts.permissions import NationalCoordinatorWrites
from core.api.serializers import StrictSerializerMixin
from core.models import Region

from . import selectors, services
from .models import (
    AnnualMandate,
    ContractingMode,
    Deployment,
    DeploymentKind,
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

SMALLINT_MAX = 32_767
INT_MAX = 2_147_483_647
BIGINT_MAX = 9_223_372_036_854_775_807


def _user(request: Request) -> User:
    return cast(User, request.user)


def _money(**kwargs: Any) -> serializers.DecimalField:
    """Yuan, as a decimal string with two places."""
    return serializers.DecimalField(max_digits=18, decimal_places=2, **kwargs)


def _fraction(**kwargs: Any) -> serializers.DecimalField:
    # Six places as stored; the whole part is left wide so that "1.5" reaches the service and is refused
    # there as above 1 (`max_value`), not as a malformed number.
    return serializers.DecimalField(max_digits=12, decimal_places=6, required=False, allow_null=True, **kwargs)


class NamedChoiceField(serializers.ChoiceField):
    """A choice field documented as its own named enum component (`FundFlowKindEnum`) in the schema.

    drf-spectacular names enums after the field; `kind` already names the organizations' enum, which two
    components share, so a second `kind` enum makes it warn and fall back to a hashed name. A named component
    keeps every name readable without touching the settings' ENUM_NAME_OVERRIDES.
    """

    def __init__(self, choices: type[models.TextChoices], *, enum_name: str, **kwargs: Any) -> None:
        self.enum_name = enum_name
        super().__init__(choices=choices.choices, **kwargs)


class NamedChoiceFieldExtension(OpenApiSerializerFieldExtension):
    target_class = NamedChoiceField

    def get_name(self) -> str | None:
        return cast(NamedChoiceField, self.target).enum_name

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        field = cast(NamedChoiceField, self.target)
        return {
            "type": "string",
            "enum": list(field.choices),
            "description": "\n".join(f"* `{value}` - {label}" for value, label in field.choices.items()),
        }


def _year_filter(**kwargs: Any) -> django_filters.NumberFilter:
    """A whole year a date can hold (a date lookup on year 99999 would fail in the database layer)."""
    return django_filters.NumberFilter(min_value=1, max_value=9999, decimal_places=0, **kwargs)


# --- permissions -------------------------------------------------------------------------------------------


class RolesMayWrite(BasePermission):
    """Anyone signed in may read; a write needs one of the view's `write_roles`."""

    message = gettext_lazy("Your roles do not allow this.")
    code = "forbidden"

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        if request.method in SAFE_METHODS:
            return True
        return bool(user.is_superuser or cast(User, user).has_role(*view.write_roles))


class ProgrammeWrites(NationalCoordinatorWrites):
    message = gettext_lazy("Only a national coordinator may manage programmes and their funding rules.")


# --- serializer building blocks ----------------------------------------------------------------------------


class WriteSerializerMixin(StrictSerializerMixin, serializers.Serializer):
    """Strict about keys: a key the serializer does not know is refused as `unknown_field`, and one the resource
    shows but this request may not set (an id, a status, a derived figure) as `read_only` — never ignored.

    `writable`, when set, narrows what a request may set: a PATCH usually changes less than a POST creates.
    """

    writable: ClassVar[frozenset[str] | None] = None

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        if self.writable is not None:
            for name, field in fields.items():
                if name not in self.writable and not field.read_only:
                    field.read_only = True
                    field.required = False
        return fields

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "keys"):
            refused: dict[str, list[serializers.ErrorDetail]] = {}
            for name in sorted(data.keys()):
                field = self.fields.get(name)
                if field is None:
                    refused[name] = [serializers.ErrorDetail(_("Unknown field."), code="unknown_field")]
                elif field.read_only:
                    refused[name] = [serializers.ErrorDetail(_("This field cannot be set here."), code="read_only")]
            if refused:
                raise serializers.ValidationError(refused)
        return super().to_internal_value(data)


class VisiblePairingField(serializers.PrimaryKeyRelatedField):
    """A pairing id in a body. One outside the caller's scope is as unknown as a missing one."""

    def get_queryset(self) -> QuerySet[Pairing]:
        request = self.context.get("request")
        if request is None:
            return Pairing.objects.none()
        return selectors.pairings_visible_to(_user(request))


class VisiblePledgeField(serializers.PrimaryKeyRelatedField):
    """A fund flow id in a body, looked up among the flows the caller may see (the service checks it is a
    pledge of the same pairing, not yet committed)."""

    def get_queryset(self) -> QuerySet[FundFlow]:
        request = self.context.get("request")
        if request is None:
            return FundFlow.objects.none()
        return selectors.fund_flows_visible_to(_user(request))


def _region_by_code(code: str, name: str) -> Region:
    region = Region.objects.filter(code=code).first()
    if region is None:
        raise serializers.ValidationError(
            {name: [serializers.ErrorDetail(_("No region has the code %(code)s.") % {"code": code}, "unknown_region")]}
        )
    return region


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
    rate = _fraction(help_text="Share of the prior year's fiscal revenue, as a fraction (0.01 = 1 %).")
    fixed_amount = _money(required=False, allow_null=True)
    escalation = _fraction(help_text="Yearly escalation as a fraction (0.08 = 8 % a year).")
    escalation_years = serializers.IntegerField(required=False, allow_null=True, max_value=SMALLINT_MAX)
    min_county_share = _fraction()
    min_livelihood_share = _fraction()
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


class ProgramFilter(django_filters.FilterSet):
    model = django_filters.ChoiceFilter(choices=ProgramModel.choices)
    year = _year_filter(method="filter_year", help_text="Programmes running in this year.")

    class Meta:
        model = Program
        fields = ["model", "year"]

    def filter_year(self, queryset: QuerySet[Program], name: str, value: Any) -> QuerySet[Program]:
        year = int(value)
        return queryset.filter(Q(start_year__lte=year), Q(end_year__isnull=True) | Q(end_year__gte=year))


CODE_OR_ID = OpenApiParameter(
    "code_or_id",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The programme's code (e.g. `xinjiang-2010`) or its numeric id; a code wins over an id.",
)


@extend_schema_view(
    retrieve=extend_schema(parameters=[CODE_OR_ID]),
    partial_update=extend_schema(
        parameters=[CODE_OR_ID], request=ProgramUpdateSerializer, responses={200: ProgramSerializer}
    ),
)
class ProgramViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Paired-assistance programmes, each with its current funding rule. Anyone signed in reads them; a national
    coordinator adds and changes them and records new versions of their funding rule (`rules/`).
    Filter by `model` and `year` (programmes running in that year)."""

    serializer_class = ProgramSerializer
    filterset_class = ProgramFilter
    permission_classes = [IsAuthenticated, ProgrammeWrites]
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_url_kwarg = "code_or_id"

    def get_queryset(self) -> QuerySet[Program]:
        rules = Prefetch(
            "rules",
            queryset=FundingRule.objects.order_by("-version").prefetch_related("sources"),
            to_attr="rules_newest_first",
        )
        return (
            selectors.programs_visible_to(_user(self.request))
            .prefetch_related(rules, "sources")
            .order_by("start_year", "code")
        )

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "partial_update":
            return ProgramUpdateSerializer
        if self.action == "rules":
            return FundingRuleSerializer
        return ProgramSerializer

    def get_object(self) -> Program:
        value = str(self.kwargs[self.lookup_url_kwarg])
        queryset = self.get_queryset()
        program = queryset.filter(code=value).first()
        if program is None and value.isdigit():
            program = queryset.filter(pk=int(value)).first()
        if program is None:
            raise Http404
        self.check_object_permissions(self.request, program)
        return program

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.program_create(by=_user(self.request), **serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.program_update(
            by=_user(self.request),
            program=cast(Program, serializer.instance),
            **serializer.validated_data,
        )

    @extend_schema(
        parameters=[CODE_OR_ID],
        request=FundingRuleSerializer,
        responses={201: FundingRuleSerializer},
        summary="Record a new version of the programme's funding rule",
    )
    @action(detail=True, methods=["post"])
    def rules(self, request: Request, code_or_id: str | None = None) -> Response:
        program = self.get_object()
        body = FundingRuleSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        rule = services.funding_rule_set(by=_user(request), program=program, **body.validated_data)
        return Response(FundingRuleSerializer(rule).data, status=status.HTTP_201_CREATED)


# --- pairings ----------------------------------------------------------------------------------------------


class PairingSerializer(WriteSerializerMixin, serializers.ModelSerializer):
    """An assisting organization paired with a recipient region under a programme; the `*_name` fields are
    for display, in the language of the request."""

    recipient_region = serializers.SlugRelatedField(
        slug_field="code", queryset=Region.objects.all(), help_text="The recipient region's code."
    )
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


class PairingFilter(django_filters.FilterSet):
    program = django_filters.CharFilter(method="filter_program", help_text="The programme's id or code.")
    assisting_organization = django_filters.NumberFilter(field_name="assisting_organization_id")
    recipient_region = django_filters.CharFilter(
        method="filter_recipient_region",
        help_text="A region's code: pairings whose recipient region is that region or lies within it.",
    )
    status = django_filters.ChoiceFilter(choices=PairingStatus.choices)
    contracting_mode = django_filters.ChoiceFilter(choices=ContractingMode.choices)
    parent = django_filters.NumberFilter(field_name="parent_id", help_text="The parent pairing's id.")

    class Meta:
        model = Pairing
        fields = ["program", "assisting_organization", "recipient_region", "status", "contracting_mode", "parent"]

    def filter_program(self, queryset: QuerySet[Pairing], name: str, value: str) -> QuerySet[Pairing]:
        match = Q(program__code=value)
        if value.isdigit():
            match |= Q(program_id=int(value))
        return queryset.filter(match)

    def filter_recipient_region(self, queryset: QuerySet[Pairing], name: str, value: str) -> QuerySet[Pairing]:
        return queryset.filter(recipient_region__path__startswith=_region_by_code(value, name).path)


class PairingViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Pairings in the caller's scope (others answer 404). A national coordinator creates, changes and ends
    pairings; an assisting officer breaks down their own pairing into children (`parent`) and manages those.
    PATCH changes only the term, the mode and the notes; `end/` ends a pairing."""

    serializer_class = PairingSerializer
    filterset_class = PairingFilter
    permission_classes = [IsAuthenticated, RolesMayWrite]
    write_roles = frozenset({Role.NATIONAL_COORDINATOR, Role.ASSISTING_OFFICER})
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Pairing]:
        children = Prefetch("children", queryset=Pairing.objects.only("id", "parent_id").order_by("id"))
        return (
            selectors.pairings_visible_to(_user(self.request))
            .prefetch_related(children, "sources")
            .order_by(
                "program__start_year", "program__code", "assisting_organization__name", "recipient_region__code", "id"
            )
        )

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "partial_update":
            return PairingUpdateSerializer
        if self.action == "end":
            return PairingEndSerializer
        return PairingSerializer

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.pairing_create(by=_user(self.request), **serializer.validated_data)

    @extend_schema(request=PairingUpdateSerializer, responses={200: PairingSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        pairing = self.get_object()
        body = PairingUpdateSerializer(pairing, data=request.data, partial=True, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        pairing = services.pairing_update(by=_user(request), pairing=pairing, **body.validated_data)
        return Response(PairingSerializer(pairing, context=self.get_serializer_context()).data)

    @extend_schema(request=PairingEndSerializer, responses={200: PairingSerializer}, summary="End a pairing")
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: str | None = None) -> Response:
        pairing = self.get_object()
        body = PairingEndSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        pairing = services.pairing_end(by=_user(request), pairing=pairing, **body.validated_data)
        return Response(PairingSerializer(pairing, context=self.get_serializer_context()).data)


# --- mandates ----------------------------------------------------------------------------------------------


class MandateSerializer(serializers.ModelSerializer):
    """A pairing's mandate for a year, with what that year's flows add up to (derived, never typed in)."""

    pledged = _money(read_only=True, help_text="Pledges of the year not yet committed.")
    committed = _money(read_only=True)
    received = _money(read_only=True, help_text="Disbursements of the year: what the recipient received.")
    spent = _money(read_only=True)
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
        value = selectors.fulfilment(getattr(obj, "received", None), obj.funds_required)
        return None if value is None else str(value)


class MandateWriteSerializer(StrictSerializerMixin, serializers.Serializer):
    """`{"year"}` computes the mandate from the programme's rule and the assisting party's revenue;
    `{"year", "funds_required", "reason"}` sets it by hand."""

    year = serializers.IntegerField(min_value=1949, max_value=2100)
    funds_required = _money(required=False, help_text="Set by hand (with a reason); leave out to compute.")
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
    allocated = _money(read_only=True, help_text="What the children's mandates add up to.")
    unallocated = _money(read_only=True, help_text="The parent's mandate less what is allocated.")


PAIRING_PK = OpenApiParameter("pairing_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The pairing's id.")


@extend_schema_view(
    list=extend_schema(parameters=[PAIRING_PK]),
    retrieve=extend_schema(parameters=[PAIRING_PK]),
    create=extend_schema(parameters=[PAIRING_PK], request=MandateWriteSerializer, responses={201: MandateSerializer}),
)
class MandateViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """A pairing's annual mandates, by year. POST `{"year"}` computes one from the programme's current rule;
    POST `{"year", "funds_required", "reason"}` sets one by hand. `{year}/breakdown/` shows a parent's mandate
    against its children's. The pairing must be in the caller's scope (404 otherwise)."""

    serializer_class = MandateSerializer
    permission_classes = [IsAuthenticated, RolesMayWrite]
    write_roles = frozenset({Role.NATIONAL_COORDINATOR, Role.ASSISTING_OFFICER})
    lookup_field = "year"
    lookup_value_regex = "[0-9]+"
    _pairing: Pairing | None = None

    def get_pairing(self) -> Pairing:
        if self._pairing is None:
            pairing = (
                selectors.pairings_visible_to(_user(self.request)).filter(pk=int(self.kwargs["pairing_pk"])).first()
            )
            if pairing is None:
                raise Http404
            self._pairing = pairing
        return self._pairing

    def get_queryset(self) -> QuerySet[AnnualMandate]:
        if getattr(self, "swagger_fake_view", False):
            return AnnualMandate.objects.none()
        return selectors.mandates_for(self.get_pairing())

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "create":
            return MandateWriteSerializer
        if self.action == "breakdown":
            return BreakdownSerializer
        return MandateSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        pairing = self.get_pairing()
        body = MandateWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "funds_required" in data:
            mandate = services.mandate_set(
                by=_user(request),
                pairing=pairing,
                year=data["year"],
                funds_required=data["funds_required"],
                reason=data.get("reason", ""),
                personnel_quota=data.get("personnel_quota"),
            )
        else:
            mandate = services.mandate_compute(
                by=_user(request), pairing=pairing, year=data["year"], personnel_quota=data.get("personnel_quota")
            )
        # Re-read with the year's figures.
        mandate = selectors.mandates_for(pairing).get(pk=mandate.pk)
        return Response(MandateSerializer(mandate).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[PAIRING_PK],
        responses={200: BreakdownSerializer},
        summary="A parent pairing's mandate against its children's for the year",
    )
    @action(detail=True, methods=["get"])
    def breakdown(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = selectors.breakdown(self.get_object())
        return Response(BreakdownSerializer(data).data)


# --- fiscal revenue ----------------------------------------------------------------------------------------


class FiscalRevenueSerializer(WriteSerializerMixin, serializers.ModelSerializer):
    """An organization's general public budget revenue for a year (the basis of mandates)."""

    organization = serializers.PrimaryKeyRelatedField(queryset=Organization.objects.all())
    organization_name = serializers.CharField(source="organization.display_name", read_only=True)
    year = serializers.IntegerField()
    amount = _money(help_text="Yuan.")

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


class FiscalRevenueFilter(django_filters.FilterSet):
    organization = django_filters.NumberFilter(field_name="organization_id")
    year = _year_filter(field_name="year")

    class Meta:
        model = FiscalRevenue
        fields = ["organization", "year"]


@extend_schema_view(
    partial_update=extend_schema(request=FiscalRevenueCorrectSerializer, responses={200: FiscalRevenueSerializer})
)
class FiscalRevenueViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Fiscal revenues: those of the organizations the caller acts for and of the assisting parties of the
    pairings they see. Assisting officers and national coordinators record them for organizations they act for,
    and correct them (PATCH `{"amount", "reason"}`)."""

    serializer_class = FiscalRevenueSerializer
    filterset_class = FiscalRevenueFilter
    permission_classes = [IsAuthenticated, RolesMayWrite]
    write_roles = frozenset({Role.NATIONAL_COORDINATOR, Role.ASSISTING_OFFICER})
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[FiscalRevenue]:
        return selectors.fiscal_revenues_visible_to(_user(self.request)).order_by("organization__path", "-year", "id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "partial_update":
            return FiscalRevenueCorrectSerializer
        return FiscalRevenueSerializer

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.fiscal_revenue_record(by=_user(self.request), **serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.fiscal_revenue_correct(
            by=_user(self.request),
            revenue=cast(FiscalRevenue, serializer.instance),
            amount=serializer.validated_data["amount"],
            reason=serializer.validated_data.get("reason", ""),
        )


# --- fund flows --------------------------------------------------------------------------------------------


class FundFlowSerializer(WriteSerializerMixin, serializers.ModelSerializer):
    """Money moving in a pairing. Flows are append-only: a mistake is put right by another flow."""

    pairing = VisiblePairingField()
    project = serializers.IntegerField(
        source="project_id", required=False, allow_null=True, min_value=1, max_value=BIGINT_MAX
    )
    kind = NamedChoiceField(FlowKind, enum_name="FundFlowKindEnum")
    source = serializers.ChoiceField(choices=FlowSource.choices)  # type: ignore[assignment]
    amount = _money(help_text="Yuan, more than 0.")
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


class FundFlowFilter(django_filters.FilterSet):
    pairing = django_filters.NumberFilter(field_name="pairing_id")
    kind = django_filters.ChoiceFilter(choices=FlowKind.choices)
    source = django_filters.ChoiceFilter(choices=FlowSource.choices)
    project = django_filters.NumberFilter(field_name="project_id")
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte", help_text="On or after this date.")
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte", help_text="On or before this date.")
    year = _year_filter(field_name="date", lookup_expr="year")

    class Meta:
        model = FundFlow
        fields = ["pairing", "kind", "source", "project", "date_after", "date_before", "year"]


class FundFlowViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Fund flows of the pairings in the caller's scope. Pledges and commitments are recorded by the assisting
    side (or a national coordinator); disbursements and expenditure by either side. No PATCH or DELETE."""

    serializer_class = FundFlowSerializer
    filterset_class = FundFlowFilter
    permission_classes = [IsAuthenticated, RolesMayWrite]
    write_roles = frozenset().union(*services.FLOW_ROLES.values())
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[FundFlow]:
        return selectors.fund_flows_visible_to(_user(self.request)).order_by("-date", "-id")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.fund_flow_record(by=_user(self.request), **serializer.validated_data)


# --- people ------------------------------------------------------------------------------------------------


class DeploymentSerializer(WriteSerializerMixin, serializers.ModelSerializer):
    """A batch of people (cadres, teachers, doctors, technicians) sent by the assisting side."""

    pairing = VisiblePairingField()
    kind = NamedChoiceField(DeploymentKind, enum_name="DeploymentKindEnum")
    headcount = serializers.IntegerField(max_value=INT_MAX)

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
    people_trained = serializers.IntegerField(max_value=INT_MAX)
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


class DeploymentFilter(django_filters.FilterSet):
    pairing = django_filters.NumberFilter(field_name="pairing_id")
    kind = django_filters.ChoiceFilter(choices=DeploymentKind.choices)
    year = _year_filter(
        method="filter_year", help_text="Deployments in post during this year (started by its end, not ended before)."
    )

    class Meta:
        model = Deployment
        fields = ["pairing", "kind", "year"]

    def filter_year(self, queryset: QuerySet[Deployment], name: str, value: Any) -> QuerySet[Deployment]:
        year = int(value)
        return queryset.filter(Q(start_date__year__lte=year), Q(end_date__isnull=True) | Q(end_date__year__gte=year))


class TrainingFilter(django_filters.FilterSet):
    pairing = django_filters.NumberFilter(field_name="pairing_id")
    year = _year_filter(field_name="start_date", lookup_expr="year")

    class Meta:
        model = Training
        fields = ["pairing", "year"]


class DeploymentViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """People sent by the assisting side to the pairings in the caller's scope."""

    serializer_class = DeploymentSerializer
    filterset_class = DeploymentFilter
    permission_classes = [IsAuthenticated, RolesMayWrite]
    write_roles = services.PEOPLE_ROLES
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Deployment]:
        return selectors.deployments_visible_to(_user(self.request)).order_by("-start_date", "-id")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.deployment_record(by=_user(self.request), **serializer.validated_data)


class TrainingViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Training given to the recipient side's people, in the pairings of the caller's scope."""

    serializer_class = TrainingSerializer
    filterset_class = TrainingFilter
    permission_classes = [IsAuthenticated, RolesMayWrite]
    write_roles = services.PEOPLE_ROLES
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Training]:
        return selectors.trainings_visible_to(_user(self.request)).order_by("-start_date", "-id")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.training_record(by=_user(self.request), **serializer.validated_data)
