"""`/api/v1/exports/`: files of the lists (XLSX, CSV) and reports (PDF), made for their creator.

POST `{"kind", "format", "filters", "object"}` → 201 with the finished export when the list is short, 202 with the
queued one otherwise (its `progress` counts rows as the task writes them); GET one to poll it; `download/` gives
the file to its creator until it expires (410 after). Nobody else sees another's exports (404).
"""

from typing import Any

from django.http import FileResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, PolymorphicProxySerializer, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.bounds import BIGINT_MAX
from core.api.caller import CallerMixin, user_of
from core.api.renderers import FileAnswer
from core.api.serializers import StrictSerializerMixin
from core.errors import Conflict, DomainError
from exchange import exports, services
from exchange.models import Export, ExportFormat, ExportStatus

CONTENT_TYPES: dict[str, str] = {
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.CSV: "text/csv; charset=utf-8",
    ExportFormat.PDF: "application/pdf",
}


class ExportProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField(help_text="Rows written so far.")
    total = serializers.IntegerField(help_text="Rows in all (1 for a report).")


class ExportSerializer(serializers.ModelSerializer):
    object = serializers.IntegerField(source="object_id", allow_null=True, read_only=True)
    progress = serializers.SerializerMethodField()
    download = serializers.SerializerMethodField(help_text="Where to get the file once it is ready; null until then.")

    class Meta:
        model = Export
        fields = [
            "id",
            "kind",
            "format",
            "filters",
            "object",
            "language",
            "status",
            "progress",
            "download",
            "filename",
            "error",
            "created_at",
            "finished_at",
            "expires_at",
        ]
        read_only_fields = fields

    @extend_schema_field(ExportProgressSerializer)
    def get_progress(self, obj: Export) -> dict[str, int]:
        return {"done": obj.done, "total": obj.total}

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_download(self, obj: Export) -> str | None:
        if obj.status != ExportStatus.DONE:
            return None
        path = reverse("api:export-download", kwargs={"pk": obj.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {},
        "description": (
            "The list endpoint's own query parameters, as an object: each a string, number or boolean, or a list of "
            "those for a filter that takes several values. A value the list refuses (or that is none of these) is a "
            "400 `invalid_filter` naming `filters.<name>`; names the list does not know are ignored, as the list "
            "endpoint ignores them, and so are paging and sorting (an export holds every page)."
        ),
    }
)
class FiltersField(serializers.JSONField):
    pass


class ExportRequestSerializer(StrictSerializerMixin, serializers.Serializer):
    """What to export: the body is checked whole by the service (every problem at once); the schema splits it by
    kind (ListExportRequest, ObjectReportRequest, RankingReportRequest)."""

    kind = serializers.ChoiceField(choices=list(services.EXPORT_KINDS))
    format = serializers.ChoiceField(choices=ExportFormat.choices)
    filters = FiltersField(required=False, default=dict)
    object = serializers.IntegerField(required=False, allow_null=True, min_value=1, max_value=BIGINT_MAX)


class ListExportSerializer(serializers.Serializer):
    """A list as a spreadsheet: the rows its endpoint lists for the same caller and `filters`."""

    kind = serializers.ChoiceField(choices=list(exports.LISTS))
    format = serializers.ChoiceField(choices=[ExportFormat.XLSX, ExportFormat.CSV])
    filters = FiltersField(required=False)


class ObjectReportSerializer(serializers.Serializer):
    """A report on one object as PDF: a pairing's scorecard (`object`: the scorecard's id) or a project's dossier
    (`object`: the project's id)."""

    kind = serializers.ChoiceField(choices=["scorecard", "project"])
    format = serializers.ChoiceField(choices=[ExportFormat.PDF])
    object = serializers.IntegerField(min_value=1, max_value=BIGINT_MAX)


class RankingFiltersSerializer(serializers.Serializer):
    program = serializers.CharField(max_length=100, help_text="The programme's code or id.")
    year = serializers.IntegerField(
        required=False, min_value=1949, max_value=2100, help_text="The latest year with a finished run if left out."
    )


class RankingReportSerializer(serializers.Serializer):
    """A programme-year's ranking as PDF (the latest finished run of that year)."""

    kind = serializers.ChoiceField(choices=["ranking"])
    format = serializers.ChoiceField(choices=[ExportFormat.PDF])
    filters = RankingFiltersSerializer()


# One of three shapes, told apart by their `kind` enums (disjoint), without a discriminator mapping: several kinds
# share the list shape, which a mapping would have to repeat and which fuzzers read as one kind per shape.
EXPORT_REQUEST = PolymorphicProxySerializer(
    component_name="NewExport",
    serializers=[ListExportSerializer, ObjectReportSerializer, RankingReportSerializer],
    resource_type_field_name=None,
)


class ExportViewSet(CallerMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's exports, newest first."""

    serializer_class = ExportSerializer
    permission_classes = [IsAuthenticated]
    filter_backends: list[Any] = []
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Export.objects.none()
        return Export.objects.filter(created_by=user_of(self.request))

    @extend_schema(
        request=EXPORT_REQUEST,
        responses={
            201: OpenApiResponse(ExportSerializer, description="Made at once: the file is ready."),
            202: OpenApiResponse(ExportSerializer, description="Queued: poll the export until it is done."),
            404: OpenApiResponse(
                description="The report's object, or the pairing or project a list names, is not in the caller's scope."
            ),
        },
        summary="Export a list or a report",
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        body = ExportRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        export = services.export_create(
            by=user_of(request),
            kind=data["kind"],
            format=data["format"],
            filters=data.get("filters") or {},
            object_id=data.get("object"),
        )
        export.refresh_from_db()
        done = export.status == ExportStatus.DONE
        return Response(
            ExportSerializer(export, context={"request": request}).data,
            status=status.HTTP_201_CREATED if done else status.HTTP_202_ACCEPTED,
        )

    @extend_schema(
        responses={
            **{(200, media_type.split(";")[0]): OpenApiTypes.BINARY for media_type in CONTENT_TYPES.values()},
            409: OpenApiResponse(description="Not ready yet, or it failed."),
            410: OpenApiResponse(description="The file has expired."),
        },
        summary="Download an export's file",
    )
    @action(detail=True, methods=["get"], content_negotiation_class=FileAnswer)
    def download(self, request: Request, pk: str | None = None) -> FileResponse:
        export = self.get_object()
        if export.status == ExportStatus.EXPIRED:
            raise Gone("expired", _("This file has expired; export the list again."), None)
        if export.status != ExportStatus.DONE or not export.file:
            raise Conflict(
                "not_ready",
                _("This export is not ready: it is %(status)s.") % {"status": ExportStatus(export.status).label},
            )
        return FileResponse(
            export.file.open("rb"),
            as_attachment=True,
            filename=export.filename,
            content_type=CONTENT_TYPES[export.format],
        )


class Gone(DomainError):
    status_code = 410
