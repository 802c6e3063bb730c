"""API: programmes and their funding rules, pairings and their mandates, fiscal revenues, fund flows,
deployments and trainings.

Serializers check the *shape* of a request: types, formats, lengths, the storage range of numbers, and that a
row it names exists and — for pairings and pledges — lies in the caller's scope. The services check its
*meaning* (ranges, states, rights) and answer with coded problems that core/api/errors.py turns into the error
format. A pairing outside the caller's scope answers 404 in a URL and 400 `does_not_exist` on the field in a
body, exactly as an unknown id does, so neither door confirms that a hidden pairing exists.

Before any body is read, a caller whom the policy (pairings/policy.py) forbids the write gets 403 with its reason
(`write_policies`, core/api/permissions.py); the service enforces the same policy, with scope and state.
"""

from typing import Any, cast

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.caller import user_of
from core.api.filter_backend import StrictFilterBackend
from core.api.filters import StrictOrderingFilter
from core.api.permissions import PolicyPermission, require
from core.api.routers import PLAIN_CODE
from pairings import figures as pairing_figures
from pairings import policy, selectors, services
from pairings.models import AnnualMandate, Deployment, FiscalRevenue, FundFlow, FundingRule, Pairing, Program, Training

from .filters import DeploymentFilter, FiscalRevenueFilter, FundFlowFilter, PairingFilter, ProgramFilter, TrainingFilter
from .serializers import (
    PAIRING_LIST_COLUMNS,
    BreakdownSerializer,
    DeploymentSerializer,
    FiguresQuerySerializer,
    FiguresSerializer,
    FiscalRevenueCorrectSerializer,
    FiscalRevenueSerializer,
    FundFlowSerializer,
    FundingRuleSerializer,
    MandateSerializer,
    MandateWriteSerializer,
    PairingEndSerializer,
    PairingSerializer,
    PairingUpdateSerializer,
    ProgramSerializer,
    ProgramUpdateSerializer,
    TrainingSerializer,
    pairing_list_rows,
)

# --- figures -----------------------------------------------------------------------------------------------


YEAR = OpenApiParameter(
    "year",
    {"type": "integer", "minimum": 1949, "maximum": 2100},
    description="A calendar year (1949–2100); all years when left out.",
)


def _figures(request: Request, scope: QuerySet[Pairing]) -> Response:
    """The money and people of SCOPE in the period the query names."""
    query = FiguresQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    year = query.validated_data.get("year")
    body = {
        "year": year,
        "money": pairing_figures.money(scope, year).as_dict(),
        "people": pairing_figures.people(scope, year).as_dict(),
    }
    return Response(FiguresSerializer(body).data)


# --- programmes --------------------------------------------------------------------------------------------


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
    permission_classes = [IsAuthenticated, PolicyPermission]
    write_policies = dict.fromkeys(["create", "partial_update", "rules"], policy.may_manage_programmes)
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_url_kwarg = "code_or_id"
    lookup_value_regex = PLAIN_CODE

    def get_queryset(self) -> QuerySet[Program]:
        rules = Prefetch(
            "rules",
            queryset=FundingRule.objects.order_by("-version").prefetch_related("sources"),
            to_attr="rules_newest_first",
        )
        return (
            selectors.programs_visible_to(user_of(self.request))
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
        # isascii: `¹` is a digit to str.isdigit, not to int().
        if program is None and value.isascii() and value.isdigit():
            program = queryset.filter(pk=int(value)).first()
        if program is None:
            raise Http404
        self.check_object_permissions(self.request, program)
        return program

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.program_create(by=user_of(self.request), **serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.program_update(
            by=user_of(self.request),
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
        rule = services.funding_rule_set(by=user_of(request), program=program, **body.validated_data)
        return Response(FundingRuleSerializer(rule).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[CODE_OR_ID, YEAR],
        responses={200: FiguresSerializer},
        summary="The programme's money and people in the caller's scope",
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def figures(self, request: Request, code_or_id: str | None = None) -> Response:
        program = self.get_object()
        return _figures(request, selectors.pairings_visible_to(user_of(request)).filter(program=program))


# --- pairings ----------------------------------------------------------------------------------------------


class PairingViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Pairings in the caller's scope (others answer 404). A national coordinator creates, changes and ends
    pairings; an assisting officer breaks down their own pairing into children (`parent`) and manages those.
    PATCH changes only the term, the mode and the notes; `end/` ends a pairing."""

    serializer_class = PairingSerializer
    filterset_class = PairingFilter
    filter_backends = [StrictFilterBackend, StrictOrderingFilter]
    ordering_fields = list(selectors.PAIRING_ORDERINGS)
    ordering_help = (
        "Names in the language of the request; funds_required, received and fulfilment (received ÷ required, none "
        "when nothing is required) are the pairing's own, all time. By programme, assisting party and recipient "
        "region by default."
    )
    permission_classes = [IsAuthenticated, PolicyPermission]
    write_policies = {
        "create": policy.may_create_pairing,
        "partial_update": policy.may_change_pairing,
        "end": policy.may_end_pairing,
    }
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Pairing]:
        children = Prefetch("children", queryset=Pairing.objects.only("id", "parent_id").order_by("id"))
        return (
            selectors.pairings_visible_to(user_of(self.request))
            .prefetch_related(children, "sources")
            .order_by(
                "program__start_year", "program__code", "assisting_organization__name", "recipient_region__code", "id"
            )
        )

    @property
    def ordering_expressions(self) -> dict[str, Any]:
        return selectors.pairing_orderings()

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # Most list calls page through everything in scope: no filter form built when no filter is asked.
        if self.action == "list" and set(self.request.query_params).isdisjoint(PairingFilter.base_filters):
            return StrictOrderingFilter().filter_queryset(self.request, queryset, self)
        return super().filter_queryset(queryset)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # The list as PairingSerializer writes it, from plain values (`pairing_list_rows`). No docstring: the
        # schema's description of the operation is the view's.
        queryset = self.filter_queryset(self.get_queryset()).prefetch_related(None)
        rows = queryset.values_list(*PAIRING_LIST_COLUMNS)
        page = self.paginate_queryset(rows)
        if page is None:
            return Response(pairing_list_rows(list(rows)))
        return self.get_paginated_response(pairing_list_rows(page))

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "partial_update":
            return PairingUpdateSerializer
        if self.action == "end":
            return PairingEndSerializer
        return PairingSerializer

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.pairing_create(by=user_of(self.request), **serializer.validated_data)

    @extend_schema(request=PairingUpdateSerializer, responses={200: PairingSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        pairing = self.get_object()
        body = PairingUpdateSerializer(pairing, data=request.data, partial=True, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        pairing = services.pairing_update(by=user_of(request), pairing=pairing, **body.validated_data)
        return Response(PairingSerializer(pairing, context=self.get_serializer_context()).data)

    @extend_schema(request=PairingEndSerializer, responses={200: PairingSerializer}, summary="End a pairing")
    @action(detail=True, methods=["post"])
    def end(self, request: Request, pk: str | None = None) -> Response:
        pairing = self.get_object()
        body = PairingEndSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        pairing = services.pairing_end(by=user_of(request), pairing=pairing, **body.validated_data)
        return Response(PairingSerializer(pairing, context=self.get_serializer_context()).data)

    @extend_schema(
        parameters=[YEAR],
        responses={200: FiguresSerializer},
        summary="The money and people of the caller's pairings (narrowed by the list's filters)",
        # Not `pairings_figures_retrieve`: that is the one pairing's figures.
        operation_id="pairings_scope_figures",
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="figures",
        url_name="figures",
        pagination_class=None,
        filter_backends=[StrictFilterBackend],  # the list's filters; no order
    )
    def scope_figures(self, request: Request) -> Response:
        return _figures(request, self.filter_queryset(self.get_queryset()))

    @extend_schema(parameters=[YEAR], responses={200: FiguresSerializer}, summary="The pairing's own money and people")
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def figures(self, request: Request, pk: str | None = None) -> Response:
        pairing = self.get_object()
        return _figures(request, Pairing.objects.filter(pk=pairing.pk))


# --- mandates ----------------------------------------------------------------------------------------------


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
    permission_classes = [IsAuthenticated]
    lookup_field = "year"
    lookup_value_regex = "[0-9]+"
    _pairing: Pairing | None = None

    def get_pairing(self) -> Pairing:
        if self._pairing is None:
            pairing = (
                selectors.pairings_visible_to(user_of(self.request)).filter(pk=int(self.kwargs["pairing_pk"])).first()
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
        # Which of the two writes this is, the body says; whether the caller may make it, the policy.
        by_hand = hasattr(request.data, "keys") and "funds_required" in request.data
        require((policy.may_set_mandate if by_hand else policy.may_compute_mandate)(user_of(request), pairing))
        body = MandateWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if "funds_required" in data:
            mandate = services.mandate_set(
                by=user_of(request),
                pairing=pairing,
                year=data["year"],
                funds_required=data["funds_required"],
                reason=data.get("reason", ""),
                personnel_quota=data.get("personnel_quota"),
            )
        else:
            mandate = services.mandate_compute(
                by=user_of(request), pairing=pairing, year=data["year"], personnel_quota=data.get("personnel_quota")
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


@extend_schema_view(
    partial_update=extend_schema(request=FiscalRevenueCorrectSerializer, responses={200: FiscalRevenueSerializer})
)
class FiscalRevenueViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Fiscal revenues: those of the organizations the caller acts for and of the assisting parties of the
    pairings they see. Assisting officers and national coordinators record them for organizations they act for,
    and correct them (PATCH `{"amount", "reason"}`)."""

    serializer_class = FiscalRevenueSerializer
    filterset_class = FiscalRevenueFilter
    permission_classes = [IsAuthenticated, PolicyPermission]
    write_policies = {"create": policy.may_record_revenue, "partial_update": policy.may_correct_revenue}
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[FiscalRevenue]:
        return selectors.fiscal_revenues_visible_to(user_of(self.request)).order_by("organization__path", "-year", "id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "partial_update":
            return FiscalRevenueCorrectSerializer
        return FiscalRevenueSerializer

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.fiscal_revenue_record(by=user_of(self.request), **serializer.validated_data)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.fiscal_revenue_correct(
            by=user_of(self.request),
            revenue=cast(FiscalRevenue, serializer.instance),
            amount=serializer.validated_data["amount"],
            reason=serializer.validated_data.get("reason", ""),
        )


# --- fund flows --------------------------------------------------------------------------------------------


class FundFlowViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Fund flows of the pairings in the caller's scope. Pledges and commitments are recorded by the assisting
    side (or a national coordinator); disbursements and expenditure by either side. No PATCH or DELETE."""

    serializer_class = FundFlowSerializer
    filterset_class = FundFlowFilter
    permission_classes = [IsAuthenticated, PolicyPermission]
    write_policies = {"create": policy.may_record_flow}
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[FundFlow]:
        return selectors.fund_flows_visible_to(user_of(self.request)).order_by("-date", "-id")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.fund_flow_record(by=user_of(self.request), **serializer.validated_data)


# --- people ------------------------------------------------------------------------------------------------


class DeploymentViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """People sent by the assisting side to the pairings in the caller's scope."""

    serializer_class = DeploymentSerializer
    filterset_class = DeploymentFilter
    permission_classes = [IsAuthenticated, PolicyPermission]
    write_policies = {"create": policy.may_record_deployment}
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Deployment]:
        return selectors.deployments_visible_to(user_of(self.request)).order_by("-start_date", "-id")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.deployment_record(by=user_of(self.request), **serializer.validated_data)


class TrainingViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Training given to the recipient side's people, in the pairings of the caller's scope."""

    serializer_class = TrainingSerializer
    filterset_class = TrainingFilter
    permission_classes = [IsAuthenticated, PolicyPermission]
    write_policies = {"create": policy.may_record_training}
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[Training]:
        return selectors.trainings_visible_to(user_of(self.request)).order_by("-start_date", "-id")

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.instance = services.training_record(by=user_of(self.request), **serializer.validated_data)
