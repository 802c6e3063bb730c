"""Indicator framework pages: each programme's current version with older ones linked, a version explained
(formula, definition, curve in words, weight, grade bands, reason, author, versions), and the editor with which
only a national coordinator makes a new version; the service's problems land on the row and field they name,
nothing is saved on error and what was typed stays."""

from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import translation

from evaluation import services
from evaluation.models import IndicatorFramework
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("evaluation:framework_list")


def detail_url(f: IndicatorFramework) -> str:
    return reverse("evaluation:framework_detail", args=[f.pk])


def edit_url(f: IndicatorFramework) -> str:
    return reverse("evaluation:framework_edit", args=[f.pk])


def signed_in(client, user, language: str = "en"):
    user.preferred_language = language
    user.save(update_fields=["preferred_language"])
    client.force_login(user)
    return client


def editor_data(response) -> dict[str, Any]:
    """The POST the editor page would send unchanged: every row as shown, the management forms, the reason."""
    editor = response.context["editor"]
    data: dict[str, Any] = {}
    for fs in (editor.indicators, editor.bands):
        mf = fs.management_form
        for name in ("TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"):
            data[mf.add_prefix(name)] = mf[name].value()
        for form in fs.forms:
            for name in form.fields:
                if name == "DELETE":
                    continue
                value = form[name].value()
                data[form.add_prefix(name)] = "" if value is None else value
    data["based_on"] = editor.reason["based_on"].value() or ""
    data["reason"] = ""
    return data


def row_index(data: dict[str, Any], code: str) -> int:
    return next(int(k.split("-")[1]) for k, v in data.items() if k.endswith("-code") and v == code)


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def v1(ev) -> IndicatorFramework:
    return ev.framework


@pytest.fixture
def v2(ev, v1) -> IndicatorFramework:
    rows = services.framework_rows(v1)
    for r in rows:
        if r["code"] == "on_time":
            r["weight"] = 25
        if r["code"] == "budget":
            r["weight"] = 10
    return services.framework_revise(
        program=ev.program, by=ev.coordinator, indicators=rows, reason="Schedules matter more in 2016."
    )


# --- list and detail ---------------------------------------------------------------------------------------------


def test_the_list_shows_each_programmes_current_version_and_links_older_ones(
    client, ev, v1, v2, django_assert_max_num_queries
):
    signed_in(client, ev.observer)
    with django_assert_max_num_queries(8):
        response = client.get(LIST)
    assert response.status_code == 200
    row = next(r for r in response.context["rows"] if r["program"] == ev.program)
    assert row["current"] == v2
    assert row["older"] == [v1]
    html = response.content.decode()
    assert detail_url(v2) in html
    assert detail_url(v1) in html
    assert edit_url(v2) not in html  # an observer may not revise


def test_the_list_costs_the_same_queries_with_more_versions(client, ev, v1, v2):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    signed_in(client, ev.coordinator)
    client.get(LIST)
    with CaptureQueriesContext(connection) as before:
        client.get(LIST)
    services.framework_revise(
        program=ev.program, by=ev.coordinator, indicators=services.framework_rows(v2), reason="Again."
    )
    with CaptureQueriesContext(connection) as after:
        client.get(LIST)
    assert len(after.captured_queries) == len(before.captured_queries)


def test_the_coordinator_sees_the_revise_button(client, ev, v1):
    html = signed_in(client, ev.coordinator).get(LIST).content.decode()
    assert edit_url(v1) in html
    html = client.get(detail_url(v1)).content.decode()
    assert edit_url(v1) in html
    assert 'data-action="revise"' in html


@pytest.mark.parametrize("who", ["observer", "evaluator", "assisting", "provincial_coordinator", "recipient"])
def test_others_see_no_revise_button(client, ev, v1, who):
    signed_in(client, getattr(ev, who))
    assert 'data-action="revise"' not in client.get(LIST).content.decode()
    assert 'data-action="revise"' not in client.get(detail_url(v1)).content.decode()


def test_a_version_explains_its_indicators_by_level(client, ev, v2, django_assert_max_num_queries):
    signed_in(client, ev.recipient)
    with django_assert_max_num_queries(10):
        response = client.get(detail_url(v2))
    assert response.status_code == 200
    levels = {level: lines for level, _title, lines in response.context["levels"]}
    assert [line.indicator.code for line in levels["project"]][:2] == ["on_time", "budget"]
    assert "mandate" in [line.indicator.code for line in levels["pairing"]]
    on_time = levels["project"][0]
    assert on_time.measure_label == "On-time completion"
    assert on_time.definition.startswith("1 when finished")
    assert on_time.curve == "0 at 50 %, 100 at 100 %"
    satisfaction = next(line for line in levels["project"] if line.indicator.code == "satisfaction")
    assert satisfaction.curve.startswith("0 from 1 / 5; 40 from 2 / 5")
    html = response.content.decode()
    assert "25 %" in html  # on_time's new weight
    assert "Schedules matter more in 2016." in html
    assert ev.coordinator.get_full_name() in html or ev.coordinator.username in html
    assert response.context["bands"] == [(90.0, "A"), (75.0, "B"), (60.0, "C"), (0.0, "D")]
    assert [v.version for v in response.context["versions"]] == [2, 1]
    assert response.context["is_current"]


def test_an_older_version_says_it_was_superseded(client, ev, v1, v2):
    response = signed_in(client, ev.coordinator).get(detail_url(v1))
    assert not response.context["is_current"]
    assert detail_url(v2) in response.content.decode()


def test_an_unknown_framework_is_not_found(client, ev):
    assert signed_in(client, ev.coordinator).get("/evaluation/frameworks/999999/").status_code == 404
    assert client.get("/evaluation/frameworks/999999/revise/").status_code == 404


def test_the_pages_follow_the_language(client, ev, v1):
    signed_in(client, ev.coordinator, "zh-hans")
    with translation.override("zh-hans"):
        response = client.get(detail_url(v1))
    html = response.content.decode()
    assert 'lang="zh-hans"' in html
    assert "按期完工" in html  # the indicator's Chinese name


# --- who may edit --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["observer", "evaluator", "assisting", "provincial_coordinator", "recipient"])
def test_only_a_national_coordinator_opens_or_submits_the_editor(client, ev, v1, who):
    signed_in(client, getattr(ev, who))
    assert client.get(edit_url(v1)).status_code == 403
    response = client.post(edit_url(v1), {"reason": "x"})
    assert response.status_code == 403
    assert IndicatorFramework.objects.filter(program=ev.program).count() == 1


def test_signing_in_is_required(client, v1):
    response = client.get(edit_url(v1))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- editing ---------------------------------------------------------------------------------------------------


def test_the_editor_starts_from_the_versions_rows(client, ev, v1):
    response = signed_in(client, ev.coordinator).get(edit_url(v1))
    assert response.status_code == 200
    editor = response.context["editor"]
    initial = [f.initial for f in editor.indicators.forms[: editor.indicators.initial_form_count()]]
    assert [r["code"] for r in initial] == [
        i.code for i in sorted(v1.indicators.all(), key=lambda i: (i.level != "project", i.position))
    ]
    assert len(editor.indicators.forms) == v1.indicators.count() + 2  # two empty rows to add indicators
    satisfaction = next(r for r in initial if r["code"] == "satisfaction")
    assert satisfaction["thresholds"] == "1:0, 2:40, 3:60, 4:80, 4.5:100"
    assert 'name="indicators-0-DELETE"' in response.content.decode()


def test_saving_makes_a_new_version_and_shows_it(client, ev, v1):
    signed_in(client, ev.coordinator)
    data = editor_data(client.get(edit_url(v1)))
    data[f"indicators-{row_index(data, 'on_time')}-weight"] = "25"
    data[f"indicators-{row_index(data, 'budget')}-weight"] = "10"
    data["reason"] = "Schedules matter more."
    response = client.post(edit_url(v1), data)
    new = IndicatorFramework.objects.get(program=ev.program, version=2)
    assert response.status_code == 302
    assert response["Location"] == detail_url(new)
    weights = {i.code: float(i.weight) for i in new.indicators.all()}
    assert weights["on_time"] == 25
    assert weights["budget"] == 10
    assert new.reason == "Schedules matter more."
    assert new.created_by == ev.coordinator
    assert new.indicators.count() == v1.indicators.count()
    satisfaction = new.indicators.get(code="satisfaction")
    assert satisfaction.thresholds == [[1.0, 0.0], [2.0, 40.0], [3.0, 60.0], [4.0, 80.0], [4.5, 100.0]]
    assert "Version 2" in " ".join(messages_of(client.get(response["Location"])))


def test_a_row_is_removed_and_one_added_in_the_same_save(client, ev, v1):
    signed_in(client, ev.coordinator)
    data = editor_data(client.get(edit_url(v1)))
    data[f"indicators-{row_index(data, 'quality')}-DELETE"] = "on"  # the expert score, 10 %
    extra = v1.indicators.count()  # the first empty row
    data.update(
        {
            f"indicators-{extra}-code": "inspection_rate",
            f"indicators-{extra}-name": "检查合格率二",
            f"indicators-{extra}-name_en": "Inspections again",
            f"indicators-{extra}-formula": "inspection_pass_rate",
            f"indicators-{extra}-curve": "threshold",
            f"indicators-{extra}-thresholds": "0.5:50；0.9:100",  # Chinese punctuation reads too
            f"indicators-{extra}-weight": "10",
            "reason": "Expert scores replaced.",
        }
    )
    response = client.post(edit_url(v1), data)
    assert response.status_code == 302
    new = IndicatorFramework.objects.get(program=ev.program, version=2)
    codes = set(new.indicators.values_list("code", flat=True))
    assert "quality" not in codes
    assert "inspection_rate" in codes
    added = new.indicators.get(code="inspection_rate")
    assert (added.level, added.curve, added.thresholds) == ("project", "threshold", [[0.5, 50.0], [0.9, 100.0]])


def test_weights_not_summing_to_100_are_refused_with_the_sum_and_nothing_is_saved(client, ev, v1):
    signed_in(client, ev.coordinator)
    data = editor_data(client.get(edit_url(v1)))
    data[f"indicators-{row_index(data, 'on_time')}-weight"] = "15"
    data["reason"] = "Lighter schedules."
    response = client.post(edit_url(v1), data)
    assert response.status_code == 200
    assert IndicatorFramework.objects.filter(program=ev.program).count() == 1
    editor = response.context["editor"]
    assert editor.indicator_errors == ["The weights of the project indicators add up to 95 %, not 100 %."]
    html = response.content.decode()
    assert 'id="indicators-errors"' in html
    # What was typed is still there.
    assert f'name="indicators-{row_index(data, "on_time")}-weight" value="15"' in html
    assert "Lighter schedules." in html


def test_a_target_below_its_floor_is_put_on_that_rows_target(client, ev, v1):
    signed_in(client, ev.coordinator)
    data = editor_data(client.get(edit_url(v1)))
    i = row_index(data, "mandate")
    data[f"indicators-{i}-floor"] = "0.9"
    data[f"indicators-{i}-target"] = "0.6"
    data["reason"] = "x"
    editor = client.post(edit_url(v1), data).context["editor"]
    form = editor.indicators.forms[i]
    assert form.errors["target"] == ["The target (0.6) must be above the floor (0.9)."]
    others = [f for j, f in enumerate(editor.indicators.forms) if j != i]
    assert not any(f.errors for f in others)
    assert IndicatorFramework.objects.filter(program=ev.program).count() == 1


def test_problems_land_on_the_right_row_when_rows_above_were_removed(client, ev, v1):
    """The service numbers the rows it received; removed rows are not among them."""
    signed_in(client, ev.coordinator)
    data = editor_data(client.get(edit_url(v1)))
    data["indicators-0-DELETE"] = "on"
    data["indicators-1-DELETE"] = "on"
    data["indicators-4-weight"] = "abc"
    data["reason"] = "x"
    editor = client.post(edit_url(v1), data).context["editor"]
    assert editor.indicators.forms[4].errors["weight"] == ["The weight is a percentage above 0 and at most 100."]
    assert not editor.indicators.forms[2].errors


def test_every_problem_is_reported_at_once(client, ev, v1):
    signed_in(client, ev.coordinator)
    data = editor_data(client.get(edit_url(v1)))
    sat, budget, twice = (row_index(data, c) for c in ("satisfaction", "budget", "inspections"))
    data[f"indicators-{sat}-thresholds"] = "high, low"
    data[f"indicators-{budget}-formula"] = "lines_of_code"  # not a measure (a forged select)
    data[f"indicators-{twice}-code"] = "on_time"  # a code used twice
    data["bands-3-lowest"] = "10"  # no band starts at 0 any more
    data["reason"] = "  "
    response = client.post(edit_url(v1), data)
    editor = response.context["editor"]
    forms = editor.indicators.forms
    assert forms[sat].errors["thresholds"][0].startswith("Thresholds are pairs")
    assert forms[budget].errors["formula"][0].startswith("Unknown formula lines_of_code")
    assert forms[twice].errors["code"] == ["The code on_time is used twice."]
    assert editor.band_errors
    assert editor.band_errors[0].startswith("Grade bands are pairs")
    assert editor.reason.errors["reason"] == ["Say why the framework changes."]
    assert IndicatorFramework.objects.filter(program=ev.program).count() == 1
    html = response.content.decode()
    assert "Nothing was saved" in html
    assert "high, low" in html


def test_adding_a_row_keeps_what_was_typed_and_saves_nothing(client, ev, v1):
    signed_in(client, ev.coordinator)
    data = editor_data(client.get(edit_url(v1)))
    data[f"indicators-{row_index(data, 'on_time')}-weight"] = "21"
    data["reason"] = "Work in progress"
    data["add_row"] = "1"
    total = int(data["indicators-TOTAL_FORMS"])
    response = client.post(edit_url(v1), data)
    assert response.status_code == 200
    editor = response.context["editor"]
    assert len(editor.indicators.forms) == total + 1
    assert not editor.has_errors
    html = response.content.decode()
    assert 'value="21"' in html
    assert "Work in progress" in html
    assert IndicatorFramework.objects.filter(program=ev.program).count() == 1


def test_a_version_saved_meanwhile_is_not_overwritten_silently(client, ev, v1):
    signed_in(client, ev.coordinator)
    data = editor_data(client.get(edit_url(v1)))
    services.framework_revise(
        program=ev.program, by=ev.coordinator, indicators=services.framework_rows(v1), reason="Someone else."
    )
    data["reason"] = "Mine."
    response = client.post(edit_url(v1), data)
    assert response.status_code == 200
    assert "was saved while you were editing" in " ".join(response.context["editor"].reason.non_field_errors())
    assert IndicatorFramework.objects.filter(program=ev.program).count() == 2


def test_a_new_version_can_start_from_an_older_one(client, ev, v1, v2):
    signed_in(client, ev.coordinator)
    response = client.get(edit_url(v1))
    assert "not from the current version 2" in response.content.decode()
    data = editor_data(response)
    data["reason"] = "Back to the first weights."
    assert client.post(edit_url(v1), data).status_code == 302
    v3 = IndicatorFramework.objects.get(program=ev.program, version=3)
    assert float(v3.indicators.get(code="on_time").weight) == float(v1.indicators.get(code="on_time").weight) == 20


def test_a_forged_management_form_is_refused_not_a_crash(client, ev, v1):
    signed_in(client, ev.coordinator)
    response = client.post(edit_url(v1), {"reason": "x", "indicators-TOTAL_FORMS": "abc"})
    assert response.status_code == 200
    assert response.context["editor"].has_errors
    assert IndicatorFramework.objects.filter(program=ev.program).count() == 1


def test_a_non_national_coordinator_role_holder_is_refused_even_with_a_valid_form(client, ev, v1):
    signed_in(client, ev.coordinator)
    data = editor_data(client.get(edit_url(v1)))
    data["reason"] = "x"
    client.logout()
    gd_coordinator = UserFactory(
        username="gd-nc-2", organization=ev.shufu.assisting_organization, roles=["national_coordinator"]
    )
    signed_in(client, gd_coordinator)
    assert client.post(edit_url(v1), data).status_code == 403
    assert IndicatorFramework.objects.filter(program=ev.program).count() == 1
