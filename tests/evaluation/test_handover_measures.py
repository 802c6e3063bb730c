"""The hematopoiesis indicators: from the handovers and the yearly operation reports, the project-level "asset
still in use" and "revenue covers running costs" and their pairing-level shares. A run scores them set-based
(evaluation.scoring, the real Celery task code run eagerly), the pure-Python reference agrees, the scorecard
explains them in both languages, and a project not handed over yet is *not applicable* for them: never pushed
below the coverage threshold (evaluation.coverage). Fixtures: tests/evaluation/conftest.py (`ev`, 2015)."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from evaluation import coverage, reference, services
from evaluation.curves import Spec
from evaluation.measures import MEASURES
from evaluation.models import PairingScorecard, ProjectScore, RunStatus
from projects.models import Handover, OperationReport
from tests.evaluation.conftest import YEAR, make_project, run_eagerly

pytestmark = pytest.mark.django_db

D = dt.date


def row(code: str, level: str, formula: str, weight: int, name: str, name_en: str) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "name_en": name_en,
        "level": level,
        "formula": formula,
        "curve": "linear",
        "floor": 0.0,
        "target": 1.0,
        "thresholds": [],
        "weight": weight,
    }


INDICATORS = [
    row("on_time", "project", "on_time_completion", 40, "按期完成", "On time"),
    row("in_use", "project", "assets_in_use", 30, "移交资产仍在使用", "Asset still in use"),
    row("costs", "project", "running_costs_covered", 30, "收入覆盖运行成本", "Revenue covers costs"),
    row("mandate", "pairing", "mandate_fulfilment", 40, "任务完成", "Mandate"),
    row("in_use_share", "pairing", "assets_in_use_share", 30, "移交资产在用率", "Assets still in use"),
    row("costs_share", "pairing", "running_costs_covered_share", 30, "造血项目自我维持率", "Self-sustaining cover"),
]


def handed_over(project: Any, on: dt.date, reports: list[dict[str, Any]]) -> Any:
    Handover.objects.create(
        project=project, date=on, receiving_name="疏附县教育局", asset_value=Decimal("1000000.00"), status="confirmed"
    )
    for r in reports:
        OperationReport.objects.create(project=project, **r)
    return project


@pytest.fixture
def operated(ev: Any) -> dict[str, Any]:
    """Projects of Guangdong → Shufu handed over in 2012 (3 years before the run's 2015 ends) and later."""
    old = {"planned_start": D(2011, 3, 1), "planned_end": D(2011, 12, 31), "actual_end": D(2011, 12, 1)}
    running = handed_over(
        make_project(ev.shufu, "accepted", title="疏附县第二幼儿园", **old),
        D(2012, 3, 1),
        [
            {"year": 2013, "status": "idle"},
            {"year": 2015, "status": "under_used", "operating_cost": Decimal("100"), "cost_payer": "operator"},
            # A report of a year after the run's is not read by the run of 2015.
            {"year": 2016, "status": "closed"},
        ],
    )
    closed = handed_over(
        make_project(ev.shufu, "evaluated", title="疏附县托万克乡卫生院", **old),
        D(2012, 6, 1),
        [{"year": 2014, "status": "demolished"}],
    )
    earning = handed_over(
        make_project(ev.shufu, "accepted", title="疏附县农产品加工厂", is_self_sustaining=True, **old),
        D(2014, 1, 10),
        [
            {
                "year": 2015,
                "status": "in_use",
                "revenue": Decimal("500000"),
                "operating_cost": Decimal("300000"),
                "maintenance_cost": Decimal("150000"),
                "cost_payer": "operator",
            }
        ],
    )
    losing = handed_over(
        make_project(ev.shufu, "accepted", title="疏附县冷链物流中心", **old),
        D(2014, 2, 1),
        [
            {
                "year": 2015,
                "status": "in_use",
                "revenue": Decimal("100"),
                "operating_cost": Decimal("1000"),
                "cost_payer": "operator",
            }
        ],
    )
    pending = make_project(ev.shufu, "accepted", title="疏附县移交待确认项目", **old)
    Handover.objects.create(
        project=pending, date=D(2012, 1, 1), receiving_name="x", asset_value=Decimal("1"), status="pending"
    )
    services.framework_revise(
        program=ev.program, by=ev.coordinator, indicators=INDICATORS, reason="造血考核", min_coverage=50
    )
    return {"running": running, "closed": closed, "earning": earning, "losing": losing, "pending": pending}


@pytest.fixture
def run(ev: Any, operated: dict[str, Any]) -> Any:
    done = run_eagerly(ev.program, YEAR, ev.coordinator)
    assert done.status == RunStatus.SUCCEEDED, done.error
    return done


def measures_of(run: Any, project: Any) -> dict[str, Any]:
    return ProjectScore.objects.get(run=run, project=project).measures


def test_a_run_measures_the_assets_in_use_and_the_running_costs_of_each_project(ev, operated, run):
    assert measures_of(run, operated["running"]) == {"on_time": 1.0, "in_use": 1.0, "costs": None}
    assert measures_of(run, operated["closed"])["in_use"] == 0.0
    # Handed over in 2014: not 3 years yet (not applicable), but a self-sustaining project covering its costs.
    assert measures_of(run, operated["earning"]) == {"on_time": 1.0, "in_use": None, "costs": 1.0}
    assert measures_of(run, operated["losing"])["costs"] == 0.0
    # A handover waiting for confirmation is no handover yet.
    assert measures_of(run, operated["pending"]) == {"on_time": 1.0, "in_use": None, "costs": None}


def test_the_pairings_shares_count_the_handed_over_projects(ev, operated, run):
    card = PairingScorecard.objects.get(run=run, pairing=ev.shufu)
    # In use or under-used 3 years on: the kindergarten, not the demolished clinic.
    assert card.measures["in_use_share"] == pytest.approx(0.5)
    # Earning revenue: the processing plant covers its costs, the cold chain does not.
    assert card.measures["costs_share"] == pytest.approx(0.5)
    jiashi = PairingScorecard.objects.get(run=run, pairing=ev.jiashi)
    assert jiashi.measures["in_use_share"] is None
    assert jiashi.measures["costs_share"] is None


def test_a_project_not_handed_over_is_not_pushed_below_the_coverage_threshold(ev, operated, run):
    # Only its schedule can be measured (40 of 100): counted as missing, the two handover indicators would leave
    # it at 40 % and unscored; not applicable, they leave the whole and it is judged on what applies to it.
    for project in (ev.shufu_accepted, operated["pending"]):
        row = ProjectScore.objects.get(run=run, project=project)
        assert (row.status, row.coverage) == ("scored", 100.0), project.title
        assert row.score == pytest.approx(100.0 * row.measures["on_time"])
    # The rule itself, in Python: the optional measures without a value weigh nothing either way.
    specs = [Spec.of(i) for i in services.framework_current(ev.program).indicators.all() if i.level == "project"]
    assert coverage.coverage_of(specs, {"on_time": 0.5}) == 100.0
    assert coverage.coverage_of(specs, {"on_time": 0.5, "in_use": 1.0}) == pytest.approx(100.0)
    assert coverage.coverage_of(specs, {"in_use": 1.0}) == pytest.approx(100 * 30 / 70)
    assert coverage.coverage_of([s for s in specs if s.code == "in_use"], {}) == 0.0


def test_the_reference_agrees_with_the_run(ev, operated, run):
    framework = services.framework_current(ev.program)
    project_specs = [Spec.of(i) for i in framework.indicators.all() if i.level == "project"]
    pairing_specs = [Spec.of(i) for i in framework.indicators.all() if i.level == "pairing"]
    expected = reference.reference_project_scores(ev.program, YEAR, run.as_of, project_specs, framework.min_coverage)
    for pk, (score, measures) in expected.items():
        got = ProjectScore.objects.get(run=run, project_id=pk)
        assert got.measures == pytest.approx(measures), pk
        assert got.score == pytest.approx(score) if score is not None else got.score is None
        assert got.coverage == pytest.approx(reference.reference_coverage(project_specs, measures))
    cards = reference.reference_pairing_scores(ev.program, YEAR, pairing_specs, expected)
    for pk, (_score, measures) in cards.items():
        card = PairingScorecard.objects.get(run=run, pairing_id=pk)
        for code in ("in_use_share", "costs_share"):
            assert card.measures[code] == pytest.approx(measures[code]), (pk, code)


def test_the_measures_are_offered_to_frameworks_with_their_definitions(ev):
    for code, level in (
        ("assets_in_use", "project"),
        ("running_costs_covered", "project"),
        ("assets_in_use_share", "pairing"),
        ("running_costs_covered_share", "pairing"),
    ):
        assert MEASURES[code].level == level
    api_client = Client()
    api_client.force_login(ev.coordinator)
    formulas = api_client.get("/api/v1/evaluation/frameworks/formulas/")
    if formulas.status_code == 200:
        codes = {f["code"] for f in formulas.json()}
        assert {"assets_in_use", "running_costs_covered_share"} <= codes


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", ("移交资产在用率", "3 年", "运行报告")),
        ("en", ("Assets still in use", "at least 3 years", "operation report")),
    ],
)
def test_the_scorecard_explains_the_new_indicators(ev, operated, run, language, words):
    client = Client()
    client.force_login(ev.coordinator)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    card = PairingScorecard.objects.get(run=run, pairing=ev.shufu)
    page = client.get(f"/evaluation/scorecards/{card.pk}/")
    assert page.status_code == 200
    text = page.content.decode()
    for word in words:
        assert word in text, word
    assert 'data-indicator="in_use_share"' in text
