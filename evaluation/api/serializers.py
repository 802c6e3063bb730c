"""The bodies of the evaluation API: frameworks, runs, scores, scorecards, rankings, expert scores and ratings."""

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api.bounds import SMALLINT_MAX
from core.api.errors import NON_FIELD
from core.api.fields import NamedChoiceField, by_username
from core.api.serializers import StrictSerializerMixin
from evaluation import selectors
from evaluation.measures import MEASURES, SHARE_BASIS
from evaluation.models import (
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
    ScoreStatus,
)
from pairings.models import AnnualMandate

from .fields import FlagsField, GradeBandsField, MeasuresField, ProgramField, ReasonsField, ScoreField, rounded

# --- fields ------------------------------------------------------------------------------------------------


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
    min_coverage = serializers.FloatField(
        read_only=True,
        help_text="Per cent (0–100) of the project indicators' weight that must have data for a project to be "
        "scored; below it the project has not enough data yet (no score, left out of its pairing's project scores).",
    )
    is_current = serializers.BooleanField(read_only=True, help_text="The programme's latest version.")
    created_by = by_username()
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
            "min_coverage",
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
    min_coverage = serializers.FloatField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Per cent, 0–100: the share of the project indicators' weight that must have data for a project "
        "to be scored. Left out: the current version's (50 for a programme's first).",
    )
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
    requested_by = by_username()
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

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def rounded_value(self, obj: selectors.ExplainedLine) -> float | None:
        return rounded(obj.value, 4)


class ProjectScoreSerializer(serializers.ModelSerializer):
    """A project's score in a run (0–100, 2 places), with each indicator's measured value. `is_final`: the
    project was accepted when scored, so the score is its final one. `status`: `scored`, or
    `insufficient_data` when the indicators with data carried less than `required_coverage` % of the weight
    (`coverage`): then `score` is null and the project does not count in its pairing's project scores."""

    program = serializers.IntegerField(source="run.program_id", read_only=True)
    year = serializers.IntegerField(source="run.year", read_only=True)
    project_code = serializers.CharField(source="project.code", read_only=True)
    project_title = serializers.CharField(source="project.title", read_only=True)
    project_state = serializers.CharField(source="project.state", read_only=True)
    score = ScoreField(help_text="Null when the project has not enough data yet (`status`).")
    status = NamedChoiceField(ScoreStatus, enum_name="ProjectScoreStatusEnum", read_only=True)
    coverage = ScoreField(
        help_text="Per cent of the project indicators' weight whose measure had a value; null for runs made "
        "before coverage was kept."
    )
    required_coverage = serializers.FloatField(
        source="run.framework.min_coverage",
        read_only=True,
        help_text="The run's framework's `min_coverage`: the coverage (%) a project needs to be scored.",
    )
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
            "status",
            "coverage",
            "required_coverage",
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
    project_count = serializers.IntegerField(read_only=True, help_text="Projects of the pairing in the run.")
    insufficient_data_count = serializers.IntegerField(
        read_only=True,
        help_text="Of `project_count`, the projects left out of the pairing's project scores (its average) "
        "because they had not enough data yet (coverage below the framework's `min_coverage`).",
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
            "insufficient_data_count",
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


# --- rankings ----------------------------------------------------------------------------------------------


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


# --- expert scores and satisfaction ratings ----------------------------------------------------------------


class ExpertScoreSerializer(serializers.ModelSerializer):
    """An evaluator's score (0–100) of a project on an expert-scored indicator, with the reason."""

    project_code = serializers.CharField(source="project.code", read_only=True)
    indicator = serializers.CharField(source="indicator_code", read_only=True)
    evaluator = by_username()
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
    rated_by = by_username()

    class Meta:
        model = SatisfactionRating
        fields = ["id", "project", "project_code", "score", "comment", "rated_by", "created_at"]
        read_only_fields = fields


class RatingWriteSerializer(StrictSerializerMixin, serializers.Serializer):
    """Posting again for the same project changes the caller's rating."""

    project = serializers.IntegerField(min_value=1, help_text="An accepted project in the caller's scope.")
    score = serializers.IntegerField(min_value=1, max_value=5, help_text="1 (very unsatisfied) to 5 (very satisfied).")
    comment = serializers.CharField(required=False, allow_blank=True, default="")
