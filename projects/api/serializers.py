"""The bodies of the projects API: projects and their transitions, and what is recorded on them."""

from typing import Any, ClassVar

from django.db import models
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from core.api.caller import user_of
from core.api.fields import NamedChoiceField, VisibleRelatedField, by_username, money, region_by_code
from core.api.serializers import StrictSerializerMixin, WriteSerializerMixin
from core.history import action_label
from core.models import HistoryEvent
from pairings.models import FlowSource, Pairing
from pairings.selectors import pairings_visible_to
from projects import policy, services
from projects.models import (
    Document,
    DocumentKind,
    Inspection,
    InspectionKind,
    InspectionResult,
    Milestone,
    ProgressReport,
    Project,
    Rectification,
    RectificationStatus,
)

from .columns import PROJECT_LIST_FIELDS
from .fields import ProjectDocumentField, ProjectReportField

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


# --- projects ----------------------------------------------------------------------------------------------


class FundingSourceSerializer(StrictSerializerMixin, serializers.Serializer):
    """One source of a project's money and how much it brings."""

    source = serializers.ChoiceField(choices=FlowSource.choices)  # type: ignore[assignment]
    amount = money(min_value=0, help_text="Yuan.")

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        # Stored as JSON: the amount keeps its two places as a string.
        return {"source": value["source"], "amount": str(value["amount"])}


class ProjectSerializer(WriteSerializerMixin, serializers.ModelSerializer):
    """A project with its state and the actions the caller may take on it now (guards aside). The `*_name`
    and `*_label` fields are for display, in the language of the request."""

    pairing = VisibleRelatedField(Pairing, pairings_visible_to)
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
    location = region_by_code(
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
    budget_requested = money(required=False, allow_null=True, help_text="Yuan.")
    approved_budget = money(read_only=True, allow_null=True, help_text="Yuan; set by `approve`.")
    funding_sources = FundingSourceSerializer(many=True, required=False)
    allowed_actions = serializers.SerializerMethodField(
        help_text="The transitions the caller may take now, their guards aside."
    )
    iati_finance_type = serializers.IntegerField(read_only=True, help_text="110 standard grant, 410 aid loan.")
    iati_activity_status = serializers.IntegerField(read_only=True)

    writable: ClassVar[frozenset[str] | None] = frozenset({"pairing", *services.DESCRIPTIVE})

    class Meta:
        model = Project
        # One declaration for this serializer and the fast list (projects/listing.py): a new field is one line there.
        fields = [name for name, _source in PROJECT_LIST_FIELDS]
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
        return policy.allowed_actions(user_of(request), obj)


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
    approved_budget = money(
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


# --- what is recorded on a project -------------------------------------------------------------------------


class HistoryEventSerializer(serializers.ModelSerializer):
    """One thing that happened to the project, oldest first; `changes` maps a field to `{"old", "new"}`."""

    actor = by_username()
    action_label = serializers.SerializerMethodField()

    class Meta:
        model = HistoryEvent
        fields = ["id", "action", "action_label", "from_state", "to_state", "actor", "at", "comment", "changes"]
        read_only_fields = fields

    def get_action_label(self, obj: HistoryEvent) -> str:
        return action_label(obj.action)


class ProgressReportSerializer(WriteSerializerMixin, serializers.ModelSerializer):
    """Physical progress and spending up to the end of a period, as the assisting side reports it."""

    physical_progress = serializers.IntegerField(help_text="Per cent, 0–100; never less than the last report.")
    spend_to_date = money(help_text="Yuan spent since the start.")
    reported_by = by_username()
    reviewed_by = by_username()

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


# The steps of a rectification as one named enum in the schema (`allowed_actions` of a rectification).
RectificationAction = models.TextChoices(  # type: ignore[call-overload]
    "RectificationAction",
    [(name.upper(), (name, spec.label)) for name, spec in policy.RECTIFICATION_ACTIONS.items()],
)


class RectificationPhotoSerializer(serializers.ModelSerializer):
    """A photo the assisting side attached to its report, fetched through the project's documents."""

    download = serializers.SerializerMethodField()

    class Meta:
        model = Document
        fields = ["id", "title", "content_type", "size", "uploaded_at", "download"]
        read_only_fields = fields

    def get_download(self, obj: Document) -> str:
        return reverse(
            "api:project-document-download",
            kwargs={"project_pk": obj.project_id, "pk": obj.pk},
            request=self.context.get("request"),
        )


class RectificationSerializer(serializers.ModelSerializer):
    """Something an inspection found that must be put right by the deadline. The assisting side reports it done
    (`report/`, with a text and photos); a supervisor verifies it (`verify/`, which closes it) or sends it back
    with a reason (`send-back/`), after which it is reported again. `allowed_actions` are the steps the caller may
    take now."""

    status = NamedChoiceField(RectificationStatus, enum_name="RectificationStatusEnum", read_only=True)
    is_open = serializers.BooleanField(read_only=True, help_text="Not closed (verified) yet.")
    is_overdue = serializers.BooleanField(
        read_only=True, help_text="Waiting for the assisting side (open or sent back) and past its deadline."
    )
    created_by = by_username()
    reported_by = by_username()
    sent_back_by = by_username()
    closed_by = by_username()
    photos = RectificationPhotoSerializer(many=True, read_only=True, help_text="The report's photos.")
    allowed_actions = serializers.SerializerMethodField(help_text="The steps the caller may take now.")

    class Meta:
        model = Rectification
        fields = [
            "id",
            "inspection",
            "finding",
            "deadline",
            "status",
            "is_open",
            "is_overdue",
            "report_text",
            "reported_by",
            "reported_at",
            "photos",
            "send_back_reason",
            "sent_back_by",
            "sent_back_at",
            "closed_on",
            "closure_note",
            "evidence",
            "created_by",
            "closed_by",
            "created_at",
            "allowed_actions",
        ]
        read_only_fields = fields

    @extend_schema_field(
        serializers.ListField(child=NamedChoiceField(RectificationAction, enum_name="RectificationActionEnum"))
    )
    def get_allowed_actions(self, obj: Rectification) -> list[str]:
        request = self.context.get("request")
        if request is None or not request.user.is_authenticated:
            return []
        return policy.rectification_actions(user_of(request), obj)


class RectificationReportSerializer(StrictSerializerMixin, serializers.Serializer):
    """The assisting side's report that a rectification was put right (multipart/form-data)."""

    text = serializers.CharField(help_text="How it was put right.")
    photos = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        default=list,
        max_length=services.MAX_REPORT_PHOTOS,
        help_text="Evidence photos, JPEG or PNG, up to 20 MB each; repeat the field for several.",
    )


class RectificationVerifySerializer(StrictSerializerMixin, serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", help_text="What was found.")


class RectificationSendBackSerializer(StrictSerializerMixin, serializers.Serializer):
    reason = serializers.CharField(help_text="What is still not put right.")


class RectificationItemSerializer(StrictSerializerMixin, serializers.Serializer):
    """One rectification an inspection orders."""

    finding = serializers.CharField(help_text="What must be put right.")
    deadline = serializers.DateField(help_text="By when; not before the inspection.")


class InspectionSerializer(serializers.ModelSerializer):
    """A supervisor's inspection: routine while the project is built, acceptance once it is completed. A failed
    one names what failed (`findings`) and usually orders rectifications."""

    kind = NamedChoiceField(InspectionKind, enum_name="InspectionKindEnum")
    result = NamedChoiceField(InspectionResult, enum_name="InspectionResultEnum")
    inspector = by_username()
    rectifications = RectificationSerializer(many=True, read_only=True, help_text="What it ordered to put right.")

    class Meta:
        model = Inspection
        fields = ["id", "date", "kind", "result", "findings", "inspector", "recorded_at", "rectifications"]
        read_only_fields = fields


class InspectionWriteSerializer(StrictSerializerMixin, serializers.Serializer):
    """An inspection to record, with the rectifications it orders: a list, each with its own finding (what must
    be put right) and deadline."""

    date = serializers.DateField(help_text="Not in the future.")
    kind = NamedChoiceField(InspectionKind, enum_name="InspectionKindEnum")
    result = NamedChoiceField(InspectionResult, enum_name="InspectionResultEnum")
    findings = serializers.CharField(required=False, allow_blank=True, default="", help_text="Required when failed.")
    rectifications = RectificationItemSerializer(many=True, required=False, default=list)


class RectificationCloseSerializer(StrictSerializerMixin, serializers.Serializer):
    note = serializers.CharField(help_text="How the finding was put right.")
    evidence = ProjectDocumentField(
        required=False, allow_null=True, help_text="A document of this project that shows it (see documents/)."
    )
    closed_on = serializers.DateField(required=False, allow_null=True, help_text="Today when left out.")


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
    uploaded_by = by_username()
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


class MilestoneSerializer(WriteSerializerMixin, serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = ["id", "title", "due_date", "done_on"]
        read_only_fields = ["id", "done_on"]


# --- figures -----------------------------------------------------------------------------------------------


class ProjectMoneySerializer(serializers.Serializer):
    """A project's money, by the definitions of `projects.figures` (the project page shows the same)."""

    budget = money(
        read_only=True, allow_null=True, help_text="The approved budget once approved, else the budget requested."
    )
    committed = money(read_only=True, help_text="Commitments linked to the project.")
    disbursed = money(read_only=True, help_text="Disbursements linked to the project.")
    spent = money(read_only=True, help_text="Expenditures linked to the project: the spending recorded.")
    reported_spend_to_date = money(
        read_only=True,
        allow_null=True,
        help_text="The spend to date of the latest progress report that stands: the assisting side's own account.",
    )
    reported_on = serializers.DateField(read_only=True, allow_null=True, help_text="The end of that report's period.")


class StageCountsSerializer(serializers.Serializer):
    """The caller's projects (narrowed by the list's filters) by state and by stage."""

    states = serializers.DictField(child=serializers.IntegerField(), read_only=True, help_text="Projects by state.")
    stages = serializers.DictField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text="Projects by stage: selection, approval, construction, supervision, evaluation, and cancelled.",
    )
    total = serializers.IntegerField(read_only=True, help_text="Every project counted, cancelled included.")
