"""The navigation bar's entries written in Python (core/templatetags/nav_tags.py): the same HTML as base.html's loops
over `nav_items` wrote through the template language, in both languages."""

from django.template import Context, Template
from django.test.html import parse_html
from django.utils import translation
from django.utils.translation import gettext_lazy as _

#: The task count beside the bell as base.html wrote it before it was written in Python.
TEMPLATE_QUICK = Template(
    """      {% for item in nav_items %}{% if item.key == "tasks" and item.badge %}
      <a class="btn btn-sm btn-outline-light d-xl-none d-flex align-items-center gap-1" id="tasks-quick" href="{{ item.url }}"
         title="{{ item.label }}" aria-label="{{ item.label }} {{ item.badge }}">
        <svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" fill="currentColor" viewBox="0 0 16 16" aria-hidden="true"><path d="M2 2.5a.5.5 0 0 1 .5-.5h11a.5.5 0 0 1 0 1h-11a.5.5 0 0 1-.5-.5m0 5a.5.5 0 0 1 .5-.5h6a.5.5 0 0 1 0 1h-6a.5.5 0 0 1-.5-.5m0 5a.5.5 0 0 1 .5-.5h6a.5.5 0 0 1 0 1h-6a.5.5 0 0 1-.5-.5m13.35-5.85-3 3a.5.5 0 0 1-.7 0l-1.5-1.5a.5.5 0 0 1 .7-.7L12 8.79l2.65-2.64a.5.5 0 0 1 .7.7"/></svg>
        <span class="badge rounded-pill text-bg-warning" id="tasks-quick-count">{{ item.badge }}</span>
      </a>
      {% endif %}{% endfor %}
"""
)

#: The menu's entries as base.html wrote them.
TEMPLATE_MENU = Template(
    """        {% for item in nav_items %}
        <li class="nav-item"><a class="nav-link{% if item.active %} active{% endif %}" {% if item.active %}aria-current="page"{% endif %} href="{{ item.url }}">{{ item.label }}{% if item.badge %} <span class="badge rounded-pill text-bg-warning" id="nav-{{ item.key }}-count">{{ item.badge }}</span>{% endif %}</a></li>
        {% endfor %}
"""
)

NOW_QUICK = Template("{% load nav_tags %}{% nav_quick_tasks nav_items %}")
NOW_MENU = Template("{% load nav_tags %}{% nav_menu nav_items %}")


def _items(tasks_badge):  # type: ignore[no-untyped-def]
    return [
        {"key": "dashboard", "label": _("Dashboard"), "url": "/", "active": False, "badge": None},
        {"key": "projects", "label": _("Projects"), "url": "/projects/", "active": True, "badge": None},
        {"key": "tasks", "label": _("My tasks"), "url": "/projects/tasks/", "active": False, "badge": tasks_badge},
        {"key": "odd<&>", "label": 'A <label> & "more"', "url": "/a?b=1&c=2", "active": False, "badge": 7},
    ]


def test_the_navigation_is_the_html_the_template_wrote():
    for badge in (None, 0, 3, 12345):
        for language in ("zh-hans", "en"):
            with translation.override(language):
                context = Context({"nav_items": _items(badge)})
                assert parse_html(NOW_QUICK.render(context)) == parse_html(TEMPLATE_QUICK.render(context))
                assert parse_html(NOW_MENU.render(context)) == parse_html(TEMPLATE_MENU.render(context))
    empty = Context({"nav_items": []})
    assert NOW_QUICK.render(empty) == NOW_MENU.render(empty) == ""
