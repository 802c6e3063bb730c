"""A scorecard's page: its projects page by page when sorted by score (the rows without a score last, read only
when a page reaches them); a scorecard whose pairing no succeeded run scored yet (its pairing read apart from the
history); the programme minimums of its run's rule, read with the card, as the template wrote them from
`current_rule`."""

import re
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test.html import parse_html
from django.utils import translation

from evaluation.models import EvaluationRun, RunStatus, ScoreStatus
from pairings.models import FundingRule
from pairings.services import current_rule
from tests.evaluation.test_views import card_of, client_for, html_of
from tests.factories import ProjectFactory, ProjectScoreFactory

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.evaluation.conftest_views"]


@pytest.mark.parametrize("sort", ["-score", "score"])
def test_the_pages_by_score_hold_every_project_once_in_order_the_unscored_last(ev, finished, sort):
    card = card_of(finished, ev.shufu)
    for i in range(70):
        project = ProjectFactory(pairing=card.pairing, code=f"SC-{i:03d}", state="accepted")
        unscored = i % 5 == 0
        ProjectScoreFactory(
            run=finished,
            project=project,
            pairing=card.pairing,
            score=None if unscored else 40 + i % 7,  # ties across the pages' edges
            status=ScoreStatus.INSUFFICIENT_DATA if unscored else ScoreStatus.SCORED,
        )
    client = client_for(ev.assisting)

    pages = [client.get(f"/evaluation/scorecards/{card.pk}/?sort={sort}&page={n}").context["page"] for n in (1, 2)]
    rows = [(p.score, p.code) for page in pages for p in page]

    assert [len(page.object_list) for page in pages] == [50, pages[1].paginator.count - 50]
    assert len({code for _s, code in rows}) == len(rows) == pages[0].paginator.count
    scored = [r for r in rows if r[0] is not None]
    descending = sort.startswith("-")
    assert scored == sorted(scored, key=lambda r: (-r[0] if descending else r[0], r[1]))
    assert rows[len(scored) :] == sorted(r for r in rows if r[0] is None)  # every unscored one after, by code
    assert pages[0].object_list[-1].score is not None  # the first page is full of scored ones


def test_a_scorecard_whose_pairing_no_succeeded_run_scored_shows_its_pairing(ev, finished):
    card = card_of(finished, ev.shufu)
    EvaluationRun.objects.filter(pk=finished.pk).update(status=RunStatus.FAILED)

    response = client_for(ev.assisting).get(f"/evaluation/scorecards/{card.pk}/")

    assert response.status_code == 200
    assert response.context["history"] == []
    assert str(ev.shufu.recipient_region) in html_of(response)
    assert response.context["card"].pairing == ev.shufu


#: The programme minimums as the scorecard's template wrote them from the rule (`current_rule`) it was given.
TEMPLATE_MINIMUMS = Template(
    """{% load i18n duikou %}<p class="small text-body-secondary mb-0 mt-2" id="card-minimums">"""
    """{% translate "Programme minimums:" %}
        {% if rule and rule.min_county_share is not None %}{% blocktranslate with county=rule.min_county_share|percent %}{{ county }} of funds to county level and below;{% endblocktranslate %}{% endif %}
        {% if rule and rule.min_livelihood_share is not None %}{% blocktranslate with livelihood=rule.min_livelihood_share|percent %}{{ livelihood }} to livelihood;{% endblocktranslate %}{% endif %}
        {% translate "the year's mandate received in full." %}</p>"""
)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("minimums", [(Decimal("0.6"), Decimal("0.725")), (None, Decimal("0.7")), (None, None)])
def test_the_scorecard_shows_the_minimums_of_the_rule_of_its_run(ev, finished, language, minimums):
    rule = current_rule(finished.program, finished.year)
    assert rule is not None
    FundingRule.objects.filter(pk=rule.pk).update(min_county_share=minimums[0], min_livelihood_share=minimums[1])
    card = card_of(finished, ev.shufu)

    page = html_of(client_for(ev.assisting, language).get(f"/evaluation/scorecards/{card.pk}/"))
    with translation.override(language):
        expected = TEMPLATE_MINIMUMS.render(Context({"rule": current_rule(finished.program, finished.year)}))

    shown = re.search(r'<p [^>]*id="card-minimums">.*?</p>', page, re.S)
    assert shown is not None
    assert parse_html(shown.group(0)) == parse_html(expected)
    assert expected.count("%") == sum(m is not None for m in minimums)  # each minimum the rule has, shown


def test_a_scorecard_without_a_rule_in_force_shows_no_minimum(ev, finished):
    FundingRule.objects.filter(program=finished.program).update(effective_from_year=finished.year + 1)
    assert current_rule(finished.program, finished.year) is None
    card = card_of(finished, ev.shufu)

    page = html_of(client_for(ev.assisting).get(f"/evaluation/scorecards/{card.pk}/"))

    shown = re.search(r'<p [^>]*id="card-minimums">.*?</p>', page, re.S)
    assert shown is not None
    assert parse_html(shown.group(0)) == parse_html(TEMPLATE_MINIMUMS.render(Context({"rule": None})))
