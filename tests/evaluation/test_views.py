"""The evaluation pages: runs started from a form and followed by htmx polling, rankings with trends, grades and
reasons, scorecards and project scores that explain every point, the expert score and satisfaction forms, and
the ratings worklist. Scoped like the API (out of scope is 404), forbidden actions hidden and refused, both
languages, and list pages whose query count does not grow with rows."""

import datetime as dt
import re

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from accounts.models import Organization
from evaluation import services, tasks
from evaluation.models import (
    EvaluationRun,
    ExpertScore,
    PairingScorecard,
    ProjectScore,
    Ranking,
    RunStatus,
    SatisfactionRating,
)
from evaluation.templatetags.evaluation_tags import curve_words, format_measure, grade_badge, reasons, trend_arrow
from tests.evaluation.conftest import make_project
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db
# The pages' fixtures (`finished`, `two_runs`) live beside the shared ones, in a module of their own.
pytest_plugins = ["tests.evaluation.conftest_views"]

LANGUAGES = ["en", "zh-hans"]


def client_for(user, language: str = "en") -> Client:
    """A browser signed in as USER that chose LANGUAGE with the language switch (the cookie)."""
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def html_of(response) -> str:
    return response.content.decode()


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def card_of(run: EvaluationRun, pairing) -> PairingScorecard:
    return PairingScorecard.objects.get(run=run, pairing=pairing)


def score_of(run: EvaluationRun, project) -> ProjectScore:
    return ProjectScore.objects.get(run=run, project=project)


def queued_run(ev) -> EvaluationRun:
    """A run as it stands right after the request: its work is queued after a commit that never comes here."""
    run, created = services.run_start(program=ev.program, year=ev.year, by=ev.coordinator)
    assert created
    assert run.status == RunStatus.QUEUED
    return run


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


# --- every page, both languages ------------------------------------------------------------------------------


def page_urls(ev, two_runs) -> dict[str, str]:
    first, second = two_runs
    return {
        "runs": "/evaluation/runs/",
        "run": f"/evaluation/runs/{second.pk}/",
        "compare": f"/evaluation/runs/compare/?a={first.pk}&b={second.pk}",
        "rankings": f"/evaluation/rankings/?program={ev.program.code}&year={ev.year}",
        "scorecard": f"/evaluation/scorecards/{card_of(second, ev.shufu).pk}/",
        "project_score": f"/evaluation/project-scores/{score_of(second, ev.shufu_accepted).pk}/",
        "latest_score": f"/evaluation/projects/{ev.shufu_accepted.pk}/score/",
        "assess": f"/evaluation/projects/{ev.shufu_accepted.pk}/assess/",
        "ratings": "/evaluation/ratings/",
    }


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "page", ["runs", "run", "compare", "rankings", "scorecard", "project_score", "latest_score", "assess", "ratings"]
)
def test_every_page_renders_for_the_coordinator_in_both_languages(ev, two_runs, page, language):
    response = client_for(ev.coordinator, language).get(page_urls(ev, two_runs)[page])

    assert response.status_code == 200
    html = html_of(response)
    assert f'<html lang="{language}">' in html
    assert 'id="evaluation-nav"' in html


@pytest.mark.parametrize(
    ("language", "party", "indicator"),
    [("en", "Guangdong", "Mandate fulfilment"), ("zh-hans", "广东省人民政府", "援助任务完成率")],
)
def test_names_follow_the_readers_language(ev, two_runs, language, party, indicator):
    urls = page_urls(ev, two_runs)
    client = client_for(ev.assisting, language)

    assert party in html_of(client.get(urls["rankings"]))
    assert indicator in html_of(client.get(urls["scorecard"]))


def test_the_users_preferred_language_is_used_without_a_cookie(client, ev, finished):
    ev.assisting.preferred_language = "zh-hans"
    ev.assisting.save(update_fields=["preferred_language"])
    client.force_login(ev.assisting)

    html = html_of(client.get(f"/evaluation/scorecards/{card_of(finished, ev.shufu).pk}/"))

    assert '<html lang="zh-hans">' in html
    assert "援助任务完成率" in html


@pytest.mark.parametrize("page", ["runs", "rankings", "ratings"])
def test_pages_need_a_signed_in_user(client, ev, two_runs, page):
    response = client.get(page_urls(ev, two_runs)[page])

    assert response.status_code == 302
    assert "/accounts/login/" in response.url


# --- scope ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", ["scorecard", "project_score", "latest_score", "assess"])
@pytest.mark.parametrize("who", ["outsider", "jiashi_recipient", "jiangsu_observer"])
def test_guangdong_shufus_pages_are_not_found_for_those_who_do_not_see_the_pairing(ev, two_runs, page, who):
    url = page_urls(ev, two_runs)[page]

    assert client_for(getattr(ev, who)).get(url).status_code == 404
    assert client_for(ev.recipient).get(url).status_code == 200
    assert client_for(ev.assisting).get(url).status_code == 200


def test_posting_a_rating_on_a_project_out_of_scope_is_not_found_and_writes_nothing(ev, finished):
    response = client_for(ev.jiashi_recipient).post(
        f"/evaluation/projects/{ev.shufu_accepted.pk}/assess/", {"form": "rating", "rating-score": "5"}
    )

    assert response.status_code == 404
    assert not SatisfactionRating.objects.exists()


def test_a_project_never_scored_says_so_on_its_score_page(ev, finished):
    client = client_for(ev.coordinator)

    # The project page links here whatever its state: a project no run scored shows its page without a score.
    response = client.get(f"/evaluation/projects/{ev.shufu_draft.pk}/score/")
    assert response.status_code == 200
    assert response.context.get("score") is None
    assert (
        f"/evaluation/projects/{ev.shufu_draft.pk}/score/"
        in client.get(f"/projects/{ev.shufu_draft.pk}/").content.decode()
    )
    # A project the user may not see stays not found.
    assert client_for(ev.outsider).get(f"/evaluation/projects/{ev.shufu_draft.pk}/score/").status_code == 404
    assert client.get("/evaluation/project-scores/999999/").status_code == 404
    assert client.get("/evaluation/scorecards/999999/").status_code == 404
    assert client.get("/evaluation/runs/999999/").status_code == 404


def test_the_ranking_is_public_but_each_party_links_only_to_the_scorecards_its_reader_may_see(ev, finished):
    shufu, jiashi = card_of(finished, ev.shufu), card_of(finished, ev.jiashi)
    url = f"/evaluation/rankings/?program={ev.program.code}&year={ev.year}"

    outsider = html_of(client_for(ev.outsider).get(url))
    coordinator = html_of(client_for(ev.coordinator).get(url))

    assert "Guangdong" in outsider
    assert "Jiangsu" in outsider
    assert f"/evaluation/scorecards/{jiashi.pk}/" in outsider
    assert f"/evaluation/scorecards/{shufu.pk}/" not in outsider
    assert f"/evaluation/scorecards/{shufu.pk}/" in coordinator
    assert f"/evaluation/scorecards/{jiashi.pk}/" in coordinator


def test_the_scorecard_lists_only_the_projects_of_its_pairing(ev, finished):
    html = html_of(client_for(ev.coordinator).get(f"/evaluation/scorecards/{card_of(finished, ev.shufu).pk}/"))

    assert ev.shufu_accepted.code in html
    assert ev.shufu_building.code in html
    assert ev.jiashi_accepted.code not in html
    assert f"/evaluation/project-scores/{score_of(finished, ev.shufu_accepted).pk}/" in html


# --- runs: the list, the start form, polling -------------------------------------------------------------------


def test_the_run_list_shows_programme_year_framework_status_progress_and_requester(ev, finished):
    html = html_of(client_for(ev.observer).get("/evaluation/runs/"))

    row = re.search(rf'<tr id="run-{finished.pk}".*?</tr>', html, re.S)
    assert row is not None
    row_html = row.group(0)
    assert "Xinjiang paired assistance" in row_html
    assert ">2015<" in row_html
    assert "framework version 1" in row_html
    assert 'data-status="succeeded"' in row_html
    assert 'role="progressbar"' in row_html
    assert 'aria-valuenow="100"' in row_html
    assert f"{finished.total}/{finished.total} · 100 %" in row_html
    assert "coord" in row_html
    assert "hx-trigger" not in row_html  # finished: nothing to poll


def test_the_run_list_filters_by_programme_year_and_status(ev, finished):
    services.run_fail(queued_run(ev).pk, "the database went away")
    failed = EvaluationRun.objects.get(status=RunStatus.FAILED)
    client = client_for(ev.observer)

    only_failed = html_of(client.get("/evaluation/runs/?status=failed"))
    other_year = html_of(client.get("/evaluation/runs/?year=2014"))
    other_program = html_of(client.get("/evaluation/runs/?program=nope"))

    assert f'id="run-{failed.pk}"' in only_failed
    assert f'id="run-{finished.pk}"' not in only_failed
    assert "the database went away" in only_failed
    assert '<tr id="run-' not in other_year
    assert '<tr id="run-' not in other_program


def test_the_run_list_is_paginated(ev):
    for year in range(2011, 2021):
        for _ in range(3):
            EvaluationRun.objects.create(
                program=ev.program, year=year, framework=ev.framework, status=RunStatus.SUCCEEDED
            )
    client = client_for(ev.observer)

    first, second = html_of(client.get("/evaluation/runs/")), html_of(client.get("/evaluation/runs/?page=2"))

    assert first.count('<tr id="run-') == 25
    assert second.count('<tr id="run-') == 5
    assert "page=2" in first


@pytest.mark.parametrize("who", ["coordinator", "evaluator"])
def test_national_coordinators_and_evaluators_see_the_start_form(ev, who):
    html = html_of(client_for(getattr(ev, who)).get("/evaluation/runs/"))

    assert 'id="run-start-form"' in html
    assert f'<option value="{ev.program.code}">' in html
    assert '<option value="all">' in html


def test_the_start_form_holds_only_its_own_fields(ev):
    html = html_of(client_for(ev.coordinator).get("/evaluation/runs/"))

    start = html.index('id="run-start-form"')
    form = html[start : html.index("</form>", start)]
    assert "<form" not in form
    assert 'id="run-filters"' not in form
    assert form.count('name="program"') == form.count('name="year"') == 1


@pytest.mark.parametrize("who", ["assisting", "provincial_coordinator", "local_evaluator", "observer", "recipient"])
def test_others_do_not_see_the_start_form_and_are_refused_when_they_post_it(ev, who):
    client = client_for(getattr(ev, who))

    assert 'id="run-start-form"' not in html_of(client.get("/evaluation/runs/"))
    response = client.post("/evaluation/runs/start/", {"program": ev.program.code, "year": "2015"})

    assert response.status_code == 403
    assert not EvaluationRun.objects.exists()


def test_starting_a_run_redirects_to_it_and_its_work_runs_after_commit(ev, django_capture_on_commit_callbacks):
    client = client_for(ev.coordinator)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/evaluation/runs/start/", {"program": ev.program.code, "year": "2015"})

    run = EvaluationRun.objects.get()
    assert response.status_code == 302
    assert response.url == f"/evaluation/runs/{run.pk}/"
    assert (run.program, run.year, run.requested_by) == (ev.program, 2015, ev.coordinator)
    assert run.status == RunStatus.SUCCEEDED
    assert run.done == run.total > 0
    assert "has started" in messages_of(response)[0]


def test_asking_again_while_a_run_is_under_way_shows_the_same_run(ev):
    running = queued_run(ev)

    response = client_for(ev.evaluator).post("/evaluation/runs/start/", {"program": ev.program.code, "year": "2015"})

    assert response.status_code == 302
    assert response.url == f"/evaluation/runs/{running.pk}/"
    assert EvaluationRun.objects.count() == 1
    assert "already under way" in messages_of(response)[0]


def test_a_year_out_of_the_programmes_range_is_refused_on_the_year_field_and_the_input_is_kept(ev):
    response = client_for(ev.coordinator).post("/evaluation/runs/start/", {"program": ev.program.code, "year": "1990"})

    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["year"]
    assert "2011 to 2020" in form.errors["year"][0]
    html = html_of(response)
    assert 'value="1990"' in html
    assert 'id="id_year_errors"' in html
    assert f'<option value="{ev.program.code}" selected>' in html
    assert not EvaluationRun.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"program": "xinjiang-2010", "year": "twenty"}, "year"),
        ({"program": "xinjiang-2010", "year": ""}, "year"),
        ({"program": "no-such-programme", "year": "2015"}, "program"),
        ({"program": "all", "year": "1900"}, "year"),
    ],
)
def test_bad_run_requests_name_the_field_and_start_nothing(ev, data, field):
    response = client_for(ev.coordinator).post("/evaluation/runs/start/", data)

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not EvaluationRun.objects.exists()


def test_all_programmes_starts_every_programme_that_runs_that_year(ev):
    response = client_for(ev.coordinator).post("/evaluation/runs/start/", {"program": "all", "year": "2015"})

    assert response.status_code == 302
    assert response.url == "/evaluation/runs/?year=2015"
    assert list(EvaluationRun.objects.values_list("program__code", "year")) == [(ev.program.code, 2015)]
    assert "1 started, 0 already under way" in messages_of(response)[0]


def test_the_start_page_answers_only_post(ev):
    assert client_for(ev.coordinator).get("/evaluation/runs/start/").status_code == 405


def test_an_active_runs_row_polls_every_two_seconds_and_stops_once_finished(ev):
    run = queued_run(ev)
    client = client_for(ev.observer)
    url = f"/evaluation/runs/{run.pk}/progress/?part=row"

    listed = html_of(client.get("/evaluation/runs/"))
    polling = client.get(url, HTTP_HX_REQUEST="true")
    tasks.plan_run(run.pk)  # the worker does the work (eager)
    done = client.get(url, HTTP_HX_REQUEST="true")

    assert f'hx-get="/evaluation/runs/{run.pk}/progress/?part=row" hx-trigger="every 2s"' in listed
    assert polling.status_code == 200
    fragment = html_of(polling)
    assert fragment.lstrip().startswith(f'<tr id="run-{run.pk}"')
    assert "<html" not in fragment
    assert 'hx-trigger="every 2s"' in fragment
    assert 'data-status="queued"' in fragment
    finished_fragment = html_of(done)
    assert "hx-trigger" not in finished_fragment
    assert 'data-status="succeeded"' in finished_fragment
    assert 'aria-valuenow="100"' in finished_fragment


def test_the_run_page_polls_its_status_block_until_the_run_ends(ev):
    run = queued_run(ev)
    client = client_for(ev.coordinator)

    page = html_of(client.get(f"/evaluation/runs/{run.pk}/"))
    tasks.plan_run(run.pk)
    block = html_of(client.get(f"/evaluation/runs/{run.pk}/progress/", HTTP_HX_REQUEST="true"))

    assert f'hx-get="/evaluation/runs/{run.pk}/progress/" hx-trigger="every 2s"' in page
    assert block.lstrip().startswith('<div id="run-status"')
    assert "<html" not in block
    assert "hx-trigger" not in block
    assert 'id="chunks-table"' in block
    assert 'id="run-ranking"' in block


def test_the_run_page_shows_the_chunks_the_comparison_and_the_link_to_the_ranking(ev, two_runs):
    first, second = two_runs

    html = html_of(client_for(ev.observer).get(f"/evaluation/runs/{second.pk}/"))

    chunks = re.search(r'<table[^>]*id="chunks-table".*?</table>', html, re.S)
    assert chunks is not None
    assert chunks.group(0).count("<tr>") == 1 + second.chunks.count()
    assert "Scorecards and ranking" in chunks.group(0)
    assert f"/evaluation/rankings/?program={ev.program.code}&amp;year=2015&amp;run={second.pk}" in html
    assert f'<option value="{first.pk}" selected>' in html  # compared with the run the ranking used
    assert f'<input type="hidden" name="b" value="{second.pk}">' in html


def test_a_failed_run_shows_why_it_failed(ev):
    run = queued_run(ev)
    services.run_fail(run.pk, "Chunk 0 failed: OperationalError: server closed the connection")

    html = html_of(client_for(ev.observer).get(f"/evaluation/runs/{run.pk}/"))

    assert 'id="run-error"' in html
    assert "server closed the connection" in html
    assert 'data-status="failed"' in html
    assert "hx-trigger" not in html


# --- comparison ----------------------------------------------------------------------------------------------


def test_comparing_two_runs_shows_each_partys_rank_and_score_in_both_in_the_order_of_the_second(
    ev,
    two_runs,
):
    first, second = two_runs
    # The second run's order differs from the first's: Jiangsu moved up.
    Ranking.objects.filter(run=second, organization=ev.jiashi.assisting_organization).update(rank=1, score=80.0)
    Ranking.objects.filter(run=second, organization=ev.shufu.assisting_organization).update(rank=2)
    before = Ranking.objects.get(run=first, organization=ev.jiashi.assisting_organization)

    response = client_for(ev.observer).get(f"/evaluation/runs/compare/?a={first.pk}&b={second.pk}")

    rows = response.context["rows"]
    assert [r["organization"].pk for r in rows] == [
        ev.jiashi.assisting_organization_id,
        ev.shufu.assisting_organization_id,
    ]
    assert rows[0]["moved"] == 1
    assert rows[1]["moved"] == -1
    assert rows[0]["diff"] == pytest.approx(80.0 - before.score)
    html = html_of(response)
    assert f"+{80.0 - before.score:.1f}" in html
    assert "▲ 1" in html
    assert "▼ 1" in html


@pytest.mark.parametrize("query", ["a=abc&b=1", "a=1&b=999999", "a=999999&b=1"])
def test_comparing_with_a_run_that_does_not_exist_is_not_found(ev, finished, query):
    assert client_for(ev.observer).get(f"/evaluation/runs/compare/?{query}").status_code == 404


def test_the_comparison_page_without_runs_asks_for_two(ev, finished):
    response = client_for(ev.observer).get("/evaluation/runs/compare/")

    assert response.status_code == 200
    assert response.context["rows"] == []
    assert f'<option value="{finished.pk}">' in html_of(response)


# --- rankings ------------------------------------------------------------------------------------------------


def test_the_ranking_shows_rank_trend_party_score_grade_pairings_and_reasons(ev, two_runs):
    first, second = two_runs

    response = client_for(ev.observer).get(f"/evaluation/rankings/?program={ev.program.code}&year=2015")

    assert response.context["run"] == second
    assert response.context["compared"] == first
    html = html_of(response)
    rankings = list(Ranking.objects.filter(run=second).order_by("rank"))
    assert [r.organization_id for r, _cards in response.context["rows"]] == [r.organization_id for r in rankings]
    for r in rankings:
        row = re.search(rf'<tr data-organization="{r.organization_id}">.*?</tr>', html, re.S)
        assert row is not None
        row_html = row.group(0)
        assert f"{r.score:.1f}" in row_html
        assert f">{r.grade}</span>" in row_html
        assert 'data-trend="same"' in row_html
        assert f"unchanged from rank {r.rank}" in row_html
        assert f'title="Previous rank: {r.rank}"' in row_html
    jiangsu = re.search(rf'<tr data-organization="{ev.jiashi.assisting_organization_id}">.*?</tr>', html, re.S)
    assert jiangsu is not None
    assert "Share to livelihood 0 %, below the minimum of 70 %" in jiangsu.group(0)
    assert f"Run #{second.pk} of" in html
    assert "indicator framework version 1" in html
    assert f"Trends against run #{first.pk}" in html


def test_the_first_run_ranks_everyone_as_new(ev, finished):
    html = html_of(client_for(ev.observer).get("/evaluation/rankings/"))

    assert html.count('data-trend="new"') == Ranking.objects.filter(run=finished).count() == 2
    assert "No earlier run to compare with" in html


def test_the_year_selector_offers_only_years_with_a_succeeded_run(ev, finished):
    EvaluationRun.objects.create(program=ev.program, year=2014, framework=ev.framework, status=RunStatus.FAILED)

    response = client_for(ev.observer).get(f"/evaluation/rankings/?program={ev.program.code}")

    assert response.context["years"] == [2015]
    assert response.context["year"] == 2015
    html = html_of(client_for(ev.observer).get(f"/evaluation/rankings/?program={ev.program.code}&year=2014"))
    assert 'id="no-ranking"' in html
    assert 'id="ranking-table"' not in html


def test_a_programme_that_does_not_exist_is_not_found_and_one_without_runs_is_empty(ev, finished):
    from pairings import services as pairing_services

    pairing_services.program_create(
        by=None, code="tibet-1994", name="对口援藏", name_en="Tibet", model="development", start_year=1994
    )
    client = client_for(ev.observer)

    assert client.get("/evaluation/rankings/?program=nope").status_code == 404
    empty = client.get("/evaluation/rankings/?program=tibet-1994")
    assert empty.status_code == 200
    assert 'id="no-ranking"' in html_of(empty)


def test_a_named_run_of_the_programme_year_can_be_shown_and_another_programmes_cannot(ev, two_runs):
    first, _second = two_runs
    client = client_for(ev.observer)

    response = client.get(f"/evaluation/rankings/?program={ev.program.code}&year=2015&run={first.pk}")
    assert response.context["run"] == first

    assert client.get(f"/evaluation/rankings/?program={ev.program.code}&year=2015&run=999999").status_code == 404


# --- scorecards ----------------------------------------------------------------------------------------------


def test_the_scorecard_explains_every_pairing_indicator_and_the_lines_add_up_to_the_score(ev, finished):
    card = card_of(finished, ev.shufu)

    response = client_for(ev.assisting).get(f"/evaluation/scorecards/{card.pk}/")

    html = html_of(response)
    pairing_indicators = [i for i in ev.framework.indicators.all() if i.level == "pairing"]
    for indicator in pairing_indicators:
        assert f'data-indicator="{indicator.code}"' in html
    assert sum(line.contribution for line in response.context["lines"]) == pytest.approx(card.score)
    assert re.search(rf'id="explain-total">{card.score:.1f}<', html)
    assert "0 at 60 %, 100 at 100 %" in html  # the mandate's curve in words
    assert "Funds received in the year ÷ funds required by the year&#x27;s mandate." in html
    assert response.context["grade"] == Ranking.objects.get(run=finished, organization=card.organization).grade


def test_the_scorecard_shows_the_compliance_flags_with_the_programmes_minimum(ev, finished):
    card = card_of(finished, ev.jiashi)
    assert any(f["code"] == "livelihood_share_below_minimum" for f in card.flags)

    html = html_of(client_for(ev.outsider).get(f"/evaluation/scorecards/{card.pk}/"))

    assert "Share to livelihood 0 %, below the minimum of 70 %" in html
    minimums = re.search(r'id="card-minimums">(.*?)</p>', html, re.S)
    assert minimums is not None
    said = " ".join(minimums.group(1).split())
    assert said == (
        "Programme minimums: 80 % of funds to county level and below; 70 % to livelihood; "
        "the year's mandate received in full."
    )


def test_the_scorecard_shows_the_pairings_score_across_runs(ev, two_runs):
    first, second = two_runs

    html = html_of(client_for(ev.assisting).get(f"/evaluation/scorecards/{card_of(second, ev.shufu).pk}/"))

    history = re.search(r'<table[^>]*id="history-table".*?</table>', html, re.S)
    assert history is not None
    assert f'href="/evaluation/scorecards/{card_of(first, ev.shufu).pk}/"' in history.group(0)
    assert "<svg" in html
    assert "<polyline" in html


def test_the_scorecards_projects_sort_by_the_chosen_column(ev, finished):
    card = card_of(finished, ev.shufu)
    client = client_for(ev.assisting)

    by_score = client.get(f"/evaluation/scorecards/{card.pk}/?sort=-score").context["page"]
    by_code = client.get(f"/evaluation/scorecards/{card.pk}/?sort=code").context["page"]
    by_junk = client.get(f"/evaluation/scorecards/{card.pk}/?sort=password").context["page"]

    scores = [p.score for p in by_score]
    assert scores == sorted(scores, reverse=True)
    assert len(scores) == 2
    assert [p.code for p in by_code] == sorted(p.code for p in by_code)
    assert [p.pk for p in by_junk] == [p.pk for p in by_score]


def test_the_scorecards_projects_come_fifty_to_a_page(ev, finished):
    """A pairing has thousands of scored projects at scale: the page shows 50 and links to the rest; a page number
    out of range or not a number shows the last or the first page, never an error."""
    from tests.factories import ProjectFactory, ProjectScoreFactory

    card = card_of(finished, ev.shufu)
    for i in range(53):
        project = ProjectFactory(pairing=card.pairing, code=f"SC-{i:03d}", state="accepted")
        ProjectScoreFactory(run=finished, project=project, pairing=card.pairing, score=50 + i % 40)
    client = client_for(ev.assisting)

    first = client.get(f"/evaluation/scorecards/{card.pk}/?sort=code")
    assert len(first.context["page"].object_list) == 50
    assert first.context["page"].paginator.count == 55
    assert "page=2" in html_of(first)
    second = client.get(f"/evaluation/scorecards/{card.pk}/?sort=code&page=2")
    assert len(second.context["page"].object_list) == 5
    seen = [p.code for p in first.context["page"]] + [p.code for p in second.context["page"]]
    assert len(set(seen)) == 55
    for junk in ("999", "-1", "abc", "1e9", ""):
        assert client.get(f"/evaluation/scorecards/{card.pk}/?page={junk}").status_code == 200


# --- project scores, expert scores, satisfaction ---------------------------------------------------------------


def test_the_project_score_page_explains_the_score_and_shows_its_runs(ev, two_runs):
    first, second = two_runs
    score = score_of(second, ev.shufu_accepted)

    response = client_for(ev.assisting).get(f"/evaluation/project-scores/{score.pk}/")

    html = html_of(response)
    for indicator in (i for i in ev.framework.indicators.all() if i.level == "project"):
        assert f'data-indicator="{indicator.code}"' in html
    assert sum(line.contribution for line in response.context["lines"]) == pytest.approx(score.score)
    assert "90 %" in html  # 900 of 1,000 beneficiaries reached
    assert f'href="/evaluation/project-scores/{score_of(first, ev.shufu_accepted).pk}/"' in html
    # The assisting officer may neither score nor rate: no form is offered.
    assert 'id="expert-scores"' not in html
    assert 'id="rating-form"' not in html


def test_the_latest_score_page_is_the_latest_runs(ev, two_runs):
    _first, second = two_runs

    response = client_for(ev.recipient).get(f"/evaluation/projects/{ev.shufu_accepted.pk}/score/")

    assert response.context["score"] == score_of(second, ev.shufu_accepted)


def test_evaluators_get_an_expert_score_form_and_recipient_officers_a_rating_form(ev, finished):
    url = f"/evaluation/project-scores/{score_of(finished, ev.shufu_accepted).pk}/"

    evaluator = html_of(client_for(ev.evaluator).get(url))
    recipient = html_of(client_for(ev.recipient).get(url))

    assert 'id="expert-quality"' in evaluator
    assert 'id="rating-form"' not in evaluator
    assert 'id="rating-form"' in recipient
    assert 'id="expert-scores"' not in recipient
    assert recipient.count('type="radio"') == 5


def test_a_project_not_yet_accepted_offers_no_rating(ev, finished):
    html = html_of(client_for(ev.recipient).get(f"/evaluation/projects/{ev.shufu_building.pk}/assess/"))

    assert 'id="rating-form"' not in html
    assert "Satisfaction is rated once the project has been accepted." in html


def test_an_expert_score_is_saved_and_the_page_says_so(ev, finished):
    url = f"/evaluation/project-scores/{score_of(finished, ev.shufu_accepted).pk}/"

    response = client_for(ev.evaluator).post(
        url, {"form": "expert-quality", "expert-quality-score": "85.5", "expert-quality-comment": "牢固，按图施工"}
    )

    assert response.status_code == 302
    assert response.url == url
    saved = ExpertScore.objects.get()
    assert (saved.project, saved.indicator_code, saved.evaluator) == (ev.shufu_accepted, "quality", ev.evaluator)
    assert str(saved.score) == "85.50"
    assert saved.comment == "牢固，按图施工"
    assert "Expert score saved" in messages_of(response)[0]
    again = html_of(client_for(ev.evaluator).get(url))
    assert 'value="85.50"' in again
    assert "牢固，按图施工" in again


@pytest.mark.parametrize(
    ("score", "comment", "fields"),
    [
        ("150", "too generous", {"score"}),
        ("-1", "below", {"score"}),
        ("eighty", "words", {"score"}),
        ("80", "   ", {"comment"}),
        ("", "", {"score", "comment"}),
    ],
)
def test_a_bad_expert_score_is_refused_on_its_fields_and_the_input_is_kept(ev, finished, score, comment, fields):
    url = f"/evaluation/projects/{ev.shufu_accepted.pk}/assess/"

    response = client_for(ev.evaluator).post(
        url, {"form": "expert-quality", "expert-quality-score": score, "expert-quality-comment": comment}
    )

    assert response.status_code == 200
    [(_indicator, form, _given)] = response.context["expert_forms"]
    assert set(form.errors) == fields
    html = html_of(response)
    if "score" in fields:
        assert "The score is a number from 0 to 100." in html
        assert 'id="id_expert-quality-score_errors"' in html
    if "comment" in fields:
        assert "Say why in a comment." in html
    if score:
        assert f'value="{score}"' in html
    assert not ExpertScore.objects.exists()


@pytest.mark.parametrize("who", ["recipient", "assisting", "observer"])
def test_an_expert_score_posted_by_someone_who_is_not_an_evaluator_is_refused(ev, finished, who):
    response = client_for(getattr(ev, who)).post(
        f"/evaluation/projects/{ev.shufu_accepted.pk}/assess/",
        {"form": "expert-quality", "expert-quality-score": "90", "expert-quality-comment": "fine"},
    )

    assert response.status_code == 403
    assert not ExpertScore.objects.exists()


def test_a_rating_is_saved_and_can_be_changed(ev, finished):
    url = f"/evaluation/projects/{ev.shufu_accepted.pk}/score/"
    client = client_for(ev.recipient)

    first = client.post(url, {"form": "rating", "rating-score": "4", "rating-comment": ""})
    second = client.post(url, {"form": "rating", "rating-score": "2", "rating-comment": "门诊楼漏水"})

    assert first.status_code == second.status_code == 302
    assert second.url == url
    rating = SatisfactionRating.objects.get()
    assert (rating.project, rating.rated_by, rating.score, rating.comment) == (
        ev.shufu_accepted,
        ev.recipient,
        2,
        "门诊楼漏水",
    )
    assert "Satisfaction rated" in messages_of(second)[0]
    assert 'value="2" autocomplete="off" checked' in html_of(client.get(url))


@pytest.mark.parametrize("score", ["7", "0", "", "4.5"])
def test_a_rating_out_of_range_is_refused_on_its_field(ev, finished, score):
    response = client_for(ev.recipient).post(
        f"/evaluation/projects/{ev.shufu_accepted.pk}/assess/",
        {"form": "rating", "rating-score": score, "rating-comment": "kept"},
    )

    assert response.status_code == 200
    assert list(response.context["rating_form"].errors) == ["score"]
    html = html_of(response)
    assert "The rating is a whole number from 1 to 5." in html
    assert "kept" in html
    assert not SatisfactionRating.objects.exists()


def test_rating_a_project_not_yet_accepted_is_refused_with_the_reason(ev, finished):
    response = client_for(ev.recipient).post(
        f"/evaluation/projects/{ev.shufu_building.pk}/assess/", {"form": "rating", "rating-score": "5"}
    )

    assert response.status_code == 200
    assert response.context["rating_form"].non_field_errors() == [
        "Satisfaction is rated once the project has been accepted."
    ]
    assert not SatisfactionRating.objects.exists()


@pytest.mark.parametrize("who", ["assisting", "evaluator", "observer"])
def test_a_rating_posted_by_someone_who_is_not_a_recipient_officer_is_refused(ev, finished, who):
    response = client_for(getattr(ev, who)).post(
        f"/evaluation/projects/{ev.shufu_accepted.pk}/assess/", {"form": "rating", "rating-score": "5"}
    )

    assert response.status_code == 403
    assert not SatisfactionRating.objects.exists()


def test_an_unknown_form_name_is_not_found(ev, finished):
    response = client_for(ev.recipient).post(f"/evaluation/projects/{ev.shufu_accepted.pk}/assess/", {"form": "x"})

    assert response.status_code == 404


def test_a_rating_given_on_the_page_changes_the_score_on_the_next_run(ev, finished, django_capture_on_commit_callbacks):
    before = score_of(finished, ev.shufu_accepted)
    assert before.measures["satisfaction"] is None

    client_for(ev.recipient).post(
        f"/evaluation/project-scores/{before.pk}/", {"form": "rating", "rating-score": "2", "rating-comment": "漏水"}
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(ev.coordinator).post(
            "/evaluation/runs/start/", {"program": ev.program.code, "year": "2015"}
        )
    after_run = EvaluationRun.objects.get(pk=int(response.url.rstrip("/").rsplit("/", 1)[1]))
    after = score_of(after_run, ev.shufu_accepted)

    assert after_run.status == RunStatus.SUCCEEDED
    assert after_run.compared_with == finished
    assert after.measures["satisfaction"] == 2
    assert after.score < before.score
    html = html_of(client_for(ev.recipient).get(f"/evaluation/project-scores/{after.pk}/"))
    assert "2 / 5" in html  # the measured satisfaction, read as a rating


# --- ratings worklist ------------------------------------------------------------------------------------------


def test_recipient_officers_see_the_accepted_projects_of_their_scope_with_their_rating(ev, finished):
    client = client_for(ev.recipient)

    before = client.get("/evaluation/ratings/")
    services.satisfaction_rate(project=ev.shufu_accepted, by=ev.recipient, score=4)
    after = html_of(client.get("/evaluation/ratings/"))

    assert [p.pk for p in before.context["to_rate"]] == [ev.shufu_accepted.pk]
    assert before.context["to_score"] is None
    assert "not rated" in html_of(before)
    assert ev.jiashi_accepted.code not in html_of(before)
    assert "4 / 5" in after
    assert f"/evaluation/projects/{ev.shufu_accepted.pk}/assess/#satisfaction" in after


def test_evaluators_see_the_projects_awaiting_their_expert_score(ev, finished):
    client = client_for(ev.evaluator)

    before = [p.pk for p in client.get("/evaluation/ratings/").context["to_score"]]
    services.expert_score_set(
        project=ev.shufu_accepted, by=ev.evaluator, indicator_code="quality", score=80, comment="ok"
    )
    after = [p.pk for p in client.get("/evaluation/ratings/").context["to_score"]]
    local = [p.pk for p in client_for(ev.local_evaluator).get("/evaluation/ratings/").context["to_score"]]

    assert set(before) == {ev.shufu_accepted.pk, ev.shufu_building.pk, ev.jiashi_accepted.pk}
    assert set(after) == {ev.shufu_building.pk, ev.jiashi_accepted.pk}
    assert set(local) == {ev.shufu_accepted.pk, ev.shufu_building.pk}  # Guangdong's evaluator: its pairing only


def test_the_worklist_filters_by_programme(ev, finished):
    response = client_for(ev.evaluator).get("/evaluation/ratings/?program=nope")

    assert list(response.context["to_score"]) == []


def test_users_who_neither_rate_nor_score_are_told_so(ev, finished):
    response = client_for(ev.assisting).get("/evaluation/ratings/")

    assert response.status_code == 200
    assert 'id="nothing-to-rate"' in html_of(response)
    assert response.context["to_rate"] is None
    assert response.context["to_score"] is None


def test_the_worklist_is_paginated(ev, finished):
    for i in range(55):
        make_project(ev.shufu, "accepted", title=f"验收项目 {i}")

    first = client_for(ev.recipient).get("/evaluation/ratings/")
    second = client_for(ev.recipient).get("/evaluation/ratings/?page=2")

    assert len(first.context["to_rate"]) == 50
    assert len(second.context["to_rate"]) == 6


# --- query counts --------------------------------------------------------------------------------------------


def test_the_run_list_costs_the_same_queries_for_3_runs_as_for_25(ev, two_runs, django_assert_max_num_queries):
    client = client_for(ev.coordinator)
    few = count_queries(client, "/evaluation/runs/")
    for year in range(2011, 2021):
        for _ in range(3):
            EvaluationRun.objects.create(
                program=ev.program,
                year=year,
                framework=ev.framework,
                status=RunStatus.FAILED,
                requested_by=ev.evaluator,
            )

    with django_assert_max_num_queries(few):
        client.get("/evaluation/runs/")
    assert few <= 10


def test_the_ranking_costs_the_same_queries_for_2_parties_as_for_20(ev, two_runs, django_assert_max_num_queries):
    _first, second = two_runs
    client = client_for(ev.coordinator)
    url = f"/evaluation/rankings/?program={ev.program.code}&year=2015"
    few = count_queries(client, url)
    for i in range(18):
        org: Organization = OrganizationFactory(name=f"援助方{i}", name_en=f"Party {i}")
        Ranking.objects.create(
            run=second, organization=org, score=50 - i, grade="D", rank=3 + i, previous_rank=2 + i, reasons=[]
        )

    with django_assert_max_num_queries(few):
        response = client.get(url)
    assert len(response.context["rows"]) == 20
    assert few <= 10  # with the navigation's count of tasks (one query)


def test_the_scorecard_costs_the_same_queries_for_2_projects_as_for_30(ev, two_runs, django_assert_max_num_queries):
    _first, second = two_runs
    card = card_of(second, ev.shufu)
    client = client_for(ev.assisting)
    url = f"/evaluation/scorecards/{card.pk}/"
    few = count_queries(client, url)
    for i in range(28):
        project = make_project(ev.shufu, "in_construction", title=f"在建 {i}")
        ProjectScore.objects.create(run=second, project=project, pairing=ev.shufu, score=40 + i, measures={})

    with django_assert_max_num_queries(few):
        response = client.get(url)
    assert len(response.context["page"]) == 30
    assert few <= 10


def test_the_ratings_worklist_costs_the_same_queries_for_1_project_as_for_40(
    ev, finished, django_assert_max_num_queries
):
    client = client_for(ev.recipient)
    few = count_queries(client, "/evaluation/ratings/")
    for i in range(39):
        make_project(ev.shufu, "accepted", title=f"验收项目 {i}")

    with django_assert_max_num_queries(few):
        response = client.get("/evaluation/ratings/")
    assert len(response.context["to_rate"]) == 40
    assert few <= 10


# --- how figures read --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (0.874, "ratio", "87 %"),
        (1.0, "ratio", "100 %"),
        (0.05, "ratio", "5 %"),
        (0.996, "ratio", "99.6 %"),  # a shortfall is not rounded away
        (0.99999, "ratio", "99.9 %"),
        (1.094, "ratio", "109 %"),
        (0, "ratio", "0 %"),
        (4.5, "rating", "4.5 / 5"),
        (4, "rating", "4 / 5"),
        (12345, "count", "12,345"),
        (72.46, "score", "72.5"),
        (None, "ratio", "—"),
    ],
)
def test_measured_values_read_by_their_unit(value, unit, shown):
    assert format_measure(value, unit) == shown


def test_curves_read_in_words(ev):
    indicators = {i.code: i for i in ev.framework.indicators.all()}

    with translation.override("en"):
        assert curve_words(indicators["mandate"]) == "0 at 60 %, 100 at 100 %"
        assert curve_words(indicators["projects"]) == "0 at 40, 100 at 90"
        assert curve_words(indicators["satisfaction"]).startswith("0 from 1 / 5; 40 from 2 / 5;")


def test_reasons_read_in_plain_words_and_an_indicator_both_won_and_lost_is_told_once(ev):
    indicators = {i.code: i for i in ev.framework.indicators.all()}
    stored = [
        {"kind": "strength", "indicator": "projects", "points": 20.0, "value": 65.0},
        {"kind": "strength", "indicator": "county_share", "points": 10.0, "value": 1.0},
        {"kind": "weakness", "indicator": "projects", "points": 21.1, "value": 65.0},
        {"kind": "weakness", "indicator": "mandate", "points": 16.9, "value": 0.684},
        {"kind": "flag", "code": "mandate_shortfall", "value": 0.684, "minimum": 1.0},
        {"kind": "flag", "code": "livelihood_share_below_minimum", "value": 0.29, "minimum": 0.7},
    ]

    with translation.override("en"):
        shown = [(r["kind"], r["text"]) for r in reasons(stored, indicators)]

    assert shown == [
        ("strength", "Share to county level and below 100 %"),
        ("weakness", "Project scores 65"),
        ("weakness", "Mandate fulfilment 68 %"),
        ("flag", "Mandate short: 68 % of the funds required received"),
        ("flag", "Share to livelihood 29 %, below the minimum of 70 %"),
    ]


@pytest.mark.parametrize(
    ("rank", "previous", "trend", "symbol", "said"),
    [
        (2, 5, "up", "▲", "up from rank 5"),
        (5, 2, "down", "▼", "down from rank 2"),
        (3, 3, "same", "＝", "unchanged from rank 3"),
    ],
)
def test_trend_arrows_say_where_the_party_was(rank, previous, trend, symbol, said):
    with translation.override("en"):
        html = str(trend_arrow(Ranking(rank=rank, previous_rank=previous, score=1, grade="A")))

    assert f'data-trend="{trend}"' in html
    assert symbol in html
    assert f'<span class="visually-hidden">{said}</span>' in html
    assert f'title="Previous rank: {previous}"' in html


def test_a_party_new_to_the_ranking_reads_new(ev):
    with translation.override("en"):
        html = str(trend_arrow(Ranking(rank=1, previous_rank=None, score=1, grade="A")))

    assert 'data-trend="new"' in html
    assert ">new<" in html


@pytest.mark.parametrize(
    ("grade", "css"),
    [("A", "text-bg-success"), ("B", "text-bg-primary"), ("C", "text-bg-warning"), ("D", "text-bg-danger")],
)
def test_grades_have_their_colours(grade, css):
    assert f'class="badge {css} dk-grade"' in str(grade_badge(grade))


def test_a_runs_times_are_shown_in_local_time(ev, finished):
    html = html_of(client_for(ev.observer).get(f"/evaluation/runs/{finished.pk}/"))

    local = timezone.localtime(finished.finished_at)
    assert local.strftime("%Y-%m-%d %H:%M:%S") in html
    assert isinstance(finished.as_of, dt.date)


@pytest.mark.parametrize(("language", "shown"), [("zh-hans", "默认指标体系"), ("en", "Default framework")])
def test_the_default_framework_is_named_in_the_readers_language(ev, language, shown):
    from django.test import Client

    from evaluation.models import IndicatorFramework

    framework = IndicatorFramework.objects.filter(created_by__isnull=True, version=1).first()
    assert framework is not None
    assert framework.reason == ""  # nothing stored in one language
    client = Client()
    client.force_login(ev.coordinator)
    client.cookies["django_language"] = language
    page = client.get(f"/evaluation/frameworks/{framework.pk}/").content.decode()
    assert shown in page
    assert ("Default framework" if language == "zh-hans" else "默认指标体系") not in page
