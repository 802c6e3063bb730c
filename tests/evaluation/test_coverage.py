"""The coverage rule (`evaluation.coverage`): a project is scored only when its indicators with data carry at least
the framework's `min_coverage` (default 50 %) of the project indicators' weight; below it, it has "not enough data
yet" — no score, no grade, left out of its pairing's project scores — and the pages (both languages), the API, the
exports and the scorecard's PDF say so. The framework setting is edited with the framework, checked 0–100 with
the field named. Fixtures: tests/evaluation/conftest.py (`ev`, the Xinjiang programme's 2015)."""

from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from evaluation import coverage, services
from evaluation.curves import Spec
from evaluation.models import IndicatorFramework, PairingScorecard, ProjectScore, RunStatus
from exchange.exports import LISTS, Cells, Source
from tests.conftest import api_as
from tests.evaluation.conftest import YEAR, make_project, run_eagerly

pytestmark = pytest.mark.django_db

BASE = "/api/v1/evaluation"


def client_for(user: Any, language: str) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


@pytest.fixture
def not_started(ev: Any) -> Any:
    """A project approved but not started: only its schedule and its budget can be measured (20 + 15 of 100)."""
    return make_project(ev.shufu, "approved", title="疏附县未开工项目")


@pytest.fixture
def run(ev: Any, not_started: Any) -> Any:
    done = run_eagerly(ev.program, YEAR, ev.coordinator)
    assert done.status == RunStatus.SUCCEEDED, done.error
    return done


# --- the rule ------------------------------------------------------------------------------------------------


def spec(code: str, weight: float) -> Spec:
    return Spec(code, "project", "on_time_completion", "linear", 0.0, 1.0, (), weight)


def test_the_rule_scores_at_the_threshold_and_not_below():
    specs = [spec("a", 20), spec("b", 30), spec("c", 50)]
    assert coverage.coverage_of(specs, {"a": 1.0, "b": 0.5}) == 50.0
    assert coverage.judge(specs, {"a": 1.0, "b": 0.5}, Decimal("50")) == ("scored", 50.0, 70.0)
    assert coverage.judge(specs, {"a": 1.0}, Decimal("50")) == ("insufficient_data", 20.0, None)
    assert coverage.judge(specs, {"a": 1.0}, Decimal("20")) == ("scored", 20.0, 100.0)
    # No data at all is never enough, even where the framework asks for none.
    assert coverage.judge(specs, {}, Decimal("0")) == ("insufficient_data", 0.0, None)
    # Weights summed in floating point a hair off the threshold still reach it.
    odd = [spec("a", 33.33), spec("b", 16.67), spec("c", 50)]
    assert coverage.has_enough_data(coverage.coverage_of(odd, {"a": 1.0, "b": 1.0}), Decimal("50"))
    assert not coverage.has_enough_data(49.99, Decimal("50"))


# --- the engine (PostgreSQL) ---------------------------------------------------------------------------------


def test_a_project_without_enough_data_is_not_scored_nor_in_its_pairings_average(ev, not_started, run):
    left_out = ProjectScore.objects.get(run=run, project=not_started)
    assert (left_out.status, left_out.score, left_out.coverage) == ("insufficient_data", None, 35.0)
    assert not left_out.has_enough_data
    scored = list(ProjectScore.objects.filter(run=run, pairing=ev.shufu, status="scored"))
    assert {s.project_id for s in scored} == {ev.shufu_accepted.pk, ev.shufu_building.pk}
    assert all(s.coverage >= 50 for s in scored)
    card = PairingScorecard.objects.get(run=run, pairing=ev.shufu)
    assert (card.project_count, card.insufficient_data_count, card.scored_count) == (3, 1, 2)
    # The pairing's project scores: the budget-weighted mean of the scored projects only.
    mean = sum(s.score * float(s.budget) for s in scored) / sum(float(s.budget) for s in scored)
    assert card.measures["projects"] == pytest.approx(mean, abs=1e-9)
    jiashi = PairingScorecard.objects.get(run=run, pairing=ev.jiashi)
    assert jiashi.insufficient_data_count == 0


def test_the_frameworks_minimum_is_the_one_a_run_applies(ev, not_started):
    rows = services.framework_rows(services.framework_current(ev.program))
    services.framework_revise(program=ev.program, by=ev.coordinator, indicators=rows, reason="30 %", min_coverage=30)
    run = run_eagerly(ev.program, YEAR, ev.coordinator)
    row = ProjectScore.objects.get(run=run, project=not_started)
    assert (row.status, row.coverage) == ("scored", 35.0)
    assert row.score is not None
    assert PairingScorecard.objects.get(run=run, pairing=ev.shufu).insufficient_data_count == 0


# --- the framework setting -----------------------------------------------------------------------------------


def test_the_minimum_is_checked_with_the_other_problems_and_named(ev):
    current = services.framework_current(ev.program)
    assert current.min_coverage == Decimal("50")
    rows = services.framework_rows(current)
    for bad in (-1, "100.5", "half", float("nan"), True):
        with pytest.raises(services.DomainError) as caught:
            services.framework_revise(
                program=ev.program, by=ev.coordinator, indicators=rows, reason="", min_coverage=bad
            )
        fields = {p.field for p in caught.value.problems}
        assert fields == {"min_coverage", "reason"}, bad
    kept = services.framework_revise(program=ev.program, by=ev.coordinator, indicators=rows, reason="same")
    assert kept.min_coverage == Decimal("50")
    new = services.framework_revise(
        program=ev.program, by=ev.coordinator, indicators=rows, reason="stricter", min_coverage="75 %"
    )
    assert new.min_coverage == Decimal("75.00")
    assert IndicatorFramework.objects.filter(program=ev.program).count() == 3


def test_the_api_shows_and_takes_the_minimum_and_names_the_field(ev):
    current = services.framework_current(ev.program)
    listed = api_as(ev.observer).get(f"{BASE}/frameworks/{current.pk}/").json()
    assert listed["min_coverage"] == 50.0
    rows = [{**row, "weight": str(row["weight"])} for row in services.framework_rows(current)]
    body = {"program": ev.program.code, "indicators": rows, "reason": "x"}
    for bad in (150, -5):
        response = api_as(ev.coordinator).post(f"{BASE}/frameworks/", {**body, "min_coverage": bad}, format="json")
        assert response.status_code == 400
        assert {e["field"] for e in response.json()["errors"]} == {"min_coverage"}
    response = api_as(ev.coordinator).post(f"{BASE}/frameworks/", {**body, "min_coverage": "x"}, format="json")
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"min_coverage"}
    assert IndicatorFramework.objects.filter(program=ev.program).count() == 1
    response = api_as(ev.coordinator).post(f"{BASE}/frameworks/", {**body, "min_coverage": 60}, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["min_coverage"] == 60.0


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_framework_editor_takes_the_minimum_and_marks_a_bad_one(ev, language):
    current = services.framework_current(ev.program)
    client = client_for(ev.coordinator, language)
    page = client.get(f"/evaluation/frameworks/{current.pk}/revise/").content.decode()
    assert 'name="min_coverage"' in page
    assert 'value="50"' in page
    form = _editor_post(client, current.pk)
    form.update(min_coverage="120", reason="x")
    response = client.post(f"/evaluation/frameworks/{current.pk}/revise/", form)
    assert response.status_code == 200
    html = response.content.decode()
    assert "id_min_coverage_errors" in html
    assert ("0 to 100" if language == "en" else "0 至 100") in html
    form.update(min_coverage="40")
    response = client.post(f"/evaluation/frameworks/{current.pk}/revise/", form)
    assert response.status_code == 302
    new = services.framework_current(ev.program)
    assert new.min_coverage == Decimal("40")
    detail = client.get(f"/evaluation/frameworks/{new.pk}/").content.decode()
    assert 'id="framework-min-coverage"' in detail
    assert "40 %" in detail


def _editor_post(client: Client, pk: int) -> dict[str, str]:
    """The editor's form as the browser would send it back unchanged."""
    import re

    html = client.get(f"/evaluation/frameworks/{pk}/revise/").content.decode()
    form = html[html.index('id="framework-form"') :]
    data: dict[str, str] = {}
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or 'type="checkbox"' in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data[name.group(1)] = value.group(1) if value else ""
    for select in re.finditer(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select.group(2))
        data[select.group(1)] = chosen.group(1) if chosen else ""
    data.pop("add_row", None)
    return data


# --- pages, both languages -----------------------------------------------------------------------------------

WORDS = {
    "en": ("Not enough data yet", "35 %", "50 %", "1 of its 3 projects is left out of the average"),
    "zh-hans": ("数据尚不足", "35 %", "50 %", "其 3 个项目中有 1 个未计入平均分"),
}


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_score_page_says_not_enough_data_instead_of_a_score(ev, not_started, run, language):
    row = ProjectScore.objects.get(run=run, project=not_started)
    client = client_for(ev.assisting, language)
    for url in (f"/evaluation/project-scores/{row.pk}/", f"/evaluation/projects/{not_started.pk}/score/"):
        html = client.get(url).content.decode()
        not_enough, covered, required, _left_out = WORDS[language]
        assert 'id="not-enough-data"' in html
        assert not_enough in html
        assert covered in html
        assert required in html
        assert 'id="coverage-table"' in html
        assert 'id="explain-table"' not in html
        assert "dk-grade" not in html.split('id="not-enough-data"')[1].split("</div></div>")[0]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_scorecard_says_how_many_projects_were_left_out(ev, not_started, run, language):
    card = PairingScorecard.objects.get(run=run, pairing=ev.shufu)
    html = client_for(ev.assisting, language).get(f"/evaluation/scorecards/{card.pk}/").content.decode()
    left_out = WORDS[language][3]
    assert 'id="card-left-out"' in html
    assert left_out in html
    assert 'id="card-scored-count">2<' in html
    assert html.count("dk-not-enough-data") == 1  # the project's row
    jiashi = PairingScorecard.objects.get(run=run, pairing=ev.jiashi)
    html = client_for(ev.coordinator, language).get(f"/evaluation/scorecards/{jiashi.pk}/").content.decode()
    assert 'id="card-left-out"' not in html


def test_the_scorecard_pdf_shows_what_the_page_shows(ev, not_started, run):
    from django.template.loader import render_to_string
    from django.utils import translation

    from exchange.reports import TEMPLATES, _scorecard_context

    card = PairingScorecard.objects.get(run=run, pairing=ev.shufu)
    with translation.override("zh-hans"):
        html = render_to_string(TEMPLATES["scorecard"], _scorecard_context(ev.assisting, card) | {"page_words": ""})
    assert "其 3 个项目中有 1 个未计入平均分" in html
    assert "数据尚不足" in html
    assert 'id="card-scored-count">2<' in html


# --- API and exports -----------------------------------------------------------------------------------------


def test_the_api_gives_status_and_coverage(ev, not_started, run):
    client = api_as(ev.assisting)
    rows = client.get(f"{BASE}/project-scores/", {"run": run.pk}).json()["results"]
    by_project = {r["project"]: r for r in rows}
    left_out = by_project[not_started.pk]
    assert (left_out["status"], left_out["score"], left_out["coverage"], left_out["required_coverage"]) == (
        "insufficient_data",
        None,
        35.0,
        50.0,
    )
    assert by_project[ev.shufu_accepted.pk]["status"] == "scored"
    only = client.get(f"{BASE}/project-scores/", {"run": run.pk, "status": "insufficient_data"}).json()["results"]
    assert [r["project"] for r in only] == [not_started.pk]
    bad = client.get(f"{BASE}/project-scores/", {"status": "nope"})
    assert bad.status_code == 400
    assert {e["field"] for e in bad.json()["errors"]} == {"status"}
    detail = client.get(f"{BASE}/project-scores/{left_out['id']}/").json()
    assert detail["status"] == "insufficient_data"
    card = PairingScorecard.objects.get(run=run, pairing=ev.shufu)
    shown = client.get(f"{BASE}/scorecards/{card.pk}/").json()
    assert (shown["project_count"], shown["insufficient_data_count"]) == (3, 1)


def test_the_exported_rows_say_the_same(ev, not_started, run):
    from django.utils import translation

    kind = LISTS["project_scores"]
    source = Source(kind, ev.assisting, {"run": run.pk})
    cells = Cells(kind)
    with translation.override("zh-hans"):
        out = []
        for rows in source.chunks():
            cells.prepare(rows)
            out += [{c.key: cells.value(c, r) for c in kind.columns} for r in rows]
        left_out = next(r for r in out if r["project"] == not_started.pk)
        headers = [str(c.header) for c in kind.columns]
    assert (left_out["status"], left_out["score"]) == ("数据尚不足", None)
    assert (left_out["coverage"], left_out["required_coverage"]) == (Decimal("35.0"), Decimal("50.0"))
    assert {"状态", "数据覆盖率（%）", "要求的覆盖率（%）"} <= set(headers)
    kind = LISTS["scorecards"]
    cells = Cells(kind)
    rows = [r for chunk in Source(kind, ev.assisting, {"run": run.pk}).chunks() for r in chunk]
    shufu = next(r for r in rows if r["pairing"] == ev.shufu.pk)
    column = next(c for c in kind.columns if c.key == "insufficient_data_count")
    assert cells.value(column, shufu) == 1
