"""API: projects, their lifecycle, and what is recorded on them while they are built and supervised.

Every request runs the same checks in the same order, so a client learns the most basic thing wrong first:
1. the project must be in the caller's scope: one outside it answers 404, exactly as a missing one;
2. a caller whose roles can never make this kind of write gets 403 (`forbidden`) before the body is read;
3. the serializers check the *shape* of the body (types, formats, lengths, the fields this request may send);
4. the service checks the *meaning* under the row lock: the state (409 when it moved on), the right (403) and
   the guard (400 with every problem at once), in the error format of core/api/errors.py.

A project's state changes only through `POST projects/{id}/transitions/`, never by PATCH; which fields a PATCH
may change depends on the state (services.EDITABLE).
"""

from collections.abc import Hashable
from typing import Any, ClassVar, cast

import django_filters
from django.db import models
from django.db.models import F, Q, QuerySet
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound as NotFound_
from rest_framework.filters import OrderingFilter
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.utils.urls import remove_query_param, replace_query_param

from accounts.models import Organization, Role, User
from core.api.pagination import StandardPagination
from core.api.serializers import StrictSerializerMixin
from core.errors import DomainError, PermissionDenied, Problem
from core.history import action_label
from core.models import HistoryEvent, Region
from pairings.api import NamedChoiceField, VisiblePairingField, WriteSerializerMixin
from pairings.models import FlowSource
from pairings.selectors import pairing_scope_q

from . import listing, selectors, services
from .models import (
    Category,
    Document,
    DocumentKind,
    Inspection,
    InspectionKind,
    InspectionResult,
    Milestone,
    ProgressReport,
    Project,
    Rectification,
    Sector,
    State,
)

NC, AO, RO = Role.NATIONAL_COORDINATOR, Role.ASSISTING_OFFICER, Role.RECIPIENT_OFFICER

# Who may ever make each kind of write: the early 403 of step 2 above. The services check again, with
# scope and state, under the row lock; these mirror them only so that a caller without the role is not
# first told about the body.
WRITE_ROLES: dict[str, frozenset[str]] = {
    "project": services.EDIT_ROLES,
    "progress_report": frozenset({AO, NC}),
    "review": frozenset({Role.APPROVER}),
    "inspection": frozenset({Role.SUPERVISOR}),
    "rectification_close": frozenset({Role.SUPERVISOR}),
    "document": frozenset({AO, RO, Role.SUPERVISOR, Role.APPROVER, NC}),
    "milestone": frozenset({AO, RO, NC}),
}

# The fields a transition body may carry besides `action` and `comment`, by action.
ACTION_FIELDS: dict[str, frozenset[str]] = {
    "approve": frozenset({"approved_budget", "reason"}),
    "start": frozenset({"actual_start"}),
    "complete": frozenset({"actual_end"}),
    "evaluate": frozenset({"score"}),
}

# The lifecycle's actions as one named enum in the schema (`action` of a transition, `allowed_actions`).
ProjectAction = models.TextChoices(  # type: ignore[call-overload]
    "ProjectAction", [(name.upper(), (name, spec.label)) for name, spec in services.ACTIONS.items()]
)


def _user(request: Request) -> User:
    return cast(User, request.user)


def _load_caller(user: User) -> None:
    """Scope needs the caller's organization and its region: load both in one query, once per request, so that
    neither the scope filter nor `allowed_actions` on each row asks again. (Roles are cached on the user.)"""
    org_field = User._meta.get_field("organization")
    if user.organization_id is not None and not org_field.is_cached(user):  # type: ignore[union-attr]
        user.organization = Organization.objects.select_related("region").get(pk=user.organization_id)


def _require_role(user: User, roles: frozenset[str]) -> None:
    if not (user.is_superuser or user.has_role(*roles)):
        raise PermissionDenied("forbidden", _("Your roles do not allow this."), None)


def _money(**kwargs: Any) -> serializers.DecimalField:
    """Yuan, as a decimal string with two places."""
    return serializers.DecimalField(max_digits=18, decimal_places=2, **kwargs)


def _by_username() -> "serializers.SlugRelatedField[User]":
    """A user shown by their username (null when the system acted)."""
    return serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)


class CallerMixin:
    """Loads the caller's organization once, after authentication and the permission classes."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        _load_caller(_user(request))


# --- projects ----------------------------------------------------------------------------------------------


class FundingSourceSerializer(StrictSerializerMixin, serializers.Serializer):
    """One source of a project's money and how much it brings."""

    source = serializers.ChoiceField(choices=FlowSource.choices)  # type: ignore[assignment]
    amount = _money(min_value=0, help_text="Yuan.")

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        # Stored as JSON: the amount keeps its two places as a string.
        return {"source": value["source"], "amount": str(value["amount"])}


class ProjectSerializer(WriteSerializerMixin, serializers.ModelSerializer):
    """A project with its state and the actions the caller may take on it now (guards aside). The `*_name`
    and `*_label` fields are for display, in the language of the request."""

    pairing = VisiblePairingField()
    pairing_label = serializers.SerializerMethodField(help_text="Assisting organization → recipient region.")
    program = serializers.IntegerField(source="pairing.program_id", read_only=True)
    program_code = serializers.CharField(source="pairing.program.code", read_only=True)
    program_name = serializers.CharField(source="pairing.program.display_name", read_only=True)
    assisting_organization = serializers.IntegerField(source="pairing.assisting_organization_id", read_only=True)
    assisting_organization_name = serializers.CharField(
        source="pairing.assisting_organization.display_name", read_only=True
    )
    recipient_region = serializers.CharField(source="pairing.recipient_region.code", read_only=True)
    recipient_region_name = serializers.CharField(source="pairing.recipient_region.display_name", read_only=True)
    location = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Region.objects.all(),
        required=False,
        allow_null=True,
        help_text="The code of a region within the pairing's recipient region.",
    )
    location_name = serializers.CharField(source="location.display_name", read_only=True, allow_null=True)
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-90, max_value=90, required=False, allow_null=True
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, min_value=-180, max_value=180, required=False, allow_null=True
    )
    budget_requested = _money(required=False, allow_null=True, help_text="Yuan.")
    approved_budget = _money(read_only=True, allow_null=True, help_text="Yuan; set by `approve`.")
    funding_sources = FundingSourceSerializer(many=True, required=False)
    allowed_actions = serializers.SerializerMethodField(
        help_text="The transitions the caller may take now, their guards aside."
    )
    iati_finance_type = serializers.IntegerField(read_only=True, help_text="110 standard grant, 410 aid loan.")
    iati_activity_status = serializers.IntegerField(read_only=True)

    writable: ClassVar[frozenset[str] | None] = frozenset({"pairing", *services.DESCRIPTIVE})

    class Meta:
        model = Project
        fields = [
            "id",
            "code",
            "title",
            "pairing",
            "pairing_label",
            "program",
            "program_code",
            "program_name",
            "assisting_organization",
            "assisting_organization_name",
            "recipient_region",
            "recipient_region_name",
            "category",
            "sector",
            "execution_mode",
            "location",
            "location_name",
            "latitude",
            "longitude",
            "is_livelihood",
            "is_self_sustaining",
            "budget_requested",
            "approved_budget",
            "funding_sources",
            "planned_start",
            "planned_end",
            "actual_start",
            "actual_end",
            "expected_beneficiaries",
            "reached_beneficiaries",
            "implementing_agency",
            "description",
            "repayment_terms",
            "state",
            "allowed_actions",
            "proposed_by",
            "iati_finance_type",
            "iati_activity_status",
            "is_synthetic",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "code",
            "actual_start",
            "actual_end",
            "state",
            "proposed_by",
            "is_synthetic",
            "created_at",
            "updated_at",
        ]
        validators: ClassVar[list[Any]] = []

    def get_pairing_label(self, obj: Project) -> str:
        return str(obj.pairing)

    @extend_schema_field(serializers.ListField(child=NamedChoiceField(ProjectAction, enum_name="ProjectActionEnum")))
    def get_allowed_actions(self, obj: Project) -> list[str]:
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            return []
        return services.allowed_actions(_user(request), obj)


class ProjectUpdateSerializer(ProjectSerializer):
    """What a PATCH may change: the descriptive fields, and what is reported while the project is built.
    Which of them may change now depends on the state (a field that may not is refused as `not_editable`)."""

    writable = frozenset().union(*services.EDITABLE.values())


class TransitionSerializer(StrictSerializerMixin, serializers.Serializer):
    """One lifecycle action with its comment and the action's own fields."""

    action = NamedChoiceField(ProjectAction, enum_name="ProjectActionEnum")
    comment = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="Why; required for reject, return, suspend, resume and cancel.",
    )
    approved_budget = _money(
        required=False, allow_null=True, help_text="approve: yuan; the requested budget when left out."
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, help_text="approve: why the approved budget is above the requested one."
    )
    actual_start = serializers.DateField(required=False, allow_null=True, help_text="start: required.")
    actual_end = serializers.DateField(required=False, allow_null=True, help_text="complete: today when left out.")
    score = serializers.DecimalField(
        max_digits=6,
        decimal_places=2,
        min_value=0,
        max_value=100,
        required=False,
        allow_null=True,
        help_text="evaluate: the project's final score (0–100).",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        own = ACTION_FIELDS.get(attrs["action"], frozenset())
        refused = {
            name: [
                serializers.ErrorDetail(
                    _("The %(action)s action takes no %(field)s.") % {"action": attrs["action"], "field": name},
                    code="not_applicable",
                )
            ]
            for name in sorted(set(self.initial_data.keys()) - {"action", "comment"} - own)
        }
        if refused:
            raise serializers.ValidationError(refused)
        return attrs


class ProjectFilter(django_filters.FilterSet):
    program = django_filters.CharFilter(method="filter_program", help_text="The programme's id or code.")
    pairing = django_filters.NumberFilter(field_name="pairing_id")
    state = django_filters.MultipleChoiceFilter(
        choices=State.choices,
        method="filter_state",
        help_text="One or more states, repeated (`state=a&state=b`) or comma-separated (`state=a,b`).",
    )
    category = django_filters.ChoiceFilter(choices=Category.choices)
    sector = django_filters.ChoiceFilter(choices=Sector.choices)
    region = django_filters.CharFilter(
        method="filter_region",
        help_text="A region's code: projects located within it, or whose pairing's recipient region lies within it.",
    )
    year = django_filters.NumberFilter(
        field_name="planned_start",
        lookup_expr="year",
        min_value=1,
        max_value=9999,
        decimal_places=0,
        help_text="The year of the planned start.",
    )
    search = django_filters.CharFilter(method="filter_search", help_text="Part of the code or the title.")
    assisting_organization = django_filters.NumberFilter(field_name="pairing__assisting_organization_id")

    class Meta:
        model = Project
        fields = [
            "program",
            "pairing",
            "state",
            "category",
            "sector",
            "region",
            "year",
            "search",
            "assisting_organization",
        ]

    def __init__(self, data: Any = None, *args: Any, **kwargs: Any) -> None:
        if data is not None and hasattr(data, "getlist") and "state" in data:
            # `state=a,b` and `state=a&state=b` alike: split before the choices are checked.
            data = data.copy()
            data.setlist("state", [s.strip() for v in data.getlist("state") for s in v.split(",") if s.strip()])
        super().__init__(data, *args, **kwargs)

    def filter_program(self, queryset: QuerySet[Project], name: str, value: str) -> QuerySet[Project]:
        match = Q(pairing__program__code=value)
        if value.isdigit():
            match |= Q(pairing__program_id=int(value))
        return queryset.filter(match)

    def filter_state(self, queryset: QuerySet[Project], name: str, value: list[str]) -> QuerySet[Project]:
        return queryset.filter(state__in=value) if value else queryset

    def filter_region(self, queryset: QuerySet[Project], name: str, value: str) -> QuerySet[Project]:
        region = Region.objects.filter(code=value).first()
        if region is None:
            raise serializers.ValidationError(
                {
                    name: [
                        serializers.ErrorDetail(
                            _("No region has the code %(code)s.") % {"code": value}, "unknown_region"
                        )
                    ]
                }
            )
        return queryset.filter(
            Q(location__path__startswith=region.path) | Q(pairing__recipient_region__path__startswith=region.path)
        )

    def filter_search(self, queryset: QuerySet[Project], name: str, value: str) -> QuerySet[Project]:
        return queryset.filter(Q(code__icontains=value) | Q(title__icontains=value))


class StrictOrderingFilter(OrderingFilter):
    """`ordering` by the listed fields only (an unknown one is a 400, not ignored). Rows without the value come
    last either way, and ties are broken by id so that pages do not overlap."""

    ordering_description = (
        "Order by code, title, state, budget_requested, planned_start or created_at; `-` in front for descending, "
        "several separated by commas. Newest first by default."
    )

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> list[Any]:
        params = request.query_params.get(self.ordering_param) or ""
        terms = [term.strip() for term in params.split(",") if term.strip()]
        if not terms:
            return list(self.get_default_ordering(view) or [])
        allowed = set(view.ordering_fields)
        unknown = [term for term in terms if term.lstrip("-") not in allowed]
        if unknown:
            raise serializers.ValidationError(
                {
                    self.ordering_param: [
                        serializers.ErrorDetail(
                            _("Order by one of: %(fields)s.") % {"fields": ", ".join(view.ordering_fields)},
                            code="invalid_choice",
                        )
                    ]
                }
            )
        terms.append("-id" if terms[-1].startswith("-") else "id")
        return [
            F(term[1:]).desc(nulls_last=True) if term.startswith("-") else F(term).asc(nulls_last=True)
            for term in terms
        ]


class ProjectViewSet(CallerMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Projects of the pairings in the caller's scope (others answer 404), each with `allowed_actions` for the
    caller. Assisting and recipient officers create drafts and PATCH them (which fields depends on the state);
    the state changes only through `transitions/`. No PUT, no DELETE."""

    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter
    filter_backends = [django_filters.rest_framework.DjangoFilterBackend, StrictOrderingFilter]
    ordering_fields = ["code", "title", "state", "budget_requested", "planned_start", "created_at"]
    ordering = ["-created_at", "-id"]
    permission_classes = [IsAuthenticated]
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[Project]:
        return selectors.project_list_rows(_user(self.request))

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
        return ("projects", pairing_scope_q(_user(self.request), "pairing__"), params.get("ordering") or "")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The list, fast (projects/listing.py): the page's rows with their names and the total in one statement,
        compiled once per scope and ordering."""
        key = self._list_key()
        # The filters and the ordering are checked first (a 400 before a 404), unless this shape compiled before.
        build = lambda: self.filter_queryset(self.get_queryset())  # noqa: E731
        queryset = build if listing.is_compiled(key) else build()
        pagination = cast(StandardPagination, self.paginator)
        size = pagination.get_page_size(request) or pagination.page_size
        raw = request.query_params.get(pagination.page_query_param, "1")
        number = int(raw) if raw.isdigit() and int(raw) > 0 else 0
        if number == 0:
            raise NotFound_(_("There is no such page."))
        data, total = listing.page(queryset, number, size, _user(request), key=key)
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

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        if self.action == "partial_update":
            return ProjectUpdateSerializer
        if self.action == "transitions":
            return TransitionSerializer
        return ProjectSerializer

    def _reread(self, project: Project) -> Response:
        fresh = selectors.project_list_rows(_user(self.request)).get(pk=project.pk)
        return Response(ProjectSerializer(fresh, context=self.get_serializer_context()).data)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = _user(request)
        _require_role(user, WRITE_ROLES["project"])
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
        user = _user(request)
        _require_role(user, WRITE_ROLES["project"])
        self._refuse_fixed_fields(project, request.data)
        body = ProjectUpdateSerializer(project, data=request.data, partial=True, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        project = services.project_update(by=user, project=project, **body.validated_data)
        return self._reread(project)

    @staticmethod
    def _refuse_fixed_fields(project: Project, data: Any) -> None:
        """Every key the project's state does not let change, named at once, before any value is read."""
        if not hasattr(data, "keys"):
            return
        known = set(ProjectUpdateSerializer().fields)
        editable = services.EDITABLE[State(project.state)]
        problems = []
        for name in sorted(data.keys()):
            if name not in known:
                problems.append(Problem("unknown_field", _("Unknown field."), name))
            elif name == "state":
                problems.append(Problem("not_editable", _("The state changes only through transitions/."), name))
            elif name not in editable:
                problems.append(
                    Problem(
                        "not_editable",
                        _("This field cannot change while the project is %(state)s.")
                        % {"state": State(project.state).label},
                        name,
                    )
                )
        if problems:
            raise DomainError.many(problems)

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
    )
    @action(detail=True, methods=["post"])
    def transitions(self, request: Request, pk: str | None = None) -> Response:
        project = self.get_object()
        user = _user(request)
        name = request.data.get("action") if hasattr(request.data, "get") else None
        if not isinstance(name, str) or name not in services.ACTIONS:
            # Names `action` (missing or not a choice) and whatever else is malformed.
            TransitionSerializer(data=request.data).is_valid(raise_exception=True)
            raise DomainError("invalid_choice", _("Choose a valid action."), "action")
        spec = services.ACTIONS[name]
        if not (user.is_superuser or user.has_role(*spec.roles)):
            raise PermissionDenied("forbidden", _("Your roles do not allow this action on this project."), "action")
        body = TransitionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        kwargs: dict[str, Any] = {"project": project, "by": user, "comment": data["comment"]}
        defaults: dict[str, Any] = {"approved_budget": None, "reason": "", "actual_start": None, "actual_end": None}
        for field in ACTION_FIELDS.get(spec.name, frozenset()):
            kwargs[field] = data.get(field, defaults.get(field))
        project = services.TRANSITIONS[spec.name](**kwargs)
        return self._reread(project)


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
            visible = selectors.projects_visible_to(_user(self.request))
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


class HistoryEventSerializer(serializers.ModelSerializer):
    """One thing that happened to the project, oldest first; `changes` maps a field to `{"old", "new"}`."""

    actor = _by_username()
    action_label = serializers.SerializerMethodField()

    class Meta:
        model = HistoryEvent
        fields = ["id", "action", "action_label", "from_state", "to_state", "actor", "at", "comment", "changes"]
        read_only_fields = fields

    def get_action_label(self, obj: HistoryEvent) -> str:
        return action_label(obj.action)


@extend_schema(parameters=[PROJECT_PK])
class HistoryViewSet(mixins.ListModelMixin, ProjectChildViewSet):
    """The project's history, oldest first: its transitions, edits and everything recorded on it."""

    serializer_class = HistoryEventSerializer

    def get_queryset(self) -> QuerySet[HistoryEvent]:
        if getattr(self, "swagger_fake_view", False):
            return HistoryEvent.objects.none()
        return HistoryEvent.objects.for_object(self.get_project()).select_related("actor").order_by("at", "id")


class ProgressReportSerializer(WriteSerializerMixin, serializers.ModelSerializer):
    """Physical progress and spending up to the end of a period, as the assisting side reports it."""

    physical_progress = serializers.IntegerField(help_text="Per cent, 0–100; never less than the last report.")
    spend_to_date = _money(help_text="Yuan spent since the start.")
    reported_by = _by_username()
    reviewed_by = _by_username()

    class Meta:
        model = ProgressReport
        fields = [
            "id",
            "period_end",
            "physical_progress",
            "spend_to_date",
            "narrative",
            "reported_by",
            "reported_at",
            "review_status",
            "reviewed_by",
            "reviewed_at",
            "review_comment",
        ]
        read_only_fields = [
            "id",
            "reported_by",
            "reported_at",
            "review_status",
            "reviewed_by",
            "reviewed_at",
            "review_comment",
        ]


class ReviewSerializer(StrictSerializerMixin, serializers.Serializer):
    accept = serializers.BooleanField(help_text="true accepts the report; false returns it (with a comment).")
    comment = serializers.CharField(required=False, allow_blank=True, default="")


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
        user = _user(request)
        _require_role(user, WRITE_ROLES["progress_report"])
        body = ProgressReportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = services.progress_report_submit(by=user, project=project, **body.validated_data)
        return Response(ProgressReportSerializer(report).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReviewSerializer, responses={200: ProgressReportSerializer}, summary="Review a report")
    @action(detail=True, methods=["post"])
    def review(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        report = self.get_object()
        user = _user(request)
        _require_role(user, WRITE_ROLES["review"])
        body = ReviewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        report = services.progress_report_review(by=user, report=report, **body.validated_data)
        report = self.get_queryset().get(pk=report.pk)
        return Response(ProgressReportSerializer(report).data)


class RectificationSerializer(serializers.ModelSerializer):
    """Something an inspection found that must be put right by the deadline."""

    is_open = serializers.BooleanField(read_only=True)
    is_overdue = serializers.BooleanField(read_only=True, help_text="Open and past its deadline.")
    created_by = _by_username()
    closed_by = _by_username()

    class Meta:
        model = Rectification
        fields = [
            "id",
            "inspection",
            "finding",
            "deadline",
            "is_open",
            "is_overdue",
            "closed_on",
            "closure_note",
            "evidence",
            "created_by",
            "closed_by",
            "created_at",
        ]
        read_only_fields = fields


class RectificationItemSerializer(StrictSerializerMixin, serializers.Serializer):
    finding = serializers.CharField()
    deadline = serializers.DateField()


class InspectionSerializer(serializers.ModelSerializer):
    """A supervisor's inspection: routine while the project is built, acceptance once it is completed. A failed
    one names what failed (`findings`) and usually orders rectifications."""

    kind = NamedChoiceField(InspectionKind, enum_name="InspectionKindEnum")
    result = NamedChoiceField(InspectionResult, enum_name="InspectionResultEnum")
    inspector = _by_username()
    rectifications = RectificationSerializer(many=True, read_only=True, help_text="What it ordered to put right.")

    class Meta:
        model = Inspection
        fields = ["id", "date", "kind", "result", "findings", "inspector", "recorded_at", "rectifications"]
        read_only_fields = fields


class InspectionWriteSerializer(StrictSerializerMixin, serializers.Serializer):
    """An inspection to record, with the rectifications it orders (each a finding and a deadline)."""

    date = serializers.DateField(help_text="Not in the future.")
    kind = NamedChoiceField(InspectionKind, enum_name="InspectionKindEnum")
    result = NamedChoiceField(InspectionResult, enum_name="InspectionResultEnum")
    findings = serializers.CharField(required=False, allow_blank=True, default="", help_text="Required when failed.")
    rectifications = RectificationItemSerializer(many=True, required=False, default=list)


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
            .prefetch_related("rectifications__created_by", "rectifications__closed_by")
            .order_by("-date", "-id")
        )

    @extend_schema(request=InspectionWriteSerializer, responses={201: InspectionSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        project = self.get_project()
        user = _user(request)
        _require_role(user, WRITE_ROLES["inspection"])
        body = InspectionWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        inspection = services.inspection_record(by=user, project=project, **body.validated_data)
        inspection = self.get_queryset().get(pk=inspection.pk)
        return Response(InspectionSerializer(inspection).data, status=status.HTTP_201_CREATED)


@extend_schema_field(OpenApiTypes.INT)
class ProjectDocumentField(serializers.PrimaryKeyRelatedField):
    """A document id in a body, looked up among the documents of the project in the URL."""

    def get_queryset(self) -> QuerySet[Document]:
        project = self.context.get("project")
        return Document.objects.filter(project=project) if project is not None else Document.objects.none()


class RectificationCloseSerializer(StrictSerializerMixin, serializers.Serializer):
    note = serializers.CharField(help_text="How the finding was put right.")
    evidence = ProjectDocumentField(
        required=False, allow_null=True, help_text="A document of this project that shows it (see documents/)."
    )
    closed_on = serializers.DateField(required=False, allow_null=True, help_text="Today when left out.")


@extend_schema(parameters=[PROJECT_PK])
class RectificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ProjectChildViewSet):
    """Rectifications ordered by inspections: open ones first, by deadline. A supervisor closes one
    (`{id}/close/`) with a note and, usually, a document as evidence."""

    serializer_class = RectificationSerializer

    def get_queryset(self) -> QuerySet[Rectification]:
        if getattr(self, "swagger_fake_view", False):
            return Rectification.objects.none()
        return (
            self.get_project()
            .rectifications.select_related("created_by", "closed_by")
            .order_by("closed_on", "deadline", "id")
        )

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return RectificationCloseSerializer if self.action == "close" else RectificationSerializer

    @extend_schema(
        request=RectificationCloseSerializer,
        responses={200: RectificationSerializer},
        summary="Close a rectification",
    )
    @action(detail=True, methods=["post"])
    def close(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rectification = self.get_object()
        user = _user(request)
        _require_role(user, WRITE_ROLES["rectification_close"])
        body = RectificationCloseSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        rectification = services.rectification_close(by=user, rectification=rectification, **body.validated_data)
        return Response(RectificationSerializer(self.get_queryset().get(pk=rectification.pk)).data)


@extend_schema_field(OpenApiTypes.INT)
class ProjectReportField(serializers.PrimaryKeyRelatedField):
    """A progress report id in a body, among the reports of the project in the URL."""

    def get_queryset(self) -> QuerySet[ProgressReport]:
        project = self.context.get("project")
        return ProgressReport.objects.filter(project=project) if project is not None else ProgressReport.objects.none()


class DocumentSerializer(WriteSerializerMixin, serializers.ModelSerializer):
    """A file attached to the project. Uploads are JPEG, PNG, PDF, DOCX or XLSX, checked by size, extension
    and the file's own first bytes before anything is stored."""

    file = serializers.FileField(write_only=True, help_text="multipart/form-data.")
    kind = NamedChoiceField(DocumentKind, enum_name="DocumentKindEnum", required=False)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text="The file name if blank.")
    progress_report = ProjectReportField(
        required=False, allow_null=True, help_text="The progress report these photos belong to."
    )
    file_name = serializers.SerializerMethodField()
    uploaded_by = _by_username()
    download = serializers.SerializerMethodField(help_text="Where the file is fetched (with the same credentials).")

    class Meta:
        model = Document
        fields = [
            "id",
            "file",
            "file_name",
            "kind",
            "title",
            "size",
            "content_type",
            "progress_report",
            "uploaded_by",
            "uploaded_at",
            "download",
        ]
        read_only_fields = ["id", "size", "content_type", "uploaded_by", "uploaded_at"]

    def get_file_name(self, obj: Document) -> str:
        return (obj.file.name or "").rsplit("/", 1)[-1]

    def get_download(self, obj: Document) -> str:
        return reverse(
            "api:project-document-download",
            kwargs={"project_pk": obj.project_id, "pk": obj.pk},
            request=self.context.get("request"),
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
        user = _user(request)
        _require_role(user, WRITE_ROLES["document"])
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
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY}, summary="Download the document's file"
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


class MilestoneSerializer(WriteSerializerMixin, serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = ["id", "title", "due_date", "done_on"]
        read_only_fields = ["id", "done_on"]


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
        user = _user(request)
        _require_role(user, WRITE_ROLES["milestone"])
        body = MilestoneSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        milestone = services.milestone_add(by=user, project=project, **body.validated_data)
        return Response(MilestoneSerializer(milestone).data, status=status.HTTP_201_CREATED)
