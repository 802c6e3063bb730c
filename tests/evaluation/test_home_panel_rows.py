"""The home's evaluation panel rows written in Python (evaluation.dashboard.leader_rows): the same HTML as
evaluation/dashboard_panel.html wrote per programme through the template language, in both languages."""

from django.template import Context, Template
from django.test.html import parse_html
from django.utils import translation

from accounts.models import Organization
from evaluation.dashboard import leader_rows
from evaluation.models import Ranking
from pairings.models import Program

#: The rows as the panel's template wrote them before they were written in Python.
TEMPLATE_ROWS = Template(
    """{% load i18n evaluation_tags %}{% for row in rows %}
        <tr>
          <td>{{ row.program }}</td>
          <td>{% if row.year %}<a href="{% url 'evaluation:rankings' %}?program={{ row.program.code }}&amp;year={{ row.year }}">{{ row.year }}</a>{% else %}—{% endif %}</td>
          <td class="small">{% for r in row.leaders %}<span class="text-nowrap me-3">{{ r.rank }}. {{ r.organization }} <span class="text-body-secondary">{{ r.score|score }}</span> {{ r.grade|grade_badge }}</span>{% empty %}<span class="text-body-secondary">{% translate "Nobody ranked." %}</span>{% endfor %}</td>
        </tr>
      {% endfor %}"""
)


def _rows() -> list[dict]:
    """Unsaved rows as evaluation_panel makes them: names that need escaping, a grade without a class of its own,
    a programme whose ranking has nobody, one without a ranking."""
    xj = Program(code="xj-<1>", name="对口援疆 <新>", name_en="Xinjiang & co")
    tb = Program(code="tibet", name="对口援藏", name_en="")
    none = Program(code="none", name="无", name_en="None")
    guangdong = Organization(name="广东省人民政府", name_en="Guangdong <Gov>")
    jiangsu = Organization(name="江苏 & 省", name_en="")
    leaders = [
        Ranking(rank=1, score=91.25, grade="A", organization=guangdong),
        Ranking(rank=2, score=80.0, grade="B+<", organization=jiangsu),
        Ranking(rank=3, score=None, grade="D", organization=guangdong),
    ]
    return [
        {"program": xj, "year": 2024, "leaders": leaders},
        {"program": tb, "year": 2023, "leaders": []},
        {"program": none, "year": None, "leaders": []},
    ]


def test_the_panel_rows_are_the_html_the_template_wrote():
    rows = _rows()
    for language in ("zh-hans", "en"):
        with translation.override(language):
            before = TEMPLATE_ROWS.render(Context({"rows": rows}))
            now = leader_rows(rows)
            assert parse_html(now) == parse_html(before)
            assert "&lt;" in now
    assert leader_rows([]) == ""
