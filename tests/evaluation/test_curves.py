"""The scoring curves, the weighted sum, the explanation lines and the grades (pure Python, no database)."""

import math

import pytest

from evaluation.curves import Spec, combine, curve_score, explain, grade_for, score_of
from evaluation.models import DEFAULT_GRADE_BANDS

LINEAR = Spec("on_time", "project", "on_time_completion", "linear", floor=0.5, target=1.0, weight=60)
BANDS = Spec(
    "satisfaction",
    "project",
    "recipient_satisfaction",
    "threshold",
    thresholds=((2.0, 40.0), (3.0, 60.0), (4.5, 100.0)),
    weight=40,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (-3.0, 0.0),
        (0.5, 0.0),  # at the floor
        (0.5000001, 100.0 * 0.0000001 / 0.5),
        (0.75, 50.0),
        (0.9, 80.0),
        (1.0, 100.0),  # at the target
        (1.7, 100.0),  # beyond it
    ],
)
def test_a_linear_curve_runs_from_0_at_the_floor_to_100_at_the_target(value, expected):
    got = curve_score(LINEAR, value)
    assert got == expected if expected is None else math.isclose(got, expected, abs_tol=1e-12)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (1.0, 0.0),  # below the first band
        (1.999, 0.0),
        (2.0, 40.0),  # a band counts from its value on
        (2.9, 40.0),
        (3.0, 60.0),
        (4.49, 60.0),
        (4.5, 100.0),
        (5.0, 100.0),
    ],
)
def test_a_threshold_curve_gives_the_score_of_the_highest_band_reached(value, expected):
    assert curve_score(BANDS, value) == expected


def test_a_threshold_curve_may_give_points_below_every_value_that_reaches_its_first_band():
    spec = Spec("x", "pairing", "people_trained", "threshold", thresholds=((0.0, 10.0), (100.0, 50.0)), weight=100)
    assert curve_score(spec, 0.0) == 10.0
    assert curve_score(spec, -1.0) == 0.0


def test_combine_leaves_out_what_has_no_score_and_counts_the_other_weights_in_full():
    assert combine([(60, 50.0), (40, None)]) == 50.0
    assert combine([(60, 50.0), (40, 100.0)]) == 70.0
    assert combine([(60, 0.0), (40, None)]) == 0.0  # a zero is a score, not a missing one
    assert combine([(60, None), (40, None)]) is None
    assert combine([]) is None


def test_score_of_reads_each_indicator_by_its_code():
    assert score_of([LINEAR, BANDS], {"on_time": 0.75, "satisfaction": 4.5}) == pytest.approx(0.6 * 50 + 0.4 * 100)
    assert score_of([LINEAR, BANDS], {"on_time": 0.75}) == pytest.approx(50.0)
    assert score_of([LINEAR, BANDS], {"on_time": None, "satisfaction": 2.0}) == pytest.approx(40.0)
    assert score_of([LINEAR, BANDS], {"elsewhere": 1.0}) is None


@pytest.mark.parametrize(
    "measures",
    [
        {"on_time": 0.8, "satisfaction": 3.2},
        {"on_time": 0.8, "satisfaction": None},
        {"on_time": 0.3, "satisfaction": 5},
        {"on_time": 1.0, "satisfaction": 4.6},
    ],
)
def test_the_explanation_lines_add_up_to_the_score(measures):
    lines = explain([LINEAR, BANDS], measures)
    score = score_of([LINEAR, BANDS], measures)
    assert [line.spec.code for line in lines] == ["on_time", "satisfaction"]
    assert sum(line.contribution for line in lines) == pytest.approx(score)
    assert sum(line.weight_share for line in lines) == pytest.approx(100.0)
    for line in lines:
        assert line.value == measures[line.spec.code]
        assert line.score == curve_score(line.spec, line.value)


def test_an_indicator_left_out_shows_no_weight_and_no_contribution():
    left_out, counted = explain([BANDS, LINEAR], {"on_time": 0.9})
    assert (left_out.value, left_out.score, left_out.weight_share, left_out.contribution) == (None, None, 0.0, 0.0)
    assert counted.weight_share == pytest.approx(100.0)
    assert counted.contribution == pytest.approx(80.0)


def test_nothing_measured_explains_as_zeros():
    lines = explain([LINEAR, BANDS], {})
    assert [(line.weight_share, line.contribution) for line in lines] == [(0.0, 0.0), (0.0, 0.0)]


@pytest.mark.parametrize(
    ("score", "grade"),
    [(100, "A"), (90, "A"), (89.999, "B"), (75, "B"), (74.99, "C"), (60, "C"), (59.9, "D"), (0, "D"), (None, "—")],
)
def test_grades_go_by_the_lowest_score_of_each_band(score, grade):
    assert grade_for(score, DEFAULT_GRADE_BANDS) == grade


def test_grade_bands_need_not_be_given_best_first():
    bands = [[0, "poor"], [80, "good"], [50, "fair"]]
    assert [grade_for(s, bands) for s in (10, 50, 79, 80, 95)] == ["poor", "fair", "fair", "good", "good"]
