"""The timeline written in Python (history.history_list): the same HTML as includes/history.html wrote per event
through the template language, in both languages."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test.html import parse_html
from django.utils import translation

from core.models import HistoryEvent
from core.services import history_record

pytestmark = pytest.mark.django_db

#: The timeline as its template wrote it before it was written in Python.
TEMPLATE_HISTORY = Template(
    """{% load duikou i18n history %}<ul class="list-unstyled dk-history mb-0">
{% for e in events %}
  <li>
    <div class="small text-body-secondary">{{ e.at|date:"Y-m-d H:i" }} · {% if e.actor %}{{ e.actor.get_full_name|default:e.actor.username|in_language }}{% else %}{% translate "system" %}{% endif %}</div>
    <div>{% include "includes/action_label.html" with action=e.action %}{% if e.from_state or e.to_state %}: {% if e.from_state %}{% state_label e e.from_state %} → {% endif %}{% state_label e e.to_state %}{% endif %}</div>
    {% if e.changes %}<div class="small">{% for name, change in e.changes.items %}<span class="me-3"><span class="text-body-secondary">{{ e|field_label:name }}:</span> {% history_value e name change.old %} → {% history_value e name change.new %}</span>{% endfor %}</div>{% endif %}
    {% if e.comment %}<div class="small fst-italic">{{ e.comment|in_language }}</div>{% endif %}
  </li>
{% empty %}
  <li class="text-body-secondary">{% translate "No history yet." %}</li>
{% endfor %}
</ul>
"""
)

NOW = Template('{% include "includes/history.html" with events=events %}')


def both(events):
    return TEMPLATE_HISTORY.render(Context({"events": events})), NOW.render(Context({"events": events}))


def test_the_timeline_is_the_html_the_template_wrote(world, draft):
    world.assisting.first_name, world.assisting.last_name = "<b>", "李"
    world.assisting.save()
    history_record(obj=draft, action="created", actor=world.assisting, to_state="draft", comment="说 <明> & 完")
    history_record(obj=draft, action="submitted", from_state="draft", to_state="proposed", actor=world.recipient)
    history_record(
        obj=draft,
        action="updated",
        changes={
            "approved_budget": (None, Decimal("1234567.50")),
            "sector": ("education", "health"),
            "title": ("<旧>", "新 & 好"),
            "is_livelihood": (False, True),
            "parent": (None, world.guangdong_gov),
        },
    )
    history_record(obj=world.shenzhen_gov, action="updated", changes={"kind": ("agency", "agency")})
    odd = history_record(obj=draft, action="an_unknown_action", comment="")
    # A change without its old value, and one that is a list, as JSON allows.
    odd.changes = {"photos": {"new": [1, 2]}, "note": ["a"]}
    events = [*HistoryEvent.objects.for_object(draft).select_related("actor"), odd]
    events += list(HistoryEvent.objects.for_object(world.shenzhen_gov))
    for language in ("zh-hans", "en"):
        with translation.override(language):
            before, now = both(events)
            assert parse_html(now) == parse_html(before)
            assert "&lt;b&gt;" in now
            assert "说 &lt;明&gt; &amp; 完" in now


def test_an_empty_timeline_says_so_as_before():
    for language in ("zh-hans", "en"):
        with translation.override(language):
            before, now = both([])
            assert parse_html(now) == parse_html(before)


#: The home's recent changes as their panel's template wrote them before they were written in Python.
TEMPLATE_ROWS = Template(
    """{% load i18n %}{% for e in events %}
        <tr>
          <td class="text-nowrap">{{ e.at|date:"Y-m-d H:i" }}</td>
          <td>{{ e.actor.username|default:_("system") }}</td>
          <td>{% include "includes/action_label.html" with action=e.action %}</td>
          <td>{{ e.object_repr }}</td>
        </tr>
      {% endfor %}"""
)

NOW_ROWS = Template("{% load history %}{% history_rows events %}")


def test_the_home_s_recent_changes_are_the_rows_the_template_wrote(world, draft):
    world.assisting.username = "<b>&"
    world.assisting.save()
    history_record(obj=draft, action="created", actor=world.assisting, to_state="draft")
    history_record(obj=draft, action="submitted", from_state="draft", to_state="proposed", actor=world.recipient)
    history_record(obj=world.shenzhen_gov, action="an_unknown_<action>")
    from core.selectors import recent_history

    # The template read model instances; the rows are plain values, the same events in the same order.
    instances = list(HistoryEvent.objects.select_related("actor")[:8])
    events = recent_history(8)
    assert [e.object_repr for e in events] == [e.object_repr for e in instances]
    assert {e.actor for e in instances} >= {world.assisting, None}
    for language in ("zh-hans", "en"):
        with translation.override(language):
            before = TEMPLATE_ROWS.render(Context({"events": instances}))
            now = NOW_ROWS.render(Context({"events": events}))
            assert parse_html(now) == parse_html(before)
            assert "&lt;b&gt;&amp;" in now
    assert NOW_ROWS.render(Context({"events": []})) == ""
