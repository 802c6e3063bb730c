"""The rows of the ranking and of a scorecard's projects, written in Python (evaluation_tags.ranking_rows and
scorecard_project_rows): the same HTML as the templates' loops wrote, in both languages."""

import dataclasses

import pytest
from django.db.models import F
from django.template import Context, Template
from django.test.html import parse_html
from django.utils import translation

from accounts.models import Organization
from evaluation import selectors
from evaluation.models import ProjectScore, Ranking, ScoreStatus
from evaluation.templatetags.evaluation_tags import (
    explain_rows,
    ranking_rows,
    reason_lines,
    scorecard_project_rows,
)
from tests.evaluation.conftest import make_project
from tests.evaluation.test_views import card_of, client_for

pytestmark = pytest.mark.django_db
pytest_plugins = ["tests.evaluation.conftest_views"]

#: The ranking's rows as its template wrote them before they were written in Python (the reasons' loop too).
TEMPLATE_RANKING_ROWS = Template(
    """{% load i18n evaluation_tags %}{% for r, cards in rows %}
    <tr data-organization="{{ r.organization_id }}">
      <td class="num fw-semibold">{{ r.rank }}</td>
      <td class="text-center">{{ r|trend_arrow }}</td>
      <td>
        <div class="fw-semibold">{{ r.organization }}</div>
        {% if cards %}<div class="small">{% for url, label in cards %}<a href="{{ url }}" class="text-nowrap me-2">{{ label }}</a> {% endfor %}</div>{% endif %}
      </td>
      <td class="num fs-6">{{ r.score|score }}{% if r.previous_score is not None %}<div class="small text-body-secondary">{% blocktranslate with s=r.previous_score|score %}was {{ s }}{% endblocktranslate %}</div>{% endif %}</td>
      <td>{{ r.grade|grade_badge }}</td>
      <td class="num">{{ r.pairing_count }}</td>
      <td class="small dk-reasons">
        {% for reason in r.reasons|reasons:indicators %}
          <div class="dk-reason dk-reason-{{ reason.kind }}">{% if reason.kind == "strength" %}<span class="text-success" aria-hidden="true">＋</span> <span class="visually-hidden">{% translate "Strength:" %}</span>{% elif reason.kind == "weakness" %}<span class="text-danger" aria-hidden="true">－</span> <span class="visually-hidden">{% translate "Weakness:" %}</span>{% else %}<span class="badge text-bg-warning">{% translate "below the rule" %}</span> {% endif %}{{ reason.text }}{% if reason.kind == "weakness" and reason.points %} <span class="text-body-secondary">{% blocktranslate with p=reason.points|score %}(−{{ p }} points){% endblocktranslate %}</span>{% endif %}</div>
        {% empty %}<span class="text-body-secondary">—</span>
        {% endfor %}
      </td>
    </tr>
  {% endfor %}"""
)

#: A scorecard's projects as its template wrote them before they were written in Python.
TEMPLATE_PROJECT_ROWS = Template(
    """{% load i18n evaluation_tags %}{% translate "Final: the project was accepted" as final_title %}"""
    """{% translate "final" as final %}{% for ps in page %}<tr>
          <td class="text-nowrap"><a href="{{ ps.url }}">{{ ps.code }}</a></td>
          <td class="small">{{ ps.title }}</td>
          <td>{{ ps.state_badge }}</td>
          <td class="num">{% if ps.has_enough_data %}{{ ps.score|score }}{% if ps.is_final %} <span class="badge text-bg-light border" title="{{ final_title }}">{{ final }}</span>{% endif %}{% else %}{{ ps|not_enough_data_badge }}{% endif %}</td>
          <td class="num">{{ ps.coverage|coverage_pct }}</td>
        </tr>{% endfor %}"""
)

REASONS = [
    {"kind": "strength", "indicator": "projects", "points": 20.0, "value": 65.0},
    {"kind": "strength", "indicator": "county_share", "points": 10.0, "value": 1.0},
    {"kind": "weakness", "indicator": "projects", "points": 21.1, "value": 65.0},
    {"kind": "weakness", "indicator": "mandate", "points": 16.9, "value": 0.684},
    {"kind": "weakness", "indicator": "satisfaction", "points": 0, "value": None},
    {"kind": "flag", "code": "mandate_shortfall", "value": 0.684, "minimum": 1.0},
    {"kind": "flag", "code": "livelihood_share_below_minimum", "value": 0.29, "minimum": 0.7},
]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_ranking_rows_written_in_python_are_the_templates(ev, language):
    indicators = {i.code: i for i in ev.framework.indicators.all()}
    party = Organization(pk=1234, name="上海<市> & 援助方", name_en="Shanghai <& Co>")
    other = Organization(pk=7, name="广东", name_en="Guangdong")
    rows = [
        (
            Ranking(
                organization=party,
                score=81.25,
                grade="A",
                rank=1,
                previous_rank=3,
                previous_score=70.04,
                pairing_count=1200,
                reasons=REASONS,
            ),
            [("/evaluation/scorecards/5/", "scorecard: 喀什<地区>"), ("/evaluation/scorecards/6/", "scorecard: B")],
        ),
        (Ranking(organization=other, score=60.0, grade="C", rank=2, previous_rank=2, reasons=[]), []),
        (Ranking(organization=other, score=50.0, grade="D", rank=3, previous_rank=1, reasons=REASONS[2:4]), []),
        (Ranking(organization=party, score=None, grade="Z", rank=4, previous_score=None, reasons=REASONS[-1:]), []),
    ]
    with translation.override(language):
        expected = TEMPLATE_RANKING_ROWS.render(Context({"rows": rows, "indicators": indicators}))
        written = ranking_rows(rows, indicators)
    assert parse_html(written) == parse_html(expected)
    assert "&lt;" in written
    assert written.count("dk-reason-flag") == 3


def test_a_ranking_without_reasons_says_so():
    assert reason_lines([], {}) == '<span class="text-body-secondary">—</span>\n        '
    assert ranking_rows([], {}) == ""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_scorecards_project_rows_written_in_python_are_the_templates(ev, finished, language):
    card = card_of(finished, ev.shufu)
    scores = list(ProjectScore.objects.filter(run=finished, pairing=ev.shufu).select_related("project").order_by("pk"))
    assert len(scores) >= 2
    scores[0].project.title = "疏附县<第二>幼儿园 & 食堂"
    scores[0].project.save(update_fields=["title"])
    ProjectScore.objects.filter(pk=scores[0].pk).update(is_final=True, status=ScoreStatus.SCORED, coverage=87.5)
    ProjectScore.objects.filter(pk=scores[1].pk).update(status=ScoreStatus.INSUFFICIENT_DATA, score=None, coverage=None)
    if len(scores) > 2:
        ProjectScore.objects.filter(pk=scores[2].pk).update(status=ScoreStatus.INSUFFICIENT_DATA, coverage=33.333)

    response = client_for(ev.coordinator, language).get(f"/evaluation/scorecards/{card.pk}/?sort=code")
    page = response.context["page"]
    with translation.override(language):
        expected = TEMPLATE_PROJECT_ROWS.render(Context({"page": page}))
        written = scorecard_project_rows(page.object_list)
    assert parse_html(written) == parse_html(expected)
    assert "&lt;第二&gt;" in written
    assert written in response.content.decode()
    assert scorecard_project_rows([]) == ""


#: The lines of "why this score" as their template wrote them before they were written in Python.
TEMPLATE_EXPLAIN_ROWS = Template(
    """{% load i18n evaluation_tags %}{% for line in lines %}
    <tr data-indicator="{{ line.indicator.code }}"{% if line.score is None %} class="text-body-secondary"{% endif %}>
      <td class="fw-semibold">{{ line.indicator.label }}</td>
      <td class="small">{{ line.indicator|definition }}</td>
      <td class="num">{{ line.value|measure_value:line.indicator }}</td>
      <td class="small">{{ line.indicator|curve_words }}</td>
      <td class="num">{{ line.weight|floatformat:"0" }} %</td>
      <td class="num">{% if line.score is None %}<span title="{% translate 'No value: left out' %}">—</span>{% else %}{{ line.weight_share|floatformat:1 }} %{% endif %}</td>
      <td class="num">{{ line.score|score }}</td>
      <td class="num">{% if line.score is None %}—{% else %}{{ line.contribution|score }}{% endif %}</td>
    </tr>
  {% endfor %}"""
)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_explain_rows_written_in_python_are_the_templates(ev, finished, language):
    card = card_of(finished, ev.shufu)
    score = ProjectScore.objects.filter(run=finished).order_by("pk").first()
    with translation.override(language):
        lines = [
            *selectors.explain_score(ev.framework, "pairing", card.measures),
            *selectors.explain_score(ev.framework, "project", score.measures),
        ]
        lines.append(dataclasses.replace(lines[0], value=None, score=None, weight_share=0.0, contribution=0.0))
        lines.append(dataclasses.replace(lines[1], value=0.12345, weight=12.5, weight_share=33.333))
        expected = TEMPLATE_EXPLAIN_ROWS.render(Context({"lines": lines}))
        written = explain_rows(lines)
    assert parse_html(written) == parse_html(expected)
    assert written == expected
    assert explain_rows([]) == ""


@pytest.mark.parametrize("sort", ["-score", "score"])
def test_each_page_by_score_is_the_slice_of_the_whole_order(ev, finished, sort):
    """Ties, and scores left empty, across page boundaries: each page read with its count in one statement is
    the same slice of the full order (score, then project code; no score last)."""
    for i in range(110):
        project = make_project(ev.shufu, "in_construction", title=f"在建 {i}")
        ProjectScore.objects.create(
            run=finished, project=project, pairing=ev.shufu, score=None if i % 7 == 0 else float(i % 5), measures={}
        )
    key = F("score").desc(nulls_last=True) if sort.startswith("-") else F("score").asc(nulls_last=True)
    whole = list(
        ProjectScore.objects.filter(run=finished, pairing=ev.shufu)
        .order_by(key, "project__code")
        .values_list("pk", flat=True)
    )
    client = client_for(ev.coordinator)
    card = card_of(finished, ev.shufu)
    seen = []
    for number in (1, 2, 3):
        page = client.get(f"/evaluation/scorecards/{card.pk}/?sort={sort}&page={number}").context["page"]
        assert page.paginator.count == len(whole)
        seen += [p.pk for p in page.object_list]
    assert seen == whole
    last = client.get(f"/evaluation/scorecards/{card.pk}/?sort={sort}&page=99").context["page"]
    assert [p.pk for p in last.object_list] == whole[100:]
