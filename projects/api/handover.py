"""API: a project's handover and its yearly operation reports (the hematopoiesis test).

The same order of checks as every project resource (projects/api/views.py): the project in the caller's scope
(404), the caller's right (403, before the body is read), the body's shape (400, naming each field), then the
service under the row lock (409 when the handover moved on, 400 with every problem at once). JSON bodies only.
"""

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Organization
from core.api.caller import user_of
from core.api.fields import NamedChoiceField, by_username, money
from core.api.permissions import require
from core.api.serializers import StrictSerializerMixin
from projects import handover_selectors, handover_services, policy
from projects.models import CostPayer, Handover, HandoverStatus, OperationReport, OperationStatus

from .fields import ProjectDocumentField
from .views import PROJECT_PK, ProjectChildViewSet

# --- bodies --------------------------------------------------------------------------------------------------


class HandoverSerializer(serializers.ModelSerializer):
    """A project's handover: recorded by the assisting side, confirmed (or refused, with the reason) by the
    recipient side. `allowed_actions` are the steps the caller may take now; `missing_years` the years from the
    handover's to last year without an operation report (once confirmed)."""

    project = serializers.IntegerField(source="project_id", read_only=True)
    receiving_organization_name = serializers.SerializerMethodField()
    receiver = serializers.CharField(read_only=True, help_text="The receiving organization's name, or the body named.")
    asset_value = money(help_text="Yuan.")
    status = NamedChoiceField(HandoverStatus, enum_name="HandoverStatusEnum", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    recorded_by = by_username()
    confirmed_by = by_username()
    refused_by = by_username()
    allowed_actions = serializers.SerializerMethodField()
    missing_years = serializers.SerializerMethodField()

    class Meta:
        model = Handover
        fields = [
            "id",
            "project",
            "date",
            "receiving_organization",
            "receiving_organization_name",
            "receiving_name",
            "receiver",
            "asset_value",
            "asset_register",
            "status",
            "status_label",
            "round",
            "recorded_by",
            "recorded_at",
            "confirmed_by",
            "confirmed_at",
            "refused_by",
            "refused_at",
            "refusal_reason",
            "allowed_actions",
            "missing_years",
        ]
        read_only_fields = fields

    def get_receiving_organization_name(self, obj: Handover) -> str | None:
        org = obj.receiving_organization
        return org.display_name if org is not None else None

    def get_allowed_actions(self, obj: Handover) -> list[str]:
        return policy.handover_actions(user_of(self.context["request"]), obj.project, obj)

    def get_missing_years(self, obj: Handover) -> list[int]:
        return handover_selectors.missing_years([obj]).get(obj.pk, [])


class HandoverRecordSerializer(StrictSerializerMixin, serializers.Serializer):
    """The handover as the assisting side records it (again after a refusal)."""

    date = serializers.DateField(help_text="The day the assets were handed over (not in the future).")
    receiving_organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(),
        required=False,
        allow_null=True,
        help_text="The receiving organization's id; or leave it out and name the body in `receiving_name`.",
    )
    receiving_name = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    asset_value = money(help_text="Yuan, above 0.")
    asset_register = ProjectDocumentField(
        required=False, allow_null=True, help_text="A document of this project: the register of the assets."
    )


class HandoverRefuseSerializer(StrictSerializerMixin, serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, help_text="Why the handover is refused (required).")


class HandoverConfirmSerializer(StrictSerializerMixin, serializers.Serializer):
    """No fields: the confirmation is the request itself."""


class OperationReportSerializer(serializers.ModelSerializer):
    """How a handed-over project ran in one year, as the recipient side reports it."""

    project = serializers.IntegerField(source="project_id", read_only=True)
    status = NamedChoiceField(OperationStatus, enum_name="OperationStatusEnum")
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    cost_payer = serializers.CharField(
        read_only=True,
        help_text="Who pays the running costs: `recipient_government`, `assisting_side`, `operator` or `other`; "
        "empty when no costs were given.",
    )
    operating_cost = money(required=False, allow_null=True, help_text="Yuan spent running it in the year.")
    maintenance_cost = money(required=False, allow_null=True, help_text="Yuan spent maintaining it in the year.")
    revenue = money(required=False, allow_null=True, help_text="Yuan earned in the year (self-sustaining projects).")
    photos = serializers.PrimaryKeyRelatedField(  # type: ignore[var-annotated]
        many=True, read_only=True, help_text="Documents (photos)."
    )
    filed_by = by_username()

    class Meta:
        model = OperationReport
        fields = [
            "id",
            "project",
            "year",
            "status",
            "status_label",
            "utilisation",
            "operating_cost",
            "maintenance_cost",
            "cost_payer",
            "revenue",
            "jobs",
            "people_served",
            "notes",
            "photos",
            "filed_by",
            "filed_at",
        ]
        read_only_fields = ["id", "project", "status_label", "photos", "filed_by", "filed_at"]


class OperationReportWriteSerializer(StrictSerializerMixin, serializers.Serializer):
    """A year's operation report (photos are attached through the project page)."""

    year = serializers.IntegerField(
        min_value=1900, max_value=9999, help_text="From the handover's year to the current one; one report a year."
    )
    status = NamedChoiceField(OperationStatus, enum_name="OperationStatusEnum")
    utilisation = serializers.IntegerField(
        min_value=0, max_value=100, required=False, allow_null=True, help_text="Per cent of capacity used."
    )
    operating_cost = money(required=False, allow_null=True, min_value=0)
    maintenance_cost = money(required=False, allow_null=True, min_value=0)
    cost_payer = NamedChoiceField(
        CostPayer, enum_name="CostPayerEnum", required=False, help_text="Who pays the running costs (with costs)."
    )
    revenue = money(required=False, allow_null=True, min_value=0)
    jobs = serializers.IntegerField(min_value=0, max_value=2_147_483_647, required=False, allow_null=True)
    people_served = serializers.IntegerField(min_value=0, max_value=2_147_483_647, required=False, allow_null=True)
    notes = serializers.CharField(required=False, allow_blank=True, default="")


ERRORS = {
    400: OpenApiResponse(description="Every problem with what was sent, each naming its field."),
    403: OpenApiResponse(description="The caller sees the project but may not take this step."),
    404: OpenApiResponse(description="No such project in the caller's scope (or no handover yet)."),
    409: OpenApiResponse(description="The project or its handover is not at a step that allows this now."),
}


# --- views ---------------------------------------------------------------------------------------------------


@extend_schema(parameters=[PROJECT_PK])
class HandoverViewSet(ProjectChildViewSet):
    """The project's handover (one per project, once it is accepted): `GET` it, `POST` to record it (the assisting
    side; again after a refusal), `POST confirm/` or `POST refuse/` with a `reason` (the recipient side)."""

    serializer_class = HandoverSerializer
    parser_classes = [JSONParser]
    pagination_class = None

    def get_queryset(self) -> QuerySet[Handover]:
        return Handover.objects.select_related(
            "project__pairing__assisting_organization",
            "project__pairing__recipient_region",
            "receiving_organization",
            "recorded_by",
            "confirmed_by",
            "refused_by",
        )

    def _handover(self) -> Handover | None:
        return self.get_queryset().filter(project=self.get_project()).first()

    def _answer(self, handover: Handover, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=handover.pk)
        return Response(HandoverSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(responses={200: HandoverSerializer, 404: ERRORS[404]}, summary="The project's handover")
    def retrieve_handover(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        handover = self._handover()
        if handover is None:
            raise Http404(_("No handover has been recorded for this project yet."))
        return self._answer(handover)

    @extend_schema(
        request=HandoverRecordSerializer,
        responses={200: HandoverSerializer, 201: HandoverSerializer, **ERRORS},
        summary="Record the handover (again after a refusal)",
    )
    def record(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.get_project()
        user = user_of(request)
        existing = self._handover()
        require(policy.may_record_handover(user, project, existing))
        body = HandoverRecordSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        handover = handover_services.handover_record(by=user, project=project, **body.validated_data)
        return self._answer(handover, status.HTTP_200_OK if existing else status.HTTP_201_CREATED)

    @extend_schema(
        request=HandoverConfirmSerializer,
        responses={200: HandoverSerializer, **ERRORS},
        summary="Confirm the receipt",
    )
    @action(detail=False, methods=["post"])
    def confirm(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.get_project()
        user = user_of(request)
        require(policy.may_confirm_handover(user, project, self._handover()))
        HandoverConfirmSerializer(data=request.data).is_valid(raise_exception=True)
        return self._answer(handover_services.handover_confirm(by=user, project=project))

    @extend_schema(
        request=HandoverRefuseSerializer,
        responses={200: HandoverSerializer, **ERRORS},
        summary="Refuse the handover, with the reason",
    )
    @action(detail=False, methods=["post"])
    def refuse(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.get_project()
        user = user_of(request)
        require(policy.may_refuse_handover(user, project, self._handover()))
        body = HandoverRefuseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return self._answer(handover_services.handover_refuse(by=user, project=project, **body.validated_data))


@extend_schema(parameters=[PROJECT_PK])
class OperationReportViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectChildViewSet
):
    """The project's yearly operation reports, newest year first. The recipient side files one a year once the
    handover is confirmed, from the handover's year to the current one."""

    serializer_class = OperationReportSerializer
    parser_classes = [JSONParser]

    def get_queryset(self) -> QuerySet[OperationReport]:
        if getattr(self, "swagger_fake_view", False):
            return OperationReport.objects.none()
        return (
            self.get_project()
            .operation_reports.select_related("filed_by")
            .prefetch_related("photos")
            .order_by("-year", "-id")
        )

    @extend_schema(request=OperationReportWriteSerializer, responses={201: OperationReportSerializer, **ERRORS})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.get_project()
        user = user_of(request)
        handover = Handover.objects.filter(project=project).first()
        require(policy.may_file_operation_report(user, project, handover))
        body = OperationReportWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = handover_services.operation_report_file(by=user, project=project, **body.validated_data)
        report = self.get_queryset().get(pk=report.pk)
        return Response(OperationReportSerializer(report).data, status=status.HTTP_201_CREATED)
