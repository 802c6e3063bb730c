"""Expert scores (evaluators, per project and expert-scored indicator) and satisfaction ratings (recipient
officers, accepted projects): the good path with its history, one row per evaluator or officer changed in place,
and every refusal naming its field — nothing written when refused."""

from decimal import Decimal

import pytest

from core.errors import DomainError, NotFound, PermissionDenied
from core.models import HistoryEvent
from evaluation import services
from evaluation.models import ExpertScore, SatisfactionRating
from projects.models import Project
from tests.evaluation import conftest_engine
from tests.evaluation.conftest_engine import Engine, project

pytestmark = pytest.mark.django_db
eng = conftest_engine.eng


def events(p: Project, action: str) -> list[HistoryEvent]:
    return list(HistoryEvent.objects.for_object(p).filter(action=action).order_by("at", "id"))


# --- expert scores -------------------------------------------------------------------------------------------


def test_an_evaluator_scores_a_project_with_a_reason(eng: Engine):
    got = services.expert_score_set(
        project=eng.building, by=eng.evaluator, indicator_code="quality", score="72.5", comment=" Solid work "
    )

    row = ExpertScore.objects.get()
    assert row.pk == got.pk
    assert (row.project, row.indicator_code, row.evaluator, row.score, row.comment) == (
        eng.building,
        "quality",
        eng.evaluator,
        Decimal("72.50"),
        "Solid work",
    )
    (event,) = events(eng.building, "expert_scored")
    assert event.actor == eng.evaluator
    assert event.comment == "Solid work"
    assert event.changes == {"quality": {"old": None, "new": "72.50"}}


def test_a_second_score_by_the_same_evaluator_changes_the_first(eng: Engine):
    first = services.expert_score_set(
        project=eng.accepted, by=eng.evaluator, indicator_code="quality", score=60, comment="First look"
    )
    second = services.expert_score_set(
        project=eng.accepted, by=eng.evaluator, indicator_code="quality", score=85, comment="After the visit"
    )
    services.expert_score_set(
        project=eng.accepted, by=eng.local_evaluator, indicator_code="quality", score=70, comment="Mine"
    )

    assert second.pk == first.pk
    assert sorted(ExpertScore.objects.values_list("evaluator__username", "score")) == [
        ("eng-evaluator", Decimal("85.00")),
        ("eng-gd-evaluator", Decimal("70.00")),
    ]
    assert ExpertScore.objects.get(pk=first.pk).comment == "After the visit"
    changes = [e.changes["quality"] for e in events(eng.accepted, "expert_scored")]
    assert changes == [{"old": None, "new": "60.00"}, {"old": "60.00", "new": "85.00"}, {"old": None, "new": "70.00"}]


@pytest.mark.parametrize("score", [-0.01, 100.01, "abc", None, "", "NaN", "Infinity", [50]])
def test_an_expert_score_out_of_range_is_refused(eng: Engine, score):
    with pytest.raises(DomainError) as caught:
        services.expert_score_set(
            project=eng.building, by=eng.evaluator, indicator_code="quality", score=score, comment="x"
        )
    assert [(p.code, p.field) for p in caught.value.problems] == [("out_of_range", "score")]
    assert not ExpertScore.objects.exists()
    assert not events(eng.building, "expert_scored")


@pytest.mark.parametrize("score", [0, 100, "99.999"])
def test_the_ends_of_the_expert_range_are_accepted(eng: Engine, score):
    services.expert_score_set(
        project=eng.building, by=eng.evaluator, indicator_code="quality", score=score, comment="x"
    )
    assert ExpertScore.objects.get().score == Decimal(str(score)).quantize(Decimal("0.01"))


def test_an_expert_score_names_every_problem_at_once(eng: Engine):
    with pytest.raises(DomainError) as caught:
        services.expert_score_set(project=eng.draft, by=eng.evaluator, indicator_code="budget", score=101, comment=" ")
    assert {(p.code, p.field) for p in caught.value.problems} == {
        ("unknown_indicator", "indicator"),  # budget is computed, not expert-scored
        ("out_of_range", "score"),
        ("not_scorable", "project"),  # a draft is not scored
        ("comment_required", "comment"),
    }
    assert not ExpertScore.objects.exists()


def test_a_cancelled_project_is_not_scored(eng: Engine):
    cancelled = project(eng.shufu, "cancelled")
    with pytest.raises(DomainError) as caught:
        services.expert_score_set(project=cancelled, by=eng.evaluator, indicator_code="quality", score=50, comment="x")
    assert [(p.code, p.field) for p in caught.value.problems] == [("not_scorable", "project")]


@pytest.mark.parametrize("who", ["assisting", "recipient", "coordinator"])
def test_only_evaluators_give_expert_scores(eng: Engine, who):
    with pytest.raises(PermissionDenied) as caught:
        services.expert_score_set(
            project=eng.accepted, by=getattr(eng, who), indicator_code="quality", score=50, comment="x"
        )
    assert caught.value.status_code == 403
    assert not ExpertScore.objects.exists()


def test_an_evaluator_cannot_score_a_project_out_of_scope(eng: Engine):
    with pytest.raises(NotFound) as caught:  # Guangdong's evaluator and Jiangsu's project
        services.expert_score_set(
            project=eng.jiashi_accepted, by=eng.local_evaluator, indicator_code="quality", score=50, comment="x"
        )
    assert caught.value.status_code == 404
    assert not ExpertScore.objects.exists()


# --- satisfaction --------------------------------------------------------------------------------------------


def test_a_recipient_officer_rates_an_accepted_project(eng: Engine):
    got = services.satisfaction_rate(project=eng.accepted, by=eng.recipient, score="4", comment=" Good ")

    row = SatisfactionRating.objects.get()
    assert row.pk == got.pk
    assert (row.project, row.rated_by, row.score, row.comment) == (eng.accepted, eng.recipient, 4, "Good")
    (event,) = events(eng.accepted, "satisfaction_rated")
    assert event.actor == eng.recipient
    assert event.comment == "Good"
    assert event.changes == {"satisfaction": {"old": None, "new": 4}}


def test_an_evaluated_project_may_be_rated_too(eng: Engine):
    Project.objects.filter(pk=eng.accepted.pk).update(state="evaluated")
    services.satisfaction_rate(project=eng.accepted, by=eng.recipient, score=5)
    assert SatisfactionRating.objects.get().score == 5


def test_rating_again_changes_the_officers_rating(eng: Engine):
    first = services.satisfaction_rate(project=eng.accepted, by=eng.recipient, score=2, comment="Leaks")
    second = services.satisfaction_rate(project=eng.accepted, by=eng.recipient, score=5)

    assert second.pk == first.pk
    row = SatisfactionRating.objects.get()
    assert (row.score, row.comment) == (5, "")
    changes = [e.changes["satisfaction"] for e in events(eng.accepted, "satisfaction_rated")]
    assert changes == [{"old": None, "new": 2}, {"old": 2, "new": 5}]


@pytest.mark.parametrize("score", [0, 6, -1, 2.5, "3.5", "x", "", None, True])
def test_a_rating_out_of_range_is_refused(eng: Engine, score):
    with pytest.raises(DomainError) as caught:
        services.satisfaction_rate(project=eng.accepted, by=eng.recipient, score=score)
    assert [(p.code, p.field) for p in caught.value.problems] == [("out_of_range", "score")]
    assert not SatisfactionRating.objects.exists()
    assert not events(eng.accepted, "satisfaction_rated")


@pytest.mark.parametrize("state", ["approved", "in_construction", "completed", "cancelled"])
def test_a_project_not_yet_accepted_is_not_rated(eng: Engine, state):
    Project.objects.filter(pk=eng.building.pk).update(state=state)
    with pytest.raises(DomainError) as caught:
        services.satisfaction_rate(project=eng.building, by=eng.recipient, score=3)
    assert [(p.code, p.field) for p in caught.value.problems] == [("not_accepted", "project")]
    assert not SatisfactionRating.objects.exists()


@pytest.mark.parametrize("who", ["assisting", "evaluator", "coordinator"])
def test_only_recipient_officers_rate_satisfaction(eng: Engine, who):
    with pytest.raises(PermissionDenied) as caught:
        services.satisfaction_rate(project=eng.accepted, by=getattr(eng, who), score=3)
    assert caught.value.status_code == 403
    assert not SatisfactionRating.objects.exists()


def test_a_recipient_officer_cannot_rate_a_project_out_of_scope(eng: Engine):
    with pytest.raises(NotFound) as caught:  # Jiashi's officer and Shufu's project
        services.satisfaction_rate(project=eng.accepted, by=eng.jiashi_recipient, score=3)
    assert caught.value.status_code == 404
    assert not SatisfactionRating.objects.exists()
