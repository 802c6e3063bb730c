"""The project pages: scoped like the API (out of scope is 404 everywhere), a list that filters and sorts,
forms that keep what was typed and say what is wrong on the field, action pages that confirm, perform and
refuse plainly, supervision records with uploads checked before storage, each role's tasks, and pages whose
query count does not grow with rows."""

import datetime as dt
import struct
import zlib
from decimal import Decimal

import pytest
from django.contrib.messages import WARNING, get_messages
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts.models import Role
from core.models import HistoryEvent
from pairings import services as pairing_services
from projects import selectors, services
from projects.models import Document, Inspection, ProgressReport, Project, Rectification, State
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


def png_bytes(size: int = 2) -> bytes:
    """A real (tiny) PNG: signature, header, one compressed image chunk, end."""

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\xd0\x21\x2a" * size for _ in range(size))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def png_upload(name: str = "site.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def stored_files(path: str = "") -> set[str]:
    """Every file name under PATH in the default storage (in memory for the tests)."""
    try:
        dirs, files = default_storage.listdir(path)
    except FileNotFoundError:
        return set()
    found = {f"{path}/{f}".lstrip("/") for f in files}
    for d in dirs:
        found |= stored_files(f"{path}/{d}".lstrip("/"))
    return found


def events(project: Project, action: str) -> list[HistoryEvent]:
    return list(HistoryEvent.objects.for_object(project).filter(action=action))


def warnings_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if m.level == WARNING]


def ready(by, pairing, location, title: str) -> Project:
    """A draft that passes the readiness check."""
    return services.project_create(
        by=by,
        pairing=pairing,
        title=title,
        category="collaborative",
        sector="employment",
        location=location,
        budget_requested=Decimal("5000000"),
        planned_start=dt.date(2024, 3, 1),
        planned_end=dt.date(2024, 12, 31),
    )


# --- projects in each state of the walk ----------------------------------------------------------------------


@pytest.fixture
def proposed(draft, world) -> Project:
    return services.project_submit(project=draft, by=world.assisting)


@pytest.fixture
def approved(proposed, approver) -> Project:
    return services.project_approve(project=proposed, by=approver)


@pytest.fixture
def building(approved, world) -> Project:
    return services.project_start(project=approved, by=world.assisting, actual_start=dt.date(2024, 3, 10))


@pytest.fixture
def completed(building, world) -> Project:
    services.progress_report_submit(
        by=world.assisting,
        project=building,
        period_end=dt.date(2025, 6, 30),
        physical_progress=100,
        spend_to_date=Decimal("11800000"),
    )
    return services.project_complete(project=building, by=world.assisting, actual_end=dt.date(2025, 6, 30))


@pytest.fixture
def records(building, world, supervisor):
    """A project in construction with a pending report, a failed routine inspection with an open
    rectification, and a document: something behind every URL of the project."""
    report = services.progress_report_submit(
        by=world.assisting,
        project=building,
        period_end=dt.date(2024, 6, 30),
        physical_progress=40,
        spend_to_date=Decimal("4000000"),
    )
    inspection = services.inspection_record(
        by=supervisor,
        project=building,
        date=dt.date(2024, 7, 1),
        kind="routine",
        result="failed",
        findings="脚手架未设防护网",
        rectifications=[{"finding": "加设防护网", "deadline": dt.date(2024, 7, 15)}],
    )
    document = services.document_upload(
        by=world.assisting, project=building, upload=png_upload("foundation.png"), kind="photo"
    )
    return {
        "project": building,
        "report": report,
        "inspection": inspection,
        "rectification": inspection.rectifications.get(),
        "document": document,
    }


# --- scope ---------------------------------------------------------------------------------------------------


def test_the_list_shows_each_official_the_projects_of_their_pairings_only(client, world, pw, draft):
    theirs = services.project_create(by=world.outsider, pairing=pw.jiashi, title="伽师县农村供水工程")

    html = login(client, world.outsider).get("/projects/").content.decode()
    assert theirs.code in html
    assert draft.code not in html

    for user in (world.assisting, world.recipient):
        html = login(client, user).get("/projects/").content.decode()
        assert draft.code in html
        assert theirs.code not in html

    html = login(client, world.coordinator).get("/projects/").content.decode()
    assert draft.code in html
    assert theirs.code in html


@pytest.mark.parametrize(
    "path",
    [
        "/projects/{pk}/",
        "/projects/{pk}/edit/",
        "/projects/{pk}/act/submit/",
        "/projects/{pk}/act/suspend/",
        "/projects/{pk}/act/cancel/",
        "/projects/{pk}/progress/new/",
        "/projects/{pk}/inspections/new/",
        "/projects/{pk}/documents/new/",
        "/projects/{pk}/documents/{document}/",
        "/projects/{pk}/progress/{report}/review/",
        "/projects/{pk}/rectifications/{rectification}/close/",
    ],
)
def test_the_outsider_gets_404_on_every_page_of_a_project_out_of_scope(client, world, records, path):
    url = path.format(
        pk=records["project"].pk,
        document=records["document"].pk,
        report=records["report"].pk,
        rectification=records["rectification"].pk,
    )
    assert login(client, world.outsider).get(url).status_code == 404
    assert client.post(url, {"comment": "越权操作", "note": "越权"}).status_code == 404
    assert login(client, world.coordinator).get(url).status_code == 200
    # Nothing the outsider tried left a trace.
    project = Project.objects.get(pk=records["project"].pk)
    assert project.state == State.IN_CONSTRUCTION
    assert not HistoryEvent.objects.for_object(project).filter(actor=world.outsider).exists()


def test_an_unknown_action_is_404(client, world, draft):
    assert login(client, world.assisting).get(f"/projects/{draft.pk}/act/demolish/").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, draft):
    response = client.get(f"/projects/{draft.pk}/")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- the list: filters and sorting ---------------------------------------------------------------------------


@pytest.fixture
def listed(world, pw):
    """Four projects that differ in every filtered and sorted column, in two programmes and two pairings."""
    other = pairing_services.program_create(
        by=None,
        code="sichuan-2008",
        name="汶川地震灾后恢复重建对口支援",
        name_en="Wenchuan reconstruction",
        model="disaster_response",
        start_year=2008,
        end_year=2011,
    )
    relief = pairing_services.pairing_create(
        by=None,
        program=other,
        assisting_organization=world.guangdong_gov,
        recipient_region=world.jiashi,
        start_date=dt.date(2008, 6, 1),
    )
    rows = [
        # title, pairing, category, sector, budget requested, approved, planned start, state
        ("疏附县第二中学教学楼", pw.shufu, "infrastructure", "education", "3000000", None, dt.date(2021, 3, 1), "draft"),
        ("疏附县人民医院住院楼", pw.shufu, "non_reimbursable", "health", "9000000", "1000000", dt.date(2022, 5, 1), "approved"),
        ("伽师县安居富民房", pw.jiashi, "non_reimbursable", "housing", "5000000", None, dt.date(2021, 9, 1), "proposed"),
        ("伽师县灾后重建学校", relief, "collaborative", "education", "7000000", "7000000", dt.date(2023, 1, 1), "in_construction"),
    ]  # fmt: skip
    made = []
    for i, (title, pairing, category, sector, requested, approved_budget, start, state) in enumerate(rows):
        p = services.project_create(
            by=None,
            pairing=pairing,
            title=title,
            category=category,
            sector=sector,
            budget_requested=Decimal(requested),
            planned_start=start,
            planned_end=start + dt.timedelta(days=400),
        )
        Project.objects.filter(pk=p.pk).update(
            state=state,
            approved_budget=approved_budget,
            created_at=timezone.now() - dt.timedelta(days=10 * (i + 1)),
        )
        made.append(Project.objects.get(pk=p.pk))
    return made


def codes(response) -> list[str]:
    assert response.status_code == 200
    return [p.code for p in response.context["page"].object_list]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", [0, 1, 2, 3]),
        ("program=xinjiang-2010", [0, 1, 2]),
        ("program=sichuan-2008", [3]),
        ("state=approved", [1]),
        ("category=non_reimbursable", [1, 2]),
        ("sector=education", [0, 3]),
        ("region=653121", [0, 1]),
        ("region=653129", [2, 3]),
        ("region=653100", [0, 1, 2, 3]),
        ("year=2021", [0, 2]),
        ("year=1999", []),
        ("search=伽师县", [2, 3]),
        ("search=住院", [1]),
        ("sector=education&year=2023", [3]),
    ],
)
def test_the_list_filters_by_programme_state_category_sector_region_year_and_text(
    client, world, listed, query, expected
):
    response = login(client, world.coordinator).get(f"/projects/?{query}")
    assert sorted(codes(response)) == sorted(listed[i].code for i in expected)


def test_the_text_search_finds_a_project_by_its_code(client, world, listed):
    response = login(client, world.coordinator).get(f"/projects/?search={listed[2].code.lower()}")
    assert codes(response) == [listed[2].code]


def test_the_pairing_filter_keeps_to_one_pairing(client, world, pw, listed):
    response = login(client, world.coordinator).get(f"/projects/?pairing={pw.jiashi.pk}")
    assert codes(response) == [listed[2].code]


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("code", lambda p: p.code),
        ("title", lambda p: p.title),
        ("state", lambda p: p.state),
        # The column shows the approved budget where there is one, so it sorts by what it shows.
        ("budget", lambda p: p.approved_budget if p.approved_budget is not None else p.budget_requested),
        ("start", lambda p: p.planned_start),
        ("created", lambda p: p.created_at),
    ],
)
@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
def test_every_sortable_column_sorts_both_ways(client, world, listed, sort, key, descending):
    response = login(client, world.coordinator).get(f"/projects/?sort={'-' if descending else ''}{sort}")
    expected = [p.code for p in sorted(listed, key=key, reverse=descending)]
    assert codes(response) == expected
    if sort != "created":  # the default order has no column of its own
        # The header links to the opposite direction and marks the current one.
        html = response.content.decode()
        assert f"sort={'' if descending else '-'}{sort}" in html
        assert ("▼" if descending else "▲") in html


@pytest.mark.parametrize("sort", ["budget", "-budget", "start", "-start"])
def test_a_project_without_budget_or_start_sorts_last_both_ways(client, world, pw, listed, sort):
    bare = services.project_create(by=None, pairing=pw.shufu, title="疏附县尚未估算的项目")
    assert codes(login(client, world.coordinator).get(f"/projects/?sort={sort}"))[-1] == bare.code


def test_the_newest_projects_come_first_by_default_and_an_unknown_sort_falls_back(client, world, listed):
    login(client, world.coordinator)
    assert codes(client.get("/projects/")) == [p.code for p in listed]
    assert codes(client.get("/projects/?sort=-password")) == [p.code for p in listed]


def test_filters_are_kept_in_the_sort_links(client, world, listed):
    html = login(client, world.coordinator).get("/projects/?sector=education&search=县").content.decode()
    assert "sector=education&search=%E5%8E%BF&sort=code" in html


# --- creating and editing ------------------------------------------------------------------------------------


def test_an_officer_creates_a_draft_in_the_page(client, world, pw):
    response = login(client, world.assisting).post(
        "/projects/new/",
        {
            "title": "疏附县托万克乡卫生院",
            "pairing": pw.shufu.pk,
            "category": "non_reimbursable",
            "sector": "health",
            "execution_mode": "turnkey",
            "location": "653121",
            "budget_requested": "8500000",
            "planned_start": "2024-04-01",
            "planned_end": "2025-03-31",
            "expected_beneficiaries": "30000",
            "is_livelihood": "on",
        },
    )
    project = Project.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{project.pk}/"
    assert (project.state, project.created_by, project.location, project.budget_requested) == (
        State.DRAFT,
        world.assisting,
        world.shufu,
        Decimal("8500000.00"),
    )
    assert project.is_livelihood
    assert not project.is_self_sustaining
    assert project.code.startswith("XIN-")
    assert [e.actor for e in events(project, "created")] == [world.assisting]
    assert services.readiness_problems(project) == []


def test_a_location_outside_the_recipient_region_shows_on_location_and_keeps_what_was_typed(client, world, pw):
    response = login(client, world.assisting).post(
        "/projects/new/",
        {
            "title": "疏附县村级幼儿园",
            "pairing": pw.shufu.pk,
            "category": "non_reimbursable",
            "sector": "education",
            "execution_mode": "turnkey",
            "location": world.jiashi.code,
            "budget_requested": "2400000",
            "planned_start": "2024-04-01",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["location"]
    assert "Shufu County" in str(form.errors["location"])
    html = response.content.decode()
    assert 'value="疏附县村级幼儿园"' in html
    assert 'value="2400000"' in html
    assert 'value="2024-04-01"' in html
    assert 'id="id_location_errors"' in html
    assert not Project.objects.exists()


def test_every_mistake_of_a_new_project_shows_after_one_submit(client, world, pw):
    """The form's own refusals (no title, a negative count) and the service's rules (the dates' order, the location
    within the recipient region) come back together, with what was typed kept."""
    response = login(client, world.assisting).post(
        "/projects/new/",
        {
            "title": "",
            "pairing": pw.shufu.pk,
            "execution_mode": "turnkey",
            "location": world.jiashi.code,
            "expected_beneficiaries": "-5",
            "budget_requested": "2400000",
            "planned_start": "2025-01-01",
            "planned_end": "2024-01-01",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"title", "expected_beneficiaries", "planned_end", "location"}
    assert "Shufu County" in str(errors["location"])
    html = response.content.decode()
    assert 'value="2400000"' in html
    assert 'value="2025-01-01"' in html
    assert not Project.objects.exists()


def test_every_mistake_of_an_edit_shows_after_one_submit(client, world, draft):
    response = login(client, world.assisting).post(
        f"/projects/{draft.pk}/edit/",
        {
            "title": "",
            "execution_mode": "turnkey",
            "location": world.jiashi.code,
            "planned_start": "2025-01-01",
            "planned_end": "2024-01-01",
        },
    )
    assert response.status_code == 200
    assert {"title", "planned_end", "location"} <= set(response.context["form"].errors)


def test_an_unknown_region_code_is_named_on_location(client, world, pw):
    response = login(client, world.assisting).post(
        "/projects/new/",
        {
            "title": "疏附县道路",
            "pairing": pw.shufu.pk,
            "execution_mode": "turnkey",
            "location": "999999",
            "planned_start": "2025-01-01",
            "planned_end": "2024-01-01",
        },
    )
    assert response.status_code == 200
    assert "999999" in str(response.context["form"].errors["location"])
    assert not Project.objects.exists()


def test_the_outsider_cannot_create_a_project_in_anothers_pairing(client, world, pw):
    response = login(client, world.outsider).post(
        "/projects/new/", {"title": "越权项目", "pairing": pw.shufu.pk, "execution_mode": "turnkey"}
    )
    assert response.status_code == 200
    assert "pairing" in response.context["form"].errors
    assert not Project.objects.exists()


def test_a_user_without_an_officers_role_is_refused(client, world, pw, approver):
    response = login(client, approver).post(
        "/projects/new/", {"title": "审批人的项目", "pairing": pw.shufu.pk, "execution_mode": "turnkey"}
    )
    assert response.status_code == 403
    assert not Project.objects.exists()


FORM_FIELDS = set(services.DESCRIPTIVE | {"reached_beneficiaries"}) - {"latitude", "longitude", "funding_sources"}


@pytest.mark.parametrize("state", [s for s in State.values if services.EDITABLE[s]])
def test_edit_shows_exactly_the_fields_the_state_allows(client, world, draft, state):
    Project.objects.filter(pk=draft.pk).update(state=state)
    response = login(client, world.assisting).get(f"/projects/{draft.pk}/edit/")
    assert response.status_code == 200
    assert set(response.context["form"].fields) == services.EDITABLE[state] & FORM_FIELDS


@pytest.mark.parametrize("state", [s for s in State.values if not services.EDITABLE[s]])
def test_a_state_that_allows_no_change_sends_the_user_back_with_a_message(client, world, draft, state):
    Project.objects.filter(pk=draft.pk).update(state=state)
    response = login(client, world.assisting).get(f"/projects/{draft.pk}/edit/", follow=True)
    assert response.redirect_chain == [(f"/projects/{draft.pk}/", 302)]
    assert any("edit" in str(m).lower() for m in response.context["messages"])


def test_editing_a_draft_records_what_changed(client, world, draft):
    response = login(client, world.assisting).post(
        f"/projects/{draft.pk}/edit/",
        {
            "title": "疏附县第二中学教学楼及运动场",
            "category": "infrastructure",
            "sector": "education",
            "execution_mode": "turnkey",
            "location": "653121",
            "budget_requested": "13000000",
            "planned_start": "2024-03-01",
            "planned_end": "2025-08-31",
            "expected_beneficiaries": "2400",
            "is_livelihood": "on",
        },
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.title, draft.budget_requested) == ("疏附县第二中学教学楼及运动场", Decimal("13000000.00"))
    [event] = events(draft, "updated")
    assert set(event.changes) == {"title", "budget_requested"}


def test_editing_a_draft_with_a_location_outside_keeps_the_input(client, world, draft):
    response = login(client, world.assisting).post(
        f"/projects/{draft.pk}/edit/",
        {"title": "改过的标题", "execution_mode": "turnkey", "location": world.jiashi.code},
    )
    assert response.status_code == 200
    assert "location" in response.context["form"].errors
    assert 'value="改过的标题"' in response.content.decode()
    draft.refresh_from_db()
    assert draft.title == "疏附县第二中学教学楼"
    assert draft.location == world.shufu


def test_a_project_in_construction_changes_only_what_the_state_allows(client, world, building):
    response = login(client, world.assisting).post(
        f"/projects/{building.pk}/edit/",
        {
            "planned_end": "2025-12-31",
            "implementing_agency": "疏附县教育局",
            "reached_beneficiaries": "1200",
            "title": "换个标题",
            "budget_requested": "1",
        },
    )
    assert response.status_code == 302
    building.refresh_from_db()
    assert (building.planned_end, building.implementing_agency, building.reached_beneficiaries) == (
        dt.date(2025, 12, 31),
        "疏附县教育局",
        1200,
    )
    assert (building.title, building.budget_requested) == ("疏附县第二中学教学楼", Decimal("12000000.00"))


def test_an_accepted_project_records_the_beneficiaries_reached(client, world, draft):
    Project.objects.filter(pk=draft.pk).update(state=State.ACCEPTED)
    response = login(client, world.assisting).post(f"/projects/{draft.pk}/edit/", {"reached_beneficiaries": "2350"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.reached_beneficiaries == 2350


# --- the project page ----------------------------------------------------------------------------------------


def test_the_page_offers_each_user_the_actions_they_may_take(client, world, proposed, approver):
    html = login(client, approver).get(f"/projects/{proposed.pk}/").content.decode()
    for action in ("approve", "reject", "return", "cancel"):
        assert f'data-action="{action}"' in html
    assert 'data-action="submit"' not in html

    # The proposer sees the project but not the approval.
    html = login(client, world.assisting).get(f"/projects/{proposed.pk}/").content.decode()
    assert 'id="project-state"' in html
    assert 'data-action="approve"' not in html


def test_the_page_shows_money_progress_supervision_documents_and_the_timeline(client, world, records):
    project = records["project"]
    pairing_services.fund_flow_record(
        by=None,
        pairing=project.pairing,
        project_id=project.pk,
        kind="disbursement",
        amount="6000000",
        date=dt.date(2024, 5, 1),
        source="assisting_fiscal",
    )
    response = login(client, world.assisting).get(f"/projects/{project.pk}/")
    assert response.status_code == 200
    money = response.context["money"]
    assert (money.budget, money.disbursed) == (Decimal("12000000.00"), Decimal("6000000.00"))
    html = response.content.decode()
    assert "40 %" in html
    assert "脚手架未设防护网" in html
    assert "加设防护网" in html
    assert f"/projects/{project.pk}/documents/{records['document'].pk}/" in html
    timeline = [e.action for e in response.context["history"]]
    assert timeline[:3] == ["document_added", "inspected", "progress_reported"]
    assert timeline[-1] == "created"


# --- actions -------------------------------------------------------------------------------------------------


def test_submit_confirmation_lists_every_readiness_blocker(client, world, pw):
    bare = services.project_create(by=world.assisting, pairing=pw.shufu, title="疏附县待完善项目")
    response = login(client, world.assisting).get(f"/projects/{bare.pk}/act/submit/")
    assert response.status_code == 200
    blockers = response.context["blockers"]
    assert {b.code for b in blockers} == {
        "category_missing",
        "sector_missing",
        "budget_missing",
        "planned_start_missing",
        "planned_end_missing",
        "location_missing",
    }
    html = response.content.decode()
    for b in blockers:
        assert str(b.message) in html
    assert 'id="confirm-action"' in html

    # Submitting anyway changes nothing and says all of it again.
    response = client.post(f"/projects/{bare.pk}/act/submit/", {"comment": ""})
    assert response.status_code == 200
    assert len(response.context["form"].non_field_errors()) == len(blockers)
    bare.refresh_from_db()
    assert bare.state == State.DRAFT
    assert not events(bare, "submit")


def test_a_ready_draft_is_submitted_from_its_confirmation_page(client, world, draft):
    login(client, world.assisting)
    response = client.get(f"/projects/{draft.pk}/act/submit/")
    assert response.status_code == 200
    assert response.context["blockers"] == []
    response = client.post(f"/projects/{draft.pk}/act/submit/", {"comment": "请审批"})
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{draft.pk}/"
    draft.refresh_from_db()
    assert (draft.state, draft.proposed_by) == (State.PROPOSED, world.assisting)
    [event] = events(draft, "submit")
    assert (event.from_state, event.to_state, event.actor, event.comment) == (
        "draft",
        "proposed",
        world.assisting,
        "请审批",
    )


def test_an_approver_approves_with_a_lower_budget(client, approver, proposed):
    login(client, approver)
    page = client.get(f"/projects/{proposed.pk}/act/approve/").content.decode()
    assert 'name="approved_budget_0"' in page  # the amount, and beside it its unit
    assert 'name="approved_budget_1"' in page
    response = client.post(
        f"/projects/{proposed.pk}/act/approve/",
        {"approved_budget_0": "1000", "approved_budget_1": "wan", "comment": ""},
    )
    assert response.status_code == 302
    proposed.refresh_from_db()
    assert (proposed.state, proposed.approved_budget) == (State.APPROVED, Decimal("10000000.00"))
    [event] = events(proposed, "approve")
    assert event.changes["approved_budget"]["new"] == "10000000.00"


def test_an_approved_budget_ten_thousand_times_off_the_request_is_asked_about_first(client, approver, proposed):
    """816 typed in yuan for a request of 8 160 000 yuan (816 万元): the form shows the request, warns and saves
    nothing; the approver either switches the unit or confirms the amount."""
    proposed.budget_requested = Decimal("8160000.00")
    proposed.save(update_fields=["budget_requested"])
    login(client, approver)
    page = client.get(f"/projects/{proposed.pk}/act/approve/").content.decode()
    assert "8,160,000.00" in page and "816.00" in page  # noqa: PT018 — the request, in yuan and in 万元
    url = f"/projects/{proposed.pk}/act/approve/"
    response = client.post(url, {"approved_budget_0": "816", "approved_budget_1": "yuan", "comment": "ok"})
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["approved_budget"]
    assert "10,000" in form.errors["approved_budget"][0]
    assert 'name="confirm_amount"' in response.content.decode()
    assert 'value="816"' in response.content.decode()  # what was typed stays
    proposed.refresh_from_db()
    assert proposed.state == State.PROPOSED
    assert not events(proposed, "approve")

    # In 万元, the same figure is the request: approved.
    response = client.post(url, {"approved_budget_0": "816", "approved_budget_1": "wan", "comment": "ok"})
    assert response.status_code == 302
    proposed.refresh_from_db()
    assert (proposed.state, proposed.approved_budget) == (State.APPROVED, Decimal("8160000.00"))


def test_an_unusual_approved_budget_goes_through_once_confirmed(client, approver, proposed):
    proposed.budget_requested = Decimal("8160000.00")
    proposed.save(update_fields=["budget_requested"])
    login(client, approver)
    url = f"/projects/{proposed.pk}/act/approve/"
    body = {"approved_budget_0": "500000", "approved_budget_1": "yuan", "comment": "只批复一期"}
    assert client.post(url, body).status_code == 200  # 16 times smaller: asked about
    response = client.post(url, {**body, "confirm_amount": "on"})
    assert response.status_code == 302
    proposed.refresh_from_db()
    assert proposed.approved_budget == Decimal("500000.00")


def test_the_api_takes_any_approved_budget_in_yuan(approver, proposed):
    """The plausibility question is the form's: the API (in yuan, for systems) approves 816 as asked."""
    from tests.conftest import api_as

    proposed.budget_requested = Decimal("8160000.00")
    proposed.save(update_fields=["budget_requested"])
    response = api_as(approver).post(
        f"/api/v1/projects/{proposed.pk}/transitions/",
        {"action": "approve", "approved_budget": "816.00", "comment": "ok"},
        format="json",
    )
    assert response.status_code == 200, response.content
    proposed.refresh_from_db()
    assert proposed.approved_budget == Decimal("816.00")


def test_approving_above_the_request_without_a_reason_is_refused(client, approver, proposed):
    response = login(client, approver).post(
        f"/projects/{proposed.pk}/act/approve/", {"approved_budget": "15000000", "comment": ""}
    )
    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["comment"]
    proposed.refresh_from_db()
    assert proposed.state == State.PROPOSED
    assert not events(proposed, "approve")

    # With the reason in the comment, it goes through.
    response = client.post(
        f"/projects/{proposed.pk}/act/approve/", {"approved_budget": "15000000", "comment": "物价上涨，追加投资"}
    )
    assert response.status_code == 302
    proposed.refresh_from_db()
    assert (proposed.state, proposed.approved_budget) == (State.APPROVED, Decimal("15000000.00"))


def test_an_approver_approving_their_own_proposal_gets_403(client, world, pw):
    both = UserFactory(
        username="officer_approver", organization=world.guangdong_gov, roles=[Role.ASSISTING_OFFICER, Role.APPROVER]
    )
    project = ready(both, pw.shufu, world.shufu, "疏附县职业技术学校实训楼")
    services.project_submit(project=project, by=both)
    login(client, both)
    assert 'data-action="approve"' not in client.get(f"/projects/{project.pk}/").content.decode()
    response = client.post(f"/projects/{project.pk}/act/approve/", {"approved_budget": "", "comment": ""})
    assert response.status_code == 403
    project.refresh_from_db()
    assert project.state == State.PROPOSED
    assert project.approved_budget is None
    assert not events(project, "approve")


def test_a_role_that_may_not_act_gets_403(client, world, proposed):
    response = login(client, world.recipient).post(f"/projects/{proposed.pk}/act/approve/", {"comment": ""})
    assert response.status_code == 403
    proposed.refresh_from_db()
    assert proposed.state == State.PROPOSED


@pytest.fixture
def actor_for(world, approver, supervisor):
    return {
        "reject": approver,
        "return": approver,
        "cancel": approver,
        "suspend": supervisor,
        "resume": world.assisting,
    }


@pytest.mark.parametrize(
    ("action", "start_state", "end_state"),
    [
        ("reject", "proposed", "rejected"),
        ("return", "proposed", "draft"),
        ("cancel", "approved", "cancelled"),
        ("suspend", "in_construction", "suspended"),
        ("resume", "suspended", "in_construction"),
    ],
)
def test_an_action_that_needs_a_comment_confirms_refuses_without_it_and_performs_with_it(
    client, draft, actor_for, action, start_state, end_state
):
    Project.objects.filter(pk=draft.pk).update(state=start_state, proposed_by=None)
    url = f"/projects/{draft.pk}/act/{action}/"
    login(client, actor_for[action])

    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="confirm-action"' in html
    assert 'name="comment"' in html
    assert draft.code in html

    refused = client.post(url, {"comment": "   "})
    assert refused.status_code == 200
    assert "comment" in refused.context["form"].errors
    draft.refresh_from_db()
    assert draft.state == start_state
    assert not events(draft, action)

    done = client.post(url, {"comment": "资金未落实"})
    assert done.status_code == 302
    draft.refresh_from_db()
    assert draft.state == end_state
    [event] = events(draft, action)
    assert (event.from_state, event.to_state, event.comment, event.actor) == (
        start_state,
        end_state,
        "资金未落实",
        actor_for[action],
    )


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("submit", {"comment": ""}),
        ("approve", {"approved_budget": "", "comment": ""}),
        ("reject", {"comment": "已经批过了"}),
        ("cancel", {"comment": "已经批过了"}),
    ],
)
def test_a_post_after_the_state_moved_on_redirects_with_a_warning_and_changes_nothing(
    client, world, approved, approver, action, data
):
    # The page was opened while the project was still a draft or a proposal; by the time the
    # form is sent, the project has been built and completed.
    Project.objects.filter(pk=approved.pk).update(state=State.COMPLETED)
    before = HistoryEvent.objects.for_object(approved).count()
    user = world.assisting if action == "submit" else approver
    response = login(client, user).post(f"/projects/{approved.pk}/act/{action}/", data)
    assert response.status_code == 302
    assert response["Location"] == f"/projects/{approved.pk}/"
    [warning] = warnings_of(response)
    with translation.override("en"):
        assert str(State.COMPLETED.label) in warning
    approved.refresh_from_db()
    assert approved.state == State.COMPLETED
    assert HistoryEvent.objects.for_object(approved).count() == before


def test_start_records_the_actual_start_and_refuses_a_future_one(client, world, approved):
    login(client, world.assisting)
    url = f"/projects/{approved.pk}/act/start/"
    assert f'value="{timezone.localdate():%Y-%m-%d}"' in client.get(url).content.decode()
    future = timezone.localdate() + dt.timedelta(days=3)
    response = client.post(url, {"actual_start": f"{future:%Y-%m-%d}", "comment": ""})
    assert response.status_code == 200
    assert "actual_start" in response.context["form"].errors
    response = client.post(url, {"actual_start": "2024-03-10", "comment": ""})
    assert response.status_code == 302
    approved.refresh_from_db()
    assert (approved.state, approved.actual_start) == (State.IN_CONSTRUCTION, dt.date(2024, 3, 10))
    assert events(approved, "start")[0].changes["actual_start"]["new"] == "2024-03-10"


def test_complete_needs_a_report_at_100_percent(client, world, building):
    login(client, world.assisting)
    url = f"/projects/{building.pk}/act/complete/"
    response = client.post(url, {"actual_end": "2025-06-30", "comment": ""})
    assert response.status_code == 200
    assert "100" in " ".join(response.context["form"].non_field_errors())
    building.refresh_from_db()
    assert building.state == State.IN_CONSTRUCTION

    services.progress_report_submit(
        by=world.assisting,
        project=building,
        period_end=dt.date(2025, 6, 30),
        physical_progress=100,
        spend_to_date=Decimal("11800000"),
    )
    assert client.post(url, {"actual_end": "2025-06-30", "comment": ""}).status_code == 302
    building.refresh_from_db()
    assert (building.state, building.actual_end) == (State.COMPLETED, dt.date(2025, 6, 30))


def test_acceptance_needs_a_passed_inspection_and_no_open_rectification_and_a_failed_one_reopens(
    client, supervisor, completed
):
    login(client, supervisor)
    accept = f"/projects/{completed.pk}/act/accept/"
    assert client.get(accept).status_code == 200
    response = client.post(accept, {"comment": ""})
    assert response.status_code == 200
    assert len(response.context["form"].non_field_errors()) == 1

    services.inspection_record(
        by=supervisor,
        project=completed,
        date=timezone.localdate(),
        kind="acceptance",
        result="failed",
        findings="外墙渗水",
        rectifications=[{"finding": "外墙防水重做", "deadline": timezone.localdate() + dt.timedelta(days=20)}],
    )
    response = client.post(accept, {"comment": ""})
    assert len(response.context["form"].non_field_errors()) == 2  # not passed, and a rectification open
    completed.refresh_from_db()
    assert completed.state == State.COMPLETED
    assert not events(completed, "accept")

    assert client.post(f"/projects/{completed.pk}/act/reopen/", {"comment": "返工"}).status_code == 302
    completed.refresh_from_db()
    assert (completed.state, completed.actual_end) == (State.IN_CONSTRUCTION, None)
    [event] = events(completed, "reopen")
    assert event.changes["actual_end"] == {"old": "2025-06-30", "new": None}


def test_evaluate_is_not_taken_from_the_page(client, world, draft):
    Project.objects.filter(pk=draft.pk).update(state=State.ACCEPTED)
    evaluator = UserFactory(username="evaluator1", organization=world.national_office, roles=[Role.EVALUATOR])
    response = login(client, evaluator).post(f"/projects/{draft.pk}/act/evaluate/", {"comment": ""})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == State.ACCEPTED


# --- construction and supervision ----------------------------------------------------------------------------


def test_progress_is_reported_with_a_photo(client, world, building):
    before = stored_files()
    response = login(client, world.assisting).post(
        f"/projects/{building.pk}/progress/new/",
        {
            "period_end": "2024-09-30",
            "physical_progress": "65",
            "spend_to_date": "7200000",
            "narrative": "主体结构封顶",
            "photo": png_upload("topping-out.png"),
        },
    )
    assert response.status_code == 302
    report = ProgressReport.objects.get()
    assert (report.physical_progress, report.spend_to_date, report.reported_by) == (
        65,
        Decimal("7200000.00"),
        world.assisting,
    )
    [photo] = report.photos.all()
    assert (photo.kind, photo.content_type, photo.size) == ("photo", "image/png", len(png_bytes()))
    assert photo.file.read() == png_bytes()
    assert stored_files() - before == {photo.file.name}
    assert [e.action for e in HistoryEvent.objects.for_object(building)[:2]] == ["document_added", "progress_reported"]


def test_a_report_with_a_forbidden_photo_is_not_stored_at_all(client, world, building):
    before = stored_files()
    response = login(client, world.assisting).post(
        f"/projects/{building.pk}/progress/new/",
        {
            "period_end": "2024-09-30",
            "physical_progress": "65",
            "spend_to_date": "7200000",
            "photo": SimpleUploadedFile("site.exe", b"MZ\x90\x00" * 16, content_type="application/octet-stream"),
        },
    )
    assert response.status_code == 200
    assert "photo" in response.context["form"].errors
    assert 'value="7200000"' in response.content.decode()
    assert not ProgressReport.objects.exists()
    assert not Document.objects.exists()
    assert stored_files() == before
    assert not events(building, "progress_reported")


def test_a_report_with_three_errors_keeps_every_field_and_the_photo(client, world, building):
    """All three mistakes at once, everything typed kept, and the photo kept server-side: the fixed form saves the
    report with that photo without choosing it again."""
    url = f"/projects/{building.pk}/progress/new/"
    response = login(client, world.assisting).post(
        url,
        {
            "period_end": "2024-13-45",
            "physical_progress": "150",
            "spend_to_date_0": "七百万",
            "spend_to_date_1": "wan",
            "narrative": "主体结构封顶",
            "photo": png_upload("topping-out.png"),
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"period_end", "physical_progress", "spend_to_date"}
    html = response.content.decode()
    for typed in ('value="2024-13-45"', 'value="150"', 'value="七百万"', "主体结构封顶"):
        assert typed in html
    assert "topping-out.png" in html
    token = form.kept_uploads["photo"]["token"]
    assert f'name="photo_kept" value="{token}"' in html
    assert not ProgressReport.objects.exists()

    response = client.post(
        url,
        {
            "period_end": "2024-09-30",
            "physical_progress": "65",
            "spend_to_date_0": "720",
            "spend_to_date_1": "wan",
            "narrative": "主体结构封顶",
            "photo_kept": token,
        },
    )
    assert response.status_code == 302
    report = ProgressReport.objects.get()
    assert report.spend_to_date == Decimal("7200000.00")
    [photo] = report.photos.all()
    assert photo.file.read() == png_bytes()
    assert client.session["kept_uploads"] == {}  # the kept copy is gone once used


def test_a_kept_file_belongs_to_the_session_that_uploaded_it(client, world, building):
    url = f"/projects/{building.pk}/progress/new/"
    response = login(client, world.assisting).post(
        url, {"period_end": "", "physical_progress": "65", "spend_to_date": "1", "photo": png_upload("a.png")}
    )
    token = response.context["form"].kept_uploads["photo"]["token"]
    other = Client()
    other.force_login(world.assisting)  # another session, even of the same user
    other.post(url, {"period_end": "2024-09-30", "physical_progress": "65", "spend_to_date": "1", "photo_kept": token})
    report = ProgressReport.objects.get()
    assert not report.photos.exists()


def test_progress_cannot_go_backwards(client, world, records):
    project = records["project"]
    response = login(client, world.assisting).post(
        f"/projects/{project.pk}/progress/new/",
        {"period_end": "2024-09-30", "physical_progress": "30", "spend_to_date": "4500000"},
    )
    assert response.status_code == 200
    assert "40" in str(response.context["form"].errors["physical_progress"])
    assert ProgressReport.objects.count() == 1


def test_an_approver_reviews_a_report(client, approver, records):
    url = f"/projects/{records['project'].pk}/progress/{records['report'].pk}/review/"
    login(client, approver)
    assert client.get(url).status_code == 200
    response = client.post(url, {"decision": "return", "comment": ""})
    assert response.status_code == 200
    assert "comment" in response.context["form"].errors
    assert client.post(url, {"decision": "accept", "comment": "属实"}).status_code == 302
    report = ProgressReport.objects.get()
    assert (report.review_status, report.reviewed_by, report.review_comment) == ("accepted", approver, "属实")
    assert events(records["project"], "report_reviewed")


def rows(*items: tuple[str, str]) -> dict[str, str]:
    """The inspection form's rows of rectifications (a formset), as the page posts them."""
    data = {
        "rectifications-TOTAL_FORMS": str(len(items)),
        "rectifications-INITIAL_FORMS": "0",
        "rectifications-MIN_NUM_FORMS": "0",
        "rectifications-MAX_NUM_FORMS": "20",
    }
    for i, (finding, deadline) in enumerate(items):
        data |= {f"rectifications-{i}-finding": finding, f"rectifications-{i}-deadline": deadline}
    return data


def test_an_inspection_with_a_rectification(client, supervisor, building):
    login(client, supervisor)
    url = f"/projects/{building.pk}/inspections/new/"
    failed = {"date": "2024-08-01", "kind": "routine", "result": "failed", "findings": "混凝土强度不足"}
    response = client.post(url, failed | rows(("返工", "")))
    assert response.status_code == 200
    assert "deadline" in response.context["formset"].forms[0].errors
    assert not Inspection.objects.exists()

    response = client.post(url, failed | rows(("三层楼板返工", "2024-09-01"), ("", "")))
    assert response.status_code == 302
    inspection = Inspection.objects.get()
    assert (inspection.kind, inspection.result, inspection.inspector) == ("routine", "failed", supervisor)
    rect = Rectification.objects.get()
    assert (rect.inspection, rect.finding, rect.deadline, rect.closed_on, rect.status) == (
        inspection,
        "三层楼板返工",
        dt.date(2024, 9, 1),
        None,
        "open",
    )
    [event] = events(building, "inspected")
    assert event.changes["rectifications"]["new"] == 1


def test_an_inspection_orders_several_rectifications_each_with_its_deadline(client, supervisor, building):
    login(client, supervisor)
    url = f"/projects/{building.pk}/inspections/new/"
    page = client.get(url)
    assert 'name="rectifications-0-finding"' in page.content.decode()
    failed = {"date": "2024-08-01", "kind": "routine", "result": "failed", "findings": "多处问题"}
    # "Add a row" keeps what was typed and adds an empty row; nothing is checked or saved yet.
    more = client.post(url, failed | rows(("三层楼板返工", "2024-09-01")) | {"add_row": "1"})
    assert more.status_code == 200
    assert not more.context["form"].errors
    html = more.content.decode()
    assert 'name="rectifications-1-finding"' in html
    assert "三层楼板返工" in html
    assert Inspection.objects.count() == 0

    response = client.post(url, failed | rows(("三层楼板返工", "2024-09-01"), ("外墙脚手架加固", "2024-08-15")))
    assert response.status_code == 302
    assert list(Rectification.objects.order_by("deadline").values_list("finding", "deadline", "status")) == [
        ("外墙脚手架加固", dt.date(2024, 8, 15), "open"),
        ("三层楼板返工", dt.date(2024, 9, 1), "open"),
    ]
    [event] = events(building, "inspected")
    assert event.changes["rectifications"]["new"] == 2


def test_a_refused_inspection_keeps_every_row_and_shows_every_mistake_at_once(client, supervisor, building):
    response = login(client, supervisor).post(
        f"/projects/{building.pk}/inspections/new/",
        # No findings for a failed inspection, a row without a deadline, a row whose deadline is before the
        # inspection, and a correct row between them.
        {"date": "2024-08-01", "kind": "routine", "result": "failed", "findings": ""}
        | rows(("返工", ""), ("加固", "2024-08-20"), ("复测", "2024-07-01")),
    )
    assert response.status_code == 200
    form, formset = response.context["form"], response.context["formset"]
    assert set(form.errors) == {"findings"}
    assert [set(f.errors) for f in formset.forms] == [{"deadline"}, set(), {"deadline"}]
    html = response.content.decode()
    assert all(text in html for text in ("返工", "加固", "复测"))
    assert not Inspection.objects.exists()


def test_a_rectification_deadline_before_the_inspection_shows_on_the_deadline(client, supervisor, building):
    response = login(client, supervisor).post(
        f"/projects/{building.pk}/inspections/new/",
        {"date": "2024-08-01", "kind": "routine", "result": "failed", "findings": "混凝土强度不足"}
        | rows(("三层楼板返工", "2024-07-01")),
    )
    assert response.status_code == 200
    assert "deadline" in response.context["formset"].forms[0].errors
    assert not Inspection.objects.exists()
    assert not Rectification.objects.exists()


def test_an_acceptance_inspection_before_completion_is_refused_on_kind(client, supervisor, building):
    response = login(client, supervisor).post(
        f"/projects/{building.pk}/inspections/new/",
        {"date": "2024-08-01", "kind": "acceptance", "result": "passed"},
    )
    assert response.status_code == 200
    assert "kind" in response.context["form"].errors
    assert not Inspection.objects.exists()


def test_a_rectification_is_closed_with_evidence(client, supervisor, records):
    rect = records["rectification"]
    url = f"/projects/{records['project'].pk}/rectifications/{rect.pk}/close/"
    login(client, supervisor)
    page = client.get(url)
    assert page.status_code == 200
    assert "加设防护网" in page.content.decode()
    response = client.post(url, {"note": "已加设密目式安全网", "evidence": png_upload("net.png")})
    assert response.status_code == 302
    rect.refresh_from_db()
    assert (rect.closed_on, rect.closure_note, rect.closed_by) == (
        timezone.localdate(),
        "已加设密目式安全网",
        supervisor,
    )
    assert (rect.evidence.kind, rect.evidence.file.read()) == ("evidence", png_bytes())
    assert events(records["project"], "rectification_closed")
    # Closing it again is refused, and said so.
    again = client.post(url, {"note": "再次关闭"})
    assert again.status_code == 200
    assert again.context["form"].errors


def test_evidence_of_a_forbidden_type_leaves_the_rectification_open(client, supervisor, records):
    rect = records["rectification"]
    response = login(client, supervisor).post(
        f"/projects/{records['project'].pk}/rectifications/{rect.pk}/close/",
        {"note": "已整改", "evidence": SimpleUploadedFile("net.exe", b"MZ" * 40)},
    )
    assert response.status_code == 200
    assert "evidence" in response.context["form"].errors
    rect.refresh_from_db()
    assert rect.closed_on is None
    assert Document.objects.count() == 1


def test_a_document_is_attached(client, world, building):
    response = login(client, world.recipient).post(
        f"/projects/{building.pk}/documents/new/",
        {"file": png_upload("plan.png"), "kind": "report", "title": "施工总平面图"},
    )
    assert response.status_code == 302
    doc = Document.objects.get()
    assert (doc.title, doc.kind, doc.uploaded_by, doc.content_type) == (
        "施工总平面图",
        "report",
        world.recipient,
        "image/png",
    )
    assert events(building, "document_added")


@pytest.mark.parametrize(
    "upload",
    [
        pytest.param(lambda: SimpleUploadedFile("setup.exe", b"MZ\x90\x00" * 64), id="exe"),
        pytest.param(lambda: SimpleUploadedFile("photo.png", b"MZ\x90\x00" * 64), id="exe-named-png"),
        pytest.param(lambda: SimpleUploadedFile("big.png", png_bytes() + b"\0" * (1024 * 1024)), id="too-large"),
    ],
)
def test_a_refused_upload_shows_on_file_and_stores_nothing(client, world, building, monkeypatch, upload):
    monkeypatch.setattr(services, "MAX_UPLOAD_BYTES", 1024 * 1024)
    before = stored_files()
    response = login(client, world.assisting).post(
        f"/projects/{building.pk}/documents/new/", {"file": upload(), "kind": "other", "title": "附件"}
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["file"]
    assert 'id="id_file_errors"' in response.content.decode()
    assert 'value="附件"' in response.content.decode()
    assert not Document.objects.exists()
    assert stored_files() == before
    assert not events(building, "document_added")


def test_a_too_large_upload_names_the_limit(client, world, building, monkeypatch):
    monkeypatch.setattr(services, "MAX_UPLOAD_BYTES", 1024 * 1024)
    response = login(client, world.assisting).post(
        f"/projects/{building.pk}/documents/new/",
        {"file": SimpleUploadedFile("big.png", png_bytes() + b"\0" * (1024 * 1024)), "kind": "other"},
    )
    assert "1 MB" in str(response.context["form"].errors["file"])


def test_a_document_is_served_to_those_in_scope_only(client, world, records):
    doc = records["document"]
    url = f"/projects/{records['project'].pk}/documents/{doc.pk}/"
    for user in (world.assisting, world.recipient, world.coordinator):
        response = login(client, user).get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/png"
        assert b"".join(response.streaming_content) == png_bytes()
    assert login(client, world.outsider).get(url).status_code == 404
    # A document of one project is not reachable through another's URL.
    other = services.project_create(by=world.assisting, pairing=records["project"].pairing, title="另一个项目")
    assert login(client, world.assisting).get(f"/projects/{other.pk}/documents/{doc.pk}/").status_code == 404


# --- my tasks ------------------------------------------------------------------------------------------------


def tasks_of(response) -> dict[str, list]:  # type: ignore[no-untyped-def]
    """The rows of "My tasks" by kind (every kind of the user's roles, empty ones too)."""
    out: dict[str, list] = {w.key: [] for w in response.context["waiting"]}
    for kind, row in response.context["rows"]:
        out[kind.key].append(row)
    return out


def test_an_approver_sees_the_proposals_of_others_and_the_reports_to_review(client, world, pw, records):
    both = UserFactory(
        username="officer_approver", organization=world.guangdong_gov, roles=[Role.ASSISTING_OFFICER, Role.APPROVER]
    )
    waiting = services.project_submit(
        project=ready(world.assisting, pw.shufu, world.shufu, "疏附县等待审批的项目"), by=world.assisting
    )
    own = services.project_submit(project=ready(both, pw.shufu, world.shufu, "疏附县自己提出的项目"), by=both)
    elsewhere = services.project_submit(
        project=ready(world.outsider, pw.jiashi, world.jiashi, "伽师县的提案"), by=world.outsider
    )

    response = login(client, both).get("/projects/tasks/")
    assert response.status_code == 200
    tasks = tasks_of(response)
    assert [r.title.split()[0] for r in tasks["proposals"]] == [waiting.code]
    assert [r.url for r in tasks["reports"]] == [
        f"/projects/{records['project'].pk}/progress/{records['report'].pk}/review/"
    ]
    html = response.content.decode()
    assert waiting.code in html
    assert own.code not in html
    assert elsewhere.code not in html
    assert f"/projects/{records['project'].pk}/progress/{records['report'].pk}/review/" in html

    # Once reviewed, the report leaves the list.
    services.progress_report_review(by=both, report=records["report"], accept=True)
    assert tasks_of(client.get("/projects/tasks/"))["reports"] == []


def test_a_supervisor_sees_completed_projects_awaiting_acceptance_and_overdue_rectifications(
    client, world, pw, supervisor, records
):
    finished = ready(world.assisting, pw.shufu, world.shufu, "疏附县已完工的项目")
    Project.objects.filter(pk=finished.pk).update(state=State.COMPLETED)
    # records' rectification (deadline 2024-07-15) is overdue; a second one, not yet due, is not listed.
    services.inspection_record(
        by=supervisor,
        project=records["project"],
        date=timezone.localdate(),
        kind="routine",
        result="failed",
        findings="安全帽佩戴不全",
        rectifications=[{"finding": "全员佩戴安全帽", "deadline": timezone.localdate() + dt.timedelta(days=30)}],
    )
    response = login(client, supervisor).get("/projects/tasks/")
    tasks = tasks_of(response)
    assert [r.url for r in tasks["acceptance"]] == [f"/projects/{finished.pk}/"]
    assert [r.detail for r in tasks["rectifications_overdue"]] == ["加设防护网"]
    # The one not yet due waits too, as due (not overdue).
    assert [r.detail for r in tasks["rectifications_due"]] == ["全员佩戴安全帽"]
    html = response.content.decode()
    assert finished.code in html
    assert "加设防护网" in html

    # A passed acceptance inspection leaves the acceptance itself to do; accepting takes it off the list,
    # and closing the rectification takes that off too.
    services.inspection_record(
        by=supervisor, project=finished, date=timezone.localdate(), kind="acceptance", result="passed"
    )
    services.rectification_close(by=supervisor, rectification=records["rectification"], note="已整改")
    tasks = tasks_of(client.get("/projects/tasks/"))
    assert [r.url for r in tasks["acceptance"]] == [f"/projects/{finished.pk}/"]
    assert [(p.pk, p.passed) for p in selectors.acceptance_due(supervisor)] == [(finished.pk, True)]
    assert tasks["rectifications_overdue"] == []
    services.project_accept(project=finished, by=supervisor)
    assert tasks_of(client.get("/projects/tasks/"))["acceptance"] == []


# --- query counts --------------------------------------------------------------------------------------------


def _make_projects(pairing, n: int) -> None:
    for i in range(n):
        services.project_create(
            by=None,
            pairing=pairing,
            title=f"疏附县批量项目 {i}",
            sector="education",
            budget_requested=Decimal(1000 + i),
            planned_start=dt.date(2024, 1, 1),
        )


@pytest.mark.parametrize("query", ["", "?sort=-budget&sector=education", "?region=653100&search=批量&sort=title"])
def test_the_list_does_not_grow_with_rows(client, world, pw, django_assert_max_num_queries, query):
    login(client, world.assisting)
    _make_projects(pw.shufu, 3)
    with CaptureQueriesContext(connection) as few:
        assert len(codes(client.get(f"/projects/{query}"))) == 3
    _make_projects(pw.shufu, 27)
    with django_assert_max_num_queries(len(few)):
        assert len(codes(client.get(f"/projects/{query}"))) == 30
    # The session, the user with their organization and roles (one statement), the page's rows, its total, the
    # navigation's count of tasks and the bell; a search's lookup of places and parties, a region filter's region.
    assert len(few) <= 7 + ("search=" in query) + ("region=" in query)


def _add_records(project, world, supervisor, n: int) -> None:
    for i in range(n):
        report = services.progress_report_submit(
            by=world.assisting,
            project=project,
            period_end=dt.date(2024, 4, 1) + dt.timedelta(days=i),
            physical_progress=min(99, 10 + i),
            spend_to_date=Decimal(1000 * (i + 1)),
        )
        services.document_upload(
            by=world.assisting, project=project, upload=png_upload(f"p{i}.png"), kind="photo", progress_report=report
        )
        services.inspection_record(
            by=supervisor,
            project=project,
            date=dt.date(2024, 5, 1) + dt.timedelta(days=i),
            kind="routine",
            result="failed",
            findings=f"问题 {i}",
            rectifications=[{"finding": f"整改 {i}", "deadline": dt.date(2024, 6, 1)}],
        )
        if i % 2:
            rect = Rectification.objects.filter(project=project, closed_on__isnull=True).first()
            evidence = services.document_upload(
                by=supervisor, project=project, upload=png_upload(f"e{i}.png"), kind="evidence"
            )
            services.rectification_close(by=supervisor, rectification=rect, note="已整改", evidence=evidence)


def test_the_project_page_does_not_grow_with_reports_inspections_documents_and_history(
    client, world, supervisor, building, django_assert_max_num_queries
):
    _add_records(building, world, supervisor, 1)
    login(client, world.assisting)
    with CaptureQueriesContext(connection) as few:
        assert client.get(f"/projects/{building.pk}/").status_code == 200
    _add_records(building, world, supervisor, 12)
    with django_assert_max_num_queries(len(few)):
        response = client.get(f"/projects/{building.pk}/")
    assert len(response.context["history"]) > 30
    assert len(few) <= 13


def test_my_tasks_does_not_grow_with_rows(client, world, pw, supervisor, django_assert_max_num_queries):
    both = UserFactory(
        username="everything",
        organization=world.guangdong_gov,
        roles=[Role.APPROVER, Role.SUPERVISOR, Role.ASSISTING_OFFICER],
    )

    def make(n: int) -> None:
        for i in range(n):
            p = services.project_create(
                by=world.assisting,
                pairing=pw.shufu,
                title=f"任务项目 {i}",
                category="infrastructure",
                sector="education",
                location=world.shufu,
                budget_requested=Decimal(1000),
                planned_start=dt.date(2024, 1, 1),
                planned_end=dt.date(2024, 12, 31),
            )
            services.project_submit(project=p, by=world.assisting)

    make(2)
    login(client, both)
    with CaptureQueriesContext(connection) as few:
        client.get("/projects/tasks/")
    make(20)
    with django_assert_max_num_queries(len(few)):
        response = client.get("/projects/tasks/")
    assert len(tasks_of(response)["proposals"]) == 22
