"""Who may read and write what in the evaluation API: every user of the `ev` fixture (and an anonymous caller)
× every endpoint, each an expected status. Callers authenticate with a real token.

Where each user sits (tests/evaluation/conftest.py): `coordinator`, `evaluator` and `observer` act for the
national office and see every pairing; `assisting`, `local_evaluator` and `provincial_coordinator` act for
Guangdong and see Guangdong → Shufu; `recipient` acts for Shufu county (Guangdong → Shufu); `jiashi_recipient`
for Jiashi county, and `outsider` and `jiangsu_observer` for Jiangsu (both Jiangsu → Jiashi).

The rules:
- frameworks, runs and rankings are a programme's published results: everyone signed in reads them;
- a project score, a scorecard, an expert score or a rating is read by whoever sees its pairing (404 otherwise);
- frameworks are revised by a national coordinator, runs started by a national coordinator or a national
  evaluator; a provincial official holding either role may not (403);
- expert scores are given by evaluators, ratings by recipient officers (403 for every other role, before the
  body is read); on a project outside the caller's scope, 404;
- anonymous callers get 401 everywhere; methods an endpoint does not have get 405.
Every refused write leaves the database as it was.
"""

from collections.abc import Callable
from typing import Any

import pytest
from knox.models import AuthToken
from rest_framework.test import APIClient

from core.models import HistoryEvent
from evaluation import services
from evaluation.models import (
    EvaluationRun,
    ExpertScore,
    IndicatorFramework,
    PairingScorecard,
    ProjectScore,
    SatisfactionRating,
)
from tests.evaluation.conftest import EvaluationWorld, run_eagerly

pytestmark = pytest.mark.django_db

BASE = "/api/v1/evaluation"
USERS = [
    "coordinator",
    "evaluator",
    "observer",
    "assisting",
    "local_evaluator",
    "provincial_coordinator",
    "recipient",
    "jiashi_recipient",
    "outsider",
    "jiangsu_observer",
]
SEES = {
    "shufu": {
        "coordinator",
        "evaluator",
        "observer",
        "assisting",
        "local_evaluator",
        "provincial_coordinator",
        "recipient",
    },
    "jiashi": {"coordinator", "evaluator", "observer", "outsider", "jiashi_recipient", "jiangsu_observer"},
}
MAY = {
    "framework": {"coordinator"},
    "run": {"coordinator", "evaluator"},
    "expert": {"evaluator", "local_evaluator"},
    "rate": {"recipient", "jiashi_recipient"},
}


class Setting:
    """The objects the matrix points at: the fixture's year scored once, with an expert score and a rating."""

    def __init__(self, ev: EvaluationWorld) -> None:
        self.ev = ev
        self.run = run_eagerly(ev.program, ev.year, ev.coordinator)
        self.score = {
            side: ProjectScore.objects.get(run=self.run, project=getattr(ev, f"{side}_accepted"))
            for side in ("shufu", "jiashi")
        }
        self.card = {side: PairingScorecard.objects.get(run=self.run, pairing=getattr(ev, side)) for side in SEES}
        self.expert = services.expert_score_set(
            project=ev.shufu_accepted, by=ev.evaluator, indicator_code="quality", score=80, comment="ok"
        )
        self.rating = services.satisfaction_rate(project=ev.shufu_accepted, by=ev.recipient, score=4)


# --- reads ---------------------------------------------------------------------------------------------------

# name -> (the URL, and which pairing's users see it; None: everyone signed in)
READS: dict[str, tuple[Callable[[Setting], str], str | None]] = {
    "frameworks": (lambda s: f"{BASE}/frameworks/", None),
    "framework": (lambda s: f"{BASE}/frameworks/{s.ev.framework.pk}/", None),
    "formulas": (lambda s: f"{BASE}/frameworks/formulas/", None),
    "runs": (lambda s: f"{BASE}/runs/", None),
    "run": (lambda s: f"{BASE}/runs/{s.run.pk}/", None),
    "rankings": (lambda s: f"{BASE}/rankings/?program={s.ev.program.code}&year={s.ev.year}", None),
    "rankings_of_run": (lambda s: f"{BASE}/rankings/?run={s.run.pk}", None),
    "project_scores": (lambda s: f"{BASE}/project-scores/", None),
    "shufu_project_score": (lambda s: f"{BASE}/project-scores/{s.score['shufu'].pk}/", "shufu"),
    "jiashi_project_score": (lambda s: f"{BASE}/project-scores/{s.score['jiashi'].pk}/", "jiashi"),
    "scorecards": (lambda s: f"{BASE}/scorecards/", None),
    "shufu_scorecard": (lambda s: f"{BASE}/scorecards/{s.card['shufu'].pk}/", "shufu"),
    "jiashi_scorecard": (lambda s: f"{BASE}/scorecards/{s.card['jiashi'].pk}/", "jiashi"),
    "expert_scores": (lambda s: f"{BASE}/expert-scores/", None),
    "shufu_expert_score": (lambda s: f"{BASE}/expert-scores/{s.expert.pk}/", "shufu"),
    "ratings": (lambda s: f"{BASE}/satisfaction-ratings/", None),
    "shufu_rating": (lambda s: f"{BASE}/satisfaction-ratings/{s.rating.pk}/", "shufu"),
}


def token_client(user: Any) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {AuthToken.objects.create(user)[1]}")
    return client


@pytest.mark.parametrize("read", list(READS))
def test_who_reads_what(ev, read):
    setting = Setting(ev)
    url_of, side = READS[read]
    url = url_of(setting)

    got = {who: token_client(getattr(ev, who)).get(url).status_code for who in USERS}
    anonymous = token_client(None).get(url).status_code

    expected = {who: 200 if side is None or who in SEES[side] else 404 for who in USERS}
    assert got == expected
    assert anonymous == 401


# --- writes --------------------------------------------------------------------------------------------------


def _framework_body(s: Setting) -> dict[str, Any]:
    rows = [{**row, "weight": str(row["weight"])} for row in services.framework_rows(s.ev.framework)]
    return {"program": s.ev.program.code, "indicators": rows, "reason": "每年复核"}


# name -> (URL, body, who may (MAY key), which pairing's users the target belongs to, the status of success)
WRITES: dict[str, tuple[str, Callable[[Setting], dict[str, Any]], str, str | None, int]] = {
    "revise_framework": ("frameworks/", _framework_body, "framework", None, 201),
    "start_run": ("runs/", lambda s: {"program": s.ev.program.pk, "year": s.ev.year + 1}, "run", None, 202),
    "start_all_runs": ("runs/", lambda s: {"year": s.ev.year + 1}, "run", None, 202),
    "expert_score_shufu": (
        "expert-scores/",
        lambda s: {"project": s.ev.shufu_building.pk, "indicator": "quality", "score": 60, "comment": "c"},
        "expert",
        "shufu",
        201,
    ),
    "expert_score_jiashi": (
        "expert-scores/",
        lambda s: {"project": s.ev.jiashi_accepted.pk, "indicator": "quality", "score": 60, "comment": "c"},
        "expert",
        "jiashi",
        201,
    ),
    "rate_shufu": (
        "satisfaction-ratings/",
        lambda s: {"project": s.ev.shufu_accepted.pk, "score": 2},
        "rate",
        "shufu",
        201,
    ),
    "rate_jiashi": (
        "satisfaction-ratings/",
        lambda s: {"project": s.ev.jiashi_accepted.pk, "score": 2},
        "rate",
        "jiashi",
        201,
    ),
}


def snapshot() -> dict[str, Any]:
    return {
        "frameworks": IndicatorFramework.objects.count(),
        "runs": EvaluationRun.objects.count(),
        "expert": sorted(ExpertScore.objects.values_list("project_id", "evaluator_id", "score")),
        "ratings": sorted(SatisfactionRating.objects.values_list("project_id", "rated_by_id", "score")),
        "history": HistoryEvent.objects.count(),
    }


@pytest.mark.parametrize("who", [*USERS, "anonymous"])
@pytest.mark.parametrize("write", list(WRITES))
def test_who_writes_what(ev, write, who):
    setting = Setting(ev)
    path, body_of, right, side, success = WRITES[write]
    user = None if who == "anonymous" else getattr(ev, who)
    before = snapshot()

    response = token_client(user).post(f"{BASE}/{path}", body_of(setting), format="json")

    if user is None:
        expected = 401
    elif who not in MAY[right]:
        expected = 403
    elif side is not None and who not in SEES[side]:
        expected = 404
    else:
        expected = success
    assert response.status_code == expected, response.json()
    if expected == 403:
        assert [e["code"] for e in response.json()["errors"]] == ["forbidden"]
    if expected >= 400:
        assert snapshot() == before
    else:
        assert snapshot() != before


# --- methods an endpoint does not have -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "read"),
    [
        ("put", "framework"),
        ("patch", "framework"),
        ("delete", "framework"),
        ("put", "run"),
        ("delete", "run"),
        ("post", "rankings"),
        ("post", "project_scores"),
        ("delete", "shufu_project_score"),
        ("post", "scorecards"),
        ("patch", "shufu_scorecard"),
        ("patch", "shufu_expert_score"),
        ("delete", "shufu_rating"),
    ],
)
def test_what_an_endpoint_does_not_do_is_405(ev, method, read):
    setting = Setting(ev)
    url = READS[read][0](setting)

    response = getattr(token_client(ev.coordinator), method)(url, {}, format="json")

    assert response.status_code == 405
    assert response.json()["errors"][0]["code"] == "method_not_allowed"
