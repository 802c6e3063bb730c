"""`GET /api/v1/iati/activities.xml`: the projects in the caller's scope as an IATI 2.03 activity file
(exchange/iati.py says what each activity holds)."""

from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.http import StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import Organization
from core.api.bounds import BIGINT_MAX
from core.api.caller import CallerMixin, user_of
from core.api.filter_backend import StrictFilterBackend
from core.api.filters import FilterSet, id_filter
from core.api.renderers import FileAnswer, ORJSONRenderer
from exchange import iati
from projects.models import Document, Project
from projects.selectors import projects_visible_to

XML = "application/xml"


class IATIXMLRenderer(BaseRenderer):
    """The view's one media type. The document itself is streamed by the view, never rendered from data."""

    media_type = XML
    format = "xml"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return data if isinstance(data, bytes) else b""


class ActivityFilter(FilterSet):
    """The filters of the export, checked as every list's are (a malformed value is a 400 naming it)."""

    program = django_filters.CharFilter(method="filter_program")
    organization = id_filter("pairing__assisting_organization_id", method="filter_organization")
    pairing = id_filter("pairing_id")

    class Meta:
        model = Project
        fields = ["program", "organization", "pairing"]

    def filter_program(self, queryset: QuerySet[Project], name: str, value: str) -> QuerySet[Project]:
        match = Q(pairing__program__code=value)
        # An id as well as a code, as the projects list takes it (ASCII digits within the id column's range).
        if value.isascii() and value.isdigit() and int(value) <= BIGINT_MAX:
            match |= Q(pairing__program_id=int(value))
        return queryset.filter(match)

    def filter_organization(self, queryset: QuerySet[Project], name: str, value: int) -> QuerySet[Project]:
        """The projects the organization takes part in: as the assisting party (it, or an organization under it),
        or as the recipient side (the pairing's recipient region lies within the organization's region) — the same
        reach as an official of that organization has."""
        org = Organization.objects.select_related("region").filter(pk=value).first()
        if org is None:
            return queryset.none()
        match = Q(pairing__assisting_organization__path__startswith=org.path)
        if org.region is not None:
            match |= Q(pairing__recipient_region__path__startswith=org.region.path)
        return queryset.filter(match)


ID_RANGE = {"type": "integer", "minimum": 1, "maximum": BIGINT_MAX}


class IATIActivitiesView(CallerMixin, generics.GenericAPIView):
    """The projects in the caller's scope (those the projects list shows them) as one IATI 2.03 `iati-activities`
    document, valid against IATI's official schema: one `iati-activity` per project with its organisations and
    their roles, title and description in Chinese and English, status, dates, location, DAC sector, finance and
    aid type, budget, a transaction per fund flow linked to it and links to its reports, contracts and acceptance
    records. Amounts are in yuan (CNY). Where no project is in scope (or none matches the filters) the answer is
    still 200, a well-formed `iati-activities` with no activity in it, as an empty list is elsewhere in the API —
    though IATI's schema wants at least one activity in a file, so such a document is not one to publish."""

    permission_classes = [IsAuthenticated]
    filter_backends = [StrictFilterBackend]
    filterset_class = ActivityFilter
    pagination_class = None
    renderer_classes = [IATIXMLRenderer]
    content_negotiation_class = FileAnswer

    def get_queryset(self) -> QuerySet[Project]:
        if getattr(self, "swagger_fake_view", False):
            return Project.objects.none()
        return projects_visible_to(user_of(self.request))

    @extend_schema(
        operation_id="iati_activities_xml",
        summary="The projects in scope as an IATI 2.03 activity file",
        parameters=[
            OpenApiParameter("program", OpenApiTypes.STR, description="The programme's id or code."),
            OpenApiParameter(
                "organization",
                ID_RANGE,
                description=(
                    "An organization's id: the projects it takes part in, as the assisting party (it or an "
                    "organization under it) or as the recipient side (in its region)."
                ),
            ),
            OpenApiParameter("pairing", ID_RANGE, description="A pairing's id: its projects."),
        ],
        responses={
            (200, XML): OpenApiResponse(
                OpenApiTypes.STR,
                description="An `iati-activities` document (IATI 2.03, UTF-8), sent as an attachment.",
            )
        },
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> StreamingHttpResponse:
        projects = self.filter_queryset(self.get_queryset())

        def document_url(document: Document) -> str:
            path = reverse(
                "api:project-document-download", kwargs={"project_pk": document.project_id, "pk": document.pk}
            )
            return request.build_absolute_uri(path)

        response = StreamingHttpResponse(
            iati.activities_xml(projects, document_url=document_url), content_type=f"{XML}; charset=utf-8"
        )
        response["Content-Disposition"] = 'attachment; filename="iati-activities.xml"'
        return response

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(response, Response):
            # Only refusals come back as data: they are JSON in the API's error format, whatever was asked for.
            request.accepted_renderer = ORJSONRenderer()
            request.accepted_media_type = ORJSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
