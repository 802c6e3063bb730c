"""API: indicator frameworks, evaluation runs and what they produce (project scores, pairing scorecards,
rankings), and the judgements people add (expert scores, satisfaction ratings).

Every write runs the same checks in the same order, as projects/api.py does:
1. a caller whose roles can never make this write gets 403 (`forbidden`) before the body is read;
2. the serializers check the *shape* of the body (types, lengths, the storage range of numbers);
3. a project named in a body must be in the caller's scope: one outside it answers 404, as a missing one does;
4. the service checks the *meaning* (weights, curves, years, states) and answers with every problem at once,
   each naming its field (`indicators[2].weight`, `year`, `score`), in the error format of core/api/errors.py.

Reads are scoped by evaluation.selectors: frameworks, runs and rankings are a programme's published results
(everyone signed in reads them); a scorecard, a project score, an expert score or a rating is seen by whoever
sees its pairing. Scores and measured values are floats rounded for output (scores to 2 places, measured
values to 4); money is a decimal string in yuan; weights are decimal strings in per cent.
"""

from collections.abc import Mapping
from typing import Any, cast

import django_filters
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from core.api.errors import NON_FIELD
from core.api.serializers import StrictSerializerMixin
from core.errors import DomainError, NotFound, PermissionDenied, Problem
from pairings.api import NamedChoiceField
from pairings.models import AnnualMandate, Program
from projects.api import CallerMixin
from projects.models import Project
from projects.selectors import projects_visible_to

from . import selectors, services
from .measures import MEASURES, SHARE_BASIS
from .models import (
    ChunkStatus,
    Curve,
    EvaluationRun,
    ExpertScore,
    Indicator,
    IndicatorFramework,
    Level,
    PairingScorecard,
    ProjectScore,
    Ranking,
    RunStatus,
    SatisfactionRating,
)

SMALLINT_MAX = 32_767


def _user(request: Request) -> User:
    return cast(User, request.user)


def _forbid_unless(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied("forbidden", message, None)


def _round(value: float | None, places: int) -> float | None:
    return None if value is None else round(float(value), places)


def find_program(value: str) -> Program | None:
    """A programme by its code or its numeric id (a code wins over an id, as in `programs/{code_or_id}/`)."""
    value = value.strip()
    program = Program.objects.filter(code=value).first() if value else None
    if program is None and value.isdigit() and int(value) <= 2**31 - 1:
        program = Program.objects.filter(pk=int(value)).first()
    return program


def _program_q(prefix: str, value: str) -> Q:
    match = Q(**{f"{prefix}program__code": value})
    if value.isdigit() and int(value) <= 2**31 - 1:
        match |= Q(**{f"{prefix}program_id": int(value)})
    return match


def _id_filter(field_name: str, **kwargs: Any) -> django_filters.NumberFilter:
    return django_filters.NumberFilter(field_name=field_name, min_value=1, decimal_places=0, **kwargs)


def _year_filter(field_name: str) -> django_filters.NumberFilter:
    return django_filters.NumberFilter(field_name=field_name, min_value=1, max_value=SMALLINT_MAX, decimal_places=0)


# --- fields ------------------------------------------------------------------------------------------------


class ScoreField(serializers.FloatField):
    """A 0–100 score, rounded to 2 places for output (null when nothing could be measured)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        kwargs["help_text"] = f"{kwargs.get('help_text') or 'A score from 0 to 100.'} Rounded to 2 places."
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> float | None:  # type: ignore[override]
        return _round(value, 2)


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "number", "nullable": True},
        "description": "Indicator code → measured value (4 places; null when there was nothing to measure).",
    }
)
class MeasuresField(serializers.Field):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> dict[str, float | None]:
        return {str(k): _round(v, 4) for k, v in (value or {}).items()}


@extend_schema_field(
    {
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "description": "The programme's id or its code (e.g. `xinjiang-2010`); a code wins over an id.",
    }
)
class ProgramField(serializers.Field):
    default_error_messages = {
        "invalid": gettext_lazy("Give the programme's id or code."),
        "does_not_exist": gettext_lazy("No programme has the id or code {value}."),
    }

    def to_internal_value(self, data: Any) -> Program:
        if isinstance(data, bool) or not isinstance(data, int | str) or not str(data).strip():
            self.fail("invalid")
        program = find_program(str(data))
        if program is None:
            self.fail("does_not_exist", value=str(data)[:100])
        assert program is not None
        return program

    def to_representation(self, value: Program) -> int:
        return value.pk


GRADE_MAX_LENGTH = Ranking._meta.get_field("grade").max_length or 8


@extend_schema_field(
    {
        "type": "array",
        "nullable": True,
        "items": {
            "type": "array",
            "minItems": 2,
            "maxItems": 2,
            "items": {"oneOf": [{"type": "number"}, {"type": "string"}]},
        },
        "description": 'Pairs [lowest score, grade], e.g. [[90, "A"], [75, "B"], [60, "C"], [0, "D"]]; '
        "one band starts at 0. Left out: the default bands.",
        "example": [[90, "A"], [75, "B"], [60, "C"], [0, "D"]],
    }
)
class GradeBandsField(serializers.JSONField):
    """[[lowest score, grade], ...]: the shape here (pairs, a grade that fits its column), the meaning (scores
    from 0 to 100, one band at 0) in the service."""

    def to_internal_value(self, data: Any) -> Any:
        value = super().to_internal_value(data)
        if value is None:
            return None
        ok = isinstance(value, list) and all(
            isinstance(band, list)
            and len(band) == 2
            and not isinstance(band[0], bool)
            and isinstance(band[0], int | float | str)
            and isinstance(band[1], str)
            and 0 < len(band[1].strip()) <= GRADE_MAX_LENGTH
            for band in value
        )
        if not ok:
            raise serializers.ValidationError(
                _("Grade bands are pairs [lowest score, grade], the grade %(n)s characters at most.")
                % {"n": GRADE_MAX_LENGTH},
                code="invalid_grade_bands",
            )
        return value


def _by_username() -> "serializers.SlugRelatedField[User]":
    """A user shown by their username (null when the system acted)."""
    return serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)


class OrganizationRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)


# --- frameworks --------------------------------------------------------------------------------------------


def _formula_help() -> str:
    return "One of: " + ", ".join(f"`{code}` ({m.level})" for code, m in MEASURES.items()) + " (see `formulas/`)."


class IndicatorSerializer(serializers.ModelSerializer):
    """One indicator: what it measures (`formula`), how a value becomes a 0–100 score (`curve`: linear from
    `floor` to `target`, or `thresholds` [[from value, score], ...]) and its share of its level (`weight`, %)."""

    level = NamedChoiceField(Level, enum_name="IndicatorLevelEnum", read_only=True)
    curve = NamedChoiceField(Curve, enum_name="IndicatorCurveEnum", read_only=True)
    thresholds = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2), read_only=True
    )
    weight = serializers.DecimalField(max_digits=5, decimal_places=2, read_only=True, help_text="Per cent.")

    class Meta:
        model = Indicator
        fields = ["code", "name", "name_en", "level", "formula", "curve", "floor", "target", "thresholds", "weight"]
        read_only_fields = fields


class FrameworkSerializer(serializers.ModelSerializer):
    """One version of a programme's indicator framework. Versions are never edited: posting makes the next."""

    program = serializers.IntegerField(source="program_id", read_only=True)
    program_code = serializers.CharField(source="program.code", read_only=True)
    grade_bands = GradeBandsField(read_only=True)
    is_current = serializers.BooleanField(read_only=True, help_text="The programme's latest version.")
    created_by = _by_username()
    indicators = IndicatorSerializer(many=True, read_only=True)

    class Meta:
        model = IndicatorFramework
        fields = [
            "id",
            "program",
            "program_code",
            "version",
            "is_current",
            "grade_bands",
            "reason",
            "created_by",
            "created_at",
            "indicators",
        ]
        read_only_fields = fields


class IndicatorWriteSerializer(StrictSerializerMixin, serializers.Serializer):
    code = serializers.SlugField(
        max_length=40, help_text="Unique within the framework; measured values are keyed by it."
    )
    name = serializers.CharField(max_length=120, help_text="In Chinese.")
    name_en = serializers.CharField(max_length=120, required=False, allow_blank=True, help_text="The name if blank.")
    level = NamedChoiceField(
        Level, enum_name="IndicatorLevelEnum", required=False, help_text="The formula's level when left out."
    )
    formula = serializers.CharField(max_length=40, help_text=_formula_help())
    curve = NamedChoiceField(Curve, enum_name="IndicatorCurveEnum", required=False, default=Curve.LINEAR)
    floor = serializers.FloatField(required=False, allow_null=True, help_text="linear: the value that scores 0.")
    target = serializers.FloatField(
        required=False, allow_null=True, help_text="linear: the value that scores 100; above the floor."
    )
    thresholds = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        required=False,
        default=list,
        max_length=50,
        help_text="threshold: [[from value, score 0–100], ...], values rising.",
    )
    weight = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        help_text="Per cent of its level; the weights of each level add up to 100.",
    )


def _messages(detail: Any) -> list[Any]:
    """Every message in a (nested) error detail, in order."""
    if isinstance(detail, Mapping):
        return [m for value in detail.values() for m in _messages(value)]
    if isinstance(detail, list):
        return [m for value in detail for m in _messages(value)]
    return [detail]


def _indexed(detail: Any, name: str) -> Any:
    """DRF reports the rows of a nested list by index (`{"indicators": {2: {"weight": [...]}}}`); name each
    problem as the service does, `indicators[2].weight`, so that the shape and the meaning of a row point at
    the same place. Problems of the list itself (not a list, too long) stay on `indicators`."""
    rows = detail.get(name) if isinstance(detail, Mapping) else None
    if isinstance(rows, list) and any(isinstance(row, Mapping) for row in rows):
        rows = dict(enumerate(rows))
    if not isinstance(rows, Mapping) or not all(isinstance(i, int) for i in rows):
        return detail
    out = {key: value for key, value in detail.items() if key != name}
    for i, row in sorted(rows.items()):
        if isinstance(row, Mapping):
            for key, value in row.items():
                out[f"{name}[{i}]" if key in NON_FIELD else f"{name}[{i}].{key}"] = _messages(value)
        elif row:
            out[f"{name}[{i}]"] = _messages(row)
    return out


class FrameworkWriteSerializer(StrictSerializerMixin, serializers.Serializer):
    """The next version of a programme's framework: every indicator, and why it changes."""

    program = ProgramField()
    indicators = IndicatorWriteSerializer(many=True, max_length=200)  # type: ignore[call-arg]
    grade_bands = GradeBandsField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_blank=True, default="", help_text="Required.")

    def to_internal_value(self, data: Any) -> Any:
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(_indexed(exc.detail, "indicators")) from None


class FormulaSerializer(serializers.Serializer):
    code = serializers.CharField(read_only=True)
    level = NamedChoiceField(Level, enum_name="IndicatorLevelEnum", read_only=True)
    # `label` shadows Field.label in the type stubs only; DRF collects declared fields by name.
    label = serializers.CharField(read_only=True)  # type: ignore[assignment]
    definition = serializers.CharField(read_only=True)
    unit = serializers.CharField(read_only=True, help_text="ratio (0.8 = 80 %), count, rating (1–5) or score (0–100).")


class FrameworkFilter(django_filters.FilterSet):
    program = django_filters.CharFilter(method="filter_program", help_text="The programme's id or code.")
    current = django_filters.BooleanFilter(
        method="filter_current", help_text="true: only the latest version of each programme."
    )

    class Meta:
        model = IndicatorFramework
        fields = ["program", "current"]

    def filter_program(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(_program_q("", value))

    def filter_current(self, queryset: QuerySet[Any], name: str, value: bool | None) -> QuerySet[Any]:
        return queryset.filter(is_current=True) if value else queryset


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
            selectors.frameworks_visible_to(_user(self.request))
            .annotate(is_current=~Exists(newer))
            .order_by("program__start_year", "program__code", "-version")
        )

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return FrameworkWriteSerializer if self.action == "create" else FrameworkSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = _user(request)
        _forbid_unless(services.may_edit_frameworks(user), _("Only the national coordinator revises frameworks."))
        body = FrameworkWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        framework = services.framework_revise(
            program=data["program"],
            by=user,
            indicators=[dict(row) for row in data["indicators"]],
            reason=data["reason"],
            grade_bands=data.get("grade_bands"),
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


class FrameworkRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    version = serializers.IntegerField(read_only=True)


class ProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField(read_only=True, help_text="Projects scored and pairings carded so far.")
    total = serializers.IntegerField(read_only=True, help_text="0 until the run is planned.")
    percent = serializers.IntegerField(read_only=True, help_text="0–100; 100 once the run succeeded.")


class ChunkCountsSerializer(serializers.Serializer):
    pending = serializers.IntegerField(read_only=True)
    running = serializers.IntegerField(read_only=True)
    done = serializers.IntegerField(read_only=True)
    failed = serializers.IntegerField(read_only=True)


class RunSerializer(serializers.ModelSerializer):
    """One evaluation of a programme's year with one framework version. `status` goes queued → running →
    succeeded (or failed, with `error`); `progress` counts projects scored and pairings carded."""

    program = serializers.IntegerField(source="program_id", read_only=True)
    program_code = serializers.CharField(source="program.code", read_only=True)
    framework = FrameworkRefSerializer(read_only=True)
    status = NamedChoiceField(RunStatus, enum_name="RunStatusEnum", read_only=True)
    progress = serializers.SerializerMethodField()
    chunks = serializers.SerializerMethodField(help_text="The run's slices of work, counted by status.")
    requested_by = _by_username()
    compared_with = serializers.IntegerField(
        source="compared_with_id",
        read_only=True,
        allow_null=True,
        help_text="The run whose ranking the trends are against (set when the run succeeds).",
    )

    class Meta:
        model = EvaluationRun
        fields = [
            "id",
            "program",
            "program_code",
            "year",
            "framework",
            "status",
            "progress",
            "as_of",
            "error",
            "requested_by",
            "created_at",
            "started_at",
            "finished_at",
            "compared_with",
            "chunks",
        ]
        read_only_fields = fields

    @extend_schema_field(ProgressSerializer)
    def get_progress(self, obj: EvaluationRun) -> dict[str, int]:
        return {"done": obj.done, "total": obj.total, "percent": obj.percent}

    @extend_schema_field(ChunkCountsSerializer)
    def get_chunks(self, obj: EvaluationRun) -> dict[str, int]:
        return {s: int(getattr(obj, f"chunks_{s}", 0) or 0) for s in ChunkStatus.values}


class RunStartSerializer(StrictSerializerMixin, serializers.Serializer):
    """`{"program", "year"}` evaluates one programme's year; `{"year"}` alone every programme that ran that year."""

    program = ProgramField(required=False, allow_null=True)
    year = serializers.IntegerField(
        max_value=SMALLINT_MAX, help_text="A year of the programme, from its start to its end (or this year)."
    )


class RunBatchSerializer(serializers.Serializer):
    results = RunSerializer(many=True, read_only=True)


class RunFilter(django_filters.FilterSet):
    program = django_filters.CharFilter(method="filter_program", help_text="The programme's id or code.")
    year = _year_filter("year")
    status = django_filters.ChoiceFilter(choices=RunStatus.choices)

    class Meta:
        model = EvaluationRun
        fields = ["program", "year", "status"]

    def filter_program(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(_program_q("", value))


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
        return selectors.runs_visible_to(_user(self.request)).annotate(**counts).order_by("-created_at", "-id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return RunStartSerializer if self.action == "create" else RunSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = _user(request)
        _forbid_unless(
            services.may_run(user),
            _("Evaluation runs are started by the national coordinator or a national evaluator."),
        )
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


class LineSerializer(serializers.Serializer):
    """One indicator's part in a score: its measured value, the curve that scored it, the weight it counted
    with and the points it added. The lines' contributions add up to the score."""

    code = serializers.CharField(source="indicator.code", read_only=True)
    name = serializers.CharField(source="indicator.name", read_only=True)
    name_en = serializers.CharField(source="indicator.name_en", read_only=True)
    formula = serializers.CharField(source="indicator.formula", read_only=True)
    measure = serializers.CharField(source="measure_label", read_only=True, help_text="What the formula measures.")
    # Not `get_value`: that name is the Field's own method.
    value = serializers.SerializerMethodField(
        method_name="rounded_value", help_text="The measured value (4 places); null: not measured."
    )
    curve = NamedChoiceField(Curve, enum_name="IndicatorCurveEnum", source="indicator.curve", read_only=True)
    floor = serializers.FloatField(source="indicator.floor", read_only=True, allow_null=True)
    target = serializers.FloatField(source="indicator.target", read_only=True, allow_null=True)
    thresholds = serializers.ListField(
        source="indicator.thresholds",
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        read_only=True,
    )
    weight = ScoreField(help_text="As configured, per cent.")
    weight_share = ScoreField(
        help_text="As counted, per cent of the weights of the indicators that had a value (0: left out)."
    )
    score = ScoreField(help_text="The curve's 0–100 score of the value; null when not measured.")
    contribution = ScoreField(help_text="Points added to the total: score × weight_share / 100.")

    @extend_schema_field(OpenApiTypes.FLOAT)
    def rounded_value(self, obj: selectors.ExplainedLine) -> float | None:
        return _round(obj.value, 4)


class ProjectScoreSerializer(serializers.ModelSerializer):
    """A project's score in a run (0–100, 2 places), with each indicator's measured value. `is_final`: the
    project was accepted when scored, so the score is its final one."""

    program = serializers.IntegerField(source="run.program_id", read_only=True)
    year = serializers.IntegerField(source="run.year", read_only=True)
    project_code = serializers.CharField(source="project.code", read_only=True)
    project_title = serializers.CharField(source="project.title", read_only=True)
    project_state = serializers.CharField(source="project.state", read_only=True)
    score = ScoreField()
    measures = MeasuresField()

    class Meta:
        model = ProjectScore
        fields = [
            "id",
            "run",
            "program",
            "year",
            "project",
            "project_code",
            "project_title",
            "project_state",
            "pairing",
            "score",
            "is_final",
            "measures",
        ]
        read_only_fields = fields


class ProjectScoreDetailSerializer(ProjectScoreSerializer):
    """A project's score with the lines that explain it."""

    lines = serializers.SerializerMethodField()

    class Meta(ProjectScoreSerializer.Meta):
        fields = [*ProjectScoreSerializer.Meta.fields, "lines"]
        read_only_fields = fields

    @extend_schema_field(LineSerializer(many=True))
    def get_lines(self, obj: ProjectScore) -> Any:
        return LineSerializer(selectors.explain_score(obj.run.framework, "project", obj.measures), many=True).data


class RoundedItemsField(serializers.Field):
    """A stored list of small objects, their measured values rounded to 4 places for output."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> list[dict[str, Any]]:
        return [
            {k: _round(v, 4) if isinstance(v, float) else v for k, v in item.items()}
            for item in (value or [])
            if isinstance(item, Mapping)
        ]


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "enum": ["county_share_below_minimum", "livelihood_share_below_minimum", "mandate_shortfall"],
                },
                "value": {"type": "number", "description": "The measured value (4 places)."},
                "minimum": {"type": "number", "description": "What the programme's rule asks for."},
            },
        },
    }
)
class FlagsField(RoundedItemsField):
    pass


class ScorecardSerializer(serializers.ModelSerializer):
    """A pairing's score in a run (0–100, 2 places) and grade, its pairing-level measures, and the compliance
    flags against the programme's rule (`{code, value, minimum}`: county_share_below_minimum,
    livelihood_share_below_minimum, mandate_shortfall). `share_basis` says what the shares to county level and
    below and to livelihood are shares of."""

    program = serializers.IntegerField(source="run.program_id", read_only=True)
    year = serializers.IntegerField(source="run.year", read_only=True)
    pairing_label = serializers.SerializerMethodField(help_text="Assisting organization → recipient region.")
    organization = OrganizationRefSerializer(read_only=True, help_text="The assisting organization.")
    recipient_region = serializers.CharField(source="pairing.recipient_region.code", read_only=True)
    score = ScoreField()
    grade = serializers.SerializerMethodField(help_text="By the grade bands of the run's framework.")
    measures = MeasuresField()
    flags = FlagsField()
    budget = serializers.DecimalField(
        max_digits=18, decimal_places=2, read_only=True, help_text="Approved budget of the scored projects, yuan."
    )
    mandate_unverified = serializers.SerializerMethodField(
        help_text="True when the pairing's mandate for the run's year was computed with a rule whose rate or base "
        "year no source gives (the Xinjiang rule today): its fulfilment is measured against an unverified figure."
    )
    share_basis = serializers.SerializerMethodField(
        help_text="What the formulas `county_share` and `livelihood_share` (the shares to county level and below "
        "and to livelihood, and their flags) are shares of. `year_disbursements`: the pairing's disbursements "
        "dated in the run's year — those linked to a project at county level and below (a county, township or "
        "XPCC division) or to a livelihood project, divided by all of them, linked to a project or not — as the "
        "programmes publish them. (`self_sustaining_share` is of the scored projects' approved budgets.)"
    )

    class Meta:
        model = PairingScorecard
        fields = [
            "id",
            "run",
            "program",
            "year",
            "pairing",
            "pairing_label",
            "organization",
            "recipient_region",
            "score",
            "grade",
            "measures",
            "flags",
            "project_count",
            "budget",
            "share_basis",
            "mandate_unverified",
        ]
        read_only_fields = fields

    def get_pairing_label(self, obj: PairingScorecard) -> str:
        return str(obj.pairing)

    @extend_schema_field({"type": "string", "enum": [SHARE_BASIS]})
    def get_share_basis(self, obj: PairingScorecard) -> str:
        return SHARE_BASIS

    def get_grade(self, obj: PairingScorecard) -> str:
        return selectors.grade_of(obj.run.framework, obj.score)

    def get_mandate_unverified(self, obj: PairingScorecard) -> bool:
        known = getattr(obj, "mandate_unverified", None)
        if known is None:  # a scorecard not read through `scorecards_visible_to`
            known = AnnualMandate.objects.filter(
                pairing_id=obj.pairing_id, year=obj.run.year, rule__is_unverified=True
            ).exists()
        return bool(known)


class ScorecardDetailSerializer(ScorecardSerializer):
    """A pairing's scorecard with the lines that explain its score."""

    lines = serializers.SerializerMethodField()

    class Meta(ScorecardSerializer.Meta):
        fields = [*ScorecardSerializer.Meta.fields, "lines"]
        read_only_fields = fields

    @extend_schema_field(LineSerializer(many=True))
    def get_lines(self, obj: PairingScorecard) -> Any:
        return LineSerializer(selectors.explain_score(obj.run.framework, "pairing", obj.measures), many=True).data


class ProjectScoreFilter(django_filters.FilterSet):
    run = _id_filter("run_id")
    program = django_filters.CharFilter(method="filter_program", help_text="The programme's id or code.")
    year = _year_filter("run__year")
    project = _id_filter("project_id")
    pairing = _id_filter("pairing_id")

    class Meta:
        model = ProjectScore
        fields = ["run", "program", "year", "project", "pairing"]

    def filter_program(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(_program_q("run__", value))


class ScorecardFilter(django_filters.FilterSet):
    run = _id_filter("run_id")
    program = django_filters.CharFilter(method="filter_program", help_text="The programme's id or code.")
    year = _year_filter("run__year")
    pairing = _id_filter("pairing_id")
    organization = _id_filter("organization_id", help_text="The assisting organization's id.")

    class Meta:
        model = PairingScorecard
        fields = ["run", "program", "year", "pairing", "organization"]

    def filter_program(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(_program_q("run__", value))


class ProjectScoreViewSet(CallerMixin, viewsets.ReadOnlyModelViewSet):
    """Project scores of every run, newest run first, of the projects in the caller's scope (others answer
    404). The detail explains the score line by line. Filter by `run`, `program` (id or code), `year`,
    `project` and `pairing`."""

    serializer_class = ProjectScoreSerializer
    filterset_class = ProjectScoreFilter
    permission_classes = [IsAuthenticated]
    lookup_value_regex = "[0-9]+"

    def get_queryset(self) -> QuerySet[ProjectScore]:
        return selectors.project_scores_visible_to(_user(self.request)).order_by("-run_id", "project_id")

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
        return selectors.scorecards_visible_to(_user(self.request)).order_by("-run_id", "pairing_id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return ScorecardDetailSerializer if self.action == "retrieve" else ScorecardSerializer


# --- rankings ----------------------------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "kind": {"type": "string", "enum": ["strength", "weakness", "flag"]},
                "indicator": {"type": "string", "description": "strength, weakness: the indicator's code."},
                "points": {"type": "number", "description": "strength: points gained; weakness: points lost."},
                "code": {"type": "string", "description": "flag: the compliance flag."},
                "value": {"type": "number", "nullable": True, "description": "The measured value (mean)."},
                "minimum": {"type": "number", "description": "flag: the rule's minimum."},
            },
        },
        "description": "Why the score is what it is: the two indicators that gained most, the two that lost most, "
        "and the compliance flags of the organization's pairings.",
    }
)
class ReasonsField(RoundedItemsField):
    pass


class RankingSerializer(serializers.ModelSerializer):
    """An assisting organization's place: the mean score of its top-level pairings (2 places), graded, and how
    it moved since the run it is compared with (`trend`: up, down, same, or new when it was not ranked)."""

    organization = OrganizationRefSerializer(read_only=True)
    score = ScoreField(allow_null=False)
    previous_score = ScoreField()
    trend = serializers.ChoiceField(choices=["up", "down", "same", "new"], read_only=True)
    reasons = ReasonsField()

    class Meta:
        model = Ranking
        fields = [
            "organization",
            "score",
            "grade",
            "rank",
            "previous_rank",
            "previous_score",
            "trend",
            "pairing_count",
            "reasons",
            "run",
        ]
        read_only_fields = fields


RANKING_PARAMETERS = [
    OpenApiParameter("program", OpenApiTypes.STR, description="The programme's id or code (with `year`)."),
    OpenApiParameter("year", OpenApiTypes.INT, description="The year evaluated (with `program`)."),
    OpenApiParameter("run", OpenApiTypes.INT, description="A succeeded run's id, instead of `program` and `year`."),
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
            if not raw_run.isdigit() or int(raw_run) > 2**31 - 1:
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
        elif not raw_year.isdigit() or not 1 <= int(raw_year) <= SMALLINT_MAX:
            problems.append(Problem("invalid", _("The year is a number, e.g. 2010."), "year"))
        if problems:
            raise DomainError.many(problems)
        assert program is not None
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


class ExpertScoreSerializer(serializers.ModelSerializer):
    """An evaluator's score (0–100) of a project on an expert-scored indicator, with the reason."""

    project_code = serializers.CharField(source="project.code", read_only=True)
    indicator = serializers.CharField(source="indicator_code", read_only=True)
    evaluator = _by_username()
    score = ScoreField(allow_null=False)

    class Meta:
        model = ExpertScore
        fields = ["id", "project", "project_code", "indicator", "evaluator", "score", "comment", "created_at"]
        read_only_fields = fields


class ExpertScoreWriteSerializer(StrictSerializerMixin, serializers.Serializer):
    """Posting again for the same project and indicator changes the caller's score."""

    project = serializers.IntegerField(min_value=1, help_text="A project in the caller's scope, approved onwards.")
    indicator = serializers.CharField(
        max_length=40, help_text="The code of an expert-scored indicator of the programme's current framework."
    )
    score = serializers.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100, help_text="0–100.")
    comment = serializers.CharField(required=False, allow_blank=True, default="", help_text="Why; required.")


class RatingSerializer(serializers.ModelSerializer):
    """A recipient officer's satisfaction with an accepted project, 1 (very unsatisfied) to 5 (very satisfied)."""

    project_code = serializers.CharField(source="project.code", read_only=True)
    rated_by = _by_username()

    class Meta:
        model = SatisfactionRating
        fields = ["id", "project", "project_code", "score", "comment", "rated_by", "created_at"]
        read_only_fields = fields


class RatingWriteSerializer(StrictSerializerMixin, serializers.Serializer):
    """Posting again for the same project changes the caller's rating."""

    project = serializers.IntegerField(min_value=1, help_text="An accepted project in the caller's scope.")
    score = serializers.IntegerField(min_value=1, max_value=5, help_text="1 (very unsatisfied) to 5 (very satisfied).")
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ProjectFilterMixin(django_filters.FilterSet):
    project = _id_filter("project_id")


class ExpertScoreFilter(ProjectFilterMixin):
    indicator = django_filters.CharFilter(field_name="indicator_code")

    class Meta:
        model = ExpertScore
        fields = ["project", "indicator"]


class RatingFilter(ProjectFilterMixin):
    class Meta:
        model = SatisfactionRating
        fields = ["project"]


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
        return selectors.expert_scores_visible_to(_user(self.request)).order_by("project_id", "indicator_code", "id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return ExpertScoreWriteSerializer if self.action == "create" else ExpertScoreSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = _user(request)
        _forbid_unless(services.may_score(user), _("Only evaluators give expert scores."))
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
        return selectors.ratings_visible_to(_user(self.request)).order_by("project_id", "id")

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return RatingWriteSerializer if self.action == "create" else RatingSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = _user(request)
        _forbid_unless(services.may_rate(user), _("Only recipient officers rate satisfaction."))
        body = RatingWriteSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        rating = services.satisfaction_rate(
            project=_visible_project(user, data["project"]), by=user, score=data["score"], comment=data["comment"]
        )
        fresh = self.get_queryset().get(pk=rating.pk)
        return Response(RatingSerializer(fresh).data, status=status.HTTP_201_CREATED)
