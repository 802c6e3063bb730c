"""factory_boy factories shared by the whole suite."""

import factory
from django.conf import settings

from accounts.models import Organization, OrganizationKind, RoleAssignment, User
from core.models import Region, RegionLevel


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"{90 + n % 9}{n:04d}")
    name = factory.Sequence(lambda n: f"测试地区{n}")
    name_en = factory.Sequence(lambda n: f"Test region {n}")
    level = RegionLevel.PROVINCE
    parent = None


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"测试机构{n}")
    name_en = factory.Sequence(lambda n: f"Test organization {n}")
    kind = OrganizationKind.PROVINCIAL_GOVERNMENT
    region = None
    parent = None

    @factory.post_generation
    def set_path(obj: Organization, create: bool, extracted: object, **kwargs: object) -> None:
        # The service normally sets the materialized path; factories mirror it.
        if create:
            obj.path = f"{obj.parent.path if obj.parent else '/'}{obj.pk}/"
            obj.save(update_fields=["path"])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    organization = factory.SubFactory(OrganizationFactory)
    preferred_language = "en"
    password = factory.PostGenerationMethodCall("set_password", settings.DUIKOU_DEMO_PASSWORD)

    @factory.post_generation
    def roles(obj: User, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        obj.save()
        if create and extracted:
            for role in extracted:
                RoleAssignment.objects.get_or_create(user=obj, role=role)
            obj.__dict__.pop("roles", None)


# --- money, people and projects (appended for the figures' consistency test; written straight to the tables) ---


def _decimal(value: str) -> object:
    from decimal import Decimal

    return Decimal(value)


def _date(year: int, month: int, day: int) -> object:
    import datetime

    return datetime.date(year, month, day)


class FundFlowFactory(factory.django.DjangoModelFactory):
    """A fund flow on PAIRING (give it); a commitment may name the PLEDGE it fulfils."""

    class Meta:
        model = "pairings.FundFlow"

    kind = "disbursement"
    amount = factory.LazyFunction(lambda: _decimal("1000000.00"))
    date = factory.LazyFunction(lambda: _date(2015, 6, 1))
    source = "assisting_fiscal"


class DeploymentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "pairings.Deployment"

    kind = "teacher"
    headcount = 10
    start_date = factory.LazyFunction(lambda: _date(2015, 3, 1))


class TrainingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "pairings.Training"

    topic = factory.Sequence(lambda n: f"培训{n}")
    people_trained = 30
    days = 2
    start_date = factory.LazyFunction(lambda: _date(2015, 7, 1))


class ProjectFactory(factory.django.DjangoModelFactory):
    """A project of PAIRING (give it) in any state, written straight to the table (no history)."""

    class Meta:
        model = "projects.Project"

    code = factory.Sequence(lambda n: f"FX-{n:06d}")
    title = factory.Sequence(lambda n: f"项目{n}")
    category = "infrastructure"
    sector = "education"
    state = "draft"
    budget_requested = factory.LazyFunction(lambda: _decimal("1000000.00"))
    planned_start = factory.LazyFunction(lambda: _date(2015, 3, 1))
    planned_end = factory.LazyFunction(lambda: _date(2015, 12, 31))


class ProgressReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "projects.ProgressReport"

    period_end = factory.LazyFunction(lambda: _date(2015, 9, 30))
    physical_progress = 50
    spend_to_date = factory.LazyFunction(lambda: _decimal("3400000.00"))
    review_status = "accepted"


# --- programmes, pairings, mandates, project records and evaluation (one factory for every model) ---
#
# A factory writes its row straight to the table, with values a service would accept, so that a test can set up
# any state (an ended pairing, a succeeded run) without walking the workflow to it; such rows carry no history.
# Where a service makes more than its own row and the rest of the system relies on it, the factory calls the
# service: ProgramFactory (the programme's default indicator framework, made by the hook evaluation registers),
# FundingRuleFactory (version numbering, and the default framework's share targets follow the rule) and
# IndicatorFrameworkFactory (a version is numbered after the last and carries its indicators). Two instances
# never collide: unique codes come from sequences, and a row unique within its parent (a mandate's year, a
# chunk's index, a framework's version) takes the next free value under that parent.


def _next_free(taken: list[int], first: int) -> int:
    """FIRST, or one past the highest value TAKEN when FIRST is taken already."""
    return first if first not in taken else max(taken) + 1


def _derived_mode(assisting: Organization, recipient: Region) -> str:
    from pairings.services import derive_contracting_mode

    return derive_contracting_mode(assisting, recipient)


def _days_after(day: object, days: int) -> object:
    import datetime

    return day + datetime.timedelta(days=days)


def _now() -> object:
    from django.utils import timezone

    return timezone.now()


def _content_type(obj: object) -> object:
    from django.contrib.contenttypes.models import ContentType

    return ContentType.objects.get_for_model(obj)


def _grade(score: float, bands: list[list[object]]) -> str:
    from evaluation.curves import grade_for

    return grade_for(score, bands)


def _expert_code(project: object) -> str:
    """The first expert-scored indicator of the current framework of PROJECT's programme."""
    from evaluation.services import expert_indicators

    return expert_indicators(project)[0].code


def _missing_role(user: User) -> str:
    from accounts.models import Role

    held = set(RoleAssignment.objects.filter(user=user).values_list("role", flat=True)) if user.pk else set()
    order = [Role.ASSISTING_OFFICER, *(r for r in Role if r != Role.ASSISTING_OFFICER)]
    return next(r.value for r in order if r.value not in held)


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "pairings.Source"

    key = factory.Sequence(lambda n: f"source-{n}")
    title = factory.Sequence(lambda n: f"关于对口支援工作的通知（第{n}号）")
    language = "zh"
    publisher = "国务院办公厅"
    published = "2010-03"
    url = factory.Sequence(lambda n: f"https://www.gov.cn/test/{n}.htm")


class ProgramFactory(factory.django.DjangoModelFactory):
    """A programme made by `pairings.services.program_create`, so it has its default indicator framework."""

    class Meta:
        model = "pairings.Program"

    code = factory.Sequence(lambda n: f"test-program-{n}")
    name = factory.Sequence(lambda n: f"测试对口支援规划{n}")
    name_en = factory.Sequence(lambda n: f"Test programme {n}")
    model = "development"
    start_year = 2010
    end_year = None

    @classmethod
    def _create(cls, model_class: type, *args: object, **kwargs: object) -> object:
        from pairings.services import program_create

        return program_create(by=None, **kwargs)


class FundingRuleFactory(factory.django.DjangoModelFactory):
    """A version of PROGRAM's rule made by `funding_rule_set` (the next version; CREATED_BY acts)."""

    class Meta:
        model = "pairings.FundingRule"

    program = factory.SubFactory(ProgramFactory)
    basis = "fiscal_revenue"
    rate = factory.LazyFunction(lambda: _decimal("0.003"))
    min_county_share = factory.LazyFunction(lambda: _decimal("0.7"))
    min_livelihood_share = factory.LazyFunction(lambda: _decimal("0.8"))
    reason = "按中央确定的援助资金标准"

    @classmethod
    def _create(cls, model_class: type, *args: object, **kwargs: object) -> object:
        from pairings.services import funding_rule_set

        return funding_rule_set(by=kwargs.pop("created_by", None), **kwargs)


class PairingFactory(factory.django.DjangoModelFactory):
    """A top-level pairing: a provincial government assisting a county, in the mode their levels give
    (diagonal), active from the programme's first year. Pass CONTRACTING_MODE to override it (with a reason)."""

    class Meta:
        model = "pairings.Pairing"

    program = factory.SubFactory(ProgramFactory)
    assisting_organization = factory.SubFactory(OrganizationFactory, region=factory.SubFactory(RegionFactory))
    recipient_region = factory.SubFactory(
        RegionFactory, level="county", parent=factory.SubFactory(RegionFactory, level="prefecture")
    )
    contracting_mode = factory.LazyAttribute(lambda o: _derived_mode(o.assisting_organization, o.recipient_region))
    mode_overridden = factory.LazyAttribute(
        lambda o: o.contracting_mode != _derived_mode(o.assisting_organization, o.recipient_region)
    )
    mode_reason = factory.LazyAttribute(lambda o: "援受双方协议约定" if o.mode_overridden else "")
    start_date = factory.LazyAttribute(lambda o: _date(o.program.start_year, 1, 1))
    status = "active"
    evidence = "sourced"
    source = "对口支援关系表"


class BrokenDownPairingFactory(PairingFactory):
    """A pairing broken down from a whole-prefecture one: a city under the parent's province assisting a county
    of the parent's prefecture, in the same programme."""

    parent = factory.SubFactory(PairingFactory, recipient_region=factory.SubFactory(RegionFactory, level="prefecture"))
    program = factory.SelfAttribute("parent.program")
    assisting_organization = factory.SubFactory(
        OrganizationFactory,
        kind="municipal_government",
        parent=factory.SelfAttribute("..parent.assisting_organization"),
        region=factory.SubFactory(
            RegionFactory,
            level="prefecture",
            parent=factory.SelfAttribute("...parent.assisting_organization.region"),
        ),
    )
    recipient_region = factory.SubFactory(
        RegionFactory, level="county", parent=factory.SelfAttribute("..parent.recipient_region")
    )
    start_date = factory.SelfAttribute("parent.start_date")


class FiscalRevenueFactory(factory.django.DjangoModelFactory):
    """An assisting party's revenue: the year before its programme starts (the basis of the first mandate), or
    the next year not yet recorded."""

    class Meta:
        model = "pairings.FiscalRevenue"

    organization = factory.SubFactory(OrganizationFactory, region=factory.SubFactory(RegionFactory))
    year = factory.LazyAttribute(
        lambda o: (
            _next_free(list(o.organization.fiscal_revenues.values_list("year", flat=True)), 2009)
            if o.organization.pk
            else 2009
        )
    )
    amount = factory.LazyFunction(lambda: _decimal("408000000000.00"))
    source = "全省一般公共预算收入决算"


class AnnualMandateFactory(factory.django.DjangoModelFactory):
    """A mandate set by hand, as `mandate_set` writes it (no rule, with a reason), for the pairing's first year
    or the next year it has none for."""

    class Meta:
        model = "pairings.AnnualMandate"

    pairing = factory.SubFactory(PairingFactory)
    year = factory.LazyAttribute(
        lambda o: (
            _next_free(list(o.pairing.mandates.values_list("year", flat=True)), o.pairing.start_date.year)
            if o.pairing.pk
            else o.pairing.start_date.year
        )
    )
    funds_required = factory.LazyFunction(lambda: _decimal("50000000.00"))
    personnel_quota = 20
    shared_by = 1
    is_manual = True
    reason = "按援受双方年度协议确定"


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "projects.Milestone"

    project = factory.SubFactory(ProjectFactory, pairing=factory.SubFactory(PairingFactory))
    title = factory.Sequence(lambda n: f"主体结构完工{n}")
    due_date = factory.LazyFunction(lambda: _date(2015, 9, 30))


class InspectionFactory(factory.django.DjangoModelFactory):
    """A supervisor's routine inspection of a project in construction (what `inspection_record` accepts)."""

    class Meta:
        model = "projects.Inspection"

    project = factory.SubFactory(ProjectFactory, pairing=factory.SubFactory(PairingFactory), state="in_construction")
    date = factory.LazyFunction(lambda: _date(2015, 8, 15))
    kind = "routine"
    result = "passed"
    findings = ""
    inspector = factory.SubFactory(UserFactory, roles=["supervisor"])


class RectificationFactory(factory.django.DjangoModelFactory):
    """An open rectification from a failed inspection of the same project, due a month after it."""

    class Meta:
        model = "projects.Rectification"

    project = factory.SubFactory(ProjectFactory, pairing=factory.SubFactory(PairingFactory), state="in_construction")
    inspection = factory.SubFactory(
        InspectionFactory,
        project=factory.SelfAttribute("..project"),
        result="failed",
        findings="外墙保温层厚度不足",
        inspector=factory.SelfAttribute("..created_by"),
    )
    finding = "外墙保温层厚度不足，需返工"
    deadline = factory.LazyAttribute(lambda o: _days_after(o.inspection.date, 30))
    created_by = factory.SubFactory(UserFactory, roles=["supervisor"])
    status = "open"

    class Params:
        # Reported done by the assisting side, waiting for the supervisor (`RectificationFactory(reported=True)`).
        reported = factory.Trait(
            status="reported",
            report_text="已返工，保温层厚度复测合格",
            reported_by=factory.SubFactory(UserFactory, roles=["assisting_officer"]),
            reported_at=factory.LazyFunction(_now),
        )
        # Verified by the supervisor: closed on the day (`RectificationFactory(verified=True)`).
        verified = factory.Trait(
            status="verified",
            closed_on=factory.LazyAttribute(lambda o: _days_after(o.inspection.date, 25)),
            closure_note="复查合格",
            closed_by=factory.SelfAttribute("created_by"),
        )


class DocumentFactory(factory.django.DjangoModelFactory):
    """A PDF report attached to a project (in the test settings' in-memory storage)."""

    class Meta:
        model = "projects.Document"

    project = factory.SubFactory(ProjectFactory, pairing=factory.SubFactory(PairingFactory))
    file = factory.django.FileField(filename="report.pdf", data=b"%PDF-1.4\n% test report\n%%EOF\n")
    kind = "report"
    title = factory.Sequence(lambda n: f"施工进度报告{n}")
    size = factory.LazyAttribute(lambda o: o.file.size)
    content_type = "application/pdf"
    uploaded_by = factory.SubFactory(UserFactory, roles=["assisting_officer"])


class IndicatorFrameworkFactory(factory.django.DjangoModelFactory):
    """A revised version of PROGRAM's framework, made by `framework_revise` from the current version's indicators
    (the programme's version 1 is its default; this is the next)."""

    class Meta:
        model = "evaluation.IndicatorFramework"

    program = factory.SubFactory(ProgramFactory)
    reason = "根据年度考核要求修订"
    created_by = None

    @classmethod
    def _create(cls, model_class: type, *args: object, **kwargs: object) -> object:
        from evaluation.services import framework_current, framework_revise, framework_rows

        program = kwargs.pop("program")
        return framework_revise(
            program=program,
            by=kwargs.pop("created_by", None),
            indicators=framework_rows(framework_current(program)),
            **kwargs,
        )


class IndicatorFactory(factory.django.DjangoModelFactory):
    """One more indicator on a framework. Written straight: the service writes a framework's indicators only as a
    whole new version (IndicatorFrameworkFactory)."""

    class Meta:
        model = "evaluation.Indicator"

    framework = factory.SubFactory(IndicatorFrameworkFactory)
    code = factory.Sequence(lambda n: f"extra-{n}")
    name = factory.Sequence(lambda n: f"附加指标{n}")
    name_en = factory.Sequence(lambda n: f"Extra indicator {n}")
    level = "project"
    formula = "inspection_pass_rate"
    curve = "linear"
    floor = 0.5
    target = 1.0
    weight = factory.LazyFunction(lambda: _decimal("5.00"))
    position = factory.LazyAttribute(lambda o: o.framework.indicators.count() if o.framework.pk else 0)


class EvaluationRunFactory(factory.django.DjangoModelFactory):
    """A finished run of the programme's first year with its current framework (no scores: add them with the
    factories below, or run `run_start` and the tasks to compute them)."""

    class Meta:
        model = "evaluation.EvaluationRun"

    program = factory.SubFactory(ProgramFactory)
    year = factory.SelfAttribute("program.start_year")
    framework = factory.LazyAttribute(lambda o: o.program.frameworks.order_by("-version").first())
    status = "succeeded"
    as_of = factory.LazyAttribute(lambda o: _date(o.year, 12, 31))
    started_at = factory.LazyFunction(lambda: _now())
    finished_at = factory.LazyFunction(lambda: _now())


class RunChunkFactory(factory.django.DjangoModelFactory):
    """A pending slice of a run's project ids, after the run's last chunk."""

    class Meta:
        model = "evaluation.RunChunk"

    run = factory.SubFactory(EvaluationRunFactory, status="running", finished_at=None)
    index = factory.LazyAttribute(
        lambda o: _next_free(list(o.run.chunks.values_list("index", flat=True)), 0) if o.run.pk else 0
    )
    kind = "projects"
    first_id = factory.LazyAttribute(lambda o: o.index * 5000 + 1)
    last_id = factory.LazyAttribute(lambda o: o.index * 5000 + 5000)
    size = 5000
    status = "pending"


class ProjectScoreFactory(factory.django.DjangoModelFactory):
    """An accepted project's final score in a run of its programme, carrying what the project was when scored."""

    class Meta:
        model = "evaluation.ProjectScore"

    run = factory.SubFactory(EvaluationRunFactory)
    project = factory.SubFactory(
        ProjectFactory,
        pairing=factory.SubFactory(PairingFactory, program=factory.SelfAttribute("...run.program")),
        state="accepted",
        approved_budget=factory.LazyFunction(lambda: _decimal("1000000.00")),
    )
    pairing = factory.SelfAttribute("project.pairing")
    score = 82.5
    measures = factory.LazyFunction(
        lambda: {"on_time": 1.0, "budget": 0.95, "inspections": 1.0, "rectifications": None, "quality": 80.0}
    )
    state = factory.SelfAttribute("project.state")
    is_final = factory.LazyAttribute(lambda o: o.state in ("accepted", "evaluated"))
    budget = factory.LazyAttribute(lambda o: o.project.approved_budget or _decimal("0"))
    at_county_level = factory.LazyAttribute(
        lambda o: (o.project.location or o.pairing.recipient_region).counts_as_county_level
    )
    is_livelihood = factory.SelfAttribute("project.is_livelihood")
    is_self_sustaining = factory.SelfAttribute("project.is_self_sustaining")


class PairingScorecardFactory(factory.django.DjangoModelFactory):
    """A pairing's scorecard in a run, short of its mandate (so flagged). Its figures are the factory's, not
    computed from rows: a test of the computation runs the run."""

    class Meta:
        model = "evaluation.PairingScorecard"

    run = factory.SubFactory(EvaluationRunFactory)
    pairing = factory.SubFactory(PairingFactory, program=factory.SelfAttribute("..run.program"))
    organization = factory.SelfAttribute("pairing.assisting_organization")
    score = 78.0
    measures = factory.LazyFunction(
        lambda: {"project_scores": 82.5, "mandate_fulfilment": 0.9, "funds_delivery": 1.0, "county_share": 0.8}
    )
    flags = factory.LazyFunction(lambda: [{"code": "mandate_shortfall", "value": 0.9, "minimum": 1.0}])
    project_count = 1
    budget = factory.LazyFunction(lambda: _decimal("1000000.00"))


class RankingFactory(factory.django.DjangoModelFactory):
    """An assisting party's place in a run: the next rank, graded by the run's framework."""

    class Meta:
        model = "evaluation.Ranking"

    run = factory.SubFactory(EvaluationRunFactory)
    organization = factory.SubFactory(OrganizationFactory, region=factory.SubFactory(RegionFactory))
    score = 78.0
    grade = factory.LazyAttribute(lambda o: _grade(o.score, o.run.framework.grade_bands))
    rank = factory.LazyAttribute(lambda o: o.run.rankings.count() + 1 if o.run.pk else 1)
    reasons = factory.LazyFunction(
        lambda: [
            {"kind": "strength", "indicator": "projects", "points": 32.0, "value": 82.5},
            {"kind": "flag", "code": "mandate_shortfall", "value": 0.9, "minimum": 1.0},
        ]
    )


class ExpertScoreFactory(factory.django.DjangoModelFactory):
    """An evaluator's score of an approved project on its programme's expert-scored indicator."""

    class Meta:
        model = "evaluation.ExpertScore"

    project = factory.SubFactory(ProjectFactory, pairing=factory.SubFactory(PairingFactory), state="completed")
    indicator_code = factory.LazyAttribute(lambda o: _expert_code(o.project))
    evaluator = factory.SubFactory(
        UserFactory, roles=["evaluator"], organization=factory.SubFactory(OrganizationFactory, kind="agency")
    )
    score = factory.LazyFunction(lambda: _decimal("85.00"))
    comment = "工程质量良好，资料齐全"


class SatisfactionRatingFactory(factory.django.DjangoModelFactory):
    """A recipient officer's rating of an accepted project, the officer acting for the recipient region."""

    class Meta:
        model = "evaluation.SatisfactionRating"

    project = factory.SubFactory(ProjectFactory, pairing=factory.SubFactory(PairingFactory), state="accepted")
    rated_by = factory.SubFactory(
        UserFactory,
        roles=["recipient_officer"],
        organization=factory.SubFactory(
            OrganizationFactory,
            kind="county_government",
            region=factory.SelfAttribute("...project.pairing.recipient_region"),
        ),
    )
    score = 4
    comment = "项目建成后群众满意"


class RoleAssignmentFactory(factory.django.DjangoModelFactory):
    """A role of USER: the first role the user does not hold yet (assisting officer for a new user)."""

    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(UserFactory)
    role = factory.LazyAttribute(lambda o: _missing_role(o.user))


class HistoryEventFactory(factory.django.DjangoModelFactory):
    """An event as `core.services.history_record` writes it, about TARGET (a pairing unless given)."""

    class Meta:
        model = "core.HistoryEvent"

    class Params:
        target = factory.SubFactory(PairingFactory)

    actor = None
    content_type = factory.LazyAttribute(lambda o: _content_type(o.target))
    object_id = factory.SelfAttribute("target.pk")
    object_repr = factory.LazyAttribute(lambda o: str(o.target)[:200])
    action = "updated"
    changes = factory.LazyFunction(lambda: {"note": {"old": "", "new": "已补充协议文号"}})


class CommitmentFactory(FundFlowFactory):
    """A commitment that turns a pledge of the same pairing, made a month before, into committed money."""

    pairing = factory.SubFactory(PairingFactory)
    kind = "commitment"
    pledge = factory.SubFactory(
        FundFlowFactory,
        pairing=factory.SelfAttribute("..pairing"),
        kind="pledge",
        amount=factory.SelfAttribute("..amount"),
        date=factory.LazyAttribute(lambda o: _days_after(o.factory_parent.date, -30)),
        source=factory.SelfAttribute("..source"),
    )


class NotificationFactory(factory.django.DjangoModelFactory):
    """A project's turn in an approver's inbox, unread (accounts.services.notify writes them in bulk)."""

    class Meta:
        model = "accounts.Notification"

    recipient = factory.SubFactory(UserFactory)
    kind = "project_turn"
    params = factory.LazyFunction(lambda: {"code": "XIN-000001", "title": "疏附县第二幼儿园", "action": "submit"})
    link = "/projects/1/"


class NotificationDigestFactory(factory.django.DjangoModelFactory):
    """The daily digest a user who chose it was sent (accounts.tasks.send_digests writes one per user and day)."""

    class Meta:
        model = "accounts.NotificationDigest"

    day = factory.Sequence(lambda n: _date(2026, 1, 1 + n % 28))
    user = factory.SubFactory(UserFactory, notification_email="daily_digest")
    count = 1


class SuspectedDuplicateFactory(factory.django.DjangoModelFactory):
    """A pair the portfolio scan found (give both projects, the lower id as project_a)."""

    class Meta:
        model = "projects.SuspectedDuplicate"

    score = 0.8
    reasons = factory.LazyFunction(lambda: ["same_county", "similar_title"])


class DuplicateDismissalFactory(factory.django.DjangoModelFactory):
    """An official's "not a duplicate" of PROJECT against CANDIDATE (give both)."""

    class Meta:
        model = "projects.DuplicateDismissal"

    reason = "不同学校：一所新建，一所扩建"


class HandoverFactory(factory.django.DjangoModelFactory):
    """A confirmed handover of an accepted project (written straight to the table: no history)."""

    class Meta:
        model = "projects.Handover"

    project = factory.SubFactory(ProjectFactory, pairing=factory.SubFactory(PairingFactory), state="accepted")
    date = factory.LazyFunction(lambda: _date(2016, 3, 1))
    receiving_name = "疏附县第二幼儿园"
    asset_value = factory.LazyFunction(lambda: _decimal("8160000.00"))
    status = "confirmed"
    recorded_by = factory.SubFactory(UserFactory, roles=["assisting_officer"])
    confirmed_by = factory.SubFactory(UserFactory, roles=["recipient_officer"])
    confirmed_at = factory.LazyFunction(_now)


class OperationReportFactory(factory.django.DjangoModelFactory):
    """A year's operation report of PROJECT (give it; the years follow one another)."""

    class Meta:
        model = "projects.OperationReport"

    project = factory.SubFactory(ProjectFactory, pairing=factory.SubFactory(PairingFactory), state="accepted")
    year = factory.LazyAttribute(
        lambda o: _next_free(
            list(o.project.operation_reports.values_list("year", flat=True)) if o.project.pk else [], 2016
        )
    )
    status = "in_use"
    utilisation = 85
    operating_cost = factory.LazyFunction(lambda: _decimal("120000.00"))
    maintenance_cost = factory.LazyFunction(lambda: _decimal("30000.00"))
    cost_payer = "recipient_government"
    jobs = 12
    people_served = 360
    filed_by = factory.SubFactory(UserFactory, roles=["recipient_officer"])
