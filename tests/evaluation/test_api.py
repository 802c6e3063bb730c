"""The evaluation API's contract: every endpoint's status codes and field names, bad input refused with the
field named and nothing written, scope, a whole run through the API, and lists that cost the same number of
queries at any length. Fixtures: tests/evaluation/conftest.py (`ev`, the Xinjiang programme's 2015)."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import OrganizationKind, Role, User
from core.models import HistoryEvent, RegionLevel
from evaluation import services
from evaluation.models import (
    EvaluationRun,
    ExpertScore,
    IndicatorFramework,
    PairingScorecard,
    ProjectScore,
    Ranking,
    RunStatus,
    SatisfactionRating,
)
from pairings import services as pairing_services
from projects.models import Project
from tests.conftest import api_as
from tests.evaluation.conftest import YEAR, make_inspection, make_project, run_eagerly
from tests.factories import OrganizationFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db

BASE = "/api/v1/evaluation"
FRAMEWORKS, RUNS = f"{BASE}/frameworks/", f"{BASE}/runs/"
PROJECT_SCORES, SCORECARDS, RANKINGS = f"{BASE}/project-scores/", f"{BASE}/scorecards/", f"{BASE}/rankings/"
EXPERT_SCORES, RATINGS = f"{BASE}/expert-scores/", f"{BASE}/satisfaction-ratings/"


def problems(response: Any) -> set[tuple[str | None, str]]:
    """The (field, code) pairs of an error response."""
    return {(e["field"], e["code"]) for e in response.json()["errors"]}


def fields_of(response: Any) -> set[tuple[str | None, str]]:
    return {e["field"] for e in response.json()["errors"]}


def post(user: User, url: str, body: Any) -> Any:
    return api_as(user).post(url, body, format="json")


def rows_of(framework: IndicatorFramework) -> list[dict[str, Any]]:
    """A framework's indicators as a client sends them back (weights as strings, as the API shows them)."""
    return [{**row, "weight": str(row["weight"])} for row in services.framework_rows(framework)]


def start_run(ev: Any, capture: Any, user: User | None = None, **body: Any) -> Any:
    """POST a run and let the work queued on commit run (eagerly) before returning the response."""
    with capture(execute=True):
        return post(user or ev.coordinator, RUNS, {"program": ev.program.code, "year": ev.year, **body})


# --- frameworks ----------------------------------------------------------------------------------------------


def test_framework_list_and_detail_show_versions_with_their_indicators(ev):
    client = api_as(ev.observer)

    listed = client.get(FRAMEWORKS, {"program": ev.program.code})
    detail = client.get(f"{FRAMEWORKS}{ev.framework.pk}/")

    assert listed.status_code == 200
    assert listed.json()["count"] == 1
    assert detail.status_code == 200
    body = detail.json()
    assert set(body) == {
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
    }
    assert (body["program"], body["version"], body["is_current"]) == (ev.program.pk, 1, True)
    assert body["grade_bands"] == [[90, "A"], [75, "B"], [60, "C"], [0, "D"]]
    assert set(body["indicators"][0]) == {
        "code",
        "name",
        "name_en",
        "level",
        "formula",
        "curve",
        "floor",
        "target",
        "thresholds",
        "weight",
    }
    quality = next(i for i in body["indicators"] if i["code"] == "quality")
    assert (quality["formula"], quality["level"], quality["weight"]) == ("expert", "project", "10.00")
    satisfaction = next(i for i in body["indicators"] if i["code"] == "satisfaction")
    assert satisfaction["curve"] == "threshold"
    assert satisfaction["thresholds"][0] == [1.0, 0.0]


def test_a_national_coordinator_revises_a_framework_into_its_next_version(ev):
    rows = rows_of(ev.framework)
    on_time, budget = _index(rows, "on_time"), _index(rows, "budget")
    rows[on_time]["weight"], rows[budget]["weight"] = "25", "10"  # 20 → 25 and 15 → 10: still 100
    body = {
        "program": ev.program.code,
        "indicators": rows,
        "reason": "按期完工更重要",
        "grade_bands": [[85, "A"], [0, "B"]],
    }

    response = post(ev.coordinator, FRAMEWORKS, body)

    assert response.status_code == 201, response.json()
    data = response.json()
    assert (data["version"], data["is_current"], data["created_by"], data["reason"]) == (
        2,
        True,
        "coord",
        "按期完工更重要",
    )
    assert data["grade_bands"] == [[85.0, "A"], [0.0, "B"]]
    weights = {i["code"]: i["weight"] for i in data["indicators"]}
    assert (weights["on_time"], weights["budget"], weights["quality"]) == ("25.00", "10.00", "10.00")
    assert IndicatorFramework.objects.filter(program=ev.program).count() == 2
    assert HistoryEvent.objects.filter(action="framework_revised", actor=ev.coordinator).count() == 1
    current = api_as(ev.observer).get(FRAMEWORKS, {"program": ev.program.pk, "current": "true"}).json()
    assert [f["version"] for f in current["results"]] == [2]
    everything = api_as(ev.observer).get(FRAMEWORKS, {"program": ev.program.pk}).json()
    assert [(f["version"], f["is_current"]) for f in everything["results"]] == [(2, True), (1, False)]


def _index(rows: list[dict[str, Any]], code: str) -> int:
    return next(i for i, row in enumerate(rows) if row["code"] == code)


# case: (indicator code, what changes in its row, the (field, code) pairs expected; {i} is the row's index)
BAD_INDICATORS: dict[str, tuple[str, dict[str, Any], set[tuple[str, str]]]] = {
    "weights_not_100": ("on_time", {"weight": "30"}, {("indicators", "weights_not_100")}),
    "unknown_formula": ("budget", {"formula": "happiness"}, {("indicators[{i}].formula", "unknown_formula")}),
    "target_below_floor": ("budget", {"floor": 1.0, "target": 0.5}, {("indicators[{i}].target", "target_below_floor")}),
    "target_equal_to_floor": (
        "budget",
        {"floor": 1.0, "target": 1.0},
        {("indicators[{i}].target", "target_below_floor")},
    ),
    "linear_without_target": ("budget", {"target": None}, {("indicators[{i}].target", "required")}),
    "weight_not_a_number": ("budget", {"weight": "x"}, {("indicators[{i}].weight", "invalid")}),
    "weight_zero": (
        "budget",
        {"weight": "0"},
        {("indicators[{i}].weight", "invalid_weight"), ("indicators", "weights_not_100")},
    ),
    "weight_above_100": (
        "budget",
        {"weight": "115"},
        {("indicators[{i}].weight", "invalid_weight"), ("indicators", "weights_not_100")},
    ),
    "formula_of_the_other_level": (
        "on_time",
        {"level": "pairing"},
        {("indicators[{i}].level", "wrong_level"), ("indicators", "weights_not_100")},
    ),
    "threshold_without_bands": ("satisfaction", {"thresholds": []}, {("indicators[{i}].thresholds", "required")}),
    "thresholds_not_pairs": (
        "satisfaction",
        {"thresholds": [[1, 2, 3]]},
        {("indicators[{i}].thresholds", "max_length")},
    ),
    "thresholds_falling": (
        "satisfaction",
        {"thresholds": [[3, 50], [2, 100]]},
        {("indicators[{i}].thresholds", "thresholds_not_ascending")},
    ),
    "threshold_score_above_100": (
        "satisfaction",
        {"thresholds": [[3, 150]]},
        {("indicators[{i}].thresholds", "score_out_of_range")},
    ),
    "duplicate_code": ("budget", {"code": "on_time"}, {("indicators[{i}].code", "duplicate_code")}),
    "code_not_a_slug": ("on_time", {"code": "on time!"}, {("indicators[{i}].code", "invalid")}),
    "code_too_long": ("on_time", {"code": "x" * 41}, {("indicators[{i}].code", "max_length")}),
    "name_missing": ("on_time", {"name": ""}, {("indicators[{i}].name", "blank")}),
    "unknown_key": ("on_time", {"colour": "red"}, {("indicators[{i}].colour", "unknown_field")}),
    "unknown_curve": ("on_time", {"curve": "log"}, {("indicators[{i}].curve", "invalid_choice")}),
}


@pytest.mark.parametrize("case", list(BAD_INDICATORS))
def test_a_bad_indicator_is_refused_naming_its_field_and_nothing_is_written(ev, case):
    code, change, expected = BAD_INDICATORS[case]
    rows = rows_of(ev.framework)
    i = _index(rows, code)
    rows[i].update(change)

    response = post(ev.coordinator, FRAMEWORKS, {"program": ev.program.pk, "indicators": rows, "reason": "r"})

    assert response.status_code == 400
    assert problems(response) == {(field.format(i=i), c) for field, c in expected}
    assert IndicatorFramework.objects.filter(program=ev.program).count() == 1


def test_a_row_that_is_not_an_object_and_a_level_without_indicators_are_refused(ev):
    rows: list[Any] = rows_of(ev.framework)
    rows[3] = 5
    project_only = [row for row in rows_of(ev.framework) if row["level"] == "project"]

    not_an_object = post(ev.coordinator, FRAMEWORKS, {"program": ev.program.pk, "indicators": rows, "reason": "r"})
    no_pairing = post(ev.coordinator, FRAMEWORKS, {"program": ev.program.pk, "indicators": project_only, "reason": "r"})

    assert problems(not_an_object) == {("indicators[3]", "invalid")}
    assert problems(no_pairing) == {("indicators", "no_pairing_indicators")}
    assert IndicatorFramework.objects.filter(program=ev.program).count() == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"reason": ""}, {("reason", "reason_required")}),
        ({"reason": "   "}, {("reason", "reason_required")}),
        ({"indicators": []}, {("indicators", "no_indicators")}),
        ({"indicators": "all of them"}, {("indicators", "not_a_list")}),
        ({"program": "nope"}, {("program", "does_not_exist")}),
        ({"program": True}, {("program", "invalid")}),
        ({"grade_bands": [[90, "A"], [60, "B"]]}, {("grade_bands", "invalid_grade_bands")}),  # no band at 0
        ({"grade_bands": [[0, "Excellent"]]}, {("grade_bands", "invalid_grade_bands")}),  # longer than a grade
        ({"grade_bands": "A-D"}, {("grade_bands", "invalid_grade_bands")}),
        ({"version": 7}, {("version", "unknown_field")}),
    ],
)
def test_a_bad_framework_body_is_refused_naming_the_field(ev, body, expected):
    full = {"program": ev.program.pk, "indicators": rows_of(ev.framework), "reason": "r", **body}

    response = post(ev.coordinator, FRAMEWORKS, full)

    assert response.status_code == 400
    assert problems(response) == expected
    assert IndicatorFramework.objects.filter(program=ev.program).count() == 1


def test_every_problem_of_a_framework_is_reported_at_once(ev):
    rows = rows_of(ev.framework)
    formula, target = _index(rows, "budget"), _index(rows, "inspections")
    rows[formula]["formula"] = "happiness"
    rows[target].update(floor=2, target=1)

    response = post(ev.coordinator, FRAMEWORKS, {"program": ev.program.pk, "indicators": rows, "reason": ""})

    assert fields_of(response) == {f"indicators[{formula}].formula", f"indicators[{target}].target", "reason"}


@pytest.mark.parametrize("who", ["evaluator", "provincial_coordinator", "assisting", "recipient", "observer"])
def test_only_a_national_coordinator_revises_frameworks(ev, who):
    body = {"program": ev.program.pk, "indicators": rows_of(ev.framework), "reason": "r"}

    response = post(getattr(ev, who), FRAMEWORKS, body)

    assert response.status_code == 403
    assert problems(response) == {
        ("program", "forbidden")
    }  # the service's refusal, read by the API from the one policy
    assert IndicatorFramework.objects.filter(program=ev.program).count() == 1


def test_the_formulas_an_indicator_may_use_are_listed(ev):
    response = api_as(ev.outsider).get(f"{FRAMEWORKS}formulas/")

    assert response.status_code == 200
    by_code = {f["code"]: f for f in response.json()}
    assert by_code["recipient_satisfaction"]["level"] == "project"
    assert by_code["mandate_fulfilment"]["level"] == "pairing"
    assert set(by_code["expert"]) == {"code", "level", "label", "definition", "unit"}


# --- runs ----------------------------------------------------------------------------------------------------


RUN_FIELDS = {
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
}


def test_starting_a_run_answers_202_with_the_queued_run(ev):
    response = post(ev.coordinator, RUNS, {"program": ev.program.code, "year": YEAR})

    assert response.status_code == 202
    body = response.json()
    assert set(body) == RUN_FIELDS
    assert (body["program"], body["program_code"], body["year"], body["status"]) == (
        ev.program.pk,
        "xinjiang-2010",
        YEAR,
        "queued",
    )
    assert body["framework"] == {"id": ev.framework.pk, "version": 1}
    assert body["progress"] == {"done": 0, "total": 0, "percent": 0}
    assert body["chunks"] == {"pending": 0, "running": 0, "done": 0, "failed": 0}
    assert body["requested_by"] == "coord"
    run = EvaluationRun.objects.get()
    assert (run.pk, run.status, run.requested_by) == (body["id"], RunStatus.QUEUED, ev.coordinator)


def test_a_second_request_for_the_same_programme_year_gets_the_same_run(ev):
    first = post(ev.coordinator, RUNS, {"program": ev.program.code, "year": YEAR})
    second = post(ev.evaluator, RUNS, {"program": ev.program.pk, "year": str(YEAR)})

    assert (first.status_code, second.status_code) == (202, 202)
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["requested_by"] == "coord"
    assert EvaluationRun.objects.count() == 1


def test_a_run_of_another_year_is_another_run(ev):
    first = post(ev.coordinator, RUNS, {"program": ev.program.code, "year": YEAR})
    other = post(ev.coordinator, RUNS, {"program": ev.program.code, "year": YEAR + 1})

    assert other.status_code == 202
    assert other.json()["id"] != first.json()["id"]


def test_a_year_without_a_programme_starts_every_programme_of_that_year(ev):
    wenchuan = pairing_services.program_create(
        by=None,
        code="wenchuan-2008",
        name="汶川地震灾后恢复重建对口支援",
        model="disaster_response",
        start_year=2008,
        end_year=2011,
    )

    response = post(ev.coordinator, RUNS, {"year": 2011})

    assert response.status_code == 202
    results = response.json()["results"]
    assert {(r["program"], r["year"], r["status"]) for r in results} == {
        (ev.program.pk, 2011, "queued"),
        (wenchuan.pk, 2011, "queued"),
    }
    assert set(results[0]) == RUN_FIELDS
    # Asked again while they are queued: the same runs, none added.
    again = post(ev.coordinator, RUNS, {"year": 2011})
    assert {r["id"] for r in again.json()["results"]} == {r["id"] for r in results}
    assert EvaluationRun.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"program": "xinjiang-2010"}, {("year", "required")}),
        ({"program": "xinjiang-2010", "year": "x"}, {("year", "invalid")}),
        ({"program": "xinjiang-2010", "year": None}, {("year", "null")}),
        ({"program": "xinjiang-2010", "year": 2009}, {("year", "invalid_year")}),  # before the programme
        ({"program": "xinjiang-2010", "year": 2021}, {("year", "invalid_year")}),  # after it
        ({"program": "xinjiang-2010", "year": 99999}, {("year", "max_value")}),
        ({"program": "nope", "year": YEAR}, {("program", "does_not_exist")}),
        ({"program": 999999, "year": YEAR}, {("program", "does_not_exist")}),
        ({"program": ["xinjiang-2010"], "year": YEAR}, {("program", "invalid")}),
        ({"year": 1990}, {("year", "invalid_year")}),  # no programme ran that year
        ({"year": YEAR, "as_of": "2015-12-31"}, {("as_of", "unknown_field")}),
    ],
)
def test_a_bad_run_request_is_refused_naming_the_field(ev, body, expected):
    response = post(ev.coordinator, RUNS, body)

    assert response.status_code == 400
    assert problems(response) == expected
    assert not EvaluationRun.objects.exists()


def test_the_year_outside_the_programme_is_explained(ev):
    response = post(ev.coordinator, RUNS, {"program": ev.program.code, "year": 2009})

    assert "2011" in response.json()["errors"][0]["message"]
    assert "2020" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    "who", ["provincial_coordinator", "local_evaluator", "assisting", "recipient", "observer", "outsider"]
)
def test_only_national_coordinators_and_evaluators_start_runs(ev, who):
    response = post(getattr(ev, who), RUNS, {"program": ev.program.code, "year": YEAR})
    everything = post(getattr(ev, who), RUNS, {"year": YEAR})

    assert (response.status_code, everything.status_code) == (403, 403)
    assert problems(response) == {
        ("program", "forbidden")
    }  # the service's refusal, read by the API from the one policy
    assert not EvaluationRun.objects.exists()


def test_a_national_evaluator_starts_a_run(ev):
    assert post(ev.evaluator, RUNS, {"program": ev.program.code, "year": YEAR}).status_code == 202


def test_a_run_requested_through_the_api_runs_to_its_end_and_ranks(ev, disbursed, django_capture_on_commit_callbacks):
    started = start_run(ev, django_capture_on_commit_callbacks)
    assert started.status_code == 202

    run = api_as(ev.observer).get(f"{RUNS}{started.json()['id']}/").json()

    assert run["status"] == "succeeded"
    # three projects scored (the draft and the cancelled one are not) and two pairings carded
    assert run["progress"] == {"done": 5, "total": 5, "percent": 100}
    assert run["chunks"] == {"pending": 0, "running": 0, "done": 2, "failed": 0}
    assert run["finished_at"]
    assert run["started_at"]
    assert run["error"] == ""
    rankings = api_as(ev.outsider).get(RANKINGS, {"program": ev.program.code, "year": YEAR})
    assert rankings.status_code == 200
    ranked = rankings.json()["results"]
    assert [(r["rank"], r["organization"]["name_en"]) for r in ranked] == [(1, "Guangdong"), (2, "Jiangsu")]
    assert all(r["grade"] in {"A", "B", "C", "D"} and r["trend"] == "new" for r in ranked)
    assert ranked[0]["score"] > ranked[1]["score"]
    assert set(ranked[0]) == {
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
    }
    assert set(ranked[0]["organization"]) == {"id", "name", "name_en"}
    assert ranked[0]["run"] == run["id"]
    assert ranked[0]["pairing_count"] == 1
    assert {r["kind"] for r in ranked[1]["reasons"]} >= {"strength", "flag"}
    # accepted projects with a final score are evaluated now
    assert Project.objects.get(pk=ev.shufu_accepted.pk).state == "evaluated"
    assert Project.objects.get(pk=ev.shufu_building.pk).state == "in_construction"


def test_runs_list_filters_by_programme_year_and_status(ev, django_capture_on_commit_callbacks):
    done = start_run(ev, django_capture_on_commit_callbacks).json()
    queued = post(ev.coordinator, RUNS, {"program": ev.program.code, "year": YEAR + 1}).json()
    client = api_as(ev.recipient)

    newest_first = client.get(RUNS).json()["results"]
    by_status = client.get(RUNS, {"status": "succeeded"}).json()["results"]
    by_year = client.get(RUNS, {"year": YEAR + 1, "program": ev.program.code}).json()["results"]
    other_programme = client.get(RUNS, {"program": "nope"}).json()["results"]

    assert [r["id"] for r in newest_first] == [queued["id"], done["id"]]
    assert [r["id"] for r in by_status] == [done["id"]]
    assert [r["id"] for r in by_year] == [queued["id"]]
    assert other_programme == []
    assert client.get(RUNS, {"status": "exploded"}).status_code == 400
    assert fields_of(client.get(RUNS, {"year": "x"})) == {"year"}
    assert client.get(f"{RUNS}999999/").status_code == 404


def test_a_second_run_compares_its_ranking_with_the_first(ev, django_capture_on_commit_callbacks):
    first = start_run(ev, django_capture_on_commit_callbacks).json()
    second = start_run(ev, django_capture_on_commit_callbacks).json()

    run = api_as(ev.observer).get(f"{RUNS}{second['id']}/").json()
    ranked = api_as(ev.observer).get(RANKINGS, {"program": ev.program.pk, "year": YEAR}).json()["results"]

    assert second["id"] != first["id"]
    assert run["compared_with"] == first["id"]
    assert {r["run"] for r in ranked} == {second["id"]}  # the latest succeeded run
    assert [(r["rank"], r["previous_rank"], r["trend"]) for r in ranked] == [(1, 1, "same"), (2, 2, "same")]


# --- project scores and scorecards ---------------------------------------------------------------------------


@pytest.fixture
def scored(ev, disbursed):
    """The fixture's year, its disbursements paid, evaluated once (through the services, not the API)."""
    return run_eagerly(ev.program, ev.year, ev.coordinator)


def test_project_scores_list_newest_run_first_then_by_project(ev, scored):
    later = run_eagerly(ev.program, ev.year, ev.coordinator)

    response = api_as(ev.coordinator).get(PROJECT_SCORES)

    assert response.status_code == 200
    order = [(r["run"], r["project"]) for r in response.json()["results"]]
    projects = sorted([ev.shufu_accepted.pk, ev.shufu_building.pk, ev.jiashi_accepted.pk])
    assert order == [(later.pk, p) for p in projects] + [(scored.pk, p) for p in projects]
    first = response.json()["results"][0]
    assert set(first) == {
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
    }


def test_a_project_score_is_explained_line_by_line(ev, scored):
    score = ProjectScore.objects.get(run=scored, project=ev.shufu_accepted)

    body = api_as(ev.recipient).get(f"{PROJECT_SCORES}{score.pk}/").json()

    assert (body["project_code"], body["project_title"], body["project_state"]) == (
        ev.shufu_accepted.code,
        "疏附县人民医院门诊楼",
        "evaluated",
    )
    assert (body["run"], body["year"], body["pairing"], body["is_final"]) == (scored.pk, YEAR, ev.shufu.pk, True)
    assert body["score"] == round(score.score, 2)
    assert body["measures"]["beneficiaries"] == 0.9
    assert body["measures"]["satisfaction"] is None
    lines = {line["code"]: line for line in body["lines"]}
    assert set(lines["beneficiaries"]) == {
        "code",
        "name",
        "name_en",
        "formula",
        "measure",
        "value",
        "curve",
        "floor",
        "target",
        "thresholds",
        "weight",
        "weight_share",
        "score",
        "contribution",
    }
    # 0.9 on a line from 0.5 to 1.0 scores 80
    assert (lines["beneficiaries"]["value"], lines["beneficiaries"]["score"]) == (0.9, 80.0)
    # an indicator with nothing measured is left out: no weight counted, no points
    assert (lines["satisfaction"]["weight_share"], lines["satisfaction"]["contribution"]) == (0.0, 0.0)
    assert lines["satisfaction"]["curve"] == "threshold"
    assert lines["satisfaction"]["weight"] == 10.0
    assert sum(line["contribution"] for line in body["lines"]) == pytest.approx(body["score"], abs=0.05)
    assert sum(line["weight_share"] for line in body["lines"]) == pytest.approx(100, abs=0.05)


def test_a_scorecard_is_explained_line_by_line_with_flags_budget_and_grade(ev, scored):
    card = PairingScorecard.objects.get(run=scored, pairing=ev.shufu)

    body = api_as(ev.assisting).get(f"{SCORECARDS}{card.pk}/").json()

    assert set(body) == {
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
        "lines",
    }
    assert body["organization"] == {
        "id": ev.shufu.assisting_organization_id,
        "name": "广东省人民政府",
        "name_en": "Guangdong",
    }
    assert (body["project_count"], body["budget"], body["recipient_region"]) == (2, "15000000.00", "653121")
    # 10 of the year's 15 million disbursed go to livelihood: 0.6667, under the rule's 0.7
    assert body["flags"] == [{"code": "livelihood_share_below_minimum", "value": 0.6667, "minimum": 0.7}]
    assert body["share_basis"] == "year_disbursements"
    assert body["mandate_unverified"] is False  # the test programme's rule is not flagged
    assert body["grade"] == Ranking.objects.get(run=scored, organization_id=body["organization"]["id"]).grade
    assert sum(line["contribution"] for line in body["lines"]) == pytest.approx(body["score"], abs=0.05)
    assert {line["code"] for line in body["lines"]} >= {"projects", "mandate", "county_share"}


def test_an_assisting_official_sees_only_their_own_pairings_scores(ev, scored):
    client = api_as(ev.assisting)
    jiashi_score = ProjectScore.objects.get(run=scored, project=ev.jiashi_accepted)
    jiashi_card = PairingScorecard.objects.get(run=scored, pairing=ev.jiashi)

    scores = client.get(PROJECT_SCORES).json()["results"]
    cards = client.get(SCORECARDS).json()["results"]

    assert {s["project"] for s in scores} == {ev.shufu_accepted.pk, ev.shufu_building.pk}
    assert {c["pairing"] for c in cards} == {ev.shufu.pk}
    assert client.get(f"{PROJECT_SCORES}{jiashi_score.pk}/").status_code == 404
    assert client.get(f"{SCORECARDS}{jiashi_card.pk}/").status_code == 404
    # ... and filtering for the other pairing finds nothing rather than revealing it
    assert client.get(SCORECARDS, {"pairing": ev.jiashi.pk}).json()["count"] == 0
    outsider = api_as(ev.outsider).get(PROJECT_SCORES).json()["results"]
    assert {s["project"] for s in outsider} == {ev.jiashi_accepted.pk}
    national = api_as(ev.observer).get(SCORECARDS).json()["results"]
    assert {c["pairing"] for c in national} == {ev.shufu.pk, ev.jiashi.pk}


def test_project_scores_and_scorecards_filter(ev, scored):
    later = run_eagerly(ev.program, ev.year, ev.coordinator)
    client = api_as(ev.coordinator)

    def ids(url: str, **params: Any) -> set[tuple[int, int]]:
        response = client.get(url, params)
        assert response.status_code == 200, response.json()
        key = "project" if url == PROJECT_SCORES else "pairing"
        return {(r["run"], r[key]) for r in response.json()["results"]}

    assert ids(PROJECT_SCORES, run=scored.pk, project=ev.jiashi_accepted.pk) == {(scored.pk, ev.jiashi_accepted.pk)}
    assert ids(PROJECT_SCORES, pairing=ev.jiashi.pk, run=later.pk) == {(later.pk, ev.jiashi_accepted.pk)}
    assert len(ids(PROJECT_SCORES, program=ev.program.code, year=YEAR)) == 6
    assert ids(PROJECT_SCORES, year=YEAR + 1) == set()
    assert ids(SCORECARDS, run=later.pk, organization=ev.shufu.assisting_organization_id) == {(later.pk, ev.shufu.pk)}
    assert len(ids(SCORECARDS, program=str(ev.program.pk))) == 4
    for url in (PROJECT_SCORES, SCORECARDS):
        assert fields_of(client.get(url, {"run": "abc"})) == {"run"}
        assert fields_of(client.get(url, {"year": "-3"})) == {"year"}


# --- rankings ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "who", ["coordinator", "observer", "assisting", "recipient", "outsider", "jiashi_recipient", "jiangsu_observer"]
)
def test_everyone_signed_in_reads_the_rankings(ev, scored, who):
    response = api_as(getattr(ev, who)).get(RANKINGS, {"program": ev.program.code, "year": YEAR})

    assert response.status_code == 200
    assert [r["rank"] for r in response.json()["results"]] == [1, 2]


def test_rankings_of_a_given_run(ev, scored):
    later = run_eagerly(ev.program, ev.year, ev.coordinator)

    response = api_as(ev.observer).get(RANKINGS, {"run": scored.pk})

    assert response.status_code == 200
    assert {r["run"] for r in response.json()["results"]} == {scored.pk}
    assert api_as(ev.observer).get(RANKINGS, {"run": later.pk}).json()["count"] == 2


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {("program", "required"), ("year", "required")}),
        ({"year": YEAR}, {("program", "required")}),
        ({"program": "xinjiang-2010"}, {("year", "required")}),
        ({"program": "nope", "year": YEAR}, {("program", "does_not_exist")}),
        ({"program": "xinjiang-2010", "year": "x"}, {("year", "invalid")}),
        ({"program": "xinjiang-2010", "year": "0"}, {("year", "invalid")}),
        ({"run": "abc"}, {("run", "invalid")}),
        # Digits to str.isdigit that int() refuses (the fuzzer of tests/api/ found them answering 500).
        ({"run": "¹"}, {("run", "invalid")}),
        ({"program": "xinjiang-2010", "year": "²⁰¹⁵"}, {("year", "invalid")}),
        ({"program": "¹", "year": YEAR}, {("program", "does_not_exist")}),
    ],
)
def test_a_bad_ranking_query_is_refused_naming_the_field(ev, scored, params, expected):
    response = api_as(ev.observer).get(RANKINGS, params)

    assert response.status_code == 400
    assert problems(response) == expected


def test_without_a_succeeded_run_there_is_no_ranking(ev, scored):
    queued = post(ev.coordinator, RUNS, {"program": ev.program.code, "year": YEAR + 1}).json()
    client = api_as(ev.observer)

    no_run = client.get(RANKINGS, {"program": ev.program.code, "year": YEAR + 1})
    not_done = client.get(RANKINGS, {"run": queued["id"]})
    missing = client.get(RANKINGS, {"run": 999999})

    assert (no_run.status_code, not_done.status_code, missing.status_code) == (404, 404, 404)
    assert problems(no_run) == {(None, "no_run")}
    assert str(YEAR + 1) in no_run.json()["errors"][0]["message"]
    assert problems(not_done) == {("run", "no_ranking")}


# --- expert scores -------------------------------------------------------------------------------------------


def test_an_evaluator_gives_and_then_changes_an_expert_score(ev):
    body = {"project": ev.shufu_accepted.pk, "indicator": "quality", "score": 82.5, "comment": "施工质量良好"}

    created = post(ev.evaluator, EXPERT_SCORES, body)
    changed = post(ev.evaluator, EXPERT_SCORES, {**body, "score": "70", "comment": "复查发现渗水"})

    assert (created.status_code, changed.status_code) == (201, 201)
    assert set(created.json()) == {
        "id",
        "project",
        "project_code",
        "indicator",
        "evaluator",
        "score",
        "comment",
        "created_at",
    }
    assert (created.json()["score"], created.json()["evaluator"], created.json()["indicator"]) == (
        82.5,
        "eve",
        "quality",
    )
    assert changed.json()["id"] == created.json()["id"]
    assert changed.json()["score"] == 70.0
    stored = ExpertScore.objects.get()
    assert (stored.score, stored.comment) == (Decimal("70.00"), "复查发现渗水")
    assert HistoryEvent.objects.filter(action="expert_scored").count() == 2
    listed = api_as(ev.assisting).get(EXPERT_SCORES, {"project": ev.shufu_accepted.pk}).json()["results"]
    assert [e["id"] for e in listed] == [stored.pk]
    assert api_as(ev.outsider).get(EXPERT_SCORES).json()["count"] == 0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"score": 101}, {("score", "max_value")}),
        ({"score": -1}, {("score", "min_value")}),
        ({"score": "x"}, {("score", "invalid")}),
        ({"score": None}, {("score", "null")}),
        ({"indicator": "on_time"}, {("indicator", "unknown_indicator")}),  # measured, not expert-scored
        ({"indicator": ""}, {("indicator", "blank")}),
        ({"comment": ""}, {("comment", "comment_required")}),
        ({"project": "abc"}, {("project", "invalid")}),
        ({"stars": 3}, {("stars", "unknown_field")}),
    ],
)
def test_a_bad_expert_score_is_refused_naming_the_field(ev, change, expected):
    body = {"project": ev.shufu_accepted.pk, "indicator": "quality", "score": 80, "comment": "ok", **change}

    response = post(ev.evaluator, EXPERT_SCORES, body)

    assert response.status_code == 400
    assert problems(response) == expected
    assert not ExpertScore.objects.exists()


def test_a_project_not_yet_approved_gets_no_expert_score(ev):
    body = {"project": ev.shufu_draft.pk, "indicator": "quality", "score": 80, "comment": "ok"}

    response = post(ev.evaluator, EXPERT_SCORES, body)

    assert response.status_code == 400
    assert problems(response) == {("project", "not_scorable")}


def test_expert_scores_answer_404_out_of_scope_and_403_to_other_roles(ev):
    body = {"project": ev.jiashi_accepted.pk, "indicator": "quality", "score": 80, "comment": "ok"}

    out_of_scope = post(ev.local_evaluator, EXPERT_SCORES, body)  # a Guangdong evaluator, a Jiangsu project
    missing = post(ev.evaluator, EXPERT_SCORES, {**body, "project": 999999})
    wrong_role = post(ev.outsider, EXPERT_SCORES, body)  # Jiangsu's own project, but not an evaluator

    assert (out_of_scope.status_code, missing.status_code, wrong_role.status_code) == (404, 404, 403)
    assert problems(out_of_scope) == problems(missing) == {("project", "not_found")}
    assert not ExpertScore.objects.exists()


def test_an_expert_score_counts_in_the_next_run(ev, django_capture_on_commit_callbacks):
    post(
        ev.evaluator,
        EXPERT_SCORES,
        {"project": ev.shufu_accepted.pk, "indicator": "quality", "score": 80, "comment": "ok"},
    )
    post(
        ev.local_evaluator,
        EXPERT_SCORES,
        {"project": ev.shufu_accepted.pk, "indicator": "quality", "score": 60, "comment": "ok"},
    )

    run = start_run(ev, django_capture_on_commit_callbacks).json()
    score = api_as(ev.coordinator).get(PROJECT_SCORES, {"run": run["id"], "project": ev.shufu_accepted.pk})

    assert score.json()["results"][0]["measures"]["quality"] == 70.0  # the mean of the two evaluators


# --- satisfaction ratings ------------------------------------------------------------------------------------


def test_a_recipient_officer_rates_an_accepted_project(ev):
    created = post(ev.recipient, RATINGS, {"project": ev.shufu_accepted.pk, "score": 4, "comment": "很满意"})
    changed = post(ev.recipient, RATINGS, {"project": ev.shufu_accepted.pk, "score": "5"})

    assert (created.status_code, changed.status_code) == (201, 201)
    assert set(created.json()) == {"id", "project", "project_code", "score", "comment", "rated_by", "created_at"}
    assert (created.json()["score"], created.json()["rated_by"]) == (4, "bob")
    assert changed.json()["id"] == created.json()["id"]
    assert changed.json()["score"] == 5
    assert SatisfactionRating.objects.get().score == 5
    assert api_as(ev.assisting).get(RATINGS).json()["count"] == 1
    assert api_as(ev.jiashi_recipient).get(RATINGS).json()["count"] == 0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"score": 0}, {("score", "min_value")}),
        ({"score": 6}, {("score", "max_value")}),
        ({"score": "x"}, {("score", "invalid")}),
        ({"score": 2.5}, {("score", "invalid")}),
        ({"score": True}, {("score", "invalid")}),
        ({"score": None}, {("score", "null")}),
        ({"project": None}, {("project", "null")}),
        ({"rating": 5}, {("rating", "unknown_field")}),
    ],
)
def test_a_bad_rating_is_refused_naming_the_field(ev, change, expected):
    response = post(ev.recipient, RATINGS, {"project": ev.shufu_accepted.pk, "score": 3, **change})

    assert response.status_code == 400
    assert problems(response) == expected
    assert not SatisfactionRating.objects.exists()


def test_a_project_not_yet_accepted_is_not_rated(ev):
    response = post(ev.recipient, RATINGS, {"project": ev.shufu_building.pk, "score": 3})

    assert response.status_code == 400
    assert problems(response) == {("project", "not_accepted")}


@pytest.mark.parametrize(("who", "expected"), [("jiashi_recipient", 404), ("assisting", 403), ("evaluator", 403)])
def test_ratings_answer_404_out_of_scope_and_403_to_other_roles(ev, who, expected):
    response = post(getattr(ev, who), RATINGS, {"project": ev.shufu_accepted.pk, "score": 3})

    assert response.status_code == expected
    assert not SatisfactionRating.objects.exists()


def test_a_satisfaction_rating_changes_the_project_and_pairing_scores_on_the_next_run(
    ev, django_capture_on_commit_callbacks
):
    coordinator = api_as(ev.coordinator)

    def scores(run_id: int) -> tuple[float, float, float]:
        project = coordinator.get(PROJECT_SCORES, {"run": run_id, "project": ev.shufu_accepted.pk}).json()
        other = coordinator.get(PROJECT_SCORES, {"run": run_id, "project": ev.jiashi_accepted.pk}).json()
        card = coordinator.get(SCORECARDS, {"run": run_id, "pairing": ev.shufu.pk}).json()
        assert project["count"] == other["count"] == card["count"] == 1
        return project["results"][0]["score"], card["results"][0]["score"], other["results"][0]["score"]

    before = start_run(ev, django_capture_on_commit_callbacks).json()["id"]
    rated = post(ev.recipient, RATINGS, {"project": ev.shufu_accepted.pk, "score": 1, "comment": "漏水"})
    after = start_run(ev, django_capture_on_commit_callbacks).json()["id"]

    assert rated.status_code == 201
    assert after != before
    (project_before, card_before, other_before), (project_after, card_after, other_after) = (
        scores(before),
        scores(after),
    )
    # a rating of 1 scores 0 on the satisfaction curve, and the indicator now counts: both scores fall
    assert project_after < project_before
    assert card_after < card_before
    assert other_after == other_before  # the other pairing's project was not rated
    measured = coordinator.get(PROJECT_SCORES, {"run": after, "project": ev.shufu_accepted.pk}).json()
    assert measured["results"][0]["measures"]["satisfaction"] == 1.0


# --- queries -------------------------------------------------------------------------------------------------


def grow(ev: Any, world: Any, pw: Any, n: int) -> None:
    """N more assisting provinces, each paired with a new county and with an accepted project scored in a new
    run; two more framework versions; more expert scores and ratings."""
    for i in range(n):
        county = RegionFactory(
            code=f"6531{40 + i}", name=f"县{i}", name_en=f"County {i}", level=RegionLevel.COUNTY, parent=world.kashgar
        )
        province = OrganizationFactory(
            name=f"省{i}", name_en=f"Province {i}", kind=OrganizationKind.PROVINCIAL_GOVERNMENT
        )
        pairing = pairing_services.pairing_create(
            by=None,
            program=pw.program,
            assisting_organization=province,
            recipient_region=county,
            start_date=dt.date(2010, 6, 1),
        )
        project = make_project(pairing, "accepted", actual_start=dt.date(YEAR, 3, 1), actual_end=dt.date(YEAR, 12, 1))
        make_inspection(project, dt.date(YEAR, 12, 5), kind="acceptance")
    for reason in ("v2", "v3"):
        framework = services.framework_current(ev.program)
        services.framework_revise(
            program=ev.program, by=ev.coordinator, indicators=services.framework_rows(framework), reason=reason
        )
    run_eagerly(ev.program, ev.year, ev.coordinator)
    for project in (ev.shufu_building, ev.jiashi_accepted, *Project.objects.filter(title="Project accepted")):
        services.expert_score_set(project=project, by=ev.evaluator, indicator_code="quality", score=75, comment="ok")
    for i in range(n):
        officer = UserFactory(username=f"shufu-ro-{i}", organization=world.shufu_gov, roles=[Role.RECIPIENT_OFFICER])
        services.satisfaction_rate(project=ev.shufu_accepted, by=officer, score=1 + i % 5)


# What each list costs, whatever its length: the count and the page, plus
# - frameworks: their indicators (one prefetch);
# - project scores, scorecards, expert scores, ratings: the caller's organization with its region (scope);
# - rankings: the programme named and its latest succeeded run.
COST = {
    "frameworks": 3,
    "runs": 2,
    "project-scores": 3,
    "scorecards": 3,
    "rankings": 4,
    "expert-scores": 3,
    "satisfaction-ratings": 3,
}
LISTS = {
    "frameworks": FRAMEWORKS,
    "runs": RUNS,
    "project-scores": PROJECT_SCORES,
    "scorecards": SCORECARDS,
    "rankings": RANKINGS,
    "expert-scores": EXPERT_SCORES,
    "satisfaction-ratings": RATINGS,
}


@pytest.mark.parametrize("name", list(LISTS))
@pytest.mark.parametrize("who", ["coordinator", "assisting"])
def test_lists_cost_the_same_queries_at_any_length(ev, world, pw, django_assert_max_num_queries, name, who):
    url = LISTS[name]
    params = {"program": "xinjiang-2010", "year": YEAR} if url == RANKINGS else {}
    run_eagerly(ev.program, ev.year, ev.coordinator)
    services.expert_score_set(
        project=ev.shufu_accepted, by=ev.evaluator, indicator_code="quality", score=80, comment="ok"
    )
    services.satisfaction_rate(project=ev.shufu_accepted, by=ev.recipient, score=4)

    def measure() -> tuple[int, int]:
        # A fresh user each time, as authentication delivers one: organization, region and roles not yet loaded.
        client = api_as(User.objects.get(pk=getattr(ev, who).pk))
        with django_assert_max_num_queries(COST[name]), CaptureQueriesContext(connection) as queries:
            response = client.get(url, {"page_size": 200, **params})
        assert response.status_code == 200, response.json()
        return len(response.json()["results"]), len(queries.captured_queries)

    few, cost = measure()
    grow(ev, world, pw, 6)
    many, cost_many = measure()

    assert many > few >= 1
    assert cost_many == cost
