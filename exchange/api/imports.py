"""`/api/v1/imports/`: spreadsheet imports (exchange/imports.py says what each kind reads and how rows match).

POST a file (multipart: `file`, `kind`, `dry_run`) → 201 with the check: per row new, updated, unchanged or
invalid, and every error with its row and column; with `dry_run=false` and no error it is committed at once.
`{id}/commit/` commits a checked import, all or nothing. `template/?kind=` gives the XLSX to fill in. Nobody else
sees another's imports (404).
"""

from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.caller import CallerMixin, user_of
from core.api.renderers import FileAnswer
from core.api.serializers import StrictSerializerMixin
from exchange import import_policy, imports
from exchange.models import Import, ImportKind

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class ImportRowsSerializer(serializers.Serializer[Any]):
    total = serializers.IntegerField(help_text="Data rows in the file.")
    new = serializers.IntegerField(help_text="Rows that add a record.")
    updated = serializers.IntegerField(help_text="Rows that change a record.")
    unchanged = serializers.IntegerField(help_text="Rows that match their record already (not written).")
    invalid = serializers.IntegerField(help_text="Rows with at least one error.")


class ImportProblemSerializer(serializers.Serializer[Any]):
    row = serializers.IntegerField(help_text="The row number as the spreadsheet shows it (the headers are row 1).")
    column = serializers.CharField(allow_null=True, help_text="The column's header as in the file; null: the row.")
    code = serializers.CharField()
    message = serializers.CharField()


class ImportOutcomeSerializer(serializers.Serializer[Any]):
    row = serializers.IntegerField()
    action = serializers.ChoiceField(choices=list(imports.ACTIONS))
    key = serializers.CharField(help_text="The key the row is matched by (empty when it could not be read).")


class ImportSerializer(serializers.ModelSerializer):
    rows = serializers.SerializerMethodField()
    # `errors` shadows Serializer.errors in the type stubs only; DRF collects declared fields by name.
    errors = serializers.SerializerMethodField()  # type: ignore[assignment]
    outcome = serializers.SerializerMethodField()

    class Meta:
        model = Import
        fields = ["id", "kind", "status", "filename", "rows", "errors", "outcome", "created_at", "committed_at"]
        read_only_fields = fields

    @extend_schema_field(ImportRowsSerializer)
    def get_rows(self, obj: Import) -> dict[str, int]:
        return {key: int(obj.rows.get(key, 0)) for key in ("total", *imports.ACTIONS)}

    @extend_schema_field(ImportProblemSerializer(many=True))
    def get_errors(self, obj: Import) -> list[dict[str, Any]]:
        return list(obj.errors)

    @extend_schema_field(ImportOutcomeSerializer(many=True))
    def get_outcome(self, obj: Import) -> list[dict[str, Any]]:
        return list(obj.outcome)


class ImportSummarySerializer(ImportSerializer):
    """An import in the list: its counts without the rows' outcome and errors (read those from the import)."""

    class Meta(ImportSerializer.Meta):
        fields = ["id", "kind", "status", "filename", "rows", "created_at", "committed_at"]
        read_only_fields = fields


class ImportUploadSerializer(StrictSerializerMixin, serializers.Serializer[Any]):
    file = serializers.FileField(
        help_text="An XLSX or a CSV (UTF-8) file with the template's headers (either language)."
    )
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    dry_run = serializers.BooleanField(
        required=False, default=True, help_text="Only check (the default); false commits at once when no row fails."
    )


class TemplateQuerySerializer(StrictSerializerMixin, serializers.Serializer[Any]):
    kind = serializers.ChoiceField(choices=ImportKind.choices)


class ImportViewSet(CallerMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's imports, newest first."""

    serializer_class = ImportSerializer
    permission_classes = [IsAuthenticated]
    filter_backends: list[Any] = []
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return Import.objects.none()
        return imports.imports_of(user_of(self.request))

    def get_serializer_class(self) -> Any:
        return ImportSummarySerializer if self.action == "list" else ImportSerializer

    def get_parsers(self) -> list[Any]:
        # Only the upload has a body, and it carries a file.
        return [MultiPartParser()] if getattr(self, "action", None) == "create" else super().get_parsers()

    @extend_schema(
        operation_id="imports_create",
        request={"multipart/form-data": ImportUploadSerializer},
        responses={201: ImportSerializer},
        summary="Upload a spreadsheet: check it (dry run) or import it",
        description=(
            "The file is refused (400 on `file`) when it is not an XLSX or UTF-8 CSV, has a formula, lacks the "
            "template's headers, is over the size limit or has more rows than allowed; nothing is kept then. "
            "Otherwise the import is kept with every row's action and every error (`status` `checked` or "
            "`invalid`; `committed` when `dry_run` is false and no row failed)."
        ),
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Refuse an oversized upload on its declared length, before the body is read.
        length = request.META.get("CONTENT_LENGTH") or ""
        if length.isdigit():
            # The multipart envelope adds a little to the file; allow for it.
            imports.check_size(max(0, int(length) - 64 * 1024))
        body = ImportUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        record = imports.import_upload(
            by=user_of(request), upload=data["file"], kind=data["kind"], dry_run=data["dry_run"]
        )
        return Response(ImportSerializer(record).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="imports_commit",
        request=None,
        responses={200: ImportSerializer},
        summary="Commit a checked import, all or nothing",
        description=(
            "Every row is checked again and goes through the same service as its form. If any row is refused, "
            "nothing is imported and the import comes back `failed` with the errors. 409 when it is already "
            "committed or has errors."
        ),
    )
    @action(detail=True, methods=["post"])
    def commit(self, request: Request, pk: str | None = None) -> Response:
        record = imports.import_commit(by=user_of(request), record=self.get_object())
        return Response(ImportSerializer(record).data)

    @extend_schema(
        operation_id="imports_template",
        parameters=[OpenApiParameter("kind", str, required=True, enum=ImportKind.values)],
        # The file is XLSX; octet-stream is listed too so that generated clients (which know no XLSX) get the bytes.
        responses={
            (200, media_type): OpenApiResponse(OpenApiTypes.BINARY, description="The XLSX template.")
            for media_type in (XLSX, "application/octet-stream")
        },
        summary="The template of a kind: headers in the caller's language, allowed values on the second sheet",
    )
    @action(detail=False, methods=["get"], content_negotiation_class=FileAnswer, pagination_class=None)
    def template(self, request: Request) -> HttpResponse:
        query = TemplateQuerySerializer(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        kind = query.validated_data["kind"]
        user = user_of(request)
        import_policy.may_import(user, kind).enforce()
        response = HttpResponse(imports.template_xlsx(user, kind), content_type=XLSX)
        response["Content-Disposition"] = f'attachment; filename="{imports.template_filename(kind)}"'
        return response
