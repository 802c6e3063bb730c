"""Every role × every action, asked three ways: what the HTML page offers, what the API answers (its
`allowed_actions` for a project's lifecycle, otherwise 403 or not), and what the service does (allowed, or the
permission error). All three must give the same answer, and that answer must be the one the policy gives — which
this file also pins to the design (who may do what, read from DESIGN.md, not from the code).

Each action is tried on an object it suits, in the scope of every user here (a project in a state the action
starts from, an active pairing), so the answer is the user's right alone. The objects are built once for the
module; every test runs in its own savepoint, so whatever a service or an API call writes is undone.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import policy as accounts_policy
from accounts import services as accounts_services
from accounts.models import OrganizationKind, Role, User
from core.errors import DomainError, NotFound, PermissionDenied
from core.models import Region, RegionLevel
from evaluation import policy as evaluation_policy
from evaluation import services as evaluation_services
from pairings import policy as pairing_policy
from pairings import services as pairing_services
from pairings.models import DeploymentKind, FlowSource, Pairing, Program
from projects import handover_services
from projects import policy as project_policy
from projects import services as project_services
from projects.models import Handover, ProgressReport, Project, Rectification, State
from tests.factories import OrganizationFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db

D = dt.date
TODAY = dt.date.today()

# Every role, a user with none, a superuser, and a national coordinator's role held by a province's official
# (which gives no right: the role counts only for someone acting for the central office).
WHO = [*Role.values, "no_role", "superuser", "provincial_coordinator"]
SU = "superuser"
NC, AO, RO = Role.NATIONAL_COORDINATOR, Role.ASSISTING_OFFICER, Role.RECIPIENT_OFFICER
APPROVER, SUPERVISOR, EVALUATOR = Role.APPROVER, Role.SUPERVISOR, Role.EVALUATOR


@dataclass
class World:
    users: dict[str, User]
    pages: dict[str, Client]
    apis: dict[str, APIClient]
    ids: dict[str, int] = field(default_factory=dict)
    rendered: dict[tuple[str, str], str] = field(default_factory=dict)

    def page(self, who: str, url: str) -> str:
        """The page as WHO sees it (pages do not change between tests: each test's writes are undone)."""
        key = (who, url)
        if key not in self.rendered:
            response = self.pages[who].get(url)
            self.rendered[key] = response.content.decode() if response.status_code == 200 else ""
        return self.rendered[key]

    def project(self, name: str) -> Project:
        return Project.objects.select_related("pairing").get(pk=self.ids[name])

    def pairing(self, name: str) -> Pairing:
        return Pairing.objects.select_related("parent").get(pk=self.ids[name])


def _build() -> World:
    xinjiang = RegionFactory(code="650000", name="新疆维吾尔自治区", level=RegionLevel.PROVINCE)
    kashgar = RegionFactory(code="653100", name="喀什地区", level=RegionLevel.PREFECTURE, parent=xinjiang)
    shufu = RegionFactory(code="653121", name="疏附县", level=RegionLevel.COUNTY, parent=kashgar)
    RegionFactory(code="653129", name="伽师县", level=RegionLevel.COUNTY, parent=kashgar)
    guangdong = RegionFactory(code="440000", name="广东省", level=RegionLevel.PROVINCE)
    shenzhen = RegionFactory(code="440300", name="深圳市", level=RegionLevel.PREFECTURE, parent=guangdong)
    national = OrganizationFactory(name="国家协调办公室", kind=OrganizationKind.CENTRAL_OFFICE)
    gd = OrganizationFactory(name="广东省人民政府", region=guangdong)
    sz = OrganizationFactory(
        name="深圳市人民政府", kind=OrganizationKind.MUNICIPAL_GOVERNMENT, region=shenzhen, parent=gd
    )
    kg = OrganizationFactory(name="喀什地区行政公署", kind=OrganizationKind.MUNICIPAL_GOVERNMENT, region=kashgar)

    # Everyone below sees the Guangdong → Kashgar pairing and its Shenzhen → Shufu breakdown: the national office
    # all of it, Guangdong as the assisting party, Kashgar as the recipient.
    home = {NC: national, AO: gd, RO: kg, APPROVER: gd, SUPERVISOR: gd, EVALUATOR: national, Role.OBSERVER: national}
    users = {role: UserFactory(username=f"m-{role}", organization=home[role], roles=[role]) for role in Role.values}
    users["no_role"] = UserFactory(username="m-no-role", organization=gd)
    users["provincial_coordinator"] = UserFactory(username="m-gd-coordinator", organization=gd, roles=[NC])
    users[SU] = UserFactory(username="m-root", organization=None, is_superuser=True, is_staff=True)

    program = pairing_services.program_create(
        by=None, code="xinjiang-2010", name="对口援疆", model="development", start_year=2011, end_year=2030
    )
    pairing_services.funding_rule_set(by=None, program=program, basis="fiscal_revenue", rate=Decimal("0.005"))
    parent = pairing_services.pairing_create(
        by=None, program=program, assisting_organization=gd, recipient_region=kashgar, start_date=D(2011, 1, 1)
    )
    child = pairing_services.pairing_create(
        by=None,
        program=program,
        assisting_organization=sz,
        recipient_region=shufu,
        start_date=D(2011, 1, 1),
        parent=parent,
    )

    def draft(title: str) -> Project:
        return project_services.project_create(
            by=None,
            pairing=parent,
            title=title,
            category="infrastructure",
            sector="education",
            location=shufu,
            budget_requested=Decimal("1000000.00"),
            planned_start=D(2024, 3, 1),
            planned_end=D(2025, 8, 31),
        )

    def bring(title: str, state: str) -> Project:
        p = draft(title)
        steps: list[Callable[[], Any]] = [
            lambda: project_services.project_submit(project=p, by=None),
            lambda: project_services.project_approve(project=p, by=None),
            lambda: project_services.project_start(project=p, by=None, actual_start=D(2024, 3, 1)),
        ]
        steps_to: dict[str, int] = {State.DRAFT: 0, State.PROPOSED: 1, State.APPROVED: 2}
        upto = steps_to.get(state, 3)
        for step in steps[:upto]:
            step()
        if state == State.SUSPENDED:
            project_services.project_suspend(project=p, by=None, comment="停工")
        if state in (State.COMPLETED, State.ACCEPTED):
            project_services.progress_report_submit(
                by=None, project=p, period_end=D(2025, 6, 30), physical_progress=100, spend_to_date="900000"
            )
            project_services.project_complete(project=p, by=None, actual_end=D(2025, 7, 1))
        if state == State.ACCEPTED:
            project_services.inspection_record(
                by=None, project=p, date=D(2025, 7, 2), kind="acceptance", result="passed"
            )
            project_services.project_accept(project=p, by=None)
        p.refresh_from_db()
        assert p.state == state
        return p

    ids = {"parent": parent.pk, "child": child.pk, "program": program.pk, "gd": gd.pk}
    for state in (State.DRAFT, State.PROPOSED, State.APPROVED, State.IN_CONSTRUCTION, State.SUSPENDED):
        ids[state] = bring(f"项目{state}", state).pk
    for state in (State.COMPLETED, State.ACCEPTED):
        ids[state] = bring(f"项目{state}", state).pk
    # Two more accepted projects: one handed over and waiting for the recipient side, one handed over and confirmed.
    for name in ("handover_pending", "handover_confirmed"):
        handed = bring(f"项目{name}", State.ACCEPTED)
        handover_services.handover_record(
            by=None, project=handed, date=D(2025, 7, 2), asset_value="900000", receiving_organization=kg
        )
        if name == "handover_confirmed":
            handover_services.handover_confirm(by=None, project=handed)
        ids[name] = handed.pk
    building = Project.objects.get(pk=ids[State.IN_CONSTRUCTION])
    ids["report"] = project_services.progress_report_submit(
        by=None, project=building, period_end=D(2024, 6, 30), physical_progress=40, spend_to_date="300000"
    ).pk
    inspection = project_services.inspection_record(
        by=None,
        project=building,
        date=D(2024, 7, 1),
        kind="routine",
        result="failed",
        findings="脚手架不稳",
        rectifications=[{"finding": "加固脚手架", "deadline": D(2024, 8, 1)}],
    )
    ids["rectification"] = inspection.rectifications.get().pk
    # A second inspection's rectification, reported done by the assisting side: the supervisor's to verify or
    # send back.
    second = project_services.inspection_record(
        by=None,
        project=building,
        date=D(2024, 7, 2),
        kind="routine",
        result="failed",
        findings="排水不畅",
        rectifications=[{"finding": "疏通排水沟", "deadline": D(2024, 8, 2)}],
    )
    ids["reported"] = project_services.rectification_report(
        by=None, rectification=second.rectifications.get(), text="已疏通"
    ).pk

    pages, apis = {}, {}
    for who, user in users.items():
        pages[who] = Client()
        pages[who].force_login(user)
        apis[who] = APIClient()
        apis[who].force_authenticate(user)
    return World(users=users, pages=pages, apis=apis, ids=ids)


@pytest.fixture(scope="module")
def matrix(django_db_setup: None, django_db_blocker: Any) -> Iterator[World]:
    """Built once; rolled back when the module is done (each test's own writes are undone after it)."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield _build()
        transaction.set_rollback(True)


# --- the three ways of asking ----------------------------------------------------------------------------------


def offered(w: World, who: str, url: str, marker: str) -> bool:
    """Whether the page at URL shows WHO the link or form MARKER (an href or an element id)."""
    return marker in w.page(who, url)


def href(name: str, *args: Any, query: str = "") -> str:
    return f'href="{reverse(name, args=args)}{query}"'


def api_allows(w: World, who: str, method: str, url: str, body: dict[str, Any] | None = None, **kw: Any) -> bool:
    """Whether the API lets WHO try (anything but 403: a 400 on the body is the service's business)."""
    call = getattr(w.apis[who], method)
    response = call(url, body or {}, format=kw.pop("format", "json"), **kw)
    assert response.status_code != 404, (who, url, response.content[:300])
    if response.status_code == 403:
        assert response.json()["errors"][0]["message"], "a refusal says why"
    return response.status_code != 403


def service_allows(run: Callable[[], Any]) -> bool:
    """Whether the service lets the user act: anything but its permission error (a guard's 400 or a 409 is about
    the request, not the right)."""
    try:
        with transaction.atomic():
            run()
    except PermissionDenied:
        return False
    except NotFound:
        pytest.fail("every object here is in every user's scope")
    except DomainError:  # a refusal of what was sent, or of the moment: the right was granted
        return True
    return True


@dataclass(frozen=True)
class Case:
    """One action: who may (the design), the policy's decision, and how each door is asked."""

    allowed: frozenset[str]
    policy: Callable[[World, User], Any]
    service: Callable[[World, User], Any]
    page: Callable[[World, str], bool] | None = None
    api: Callable[[World, str], bool] | None = None


def roles(*names: str) -> frozenset[str]:
    return frozenset({SU, *names})


def _project_page(state: str, marker: Callable[[World], str]) -> Callable[[World, str], bool]:
    def check(w: World, who: str) -> bool:
        pk = w.ids[state]
        return offered(w, who, reverse("projects:project_detail", args=[pk]), marker(w))

    return check


def _transition_case(action: str, state: str, allowed: frozenset[str], **kwargs: Any) -> Case:
    def page(w: World, who: str) -> bool:
        pk = w.ids[state]
        return offered(w, who, reverse("projects:project_detail", args=[pk]), href("projects:project_act", pk, action))

    def api(w: World, who: str) -> bool:
        body = w.apis[who].get(f"/api/v1/projects/{w.ids[state]}/").json()
        return action in body["allowed_actions"]

    return Case(
        allowed=allowed,
        policy=lambda w, u: project_policy.may_transition(u, w.project(state), action),
        service=lambda w, u: project_services.TRANSITIONS[action](
            project=w.project(state), by=u, comment="理由", **kwargs
        ),
        # Projects are marked evaluated by an evaluation run with their final score; the page offers no button.
        page=None if action == "evaluate" else page,
        api=api,
    )


def _rectification_case(action: str, which: str, allowed: frozenset[str], **body: Any) -> Case:
    """A step of a rectification (projects.policy.RECTIFICATION_ACTIONS) on one in the status it starts from."""
    run = {
        "report": project_services.rectification_report,
        "verify": project_services.rectification_verify,
        "send_back": project_services.rectification_send_back,
    }[action]

    def rect(w: World) -> Rectification:
        return Rectification.objects.get(pk=w.ids[which])

    def api(w: World, who: str) -> bool:
        path = action.replace("_", "-")
        url = f"/api/v1/projects/{w.ids[State.IN_CONSTRUCTION]}/rectifications/{w.ids[which]}/{path}/"
        # The rectification's `allowed_actions` give the same answer as trying (asked first: trying may move it).
        listed = w.apis[who].get(url.rsplit("/", 2)[0] + "/").json()["allowed_actions"]
        allows = api_allows(w, who, "post", url, body, format="multipart" if action == "report" else "json")
        assert (action in listed) == allows, (who, action, listed)
        return allows

    return Case(
        allowed=allowed,
        policy=lambda w, u: project_policy.may_act_on_rectification(u, rect(w), action),
        service=lambda w, u: run(by=u, rectification=rect(w), **body),
        page=_project_page(
            State.IN_CONSTRUCTION,
            lambda w: href("projects:rectification_act", w.ids[State.IN_CONSTRUCTION], w.ids[which], action),
        ),
        api=api,
    )


def _pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("报告.pdf", b"%PDF-1.4 matrix", content_type="application/pdf")


CASES: dict[str, Case] = {
    # --- projects: the lifecycle ---
    "submit": _transition_case("submit", State.DRAFT, roles(AO, RO)),
    "approve": _transition_case("approve", State.PROPOSED, roles(APPROVER)),
    "reject": _transition_case("reject", State.PROPOSED, roles(APPROVER)),
    "return": _transition_case("return", State.PROPOSED, roles(APPROVER)),
    "start": _transition_case("start", State.APPROVED, roles(AO), actual_start=D(2024, 3, 1)),
    "suspend": _transition_case("suspend", State.IN_CONSTRUCTION, roles(AO, SUPERVISOR)),
    "resume": _transition_case("resume", State.SUSPENDED, roles(AO, SUPERVISOR)),
    "complete": _transition_case("complete", State.IN_CONSTRUCTION, roles(AO)),
    "accept": _transition_case("accept", State.COMPLETED, roles(SUPERVISOR)),
    "reopen": _transition_case("reopen", State.COMPLETED, roles(SUPERVISOR)),
    "evaluate": _transition_case("evaluate", State.ACCEPTED, roles(EVALUATOR), score=Decimal("80")),
    "cancel": _transition_case("cancel", State.DRAFT, roles(NC, APPROVER)),
    # --- projects: creating, editing, what is recorded on them ---
    "project_create": Case(
        allowed=roles(NC, AO, RO),
        policy=lambda w, u: project_policy.may_create_project(u, w.pairing("parent")),
        service=lambda w, u: project_services.project_create(by=u, pairing=w.pairing("parent"), title="新项目"),
        page=lambda w, who: offered(w, who, reverse("projects:project_list"), href("projects:project_create")),
        api=lambda w, who: api_allows(w, who, "post", "/api/v1/projects/", {"pairing": w.ids["parent"]}),
    ),
    "project_update": Case(
        allowed=roles(NC, AO, RO),
        policy=lambda w, u: project_policy.may_update_project(u, w.project(State.DRAFT)),
        service=lambda w, u: project_services.project_update(by=u, project=w.project(State.DRAFT), title="改名"),
        page=_project_page(State.DRAFT, lambda w: href("projects:project_edit", w.ids[State.DRAFT])),
        api=lambda w, who: api_allows(w, who, "patch", f"/api/v1/projects/{w.ids[State.DRAFT]}/", {"title": "改名"}),
    ),
    "budget_revise": Case(
        allowed=roles(APPROVER),
        policy=lambda w, u: project_policy.may_revise_budget(u, w.project(State.APPROVED)),
        service=lambda w, u: project_services.project_revise_budget(
            by=u, project=w.project(State.APPROVED), approved_budget="1100000", reason="加固"
        ),
    ),
    "progress_report": Case(
        allowed=roles(AO, NC),
        policy=lambda w, u: project_policy.may_report_progress(u, w.project(State.IN_CONSTRUCTION)),
        service=lambda w, u: project_services.progress_report_submit(
            by=u,
            project=w.project(State.IN_CONSTRUCTION),
            period_end=D(2024, 9, 30),
            physical_progress=60,
            spend_to_date="1",
        ),
        page=_project_page(
            State.IN_CONSTRUCTION, lambda w: href("projects:progress_create", w.ids[State.IN_CONSTRUCTION])
        ),
        api=lambda w, who: api_allows(
            w, who, "post", f"/api/v1/projects/{w.ids[State.IN_CONSTRUCTION]}/progress-reports/"
        ),
    ),
    "report_review": Case(
        allowed=roles(APPROVER),
        policy=lambda w, u: project_policy.may_review_report(u, ProgressReport.objects.get(pk=w.ids["report"])),
        service=lambda w, u: project_services.progress_report_review(
            by=u, report=ProgressReport.objects.get(pk=w.ids["report"]), accept=True
        ),
        page=_project_page(
            State.IN_CONSTRUCTION,
            lambda w: href("projects:report_review", w.ids[State.IN_CONSTRUCTION], w.ids["report"]),
        ),
        api=lambda w, who: api_allows(
            w,
            who,
            "post",
            f"/api/v1/projects/{w.ids[State.IN_CONSTRUCTION]}/progress-reports/{w.ids['report']}/review/",
        ),
    ),
    "inspection": Case(
        allowed=roles(SUPERVISOR),
        policy=lambda w, u: project_policy.may_record_inspection(u, w.project(State.IN_CONSTRUCTION)),
        service=lambda w, u: project_services.inspection_record(
            by=u, project=w.project(State.IN_CONSTRUCTION), date=D(2024, 9, 1), kind="routine", result="passed"
        ),
        page=_project_page(
            State.IN_CONSTRUCTION, lambda w: href("projects:inspection_create", w.ids[State.IN_CONSTRUCTION])
        ),
        api=lambda w, who: api_allows(w, who, "post", f"/api/v1/projects/{w.ids[State.IN_CONSTRUCTION]}/inspections/"),
    ),
    "rectification_close": Case(
        allowed=roles(SUPERVISOR),
        policy=lambda w, u: project_policy.may_close_rectification(
            u, Rectification.objects.get(pk=w.ids["rectification"])
        ),
        service=lambda w, u: project_services.rectification_close(
            by=u, rectification=Rectification.objects.get(pk=w.ids["rectification"]), note="已加固"
        ),
        page=_project_page(
            State.IN_CONSTRUCTION,
            lambda w: href("projects:rectification_close", w.ids[State.IN_CONSTRUCTION], w.ids["rectification"]),
        ),
        api=lambda w, who: api_allows(
            w,
            who,
            "post",
            f"/api/v1/projects/{w.ids[State.IN_CONSTRUCTION]}/rectifications/{w.ids['rectification']}/close/",
        ),
    ),
    "rectification_report": _rectification_case("report", "rectification", roles(AO), text="已加固"),
    "rectification_verify": _rectification_case("verify", "reported", roles(SUPERVISOR)),
    "rectification_send_back": _rectification_case("send_back", "reported", roles(SUPERVISOR), reason="未疏通"),
    "document": Case(
        allowed=roles(AO, RO, SUPERVISOR, APPROVER, NC),
        policy=lambda w, u: project_policy.may_upload_document(u, w.project(State.IN_CONSTRUCTION)),
        service=lambda w, u: project_services.document_upload(
            by=u, project=w.project(State.IN_CONSTRUCTION), upload=_pdf()
        ),
        page=_project_page(
            State.IN_CONSTRUCTION, lambda w: href("projects:document_create", w.ids[State.IN_CONSTRUCTION])
        ),
        api=lambda w, who: api_allows(
            w, who, "post", f"/api/v1/projects/{w.ids[State.IN_CONSTRUCTION]}/documents/", format="multipart"
        ),
    ),
    "milestone": Case(
        allowed=roles(AO, RO, NC),
        policy=lambda w, u: project_policy.may_add_milestone(u, w.project(State.IN_CONSTRUCTION)),
        service=lambda w, u: project_services.milestone_add(
            by=u, project=w.project(State.IN_CONSTRUCTION), title="封顶", due_date=D(2025, 1, 1)
        ),
        api=lambda w, who: api_allows(w, who, "post", f"/api/v1/projects/{w.ids[State.IN_CONSTRUCTION]}/milestones/"),
    ),
    # --- projects: the handover and the yearly operation reports (assisting side records, recipient answers) ---
    "handover_record": Case(
        allowed=roles(AO),
        policy=lambda w, u: project_policy.may_record_handover(u, w.project(State.ACCEPTED), None),
        service=lambda w, u: handover_services.handover_record(
            by=u, project=w.project(State.ACCEPTED), date=D(2025, 7, 2), asset_value="900000", receiving_name="学校"
        ),
        page=_project_page(State.ACCEPTED, lambda w: href("projects:handover_record", w.ids[State.ACCEPTED])),
        api=lambda w, who: api_allows(
            w,
            who,
            "post",
            f"/api/v1/projects/{w.ids[State.ACCEPTED]}/handover/",
            {"date": "2025-07-02", "asset_value": "900000", "receiving_name": "学校"},
        ),
    ),
    "handover_confirm": Case(
        allowed=roles(RO),
        policy=lambda w, u: project_policy.may_confirm_handover(
            u,
            Project.objects.get(pk=w.ids["handover_pending"]),
            Handover.objects.get(project=w.ids["handover_pending"]),
        ),
        service=lambda w, u: handover_services.handover_confirm(
            by=u, project=Project.objects.get(pk=w.ids["handover_pending"])
        ),
        page=_project_page("handover_pending", lambda w: href("projects:handover_confirm", w.ids["handover_pending"])),
        api=lambda w, who: api_allows(
            w, who, "post", f"/api/v1/projects/{w.ids['handover_pending']}/handover/confirm/"
        ),
    ),
    "handover_refuse": Case(
        allowed=roles(RO),
        policy=lambda w, u: project_policy.may_refuse_handover(
            u,
            Project.objects.get(pk=w.ids["handover_pending"]),
            Handover.objects.get(project=w.ids["handover_pending"]),
        ),
        service=lambda w, u: handover_services.handover_refuse(
            by=u, project=Project.objects.get(pk=w.ids["handover_pending"]), reason="清单不全"
        ),
        page=_project_page("handover_pending", lambda w: href("projects:handover_refuse", w.ids["handover_pending"])),
        api=lambda w, who: api_allows(
            w, who, "post", f"/api/v1/projects/{w.ids['handover_pending']}/handover/refuse/", {"reason": "清单不全"}
        ),
    ),
    "operation_report": Case(
        allowed=roles(RO),
        policy=lambda w, u: project_policy.may_file_operation_report(
            u,
            Project.objects.get(pk=w.ids["handover_confirmed"]),
            Handover.objects.get(project=w.ids["handover_confirmed"]),
        ),
        service=lambda w, u: handover_services.operation_report_file(
            by=u, project=Project.objects.get(pk=w.ids["handover_confirmed"]), year=2025, status="in_use"
        ),
        page=_project_page(
            "handover_confirmed", lambda w: href("projects:operation_report_create", w.ids["handover_confirmed"])
        ),
        api=lambda w, who: api_allows(
            w,
            who,
            "post",
            f"/api/v1/projects/{w.ids['handover_confirmed']}/operation-reports/",
            {"year": 2025, "status": "in_use"},
        ),
    ),
    "project_flow": Case(
        allowed=roles(NC, AO, RO),
        policy=lambda w, u: project_policy.may_record_flow(u, w.project(State.IN_CONSTRUCTION)),
        service=lambda w, u: pairing_services.fund_flow_record(
            by=u,
            pairing=w.pairing("parent"),
            kind="disbursement",
            amount="1",
            date=TODAY,
            source=FlowSource.values[0],
            project_id=w.ids[State.IN_CONSTRUCTION],
        ),
        page=_project_page(State.IN_CONSTRUCTION, lambda w: href("projects:flow_create", w.ids[State.IN_CONSTRUCTION])),
    ),
    # --- pairings and programmes ---
    "pairing_create": Case(
        allowed=roles(NC),
        policy=lambda w, u: pairing_policy.may_create_pairing(u, None),
        service=lambda w, u: pairing_services.pairing_create(
            by=u,
            program=Program.objects.get(pk=w.ids["program"]),
            assisting_organization=w.users[AO].organization,
            recipient_region=Region.objects.get(code="653129"),
            start_date=D(2012, 1, 1),
        ),
        page=lambda w, who: offered(w, who, reverse("pairings:pairing_list"), href("pairings:pairing_create")),
        api=lambda w, who: api_allows(
            w,
            who,
            "post",
            "/api/v1/pairings/",
            {
                "program": w.ids["program"],
                "assisting_organization": w.ids["gd"],
                "recipient_region": "653129",
                "start_date": "2012-01-01",
            },
        ),
    ),
    "breakdown": Case(
        allowed=roles(NC, AO),
        policy=lambda w, u: pairing_policy.may_create_pairing(u, w.pairing("parent")),
        service=lambda w, u: pairing_services.pairing_create(
            by=u,
            program=Program.objects.get(pk=w.ids["program"]),
            assisting_organization=w.users[AO].organization,
            recipient_region=Region.objects.get(code="653129"),
            start_date=D(2012, 1, 1),
            parent=w.pairing("parent"),
        ),
        page=lambda w, who: offered(
            w,
            who,
            reverse("pairings:pairing_detail", args=[w.ids["parent"]]),
            href("pairings:pairing_create", query=f"?parent={w.ids['parent']}"),
        ),
        api=lambda w, who: api_allows(
            w,
            who,
            "post",
            "/api/v1/pairings/",
            {
                "program": w.ids["program"],
                "assisting_organization": w.ids["gd"],
                "recipient_region": "653129",
                "start_date": "2012-01-01",
                "parent": w.ids["parent"],
            },
        ),
    ),
    "pairing_change": Case(
        allowed=roles(NC),
        policy=lambda w, u: pairing_policy.may_change_pairing(u, w.pairing("parent")),
        service=lambda w, u: pairing_services.pairing_update(by=u, pairing=w.pairing("parent"), note="备注"),
        page=lambda w, who: offered(
            w,
            who,
            reverse("pairings:pairing_detail", args=[w.ids["parent"]]),
            href("pairings:pairing_edit", w.ids["parent"]),
        ),
        api=lambda w, who: api_allows(w, who, "patch", f"/api/v1/pairings/{w.ids['parent']}/", {"note": "备注"}),
    ),
    "breakdown_change": Case(
        allowed=roles(NC, AO),
        policy=lambda w, u: pairing_policy.may_change_pairing(u, w.pairing("child")),
        service=lambda w, u: pairing_services.pairing_update(by=u, pairing=w.pairing("child"), note="备注"),
        page=lambda w, who: offered(
            w,
            who,
            reverse("pairings:pairing_detail", args=[w.ids["child"]]),
            href("pairings:pairing_edit", w.ids["child"]),
        ),
        api=lambda w, who: api_allows(w, who, "patch", f"/api/v1/pairings/{w.ids['child']}/", {"note": "备注"}),
    ),
    "breakdown_end": Case(
        allowed=roles(NC, AO),
        policy=lambda w, u: pairing_policy.may_end_pairing(u, w.pairing("child")),
        service=lambda w, u: pairing_services.pairing_end(
            by=u, pairing=w.pairing("child"), end_date=TODAY, comment="期满"
        ),
        page=lambda w, who: offered(
            w,
            who,
            reverse("pairings:pairing_detail", args=[w.ids["child"]]),
            href("pairings:pairing_end", w.ids["child"]),
        ),
        api=lambda w, who: api_allows(w, who, "post", f"/api/v1/pairings/{w.ids['child']}/end/"),
    ),
    "mandate_compute": Case(
        allowed=roles(NC, AO),
        policy=lambda w, u: pairing_policy.may_compute_mandate(u, w.pairing("parent")),
        service=lambda w, u: pairing_services.mandate_compute(by=u, pairing=w.pairing("parent"), year=2012),
        page=lambda w, who: offered(
            w,
            who,
            reverse("pairings:pairing_detail", args=[w.ids["parent"]]),
            href("pairings:mandate_compute", w.ids["parent"]),
        ),
        api=lambda w, who: api_allows(w, who, "post", f"/api/v1/pairings/{w.ids['parent']}/mandates/", {"year": 2012}),
    ),
    "mandate_set": Case(
        allowed=roles(NC),
        policy=lambda w, u: pairing_policy.may_set_mandate(u, w.pairing("parent")),
        service=lambda w, u: pairing_services.mandate_set(
            by=u, pairing=w.pairing("parent"), year=2012, funds_required="1", reason="协商"
        ),
        page=lambda w, who: offered(
            w,
            who,
            reverse("pairings:pairing_detail", args=[w.ids["parent"]]),
            href("pairings:mandate_set", w.ids["parent"]),
        ),
        api=lambda w, who: api_allows(
            w,
            who,
            "post",
            f"/api/v1/pairings/{w.ids['parent']}/mandates/",
            {"year": 2012, "funds_required": "1", "reason": "协商"},
        ),
    ),
    "mandate_allocate": Case(
        allowed=roles(NC, AO),
        policy=lambda w, u: pairing_policy.may_set_mandate(u, w.pairing("child")),
        service=lambda w, u: pairing_services.mandate_set(
            by=u, pairing=w.pairing("child"), year=2012, funds_required="1", reason="分配"
        ),
        page=lambda w, who: offered(
            w,
            who,
            reverse("pairings:pairing_detail", args=[w.ids["child"]]),
            href("pairings:mandate_set", w.ids["child"]),
        ),
        api=lambda w, who: api_allows(
            w,
            who,
            "post",
            f"/api/v1/pairings/{w.ids['child']}/mandates/",
            {"year": 2012, "funds_required": "1", "reason": "分配"},
        ),
    ),
    "flow": Case(
        allowed=roles(NC, AO, RO),
        policy=lambda w, u: pairing_policy.may_record_flow(u, w.pairing("parent"), "disbursement"),
        service=lambda w, u: pairing_services.fund_flow_record(
            by=u, pairing=w.pairing("parent"), kind="disbursement", amount="1", date=TODAY, source=FlowSource.values[0]
        ),
        page=lambda w, who: offered(
            w,
            who,
            reverse("pairings:pairing_detail", args=[w.ids["parent"]]),
            href("pairings:flow_create", w.ids["parent"]),
        ),
        api=lambda w, who: api_allows(
            w,
            who,
            "post",
            "/api/v1/fund-flows/",
            {"pairing": w.ids["parent"], "kind": "disbursement", "amount": "1", "date": str(TODAY)},
        ),
    ),
    "flow_commitment": Case(
        allowed=roles(NC, AO),
        policy=lambda w, u: pairing_policy.may_record_flow(u, w.pairing("parent"), "commitment"),
        service=lambda w, u: pairing_services.fund_flow_record(
            by=u, pairing=w.pairing("parent"), kind="commitment", amount="1", date=TODAY, source=FlowSource.values[0]
        ),
        api=lambda w, who: api_allows(
            w,
            who,
            "post",
            "/api/v1/fund-flows/",
            {
                "pairing": w.ids["parent"],
                "kind": "commitment",
                "amount": "1",
                "date": str(TODAY),
                "source": FlowSource.values[0],
            },
        ),
    ),
    "deployment": Case(
        allowed=roles(NC, AO, RO),
        policy=lambda w, u: pairing_policy.may_record_deployment(u, w.pairing("parent")),
        service=lambda w, u: pairing_services.deployment_record(
            by=u, pairing=w.pairing("parent"), kind=DeploymentKind.values[0], headcount=1, start_date=TODAY
        ),
        page=lambda w, who: offered(
            w,
            who,
            reverse("pairings:pairing_detail", args=[w.ids["parent"]]),
            href("pairings:deployment_create", w.ids["parent"]),
        ),
        api=lambda w, who: api_allows(w, who, "post", "/api/v1/deployments/"),
    ),
    "training": Case(
        allowed=roles(NC, AO, RO),
        policy=lambda w, u: pairing_policy.may_record_training(u, w.pairing("parent")),
        service=lambda w, u: pairing_services.training_record(
            by=u, pairing=w.pairing("parent"), topic="培训", people_trained=1, days="1", start_date=TODAY
        ),
        page=lambda w, who: offered(
            w,
            who,
            reverse("pairings:pairing_detail", args=[w.ids["parent"]]),
            href("pairings:training_create", w.ids["parent"]),
        ),
        api=lambda w, who: api_allows(w, who, "post", "/api/v1/trainings/"),
    ),
    "revenue": Case(
        allowed=roles(NC, AO),
        policy=lambda w, u: pairing_policy.may_record_revenue(u, w.users[AO].organization),
        service=lambda w, u: pairing_services.fiscal_revenue_record(
            by=u, organization=w.users[AO].organization, year=2019, amount="1"
        ),
        page=lambda w, who: offered(w, who, reverse("pairings:revenue_list"), 'id="revenue-form"'),
        api=lambda w, who: api_allows(
            w, who, "post", "/api/v1/fiscal-revenues/", {"organization": w.ids["gd"], "year": 2019, "amount": "1"}
        ),
    ),
    "programme": Case(
        allowed=roles(NC),
        policy=lambda w, u: pairing_policy.may_manage_programmes(u),
        service=lambda w, u: pairing_services.program_create(
            by=u, code="tibet-1994", name="对口援藏", model="development", start_year=1994
        ),
        api=lambda w, who: api_allows(w, who, "post", "/api/v1/programs/"),
    ),
    # --- evaluation ---
    "evaluation_run": Case(
        allowed=roles(NC, EVALUATOR),
        policy=lambda w, u: evaluation_policy.may_run(u),
        service=lambda w, u: evaluation_services.run_start(
            program=Program.objects.get(pk=w.ids["program"]), year=2012, by=u
        ),
        page=lambda w, who: offered(w, who, reverse("evaluation:run_list"), 'id="run-start-form"'),
        api=lambda w, who: api_allows(w, who, "post", "/api/v1/evaluation/runs/"),
    ),
    "framework": Case(
        allowed=roles(NC),
        policy=lambda w, u: evaluation_policy.may_revise_framework(u),
        service=lambda w, u: evaluation_services.framework_revise(
            program=Program.objects.get(pk=w.ids["program"]), by=u, indicators=[], reason=""
        ),
        page=lambda w, who: offered(w, who, reverse("evaluation:framework_list"), 'data-action="revise"'),
        api=lambda w, who: api_allows(w, who, "post", "/api/v1/evaluation/frameworks/"),
    ),
    "expert_score": Case(
        allowed=roles(EVALUATOR),
        policy=lambda w, u: evaluation_policy.may_score(u, w.project(State.ACCEPTED)),
        service=lambda w, u: evaluation_services.expert_score_set(
            project=w.project(State.ACCEPTED), by=u, indicator_code="quality", score=80, comment="质量好"
        ),
        page=lambda w, who: offered(
            w, who, reverse("evaluation:project_assess", args=[w.ids[State.ACCEPTED]]), 'id="expert-scores"'
        ),
        api=lambda w, who: api_allows(w, who, "post", "/api/v1/evaluation/expert-scores/"),
    ),
    "rating": Case(
        allowed=roles(RO),
        policy=lambda w, u: evaluation_policy.may_rate(u, w.project(State.ACCEPTED)),
        service=lambda w, u: evaluation_services.satisfaction_rate(project=w.project(State.ACCEPTED), by=u, score=4),
        page=lambda w, who: offered(
            w, who, reverse("evaluation:project_assess", args=[w.ids[State.ACCEPTED]]), 'id="rating-form"'
        ),
        api=lambda w, who: api_allows(w, who, "post", "/api/v1/evaluation/satisfaction-ratings/"),
    ),
    # --- organizations and users ---
    "users": Case(
        allowed=roles(NC),
        policy=lambda w, u: accounts_policy.may_manage_users(u),
        service=lambda w, u: accounts_services.user_create(
            by=u,
            username="m-new",
            organization=w.users[AO].organization,
            roles=[Role.OBSERVER],
            password="a-long-enough-passphrase-42",
        ),
        page=lambda w, who: offered(w, who, reverse("core:dashboard"), href("accounts:directory")),
        api=lambda w, who: api_allows(w, who, "post", "/api/v1/users/"),
    ),
    "organizations": Case(
        allowed=roles(NC),
        policy=lambda w, u: accounts_policy.may_manage_organizations(u),
        service=lambda w, u: accounts_services.organization_create(by=u, name="新机构", kind=OrganizationKind.AGENCY),
        page=lambda w, who: offered(w, who, reverse("accounts:directory"), href("accounts:organization_create")),
        api=lambda w, who: api_allows(w, who, "post", "/api/v1/organizations/"),
    ),
}


@pytest.mark.parametrize("action", list(CASES))
@pytest.mark.parametrize("who", WHO)
def test_the_page_the_api_and_the_service_give_each_role_the_same_answer(matrix, who, action):
    case = CASES[action]
    user = matrix.users[who]
    expected = who in case.allowed

    answers = {"policy": bool(case.policy(matrix, user))}
    if case.page is not None:
        answers["page"] = case.page(matrix, who)
    if case.api is not None:
        answers["api"] = case.api(matrix, who)
    answers["service"] = service_allows(lambda: case.service(matrix, user))

    assert answers == dict.fromkeys(answers, expected), f"{who} may {'' if expected else 'not '}{action}"


def test_every_lifecycle_action_is_in_the_matrix():
    assert set(project_policy.ACTIONS) <= set(CASES)
