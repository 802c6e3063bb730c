"""API: duplicate projects across pairings (projects/duplicates.py), as actions of the project viewset.

- `GET projects/{id}/similar/`: the projects that may be this one's undertaking, with `score` and `reasons`, those
  in the caller's scope in full and the others only counted (`hidden`);
- `POST projects/{id}/similar/{candidate_id}/dismiss/` `{"reason"}`: "not a duplicate", with the reason (201);
- `GET projects/duplicates/`: the suspected pairs of the whole portfolio (national level), filtered and paginated;
- `POST projects/duplicates/scan/`: find them again now (a national coordinator; 202, the scan runs in Celery).
"""

import logging
from typing import Any

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.bounds import BIGINT_MAX
from core.api.caller import user_of
from core.api.filter_backend import StrictFilterBackend
from core.api.filters import FilterSet, id_filter
from core.api.pagination import StandardPagination
from core.api.permissions import require
from core.errors import DomainError
from pairings.selectors import pairing_scope_q
from projects import duplicates as finder
from projects import policy, services
from projects.models import DuplicateDismissal, Project, SuspectedDuplicate

from .filters import is_row_id

logger = logging.getLogger(__name__)


# --- serializers -------------------------------------------------------------------------------------------


class ReasonSerializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=sorted(finder.REASONS))
    label = serializers.CharField(help_text="The reason in the caller's language.")  # type: ignore[assignment]


def reasons_of(codes: list[str]) -> list[dict[str, str]]:
    return [{"code": code, "label": finder.reason_label(code)} for code in codes]


class SimilarProjectSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    code = serializers.CharField()
    title = serializers.CharField()
    state = serializers.CharField()
    sector = serializers.CharField()
    pairing = serializers.IntegerField(source="pairing_id")
    pairing_name = serializers.CharField(source="pairing.__str__")
    program = serializers.CharField(source="pairing.program.code")
    location = serializers.CharField(source="location.code", allow_null=True, default=None)
    location_name = serializers.CharField(source="location.display_name", allow_null=True, default=None)


class DismissalSerializer(serializers.ModelSerializer):
    project = serializers.IntegerField(source="project_id")
    candidate = serializers.IntegerField(source="candidate_id")
    by = serializers.CharField(source="by.username", allow_null=True, default=None)

    class Meta:
        model = DuplicateDismissal
        fields = ["id", "project", "candidate", "reason", "by", "at"]


class CandidateSerializer(serializers.Serializer):
    project = SimilarProjectSerializer()
    score = serializers.FloatField(min_value=0, max_value=1)
    reasons = ReasonSerializer(many=True)
    dismissal = DismissalSerializer(allow_null=True, help_text="The recorded “not a duplicate”, if any.")


class SimilarSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many similar projects the caller sees (the best 10 listed).")
    hidden = serializers.IntegerField(
        help_text="How many similar projects exist in pairings the caller does not see (no details of them)."
    )
    hidden_message = serializers.CharField(allow_blank=True)
    unconfirmed = serializers.IntegerField(help_text="Similar projects nobody has confirmed as different yet.")
    threshold = serializers.FloatField()
    results = CandidateSerializer(many=True)


def similar_body(found: finder.Similar) -> dict[str, Any]:
    return {
        "count": found.visible,
        "hidden": found.hidden,
        "hidden_message": finder.hidden_message(found.hidden),
        "unconfirmed": found.unconfirmed,
        "threshold": finder.THRESHOLD,
        "results": [
            {"project": c.project, "score": c.score, "reasons": reasons_of(c.reasons), "dismissal": c.dismissal}
            for c in found.candidates
        ],
    }


class DismissBodySerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why this is not the same undertaking.")


class PairSerializer(serializers.ModelSerializer):
    project_a = SimilarProjectSerializer()
    project_b = SimilarProjectSerializer()
    reasons = serializers.SerializerMethodField()
    reviewed = serializers.BooleanField(help_text="Whether an official confirmed they are different undertakings.")
    dismissals = serializers.SerializerMethodField()

    class Meta:
        model = SuspectedDuplicate
        fields = ["id", "project_a", "project_b", "score", "reasons", "found_at", "reviewed", "dismissals"]

    @extend_schema_field(ReasonSerializer(many=True))
    def get_reasons(self, pair: SuspectedDuplicate) -> list[dict[str, str]]:
        return reasons_of(list(pair.reasons))

    @extend_schema_field(DismissalSerializer(many=True))
    def get_dismissals(self, pair: SuspectedDuplicate) -> Any:
        found = self.context.get("dismissals", {}).get((pair.project_a_id, pair.project_b_id), [])
        return DismissalSerializer(found, many=True).data


# --- the portfolio's pairs: filters ------------------------------------------------------------------------


def pairs_with_review() -> QuerySet[SuspectedDuplicate]:
    """The suspected pairs with both projects' names and whether either side confirmed them different."""
    return SuspectedDuplicate.objects.select_related(
        *(f"{side}__{name}" for side in ("project_a", "project_b") for name in finder.NAMES)
    ).annotate(
        reviewed=Exists(
            DuplicateDismissal.objects.filter(
                finder.dismissed_between(OuterRef("project_a_id"), OuterRef("project_b_id"))
            )
        )
    )


class SuspectedDuplicateFilter(FilterSet):
    program = django_filters.CharFilter(
        method="filter_program", help_text="The programme's id or code (either project's)."
    )
    pairing = id_filter("pairing", method="filter_pairing", help_text="A pairing's id (either project's).")
    min_score = extend_schema_field(
        {"type": "number", "minimum": 0, "maximum": 1, "description": "The lowest score, 0 to 1."}
    )(django_filters.NumberFilter(field_name="score", lookup_expr="gte", min_value=0, max_value=1))
    reason = django_filters.ChoiceFilter(
        choices=[(code, code) for code in finder.REASONS], method="filter_reason", help_text="One reason's code."
    )
    reviewed = django_filters.BooleanFilter(
        field_name="reviewed", help_text="true: confirmed different by an official; false: not yet."
    )

    class Meta:
        model = SuspectedDuplicate
        fields: list[str] = []

    def filter_program(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        match = Q(project_a__pairing__program__code=value) | Q(project_b__pairing__program__code=value)
        if is_row_id(value):
            match |= Q(project_a__pairing__program_id=int(value)) | Q(project_b__pairing__program_id=int(value))
        return queryset.filter(match)

    def filter_pairing(self, queryset: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        return queryset.filter(Q(project_a__pairing_id=value) | Q(project_b__pairing_id=value))

    def filter_reason(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        # The reasons are a JSON list of codes: one is matched as its quoted code (PostgreSQL and SQLite alike).
        return queryset.filter(reasons__icontains=f'"{value}"')


def dismissals_of(pairs: list[SuspectedDuplicate]) -> dict[tuple[int, int], list[DuplicateDismissal]]:
    """The recorded "not a duplicate" of each of PAIRS, by (project_a, project_b): one query for a page."""
    if not pairs:
        return {}
    ids = {p.project_a_id for p in pairs} | {p.project_b_id for p in pairs}
    wanted = {(p.project_a_id, p.project_b_id) for p in pairs}
    found: dict[tuple[int, int], list[DuplicateDismissal]] = {}
    for d in DuplicateDismissal.objects.filter(project_id__in=ids, candidate_id__in=ids).select_related("by"):
        key = (min(d.project_id, d.candidate_id), max(d.project_id, d.candidate_id))
        if key in wanted:
            found.setdefault(key, []).append(d)
    return found


class DuplicatePagination(StandardPagination):
    pass


class PairFilterBackend(StrictFilterBackend):
    """The strict backend with the pairs' FilterSet: the viewset's queryset (and so the FilterSet django-filter
    and the schema would pick) is the projects'."""

    def get_filterset_class(self, view: Any, queryset: Any = None) -> type[SuspectedDuplicateFilter]:
        return SuspectedDuplicateFilter


# --- the actions -------------------------------------------------------------------------------------------


class DuplicatesMixin:
    """The duplicate checks of the project viewset (added to ProjectViewSet's bases)."""

    def _compared(self, pk: str | None) -> Project:
        """The project in the caller's scope with only what the check compares (404 otherwise, as every project
        outside the scope): the list's whole row, names and all, would cost as much as the check."""
        if not (pk and pk.isascii() and pk.isdigit() and int(pk) <= BIGINT_MAX):
            raise Http404
        found = (
            Project.objects.filter(pairing_scope_q(self._request_user(), "pairing__"), pk=int(pk))
            .select_related("location")
            .only(*finder.COMPARED_COLUMNS)
            .first()
        )
        if found is None:
            raise Http404
        return found

    def _request_user(self) -> Any:
        return user_of(self.request)  # type: ignore[attr-defined]

    def _absolute(self, path: str) -> str:
        return str(self.request.build_absolute_uri(path))  # type: ignore[attr-defined]

    #: The actions after which the answer says what the duplicate check found (`similar`): the proposer's and the
    #: approver's.
    SIMILAR_AFTER = frozenset({"submit", "approve"})

    def with_similar(self, action_name: str, response: Response) -> Response:
        """RESPONSE (a transition's) with `similar`: the duplicate check's counts and the link to its candidates,
        after a submit or an approval; it warns, it does not block."""
        if action_name in self.SIMILAR_AFTER:
            project = (
                Project.objects.select_related("location").only(*finder.COMPARED_COLUMNS).get(pk=response.data["id"])
            )
            found = finder.similar_for(self._request_user(), finder.subject_of(project), limit=0)
            response.data["similar"] = {
                "count": found.visible,
                "hidden": found.hidden,
                "unconfirmed": found.unconfirmed,
                "url": self._absolute(reverse("api:project-similar", args=[project.pk])),
            }
        return response

    @extend_schema(
        responses={200: SimilarSerializer, 404: OpenApiResponse(description="No such project in the caller's scope.")},
        summary="Projects that may be the same undertaking as this one",
        description=(
            "Projects of any pairing and programme at the same or an overlapping place (or within 2 km) with a "
            "similar title, scored from 0 to 1 with the reasons. Those outside the caller's scope are only "
            "counted in `hidden`."
        ),
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def similar(self, request: Request, pk: str | None = None) -> Response:
        project = self._compared(pk)
        found = finder.similar_for(user_of(request), finder.subject_of(project))
        return Response(SimilarSerializer(similar_body(found)).data)

    @extend_schema(
        request=DismissBodySerializer,
        responses={
            201: DismissalSerializer,
            400: OpenApiResponse(description="No reason, or the project is not a similar one (naming the field)."),
            403: OpenApiResponse(description="The caller's roles do not allow this."),
            404: OpenApiResponse(description="No such project, or no such similar project, in the caller's scope."),
            409: OpenApiResponse(description="Already confirmed, or the project is cancelled or rejected."),
        },
        summary="Confirm that a similar project is not the same undertaking",
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"similar/(?P<candidate_id>[0-9]+)/dismiss",
        url_name="similar-dismiss",
        filter_backends=[],
        pagination_class=None,
    )
    def dismiss_similar(self, request: Request, pk: str | None = None, candidate_id: str | None = None) -> Response:
        project = self.get_object()  # type: ignore[attr-defined]
        user = user_of(request)
        require(policy.may_dismiss_duplicate(user))
        body = DismissBodySerializer(data=request.data)
        body.is_valid(raise_exception=True)
        dismissal = services.duplicate_dismiss(
            by=user, project=project, candidate_id=int(candidate_id or 0), reason=body.validated_data["reason"]
        )
        return Response(DismissalSerializer(dismissal).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses={200: PairSerializer(many=True), 403: OpenApiResponse(description="Not a national user.")},
        summary="Suspected duplicate pairs of the whole portfolio (national level)",
        description="Found by the nightly scan (or one started with `duplicates/scan/`), best score first.",
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="duplicates",
        url_name="duplicates",
        filter_backends=[PairFilterBackend],
        pagination_class=DuplicatePagination,
    )
    def duplicates(self, request: Request) -> Response:
        require(policy.may_see_duplicates(user_of(request)))
        queryset = self.filter_queryset(pairs_with_review().order_by("-score", "project_a_id", "project_b_id"))  # type: ignore[attr-defined]
        page = list(self.paginate_queryset(queryset))  # type: ignore[attr-defined]
        data = PairSerializer(page, many=True, context={"dismissals": dismissals_of(page)}).data
        return self.get_paginated_response(data)  # type: ignore[attr-defined]

    @extend_schema(
        request=None,
        responses={
            202: inline_serializer(
                "DuplicateScanQueued", {"status": serializers.CharField(), "pairs": serializers.URLField()}
            ),
            403: OpenApiResponse(description="Not a national coordinator."),
        },
        summary="Scan the whole portfolio for duplicates now",
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="duplicates/scan",
        url_name="duplicates-scan",
        filter_backends=[],
        pagination_class=None,
    )
    def scan_duplicates(self, request: Request) -> Response:
        require(policy.may_scan_duplicates(user_of(request)))
        queue_scan()
        return Response(
            {"status": "queued", "pairs": request.build_absolute_uri(reverse("api:project-duplicates"))},
            status=status.HTTP_202_ACCEPTED,
        )


def queue_scan() -> None:
    """Queue the portfolio's scan (Celery; in process when the embedded default runs tasks eagerly). A broker that
    is down is a 503 in the error format, not a 500."""
    from projects.tasks import scan_duplicates

    try:
        scan_duplicates.delay()
    except Exception as exc:  # the broker's connection errors vary by transport
        logger.exception("could not queue scan_duplicates")
        raise ScanNotQueued("scan_not_queued", _("The scan could not be queued; try again later.")) from exc


class ScanNotQueued(DomainError):
    status_code = 503
