"""The home's evaluation panel rows written in Python (evaluation.dashboard.leader_rows): the same HTML as
evaluation/dashboard_panel.html wrote per programme through the template language, in both languages."""

from django.template import Context, Template
from django.test.html import parse_html
from django.utils import translation

from core.models import name_in_language
from evaluation.dashboard import Placed, ProgrammeShown, leader_rows

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
    """Rows as evaluation_panel makes them: names that need escaping, a grade without a class of its own,
    a programme whose ranking has nobody, one without a ranking."""
    # The programmes and places as the panel reads them (`evaluation_panel`): values, names in the language.
    xj = ProgrammeShown(1, "xj-<1>", "对口援疆 <新>", "Xinjiang & co", 2010, None, 5)
    tb = ProgrammeShown(2, "tibet", "对口援藏", "", 1994, None, 6)
    none = ProgrammeShown(3, "none", "无", "None", 2008, 2010, None)
    guangdong = name_in_language("广东省人民政府", "Guangdong <Gov>")
    jiangsu = name_in_language("江苏 & 省", "")
    leaders = [
        Placed(5, 11, 91.25, "A", 1, guangdong),
        Placed(5, 12, 80.0, "B+<", 2, jiangsu),
        Placed(5, 11, None, "D", 3, guangdong),  # type: ignore[arg-type]
    ]
    return [
        {"program": xj, "year": 2024, "leaders": leaders},
        {"program": tb, "year": 2023, "leaders": []},
        {"program": none, "year": None, "leaders": []},
    ]


def test_the_panel_rows_are_the_html_the_template_wrote():
    for language in ("zh-hans", "en"):
        with translation.override(language):
            rows = _rows()  # read in the page's language, as the panel reads them
            before = TEMPLATE_ROWS.render(Context({"rows": rows}))
            now = leader_rows(rows)
            assert parse_html(now) == parse_html(before)
            assert "&lt;" in now
    assert leader_rows([]) == ""
