"""API: indicator frameworks, evaluation runs and what they produce (project scores, pairing scorecards,
rankings), and the judgements people add (expert scores, satisfaction ratings).

Every write runs the same checks in the same order, as projects/api/views.py does:
1. a caller whom the policy (evaluation/policy.py) forbids this write gets 403, with its reason, before the body
   is read (`core.api.permissions.require`); the service enforces the same policy;
2. the serializers check the *shape* of the body (types, lengths, the storage range of numbers);
3. a project named in a body must be in the caller's scope: one outside it answers 404, as a missing one does;
4. the service checks the *meaning* (weights, curves, years, states) and answers with every problem at once,
   each naming its field (`indicators[2].weight`, `year`, `score`), in the error format of core/api/errors.py.

Reads are scoped by evaluation.selectors: frameworks, runs and rankings are a programme's published results
(everyone signed in reads them); a scorecard, a project score, an expert score or a rating is seen by whoever
sees its pairing. Scores and measured values are floats rounded for output (scores to 2 places, measured
values to 4); money is a decimal string in yuan; weights are decimal strings in per cent.
"""

from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from core.api.bounds import INT_MAX, SMALLINT_MAX
from core.api.caller import CallerMixin, user_of
from core.api.permissions import require
from core.errors import DomainError, NotFound, Problem
from evaluation import policy, selectors, services
from evaluation.measures import MEASURES
from evaluation.models import (
    ChunkStatus,
    EvaluationRun,
    ExpertScore,
    IndicatorFramework,
    PairingScorecard,
    ProjectScore,
    Ranking,
    RunStatus,
    SatisfactionRating,
)
from projects.models import Project
from projects.selectors import projects_visible_to

from .fields import find_program
from .filters import ExpertScoreFilter, FrameworkFilter, ProjectScoreFilter, RatingFilter, RunFilter, ScorecardFilter
from .serializers import (
    ExpertScoreSerializer,
    ExpertScoreWriteSerializer,
    FormulaSerializer,
    FrameworkSerializer,
    FrameworkWriteSerializer,
    ProjectScoreDetailSerializer,
    ProjectScoreSerializer,
    RankingSerializer,
    RatingSerializer,
    RatingWriteSerializer,
    RunBatchSerializer,
    RunSerializer,
    RunStartSerializer,
    ScorecardDetailSerializer,
    ScorecardSerializer,
)

# --- frameworks --------------------------------------------------------------------------------------------


@extend_schema_view(
    create=extend_schema(
        request=FrameworkWriteSerializer,
        responses={
            201: FrameworkSerializer,
            400: OpenApiResponse(
                description="Every problem at once, each naming its field: `indicators[2].weight`, "
                "`indicators[0].formula`, `indicators[1].target`, `indicators` (weights of a level not adding up "
                "to 100), `grade_bands`, `reason`, `program`."
            ),
            403: OpenApiResponse(description="Only a national coordinator revises frameworks."),
        },
        summary="Revise a programme's framework (makes the next version)",
    )
)
class FrameworkViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Indicator frameworks, each version of each programme (newest first within a programme), with their
    indicators. Anyone signed in reads them; a national coordinator posts the next version of a programme's
    framework. Filter by `program` (id or code) and `current=true`."""

    serializer_class = FrameworkSerializer
    filterset_class = FrameworkFilter
    permission_classes = [IsAuthenticated]
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[IndicatorFramework]:
        newer = IndicatorFramework.objects.filter(program=OuterRef("program"), version__gt=OuterRef("version"))
        return (
            selectors.frameworks_visible_to(user_of(self.request))
            .annotate(is_current=~Exists(newer))
            .order_by("program__start_year", "program__code", "-version")
        )

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return FrameworkWriteSerializer if self.action == "create" else FrameworkSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = user_of(request)
        require(policy.may_revise_framework(user))
        body = FrameworkWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        framework = services.framework_revise(
            program=data["program"],
            by=user,
            indicators=[dict(row) for row in data["indicators"]],
            reason=data["reason"],
            grade_bands=data.get("grade_bands"),
            min_coverage=data.get("min_coverage"),
        )
        fresh = self.get_queryset().get(pk=framework.pk)
        return Response(FrameworkSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: FormulaSerializer(many=True)}, summary="The formulas an indicator may use")
    @action(detail=False, methods=["get"], pagination_class=None, filter_backends=[])
    def formulas(self, request: Request) -> Response:
        rows = [
            {"code": m.code, "level": m.level, "label": m.label, "definition": m.definition, "unit": m.unit}
            for m in MEASURES.values()
        ]
        return Response(FormulaSerializer(rows, many=True).data)


# --- runs --------------------------------------------------------------------------------------------------


@extend_schema_view(
    create=extend_schema(
        request=RunStartSerializer,
        responses={
            202: OpenApiResponse(
                response=PolymorphicProxySerializer(
                    component_name="RunStarted",
                    serializers=[RunSerializer, RunBatchSerializer],
                    resource_type_field_name=None,
                ),
                description='The run (`{program, year}`), or `{"results": [runs]}` (`{year}`: every programme '
                "that ran that year). A programme-year already queued or running is not started twice: that run "
                "comes back instead, also with 202. Follow it with `GET runs/{id}/`.",
            ),
            400: OpenApiResponse(
                description="`year` missing, not a number or outside the programme's years; `program` unknown."
            ),
            403: OpenApiResponse(description="Runs are started by a national coordinator or a national evaluator."),
        },
        summary="Start an evaluation run",
    )
)
class RunViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Evaluation runs, newest first, with their status and progress. Anyone signed in reads them (they are a
    programme's published results); a national coordinator or a national evaluator starts one. Filter by
    `program` (id or code), `year` and `status`."""

    serializer_class = RunSerializer
    filterset_class = RunFilter
    permission_classes = [IsAuthenticated]
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[EvaluationRun]:
        counts = {f"chunks_{s}": Count("chunks", filter=Q(chunks__status=s)) for s in ChunkStatus.values}
        return selectors.runs_visible_to(user_of(self.request)).annotate(**counts).order_by("-created_at", "-id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return RunStartSerializer if self.action == "create" else RunSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = user_of(request)
        require(policy.may_run(user))
        body = RunStartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        program, year = body.validated_data.get("program"), body.validated_data["year"]
        if program is not None:
            run, _created = services.run_start(program=program, year=year, by=user)
            fresh = self.get_queryset().get(pk=run.pk)
            return Response(RunSerializer(fresh).data, status=status.HTTP_202_ACCEPTED)
        started = services.runs_start_all(year=year, by=user)
        runs = self.get_queryset().filter(pk__in=[run.pk for run, _created in started]).order_by("program_id")
        return Response({"results": RunSerializer(runs, many=True).data}, status=status.HTTP_202_ACCEPTED)


# --- what a run produces -----------------------------------------------------------------------------------


class ProjectScoreViewSet(CallerMixin, viewsets.ReadOnlyModelViewSet):
    """Project scores of every run, newest run first, of the projects in the caller's scope (others answer
    404). The detail explains the score line by line. Filter by `run`, `program` (id or code), `year`,
    `project` and `pairing`."""

    serializer_class = ProjectScoreSerializer
    filterset_class = ProjectScoreFilter
    permission_classes = [IsAuthenticated]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[ProjectScore]:
        return selectors.project_scores_visible_to(user_of(self.request)).order_by("-run_id", "project_id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return ProjectScoreDetailSerializer if self.action == "retrieve" else ProjectScoreSerializer


class ScorecardViewSet(CallerMixin, viewsets.ReadOnlyModelViewSet):
    """Pairing scorecards of every run, newest run first, of the pairings in the caller's scope (others answer
    404). The detail explains the score line by line. Filter by `run`, `program` (id or code), `year`,
    `pairing` and `organization`."""

    serializer_class = ScorecardSerializer
    filterset_class = ScorecardFilter
    permission_classes = [IsAuthenticated]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[PairingScorecard]:
        return selectors.scorecards_visible_to(user_of(self.request)).order_by("-run_id", "pairing_id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return ScorecardDetailSerializer if self.action == "retrieve" else ScorecardSerializer


# --- rankings ----------------------------------------------------------------------------------------------


# `program` and `year`, or `run`: OpenAPI 3.0 cannot say "one or the other" of query parameters, so the schema
# documents the usual form as required and `run` as the one that lifts it.
RANKING_PARAMETERS = [
    OpenApiParameter(
        "program",
        {"type": "string", "minLength": 1},
        required=True,
        description="The programme's id or code (with `year`); not needed with `run`.",
    ),
    OpenApiParameter(
        "year",
        {"type": "integer", "minimum": 1, "maximum": SMALLINT_MAX},
        required=True,
        description="The year evaluated (with `program`); not needed with `run`.",
    ),
    OpenApiParameter(
        "run",
        {"type": "integer", "minimum": 1, "maximum": INT_MAX},
        description="A succeeded run's id, instead of `program` and `year`.",
    ),
]


@extend_schema_view(
    list=extend_schema(
        parameters=RANKING_PARAMETERS,
        responses={
            200: RankingSerializer(many=True),
            400: OpenApiResponse(description="`program` or `year` missing or malformed, or an unknown programme."),
            404: OpenApiResponse(description="No run of that programme-year has succeeded (or no such run)."),
        },
    )
)
class RankingViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """The ranking of the assisting organizations by the latest succeeded run of a programme-year
    (`?program=&year=`), or by a given run (`?run=`), best first. Rankings are the programme's published
    results: anyone signed in reads them."""

    serializer_class = RankingSerializer
    permission_classes = [IsAuthenticated]
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Ranking]:
        if getattr(self, "swagger_fake_view", False):
            return Ranking.objects.none()
        return selectors.rankings_of(self._run())

    def _run(self) -> EvaluationRun:
        params = self.request.query_params
        raw_run = (params.get("run") or "").strip()
        if raw_run:
            # isascii: `¹` is a digit to str.isdigit, not to int().
            if not (raw_run.isascii() and raw_run.isdigit()) or int(raw_run) > 2**31 - 1:
                raise DomainError("invalid", _("The run is a run's id."), "run")
            run = EvaluationRun.objects.filter(pk=int(raw_run)).first()
            if run is None:
                raise NotFound("not_found", _("No such run."), "run")
            if run.status != RunStatus.SUCCEEDED:
                raise NotFound(
                    "no_ranking",
                    _("Run %(run)s has no ranking: it is %(status)s.")
                    % {"run": run.pk, "status": RunStatus(run.status).label},
                    "run",
                )
            return run
        raw_program, raw_year = (params.get("program") or "").strip(), (params.get("year") or "").strip()
        problems: list[Problem] = []
        program = find_program(raw_program) if raw_program else None
        if not raw_program:
            problems.append(Problem("required", _("Name the programme (its id or code), or a run."), "program"))
        elif program is None:
            problems.append(
                Problem(
                    "does_not_exist",
                    _("No programme has the id or code %(value)s.") % {"value": raw_program[:100]},
                    "program",
                )
            )
        if not raw_year:
            problems.append(Problem("required", _("Name the year evaluated, or a run."), "year"))
        elif not (raw_year.isascii() and raw_year.isdigit()) or not 1 <= int(raw_year) <= SMALLINT_MAX:
            problems.append(Problem("invalid", _("The year is a number, e.g. 2010."), "year"))
        if problems:
            raise DomainError.many(problems)
        assert program is not None  # noqa: S101 — an invariant of our own code, not a check of input
        latest = selectors.latest_run(program, int(raw_year))
        if latest is None:
            raise NotFound(
                "no_run",
                _("No evaluation run of %(program)s for %(year)s has succeeded yet.")
                % {"program": program.display_name, "year": raw_year},
                None,
            )
        return latest


# --- expert scores and satisfaction ratings ----------------------------------------------------------------


def _visible_project(user: User, project_id: int) -> Project:
    project = projects_visible_to(user).select_related("pairing__program").filter(pk=project_id).first()
    if project is None:
        raise NotFound("not_found", _("No such project."), "project")
    return project


WRITE_RESPONSES = {
    400: OpenApiResponse(description="Every problem at once, each naming its field."),
    403: OpenApiResponse(description="The caller's roles do not allow this."),
    404: OpenApiResponse(description="No such project in the caller's scope."),
}


@extend_schema_view(
    create=extend_schema(
        request=ExpertScoreWriteSerializer,
        responses={201: ExpertScoreSerializer, **WRITE_RESPONSES},
        summary="Give (or change) an expert score",
    )
)
class ExpertScoreViewSet(CallerMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Expert scores of the projects in the caller's scope. Evaluators give them, one per project, indicator
    and evaluator; the next run counts the mean of a project's scores on each expert-scored indicator."""

    serializer_class = ExpertScoreSerializer
    filterset_class = ExpertScoreFilter
    permission_classes = [IsAuthenticated]
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[ExpertScore]:
        return selectors.expert_scores_visible_to(user_of(self.request)).order_by("project_id", "indicator_code", "id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return ExpertScoreWriteSerializer if self.action == "create" else ExpertScoreSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = user_of(request)
        require(policy.may_score(user))
        body = ExpertScoreWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        expert = services.expert_score_set(
            project=_visible_project(user, data["project"]),
            by=user,
            indicator_code=data["indicator"],
            score=data["score"],
            comment=data["comment"],
        )
        fresh = self.get_queryset().get(pk=expert.pk)
        return Response(ExpertScoreSerializer(fresh).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    create=extend_schema(
        request=RatingWriteSerializer,
        responses={201: RatingSerializer, **WRITE_RESPONSES},
        summary="Rate (or re-rate) satisfaction with an accepted project",
    )
)
class RatingViewSet(CallerMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Satisfaction ratings of the projects in the caller's scope. Recipient officers rate accepted projects,
    one rating each; the next run counts the mean rating of each project."""

    serializer_class = RatingSerializer
    filterset_class = RatingFilter
    permission_classes = [IsAuthenticated]
    http_method_names = ["get", "post", "head", "options"]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[SatisfactionRating]:
        return selectors.ratings_visible_to(user_of(self.request)).order_by("project_id", "id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return RatingWriteSerializer if self.action == "create" else RatingSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = user_of(request)
        require(policy.may_rate(user))
        body = RatingWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        rating = services.satisfaction_rate(
            project=_visible_project(user, data["project"]), by=user, score=data["score"], comment=data["comment"]
        )
        fresh = self.get_queryset().get(pk=rating.pk)
        return Response(RatingSerializer(fresh).data, status=status.HTTP_201_CREATED)
