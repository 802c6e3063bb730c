"""The project list's rows, read as plain values (projects.selectors.ListRow) and written in Python
(project_tags.project_list_rows): the same HTML as the template wrote from model instances, in both languages."""

import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test.html import parse_html
from django.utils import translation

from core.money import unit_for
from projects import selectors
from projects.figures import BUDGET
from projects.models import Project, State
from projects.templatetags.project_tags import project_list_rows, state_badge
from tests.factories import ProjectFactory

pytestmark = pytest.mark.django_db

#: The rows as the list's template wrote them before they were written in Python (from model instances).
TEMPLATE_ROWS = Template(
    """{% load i18n duikou %}{% for p in rows %}
    <tr>
      <td class="text-nowrap"><a href="{% url 'projects:project_detail' p.pk %}">{{ p.code }}</a></td>
      <td>{{ p.title }}{% if p.is_synthetic %} <span class="badge text-bg-warning dk-synthetic">{% translate "synthetic" %}</span>{% endif %}</td>
      <td class="small">{{ p.pairing.assisting_organization }} → {{ p.pairing.recipient_region }}</td>
      <td class="small">{{ p.get_sector_display|default:"—" }}</td>
      <td>{% include "projects/includes_state.html" with state=p.state label=p.get_state_display %}</td>
      <td class="num" data-figure="budget" data-amount="{{ p.budget|default_if_none:'' }}">{{ p.budget|cny:unit }}</td>
      <td class="small text-nowrap">{{ p.planned_start|date:"Y-m-d"|default:"—" }}</td>
    </tr>
  {% endfor %}"""
)

#: The state badge as its template wrote it before it was written in Python.
TEMPLATE_BADGE = Template(
    '{% if state == "draft" %}<span class="badge text-bg-light border">{{ label }}</span>{% elif state == "proposed" %}'
    '<span class="badge text-bg-info">{{ label }}</span>{% elif state == "approved" %}<span class="badge '
    'text-bg-primary">{{ label }}</span>{% elif state == "in_construction" %}<span class="badge text-bg-warning">'
    '{{ label }}</span>{% elif state == "completed" %}<span class="badge text-bg-success">{{ label }}</span>'
    '{% elif state == "accepted" or state == "evaluated" %}<span class="badge text-bg-success">{{ label }}</span>'
    '{% else %}<span class="badge text-bg-secondary">{{ label }}</span>{% endif %}'
)


@pytest.fixture
def varied(world, pw):
    """Projects with and without budget, start and sector, synthetic or not, with a title that needs escaping."""
    made = [
        ProjectFactory(pairing=pw.shufu, state="draft", title="疏附县<第二>幼儿园 & 食堂", is_synthetic=True),
        ProjectFactory(pairing=pw.shufu, state="in_construction", sector="", planned_start=None),
        ProjectFactory(
            pairing=pw.jiashi, state="accepted", approved_budget=Decimal("123456789.50"), budget_requested=None
        ),
        ProjectFactory(pairing=pw.jiashi, state="cancelled", budget_requested=None, approved_budget=None),
        ProjectFactory(pairing=pw.shufu, state="proposed", planned_start=dt.date(2015, 1, 9)),
    ]
    return [p.pk for p in made]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_rows_written_in_python_are_the_templates(varied, language):
    queryset = Project.objects.filter(pk__in=varied).annotate(budget=BUDGET).order_by("pk")
    with translation.override(language):
        instances = list(queryset.select_related("pairing__assisting_organization", "pairing__recipient_region"))
        rows = selectors.list_rows(queryset)
        unit = unit_for([r.budget for r in rows])
        expected = TEMPLATE_ROWS.render(Context({"rows": instances, "unit": unit}))
        written = project_list_rows(rows, unit)
    assert [r.pk for r in rows] == [p.pk for p in instances]
    assert parse_html(written) == parse_html(expected)
    assert "&lt;第二&gt;" in written
    assert ("synthetic" if language == "en" else "合成") in written


def test_each_states_badge_is_the_templates():
    for state in [*State.values, "unknown"]:
        label = f"<{state}>"
        assert state_badge(state, label) == TEMPLATE_BADGE.render(Context({"state": state, "label": label}))


def test_no_row_for_no_project():
    assert project_list_rows([], None) == ""
