"""Ids in a body that name a row of the project in the URL."""

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from projects.models import Document, ProgressReport

# --- what is recorded on a project -------------------------------------------------------------------------


@extend_schema_field(OpenApiTypes.INT)
class ProjectDocumentField(serializers.PrimaryKeyRelatedField):
    """A document id in a body, looked up among the documents of the project in the URL."""

    def get_queryset(self) -> QuerySet[Document]:
        project = self.context.get("project")
        return Document.objects.filter(project=project) if project is not None else Document.objects.none()


@extend_schema_field(OpenApiTypes.INT)
class ProjectReportField(serializers.PrimaryKeyRelatedField):
    """A progress report id in a body, among the reports of the project in the URL."""

    def get_queryset(self) -> QuerySet[ProgressReport]:
        project = self.context.get("project")
        return ProgressReport.objects.filter(project=project) if project is not None else ProgressReport.objects.none()
