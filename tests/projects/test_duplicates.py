"""Duplicate projects across pairings (projects/duplicates.py): the scoring on real pairs, the Shufu example end to
end (service, API, pages), "not a duplicate" with its reason in history and before the approver, the scope (a match
in another pairing is only said to exist), the portfolio's scan in Celery's task code, the national list with its
filters and permission, and the check's query count."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from core.models import HistoryEvent
from pairings import services as pairing_services
from projects import duplicates, services
from projects.models import DuplicateDismissal, Project, SuspectedDuplicate
from projects.tasks import scan_duplicates
from tests.conftest import api_as
from tests.factories import RegionFactory, UserFactory

pytestmark = pytest.mark.django_db

SHUFU = ["疏附县", "喀什地区", "新疆维吾尔自治区"]


# --- the scoring, on pairs officials would judge ---------------------------------------------------------------

#: (title a, title b, sector a, sector b, same place, duplicate?)
PAIRS = [
    ("疏附县二幼", "疏附县第二幼儿园", "education", "education", True, True),
    ("疏附县第二幼儿园建设项目", "疏附县第二幼儿园", "education", "education", True, True),
    ("疏附县 第二幼儿园（扩建）", "疏附县第二幼儿园扩建", "education", "education", True, True),
    ("疏附县二中教学楼", "疏附县第二中学教学楼", "education", "education", True, True),
    ("疏附县人民医院", "疏附县第二幼儿园", "health", "education", True, False),
    ("疏附县人民医院", "疏附县第二幼儿园", "education", "education", True, False),
    ("疏附县第二中学食堂", "疏附县第二中学教学楼", "education", "education", True, False),
    ("疏附县第一幼儿园", "疏附县第二幼儿园", "education", "education", True, False),
    ("托克扎克镇安居富民工程", "疏附县人民医院", "housing", "health", True, False),
    # A year says when, not what.
    ("疏附县人民医院（2026年）", "疏附县第二幼儿园（2026年）", "education", "education", True, False),
    ("疏附县第二幼儿园（2024年）", "疏附县第二幼儿园", "education", "education", True, True),
    # The same title in another county is another project (candidates share a place).
    ("疏附县二幼", "疏附县第二幼儿园", "education", "education", False, False),
]


@pytest.mark.parametrize(("a", "b", "sa", "sb", "same_place", "expected"), PAIRS)
def test_pairs_officials_would_judge_score_on_the_right_side_of_the_threshold(a, b, sa, sb, same_place, expected):
    sim = duplicates.title_similarity(a, b, SHUFU)
    score, reasons = duplicates.score_pair(
        title_sim=sim,
        overlapping_place=same_place,
        km=None,
        sectors=(sa, sb),
        periods=((dt.date(2024, 3, 1), dt.date(2025, 8, 31)), (dt.date(2024, 6, 1), dt.date(2025, 12, 31))),
    )
    flagged = same_place and sim >= duplicates.TITLE_MIN and score >= duplicates.THRESHOLD
    assert flagged is expected, (a, b, sim, score, reasons)


def test_a_plain_trigram_score_would_miss_the_kindergarten():
    # PostgreSQL's own trigram similarity of the pair is below its default threshold (0.3): hence the combined score.
    with connection.cursor() as cursor:
        cursor.execute("SELECT similarity(%s, %s)", ["疏附县二幼", "疏附县第二幼儿园"])
        (plain,) = cursor.fetchone()
    assert plain < 0.3
    assert duplicates.title_similarity("疏附县二幼", "疏附县第二幼儿园", SHUFU) == 1.0


def test_points_within_two_kilometres_are_nearby_and_far_ones_weigh_less():
    assert duplicates.distance_km(39.38, 75.86, 39.39, 75.86) == pytest.approx(1.11, abs=0.01)
    near, reasons = duplicates.score_pair(
        title_sim=0.5, overlapping_place=False, km=1.0, sectors=("", ""), periods=(None, None)
    )
    assert "nearby" in reasons
    assert near >= duplicates.THRESHOLD
    far, reasons = duplicates.score_pair(
        title_sim=0.5, overlapping_place=True, km=30.0, sectors=("", ""), periods=(None, None)
    )
    assert "nearby" not in reasons
    assert far < near


# --- the Shufu example -----------------------------------------------------------------------------------------


def _project(by, pairing, title, location, sector="education", **extra):
    values = {
        "category": "infrastructure",
        "sector": sector,
        "location": location,
        "budget_requested": Decimal("8000000.00"),
        "planned_start": dt.date(2024, 3, 1),
        "planned_end": dt.date(2025, 8, 31),
    }
    return services.project_create(by=by, pairing=pairing, title=title, **(values | extra))


@pytest.fixture
def kindergarten(world, pw):
    """疏附县第二幼儿园, proposed in Guangdong → Shufu."""
    p = _project(world.assisting, pw.shufu, "疏附县第二幼儿园", world.shufu)
    return services.project_submit(project=p, by=world.assisting)


@pytest.fixture
def other_programme_pairing(world, pw):
    """Jiangsu → Shufu in a programme of its own (one active pairing per programme and county): the outsider's
    pairing at the kindergarten's place."""
    program = pairing_services.program_create(
        by=None,
        code="rural-2021",
        name="乡村振兴协作",
        name_en="Rural revitalisation",
        model="development",
        start_year=2021,
        end_year=2025,
    )
    return pairing_services.pairing_create(
        by=None,
        program=program,
        assisting_organization=world.jiangsu_gov,
        recipient_region=world.shufu,
        start_date=dt.date(2021, 1, 1),
    )


def test_the_short_name_in_the_same_county_is_a_likely_duplicate_and_the_hospital_is_not(world, pw, kindergarten):
    eryou = _project(world.assisting, pw.shufu, "疏附县二幼", world.shufu)
    hospital = _project(world.assisting, pw.shufu, "疏附县人民医院", world.shufu, sector="health")

    found = duplicates.similar_for(world.assisting, duplicates.subject_of(eryou))
    assert [c.project.pk for c in found.candidates] == [kindergarten.pk]
    assert found.candidates[0].score >= duplicates.THRESHOLD
    assert found.candidates[0].reasons == ["same_county", "similar_title", "same_sector", "overlapping_period"]
    assert found.hidden == 0
    assert not duplicates.similar_for(world.assisting, duplicates.subject_of(hospital))
    # A project is never its own duplicate, and the kindergarten finds the short name in turn.
    back = duplicates.similar_for(world.assisting, duplicates.subject_of(kindergarten))
    assert [c.project.pk for c in back.candidates] == [eryou.pk]


def test_a_township_within_the_county_overlaps_and_cancelled_projects_duplicate_nothing(world, pw, kindergarten):
    town = RegionFactory(code="653121100", name="托克扎克镇", level="township", parent=world.shufu)
    in_town = _project(world.assisting, pw.shufu, "托克扎克镇疏附县二幼", town)
    assert [m.project_id for m in duplicates.find_matches(duplicates.subject_of(in_town))] == [kindergarten.pk]
    services.project_cancel(project=kindergarten, by=world.coordinator, comment="合并")
    assert duplicates.find_matches(duplicates.subject_of(in_town)) == []


def test_the_api_lists_the_candidates_with_score_and_reasons(world, pw, kindergarten):
    eryou = _project(world.assisting, pw.shufu, "疏附县二幼", world.shufu)
    r = api_as(world.assisting).get(f"/api/v1/projects/{eryou.pk}/similar/")
    assert r.status_code == 200, r.content
    body = r.json()
    assert (body["count"], body["hidden"], body["unconfirmed"], body["hidden_message"]) == (1, 0, 1, "")
    (row,) = body["results"]
    assert row["project"]["id"] == kindergarten.pk
    assert row["project"]["title"] == "疏附县第二幼儿园"
    assert [reason["code"] for reason in row["reasons"]] == [
        "same_county",
        "similar_title",
        "same_sector",
        "overlapping_period",
    ]
    assert row["dismissal"] is None
    assert 0.6 <= row["score"] <= 1


def test_a_match_in_another_pairing_is_only_said_to_exist(world, pw, kindergarten, other_programme_pairing):
    theirs = _project(world.outsider, other_programme_pairing, "疏附县二幼", world.shufu)
    r = api_as(world.outsider).get(f"/api/v1/projects/{theirs.pk}/similar/")
    assert r.status_code == 200
    body = r.json()
    assert (body["count"], body["hidden"], body["results"]) == (0, 1, [])
    assert body["hidden_message"]
    text = r.content.decode()
    for secret in (kindergarten.title, kindergarten.code, f'"id":{kindergarten.pk}', str(pw.shufu)):
        assert secret not in text
    # The page says the same, and nothing more.
    client = _browser_client(world.outsider)
    page = client.get(reverse("projects:project_detail", args=[theirs.pk])).content.decode()
    assert 'id="similar-hidden"' in page
    assert kindergarten.title not in page
    assert kindergarten.code not in page
    # The national coordinator sees both in full.
    national = api_as(world.coordinator).get(f"/api/v1/projects/{theirs.pk}/similar/").json()
    assert (national["count"], national["hidden"]) == (1, 0)
    # Another pairing's official cannot confirm what they cannot see: 404, as a project out of scope.
    r = api_as(world.outsider).post(
        f"/api/v1/projects/{theirs.pk}/similar/{kindergarten.pk}/dismiss/", {"reason": "不同"}, format="json"
    )
    assert r.status_code == 404


def _browser_client(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


# --- "not a duplicate" -----------------------------------------------------------------------------------------


def test_confirming_needs_a_reason_and_the_approver_sees_it(world, pw, kindergarten, approver):
    eryou = _project(world.assisting, pw.shufu, "疏附县二幼", world.shufu)
    url = f"/api/v1/projects/{eryou.pk}/similar/{kindergarten.pk}/dismiss/"
    client = api_as(world.assisting)
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        r = client.post(url, body, format="json")
        assert r.status_code == 400, (body, r.content)
        assert [e["field"] for e in r.json()["errors"]] == ["reason"]
    assert client.post(url, {"reason": "x" * 2001}, format="json").status_code == 400
    assert not DuplicateDismissal.objects.exists()

    r = client.post(url, {"reason": "二幼是新建的分园，不是第二幼儿园"}, format="json")
    assert r.status_code == 201, r.content
    assert r.json()["reason"] == "二幼是新建的分园，不是第二幼儿园"
    event = HistoryEvent.objects.for_object(eryou).get(action="duplicate_dismissed")
    assert (event.actor, event.comment) == (world.assisting, "二幼是新建的分园，不是第二幼儿园")
    assert event.changes["similar_project"]["new"]["id"] == kindergarten.pk
    # Once per pair and side.
    again = client.post(url, {"reason": "again"}, format="json")
    assert again.status_code == 409
    assert DuplicateDismissal.objects.count() == 1

    # Submitted, the approver sees the warning with the reason: in the API's answer and on the pages.
    r = client.post(f"/api/v1/projects/{eryou.pk}/transitions/", {"action": "submit"}, format="json")
    assert r.status_code == 200, r.content
    assert r.json()["similar"]["count"] == 1
    assert r.json()["similar"]["unconfirmed"] == 0
    seen = api_as(approver).get(f"/api/v1/projects/{eryou.pk}/similar/").json()
    assert seen["results"][0]["dismissal"]["reason"] == "二幼是新建的分园，不是第二幼儿园"
    browser = _browser_client(approver)
    for path in (
        reverse("projects:project_detail", args=[eryou.pk]),
        reverse("projects:project_act", args=[eryou.pk, "approve"]),
    ):
        page = browser.get(path).content.decode()
        assert 'id="similar-projects"' in page, path
        assert "二幼是新建的分园，不是第二幼儿园" in page, path
    # The kindergarten's own page shows the same confirmation (recorded by the other side).
    page = browser.get(reverse("projects:project_detail", args=[kindergarten.pk])).content.decode()
    assert "二幼是新建的分园，不是第二幼儿园" in page


def test_only_a_current_match_can_be_confirmed(world, pw, kindergarten):
    hospital = _project(world.assisting, pw.shufu, "疏附县人民医院", world.shufu, sector="health")
    client = api_as(world.assisting)
    r = client.post(
        f"/api/v1/projects/{hospital.pk}/similar/{kindergarten.pk}/dismiss/", {"reason": "不同"}, format="json"
    )
    assert r.status_code == 400
    assert [e["field"] for e in r.json()["errors"]] == ["candidate"]
    r = client.post(f"/api/v1/projects/{hospital.pk}/similar/{hospital.pk}/dismiss/", {"reason": "x"}, format="json")
    assert r.status_code == 404
    r = client.post(f"/api/v1/projects/{hospital.pk}/similar/99999999/dismiss/", {"reason": "x"}, format="json")
    assert r.status_code == 404
    # A role that does not propose projects may not confirm (403 before the body is read).
    supervisor = UserFactory(username="sup-dup", organization=world.guangdong_gov, roles=[Role.SUPERVISOR])
    r = api_as(supervisor).post(
        f"/api/v1/projects/{hospital.pk}/similar/{kindergarten.pk}/dismiss/", {"reason": "x"}, format="json"
    )
    assert r.status_code == 403
    assert not DuplicateDismissal.objects.exists()


def test_the_browser_form_confirms_with_a_reason_and_refuses_without(world, pw, kindergarten):
    eryou = _project(world.assisting, pw.shufu, "疏附县二幼", world.shufu)
    client = _browser_client(world.assisting)
    url = reverse("projects:similar_dismiss", args=[eryou.pk, kindergarten.pk])
    r = client.post(url, {"reason": ""}, follow=True)
    assert r.status_code == 200
    assert not DuplicateDismissal.objects.exists()
    r = client.post(url, {"reason": "分园", "next": "https://elsewhere.example/"})
    assert r.status_code == 302
    assert r["Location"].startswith(reverse("projects:project_detail", args=[eryou.pk]))
    assert DuplicateDismissal.objects.get().reason == "分园"


# --- the create and edit forms warn before they save -----------------------------------------------------------


def _form(pairing, title, location, **extra):
    return {
        "title": title,
        "pairing": pairing.pk,
        "category": "infrastructure",
        "sector": "education",
        "execution_mode": "turnkey",
        "location": location.code,
        "budget_requested_0": "8000000",
        "budget_requested_1": "yuan",
        "planned_start": "2024-03-01",
        "planned_end": "2025-08-31",
        **extra,
    }


def test_the_create_form_shows_the_candidate_once_then_saves(world, pw, kindergarten):
    client = _browser_client(world.assisting)
    r = client.post(reverse("projects:project_create"), _form(pw.shufu, "疏附县二幼", world.shufu))
    assert r.status_code == 200, r.content[:2000]
    page = r.content.decode()
    assert 'id="similar-projects"' in page
    assert "疏附县第二幼儿园" in page
    assert 'data-reason="similar_title"' in page
    assert Project.objects.filter(title="疏附县二幼").count() == 0
    digest = r.context["similar"]["digest"]
    r = client.post(reverse("projects:project_create"), _form(pw.shufu, "疏附县二幼", world.shufu, similar_seen=digest))
    assert r.status_code == 302
    assert Project.objects.filter(title="疏附县二幼").count() == 1
    # The hospital is saved at once: nothing like it.
    r = client.post(reverse("projects:project_create"), _form(pw.shufu, "疏附县人民医院", world.shufu, sector="health"))
    assert r.status_code == 302


# --- the portfolio's scan (Celery's task code) and the national list -------------------------------------------


def test_the_scan_finds_the_pair_keeps_it_once_and_drops_it_when_it_no_longer_matches(world, pw, kindergarten):
    eryou = _project(world.assisting, pw.shufu, "疏附县二幼", world.shufu)
    _project(world.assisting, pw.shufu, "疏附县人民医院", world.shufu, sector="health")
    assert scan_duplicates.apply().get() == {"pairs": 1, "removed": 0}
    pair = SuspectedDuplicate.objects.get()
    assert (pair.project_a_id, pair.project_b_id) == (kindergarten.pk, eryou.pk)
    assert "similar_title" in pair.reasons
    first_found = pair.found_at
    assert scan_duplicates.apply().get() == {"pairs": 1, "removed": 0}
    assert SuspectedDuplicate.objects.get().found_at == first_found
    services.project_update(by=world.assisting, project=eryou, title="疏附县污水处理厂", sector="infrastructure")
    assert scan_duplicates.apply().get() == {"pairs": 0, "removed": 1}
    assert not SuspectedDuplicate.objects.exists()


@pytest.fixture
def scanned(world, pw, kindergarten, other_programme_pairing):
    eryou = _project(world.assisting, pw.shufu, "疏附县二幼", world.shufu)
    theirs = _project(world.outsider, other_programme_pairing, "疏附县第二幼儿园扩建", world.shufu)
    scan_duplicates.apply().get()
    return eryou, theirs


def test_the_national_list_filters_the_pairs(world, pw, kindergarten, scanned, other_programme_pairing):
    eryou, theirs = scanned
    client = api_as(world.coordinator)
    body = client.get("/api/v1/projects/duplicates/").json()
    assert body["count"] == SuspectedDuplicate.objects.count() >= 2
    pairs = {(r["project_a"]["id"], r["project_b"]["id"]) for r in body["results"]}
    assert (kindergarten.pk, eryou.pk) in pairs
    assert all(r["reviewed"] is False for r in body["results"])
    across = client.get("/api/v1/projects/duplicates/", {"program": "rural-2021"}).json()
    assert {theirs.pk} <= {r["project_b"]["id"] for r in across["results"]}
    assert across["count"] < body["count"] + 1
    only = client.get("/api/v1/projects/duplicates/", {"pairing": other_programme_pairing.pk}).json()
    assert all(theirs.pk in (r["project_a"]["id"], r["project_b"]["id"]) for r in only["results"])
    assert client.get("/api/v1/projects/duplicates/", {"min_score": "1.0"}).json()["count"] <= body["count"]
    assert client.get("/api/v1/projects/duplicates/", {"reason": "nearby"}).json()["count"] == 0
    assert client.get("/api/v1/projects/duplicates/", {"reason": "same_sector"}).json()["count"] == body["count"]

    services.duplicate_dismiss(by=world.assisting, project=eryou, candidate_id=kindergarten.pk, reason="分园")
    reviewed = client.get("/api/v1/projects/duplicates/", {"reviewed": "true"}).json()
    assert [(r["project_a"]["id"], r["project_b"]["id"]) for r in reviewed["results"]] == [(kindergarten.pk, eryou.pk)]
    assert reviewed["results"][0]["dismissals"][0]["reason"] == "分园"
    open_ = client.get("/api/v1/projects/duplicates/", {"reviewed": "false"}).json()
    assert open_["count"] == body["count"] - 1


@pytest.mark.parametrize(
    ("param", "value"),
    [
        ("min_score", "2"),
        ("min_score", "-0.1"),
        ("min_score", "high"),
        ("min_score", ""),
        ("reason", "same_colour"),
        ("reviewed", "maybe"),
        ("pairing", "abc"),
        ("pairing", "0"),
        ("page", "0"),
        ("page_size", "x"),
    ],
)
def test_bad_filters_are_a_400_naming_the_parameter(world, param, value):
    r = api_as(world.coordinator).get("/api/v1/projects/duplicates/", {param: value})
    assert r.status_code == 400, (param, value, r.content)
    assert param in {e["field"] for e in r.json()["errors"]}


def test_only_the_national_level_sees_the_portfolios_pairs_and_only_its_coordinator_scans(world, approver):
    for user in (world.assisting, world.recipient, world.outsider, approver):
        assert api_as(user).get("/api/v1/projects/duplicates/").status_code == 403
        assert api_as(user).post("/api/v1/projects/duplicates/scan/").status_code == 403
        assert _browser_client(user).get(reverse("projects:duplicates")).status_code == 403
    national_observer = UserFactory(username="obs", organization=world.national_office, roles=[Role.OBSERVER])
    assert api_as(national_observer).get("/api/v1/projects/duplicates/").status_code == 200
    assert api_as(national_observer).post("/api/v1/projects/duplicates/scan/").status_code == 403
    r = api_as(world.coordinator).post("/api/v1/projects/duplicates/scan/")
    assert r.status_code == 202
    assert r.json()["status"] == "queued"


def test_the_national_page_lists_the_pairs_and_starts_the_scan(world, pw, kindergarten, scanned):
    client = _browser_client(world.coordinator)
    SuspectedDuplicate.objects.all().delete()
    r = client.post(reverse("projects:duplicates"))
    assert r.status_code == 302
    assert SuspectedDuplicate.objects.exists()
    page = client.get(reverse("projects:duplicates")).content.decode()
    assert 'id="duplicates-table"' in page
    assert kindergarten.title in page
    assert reverse("projects:project_detail", args=[kindergarten.pk]) in page
    assert client.get(reverse("projects:duplicates"), {"min_score": "9"}).status_code == 400
    # Linked from the navigation and the project list, for national users only.
    assert reverse("projects:duplicates") in client.get(reverse("projects:project_list")).content.decode()
    other = _browser_client(world.assisting).get(reverse("projects:project_list")).content.decode()
    assert reverse("projects:duplicates") not in other


# --- the check's cost --------------------------------------------------------------------------------------------


def test_the_check_costs_the_same_few_queries_however_many_candidates(world, pw, kindergarten, approver):
    eryou = _project(world.assisting, pw.shufu, "疏附县二幼", world.shufu)
    client = api_as(approver)
    url = f"/api/v1/projects/{eryou.pk}/similar/"
    client.get(url)  # the caller's scope is cached per request; warm the content types

    with CaptureQueriesContext(connection) as one:
        assert client.get(url).json()["count"] == 1
    for i in range(5):
        _project(world.assisting, pw.shufu, f"疏附县第二幼儿园{i}号楼", world.shufu)
    with CaptureQueriesContext(connection) as six:
        assert client.get(url).json()["count"] == 6
    assert len(six) == len(one) <= 10, [q["sql"][:120] for q in six.captured_queries]
