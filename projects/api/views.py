"""API: projects, their lifecycle, and what is recorded on them while they are built and supervised.

Every request runs the same checks in the same order, so a client learns the most basic thing wrong first:
1. the project must be in the caller's scope: one outside it answers 404, exactly as a missing one;
2. a caller whom the policy (projects/policy.py) forbids this write gets 403, with its reason, before the body is
   read (`core.api.permissions.require`);
3. the serializers check the *shape* of the body (types, formats, lengths, the fields this request may send);
4. the service checks the *meaning* under the row lock: the state (409 when it moved on), the right (403) and
   the guard (400 with every problem at once), in the error format of core/api/errors.py.

A project's state changes only through `POST projects/{id}/transitions/`, never by PATCH; which fields a PATCH
may change depends on the state (services.EDITABLE).
"""

from collections.abc import Hashable
from typing import Any, cast

from django.db.models import QuerySet
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound as NotFound_
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from core.api.caller import CallerMixin, user_of
from core.api.filter_backend import StrictFilterBackend
from core.api.filters import StrictOrderingFilter
from core.api.permissions import require
from core.errors import DomainError, Problem
from core.models import HistoryEvent
from pairings.selectors import pairing_scope_q, pairings_visible_to
from projects import figures as project_figures
from projects import keyset, listing, policy, selectors, services
from projects.models import Document, DocumentKind, Inspection, Milestone, ProgressReport, Project, Rectification, State

from .duplicates import DuplicatesMixin
from .filters import ProjectFilter
from .pagination import ProjectPagination
from .serializers import (
    ACTION_FIELDS,
    DocumentSerializer,
    HistoryEventSerializer,
    InspectionSerializer,
    InspectionWriteSerializer,
    MilestoneSerializer,
    ProgressReportSerializer,
    ProjectMoneySerializer,
    ProjectSerializer,
    ProjectUpdateSerializer,
    RectificationCloseSerializer,
    RectificationReportSerializer,
    RectificationSendBackSerializer,
    RectificationSerializer,
    RectificationVerifySerializer,
    ReviewSerializer,
    StageCountsSerializer,
    TransitionSerializer,
)

# --- projects ----------------------------------------------------------------------------------------------


class ProjectViewSet(
    DuplicatesMixin, CallerMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet
):
    """Projects of the pairings in the caller's scope (others answer 404), each with `allowed_actions` for the
    caller. Assisting and recipient officers create drafts and PATCH them (which fields depends on the state);
    the state changes only through `transitions/`. No PUT, no DELETE."""

    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    filter_backends = [StrictFilterBackend, StrictOrderingFilter]
    ordering_fields = ["code", "title", "state", "budget_requested", "planned_start", "created_at"]
    ordering = ["-created_at", "-id"]
    ordering_help = "Newest first by default."
    permission_classes = [IsAuthenticated]
    pagination_class = ProjectPagination
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[Project]:
        return selectors.project_list_rows(user_of(self.request))

    def filter_queryset(self, queryset: QuerySet[Any, Any]) -> QuerySet[Any, Any]:
        # Most list calls page through everything in scope: skip building the filter form when no filter is asked.
        asked = set(self.request.query_params) & set(ProjectFilter.base_filters)
        if self.action == "list" and not asked:
            return StrictOrderingFilter().filter_queryset(self.request, queryset, self)
        return super().filter_queryset(queryset)

    def _list_key(self) -> Hashable | None:
        """What the list's queryset depends on when no filter is asked — the caller's scope (get_queryset) and the
        ordering asked (StrictOrderingFilter) — as the key its compiled statement is kept under (listing.page);
        None when a filter is asked (those are compiled each time)."""
        params = self.request.query_params
        if not set(params).isdisjoint(ProjectFilter.base_filters):
            return None
        return ("projects", pairing_scope_q(user_of(self.request), "pairing__"), params.get("ordering") or "")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The list, fast (projects/listing.py): the page's rows with their names and the total in one statement,
        compiled once per scope and ordering. With `cursor`, the page by key (`_list_by_key`)."""
        pagination = cast(ProjectPagination, self.paginator)
        raw_cursor = pagination.requested_cursor(request)
        if raw_cursor is not None:
            return self._list_by_key(raw_cursor)
        key = self._list_key()
        # Unfiltered (a key): the scope's total is the rollup's (projects.figures), not a COUNT of every project.
        known = None if key is None else project_figures.scope_stage_counts(pairings_visible_to(user_of(request))).total
        # The filters and the ordering are checked first (a 400 before a 404), unless this shape compiled before.
        build = lambda: self.filter_queryset(self.get_queryset())  # noqa: E731
        queryset = build if listing.is_compiled(key, counted=known is None) else build()
        size = pagination.get_page_size(request)
        number = pagination.requested_page(request)
        data, total = listing.page(queryset, number, size, user_of(request), key=key, total=known)
        if total is None:
            if number > 1:
                raise NotFound_(_("There is no such page."))
            total = 0
        url = request.build_absolute_uri()
        last = max(1, -(-total // size))
        return Response(
            {
                "count": total,
                "next": replace_query_param(url, pagination.page_query_param, number + 1) if number < last else None,
                "previous": (
                    None
                    if number == 1
                    else remove_query_param(url, pagination.page_query_param)
                    if number == 2
                    else replace_query_param(url, pagination.page_query_param, number - 1)
                ),
                "results": data,
            }
        )

    def _list_by_key(self, raw_cursor: str) -> Response:
        """The page after (or before) the cursor's boundary row, read by key (projects/keyset.py), its rows from the
        same code as the pages by number. `count` is exact: unfiltered, the scope's total (projects.figures);
        filtered, counted in the page's statement. `first` and `last` link to either end."""
        request = self.request
        user = user_of(request)
        pagination = cast(ProjectPagination, self.paginator)
        queryset = self.filter_queryset(self.get_queryset())  # a bad filter or ordering: a 400 naming it
        terms = keyset.terms_of(StrictOrderingFilter().get_ordering(request, queryset, self))
        try:
            cursor = keyset.decode(raw_cursor, terms)
        except keyset.BadCursor:
            raise pagination.refuse_cursor() from None
        size = pagination.get_page_size(request)
        filtered = not set(request.query_params).isdisjoint(ProjectFilter.base_filters)
        seek = keyset.seek(terms, cursor)
        rows = (queryset if seek is None else queryset.filter(seek)).order_by(
            *keyset.order_by(terms, reverse=cursor.before)
        )
        data, keys, total = listing.keyed_rows(
            rows, size + 1, user, [t.name for t in terms], count=queryset if filtered else None
        )
        if not filtered:
            total = project_figures.scope_stage_counts(pairings_visible_to(user)).total
        window = keyset.window(terms, cursor, data, keys, size)
        url = request.build_absolute_uri()
        param = pagination.cursor_query_param

        def link(value: str | None) -> str | None:
            return None if value is None else replace_query_param(url, param, value)

        return Response(
            {
                "count": total or 0,
                "next": link(window.next),
                "previous": link(window.previous),
                "first": link(keyset.FIRST),
                "last": link(keyset.LAST),
                "results": window.rows,
            }
        )

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "partial_update":
            return ProjectUpdateSerializer
        if self.action == "transitions":
            return TransitionSerializer
        return ProjectSerializer

    def _reread(self, project: Project) -> Response:
        fresh = selectors.project_list_rows(user_of(self.request)).get(pk=project.pk)
        return Response(ProjectSerializer(fresh, context=self.get_serializer_context()).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = user_of(request)
        require(policy.may_create_project(user))
        body = ProjectSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        values = dict(body.validated_data)
        project = services.project_create(by=user, pairing=values.pop("pairing"), title=values.pop("title"), **values)
        response = self._reread(project)
        response.status_code = status.HTTP_201_CREATED
        return response

    @extend_schema(request=ProjectUpdateSerializer, responses={200: ProjectSerializer})
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.get_object()
        user = user_of(request)
        require(policy.may_update_project(user, project))
        if hasattr(request.data, "keys"):
            # Every key named at once, before any value is read: those no PATCH knows, and those the project's
            # state does not let change (the service's own rule, which it applies again under the lock).
            known = set(ProjectUpdateSerializer().fields)
            keys = set(request.data.keys())
            problems = [Problem("unknown_field", _("Unknown field."), name) for name in keys - known]
            problems += services.not_editable(project, keys & known)
            if problems:
                raise DomainError.many(sorted(problems, key=lambda p: p.field or ""))
        body = ProjectUpdateSerializer(project, data=request.data, partial=True, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        project = services.project_update(by=user, project=project, **body.validated_data)
        return self._reread(project)

    @extend_schema(
        request=TransitionSerializer,
        responses={
            200: ProjectSerializer,
            400: OpenApiResponse(description="Every blocker of the guard, or a malformed body."),
            403: OpenApiResponse(description="The caller sees the project but may not take this action."),
            404: OpenApiResponse(description="No such project in the caller's scope."),
            409: OpenApiResponse(description="The project's state changed: it cannot take this action now."),
        },
        summary="Take a lifecycle action on the project",
        description=(
            "After `submit` and `approve` the answer also carries `similar`: the duplicate check's `count` (similar "
            "projects the caller sees), `hidden` (in pairings the caller does not see), `unconfirmed` and the `url` "
            "of `projects/{id}/similar/`. It warns; it never blocks the action."
        ),
    )
    @action(detail=True, methods=["post"])
    def transitions(self, request: Request, pk: str | None = None) -> Response:
        project = self.get_object()
        user = user_of(request)
        name = request.data.get("action") if hasattr(request.data, "get") else None
        if not isinstance(name, str) or name not in services.ACTIONS:
            # Names `action` (missing or not a choice) and whatever else is malformed.
            TransitionSerializer(data=request.data).is_valid(raise_exception=True)
            raise DomainError("invalid_choice", _("Choose a valid action."), "action")
        spec = services.ACTIONS[name]
        # The right first, before the body is read; the state (409) and separation of duties the service says.
        require(policy.may_transition(user, None, name))
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        kwargs: dict[str, Any] = {"project": project, "by": user, "comment": data["comment"]}
        defaults: dict[str, Any] = {"approved_budget": None, "reason": "", "actual_start": None, "actual_end": None}
        for field in ACTION_FIELDS.get(spec.name, frozenset()):
            kwargs[field] = data.get(field, defaults.get(field))
        project = services.TRANSITIONS[spec.name](**kwargs)
        return self.with_similar(spec.name, self._reread(project))

    @extend_schema(
        responses={200: StageCountsSerializer},
        summary="The caller's projects by state and by stage",
        # Not `projects_figures_retrieve`: that is the one project's figures.
        operation_id="projects_stage_figures",
    )
    @action(detail=False, methods=["get"], url_path="figures", url_name="figures", pagination_class=None)
    def stage_figures(self, request: Request) -> Response:
        queryset = self.filter_queryset(self.get_queryset())  # a bad filter: a 400 naming it
        if set(request.query_params).isdisjoint(ProjectFilter.base_filters):
            # The caller's whole scope: the rollup's counts, which are those of the projects, kept by the database.
            counts = project_figures.scope_stage_counts(pairings_visible_to(user_of(request)))
        else:
            counts = project_figures.stage_counts(queryset)
        body = {
            "states": {s: counts.states.get(s, 0) for s in State.values},
            "stages": counts.stages,
            "total": counts.total,
        }
        return Response(StageCountsSerializer(body).data)

    @extend_schema(responses={200: ProjectMoneySerializer}, summary="The project's budget and money")
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def figures(self, request: Request, pk: str | None = None) -> Response:
        return Response(ProjectMoneySerializer(project_figures.project_money(self.get_object()).as_dict()).data)


# --- what is recorded on a project -------------------------------------------------------------------------


PROJECT_PK = OpenApiParameter("project_pk", OpenApiTypes.INT, OpenApiParameter.PATH, description="The project's id.")


class ProjectChildViewSet(CallerMixin, viewsets.GenericViewSet):
    """A resource nested under a project in the caller's scope (404 otherwise, for every method)."""

    permission_classes = [IsAuthenticated]
    filter_backends = []
    lookup_value_regex = "[0-9]+"
    _project: Project | None = None

    def get_project(self) -> Project:
        if self._project is None:
            visible = selectors.projects_visible_to(user_of(self.request))
            project = visible.filter(pk=int(self.kwargs["project_pk"])).first()
            if project is None:
                raise Http404
            self._project = project
        return self._project

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if not getattr(self, "swagger_fake_view", False):
            context["project"] = self.get_project()
        return context


@extend_schema(parameters=[PROJECT_PK])
class HistoryViewSet(mixins.ListModelMixin, ProjectChildViewSet):
    """The project's history, oldest first: its transitions, edits and everything recorded on it."""

    serializer_class = HistoryEventSerializer

    def get_queryset(self) -> QuerySet[HistoryEvent]:
        if getattr(self, "swagger_fake_view", False):
            return HistoryEvent.objects.none()
        return HistoryEvent.objects.for_object(self.get_project()).select_related("actor").order_by("at", "id")


@extend_schema(parameters=[PROJECT_PK])
class ProgressReportViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectChildViewSet
):
    """Progress reports, newest period first. Assisting officers report while the project is being built;
    an approver accepts or returns each (`{id}/review/`)."""

    serializer_class = ProgressReportSerializer

    def get_queryset(self) -> QuerySet[ProgressReport]:
        if getattr(self, "swagger_fake_view", False):
            return ProgressReport.objects.none()
        return (
            self.get_project()
            .progress_reports.select_related("reported_by", "reviewed_by")
            .order_by("-period_end", "-id")
        )

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return ReviewSerializer if self.action == "review" else ProgressReportSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.get_project()
        user = user_of(request)
        require(policy.may_report_progress(user, project))
        body = ProgressReportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = services.progress_report_submit(by=user, project=project, **body.validated_data)
        return Response(ProgressReportSerializer(report).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReviewSerializer, responses={200: ProgressReportSerializer}, summary="Review a report")
    @action(detail=True, methods=["post"])
    def review(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        report = self.get_object()
        user = user_of(request)
        require(policy.may_review_report(user, report))
        body = ReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = services.progress_report_review(by=user, report=report, **body.validated_data)
        report = self.get_queryset().get(pk=report.pk)
        return Response(ProgressReportSerializer(report).data)


@extend_schema(parameters=[PROJECT_PK])
class InspectionViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectChildViewSet):
    """Inspections, newest first, each with the rectifications it ordered. Supervisors record them."""

    serializer_class = InspectionSerializer

    def get_queryset(self) -> QuerySet[Inspection]:
        if getattr(self, "swagger_fake_view", False):
            return Inspection.objects.none()
        return (
            self.get_project()
            .inspections.select_related("inspector")
            .prefetch_related(
                "rectifications__created_by",
                "rectifications__closed_by",
                "rectifications__reported_by",
                "rectifications__sent_back_by",
                "rectifications__photos",
            )
            .order_by("-date", "-id")
        )

    @extend_schema(request=InspectionWriteSerializer, responses={201: InspectionSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.get_project()
        user = user_of(request)
        require(policy.may_record_inspection(user, project))
        body = InspectionWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        inspection = services.inspection_record(by=user, project=project, **body.validated_data)
        inspection = self.get_queryset().get(pk=inspection.pk)
        return Response(
            InspectionSerializer(inspection, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


RECTIFICATION_ERRORS = {
    400: OpenApiResponse(description="Every problem with what was sent, each naming its field."),
    403: OpenApiResponse(description="The caller sees the rectification but may not take this step."),
    404: OpenApiResponse(description="No such rectification of a project in the caller's scope."),
    409: OpenApiResponse(description="The rectification's status changed: it cannot take this step now."),
}


@extend_schema(parameters=[PROJECT_PK])
class RectificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectChildViewSet):
    """Rectifications ordered by inspections: open ones first, by deadline. The assisting side reports one done
    (`{id}/report/`, multipart: `text` and `photos`); a supervisor verifies it (`{id}/verify/`) or sends it back
    (`{id}/send-back/` with a `reason`), and may close one nobody reported (`{id}/close/`, with a note and,
    usually, a document as evidence; a reported one is verified). Each carries the steps the caller may take now
    (`allowed_actions`)."""

    serializer_class = RectificationSerializer

    def get_queryset(self) -> QuerySet[Rectification]:
        if getattr(self, "swagger_fake_view", False):
            return Rectification.objects.none()
        return (
            self.get_project()
            .rectifications.select_related("created_by", "closed_by", "reported_by", "sent_back_by")
            .prefetch_related("photos")
            .order_by("closed_on", "deadline", "id")
        )

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return {
            "close": RectificationCloseSerializer,
            "report": RectificationReportSerializer,
            "verify": RectificationVerifySerializer,
            "send_back": RectificationSendBackSerializer,
        }.get(self.action, RectificationSerializer)

    def _answer(self, rectification: Rectification) -> Response:
        fresh = self.get_queryset().get(pk=rectification.pk)
        return Response(RectificationSerializer(fresh, context=self.get_serializer_context()).data)

    def _step(self, action: str, body_class: type[serializers.Serializer], run: Any) -> Response:
        rectification = self.get_object()
        user = user_of(self.request)
        # The right first, before the body is read; the status (409) the service says under the lock.
        require(policy.may_act_on_rectification(user, None, action))
        body = body_class(data=self.request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        return self._answer(run(user, rectification, body.validated_data))

    @extend_schema(
        request=RectificationCloseSerializer,
        responses={200: RectificationSerializer, **RECTIFICATION_ERRORS},
        summary="Close a rectification (verify it, when reported)",
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rectification = self.get_object()
        user = user_of(request)
        require(policy.may_close_rectification(user, rectification))
        body = RectificationCloseSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        rectification = services.rectification_close(by=user, rectification=rectification, **body.validated_data)
        return self._answer(rectification)

    @extend_schema(
        request={"multipart/form-data": RectificationReportSerializer},
        responses={200: RectificationSerializer, **RECTIFICATION_ERRORS},
        summary="Report a rectification done, with photos",
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def report(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._step(
            "report",
            RectificationReportSerializer,
            lambda user, r, d: services.rectification_report(
                by=user, rectification=r, text=d["text"], photos=d["photos"]
            ),
        )

    @extend_schema(
        request=RectificationVerifySerializer,
        responses={200: RectificationSerializer, **RECTIFICATION_ERRORS},
        summary="Verify a reported rectification (closes it)",
    )
    @action(detail=True, methods=["post"])
    def verify(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._step(
            "verify",
            RectificationVerifySerializer,
            lambda user, r, d: services.rectification_verify(by=user, rectification=r, note=d["note"]),
        )

    @extend_schema(
        request=RectificationSendBackSerializer,
        responses={200: RectificationSerializer, **RECTIFICATION_ERRORS},
        summary="Send a reported rectification back, with the reason",
    )
    @action(detail=True, methods=["post"], url_path="send-back", url_name="send-back")
    def send_back(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._step(
            "send_back",
            RectificationSendBackSerializer,
            lambda user, r, d: services.rectification_send_back(by=user, rectification=r, reason=d["reason"]),
        )


@extend_schema(parameters=[PROJECT_PK])
class DocumentViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectChildViewSet):
    """Documents of the project, newest first. Files are served through the project's scope
    (`{id}/download/`), never from a public URL."""

    serializer_class = DocumentSerializer
    parser_classes = [MultiPartParser, FormParser]

    def get_queryset(self) -> QuerySet[Document]:
        if getattr(self, "swagger_fake_view", False):
            return Document.objects.none()
        return self.get_project().documents.select_related("uploaded_by").order_by("-uploaded_at", "-id")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.get_project()
        user = user_of(request)
        require(policy.may_upload_document(user, project))
        body = DocumentSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        document = services.document_upload(
            by=user,
            project=project,
            upload=data["file"],
            kind=data.get("kind", DocumentKind.OTHER),
            title=data.get("title", ""),
            progress_report=data.get("progress_report"),
        )
        document = self.get_queryset().get(pk=document.pk)
        return Response(
            DocumentSerializer(document, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(
        # The file is sent as the type it was stored as: one of those an upload may have (octet-stream if none).
        responses={
            (200, media_type): OpenApiTypes.BINARY
            for media_type in [*services.ALLOWED_TYPES, "application/octet-stream"]
        },
        summary="Download the document's file",
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, *args: Any, **kwargs: Any) -> FileResponse:
        document = self.get_object()
        return FileResponse(
            document.file.open("rb"),
            as_attachment=True,
            filename=(document.file.name or "document").rsplit("/", 1)[-1],
            content_type=document.content_type or "application/octet-stream",
        )


@extend_schema(parameters=[PROJECT_PK])
class MilestoneViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectChildViewSet):
    """The project's milestones by due date. Assisting and recipient officers add them."""

    serializer_class = MilestoneSerializer

    def get_queryset(self) -> QuerySet[Milestone]:
        if getattr(self, "swagger_fake_view", False):
            return Milestone.objects.none()
        return self.get_project().milestones.order_by("due_date", "id")

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.get_project()
        user = user_of(request)
        require(policy.may_add_milestone(user, project))
        body = MilestoneSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        milestone = services.milestone_add(by=user, project=project, **body.validated_data)
        return Response(MilestoneSerializer(milestone).data, status=status.HTTP_201_CREATED)
