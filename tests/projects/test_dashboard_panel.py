"""The home's projects panel written in Python (projects.dashboard.stage_stats and state_links): the same HTML as
projects/panels/projects.html wrote per stage and per state through the template language, in both languages."""

from django.template import Context, Template
from django.test.html import parse_html
from django.utils import translation

from projects.dashboard import stage_stats, state_links
from projects.models import State

#: The counts per stage as the panel's template wrote them before they were written in Python.
TEMPLATE_STAGES = Template(
    """{% load i18n %}{% for name, n in stages %}{% if name != "cancelled" or n %}
        <div class="col-6 col-md dk-stat" data-stage="{{ name }}"><div class="dk-stat-value">{{ n }}</div><div class="dk-stat-label">{% if name == "selection" %}{% translate "Selection" %}{% elif name == "approval" %}{% translate "Approval" %}{% elif name == "construction" %}{% translate "Construction" %}{% elif name == "supervision" %}{% translate "Accepted" %}{% elif name == "evaluation" %}{% translate "Evaluated" %}{% else %}{% translate "Cancelled" %}{% endif %}</div></div>
        {% endif %}{% endfor %}"""
)

#: The links per state as the panel's template wrote them.
TEMPLATE_STATES = Template(
    """{% for label, n, state in states %}{% if n %}<a class="badge text-bg-light border text-decoration-none" href="{% url 'projects:project_list' %}?state={{ state }}">{{ label }} · {{ n }}</a>{% endif %}{% endfor %}"""
)


def test_the_stages_and_states_are_the_html_the_template_wrote():
    for stages in (
        [("selection", 12345), ("approval", 0), ("construction", 7), ("supervision", 1), ("evaluation", 2)],
        [("selection", 0), ("cancelled", 0)],
        [("selection", 3), ("cancelled", 4), ("an <odd> stage", 5)],
        [],
    ):
        states = [(State(s).label, i * 1001 if i % 3 else 0, s) for i, s in enumerate(State.values)]
        for language in ("zh-hans", "en"):
            with translation.override(language):
                context = Context({"stages": stages, "states": states})
                assert parse_html(stage_stats(stages)) == parse_html(TEMPLATE_STAGES.render(context))
                assert parse_html(state_links(states)) == parse_html(TEMPLATE_STATES.render(context))
    assert state_links([]) == ""


#: The counts per kind of work as the "Waiting for you" panel's template wrote them.
TEMPLATE_WAITING = Template(
    """{% for w in waiting %}
        <div class="col-6 col-md-4 col-xl dk-stat" data-kind="{{ w.key }}" data-count="{{ w.count }}">
          {% if w.count %}
          <a class="text-decoration-none dk-waiting-link" href="{% url 'projects:my_tasks' %}?kind={{ w.key }}">
            <div class="dk-stat-value{% if w.kind.urgent %} text-danger{% endif %}">{{ w.count }}</div>
            <div class="dk-stat-label">{{ w.label }}</div>
          </a>
          {% else %}
          <div class="dk-stat-value text-body-secondary">0</div>
          <div class="dk-stat-label">{{ w.label }}</div>
          {% endif %}
        </div>
        {% endfor %}"""
)


def test_the_waiting_counts_are_the_html_the_template_wrote():
    from django.utils.translation import gettext_lazy

    from core.worklist import WorkCount, WorkKind
    from projects.dashboard import waiting_cells

    def kind(key, label, urgent=False):  # type: ignore[no-untyped-def]
        return WorkKind(key, label, items=lambda user: None, row=lambda obj: None, urgent=urgent)  # type: ignore[arg-type,return-value]

    waiting = [
        WorkCount(kind("rectifications_overdue", gettext_lazy("Rectifications overdue"), urgent=True), 3510),
        WorkCount(kind("rectifications_due", gettext_lazy("Rectifications due")), 0),
        WorkCount(kind("odd<&>", "A <label> & more"), 7),
        WorkCount(kind("runs_failed", gettext_lazy("Evaluation runs that failed"), urgent=True), 0),
    ]
    for language in ("zh-hans", "en"):
        with translation.override(language):
            before = TEMPLATE_WAITING.render(Context({"waiting": waiting}))
            assert parse_html(waiting_cells(waiting)) == parse_html(before)
    assert waiting_cells([]) == ""
