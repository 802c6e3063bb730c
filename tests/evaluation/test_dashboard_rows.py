"""The lists of the evaluation overview's programme blocks, written in Python (evaluation.dashboard: stage_legend,
end_rows, warning_items): the same HTML as the templates' loops wrote, in both languages."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test.html import parse_html
from django.utils import translation

from accounts.models import Organization
from core.models import Region
from evaluation.dashboard import (
    STAGE_COLORS,
    STAGE_LABELS,
    FlaggedCard,
    Placed,
    end_rows,
    stage_legend,
    swatch,
    warning_items,
)
from evaluation.models import PairingScorecard, Ranking
from pairings.models import Pairing, Program

#: The stages' legend as dashboard_programme.html wrote it before it was written in Python.
TEMPLATE_LEGEND = Template(
    """{% for s in stages %}{% if s.count %}<li class="list-inline-item text-nowrap me-3" data-stage="{{ s.key }}">"""
    """{{ s.swatch }}{{ s.label }} <span class="fw-semibold">{{ s.count }}</span></li>{% endif %}{% endfor %}"""
)

#: An end of the ranking as dashboard_ends.html wrote it (included with rows=block.top or block.bottom).
TEMPLATE_ENDS = Template(
    """{% load evaluation_tags %}{% url 'evaluation:rankings' as rankings_url %}{% for r in rows %}
    <tr data-organization="{{ r.organization_id }}">
      <td class="text-body-secondary text-nowrap">{{ r.rank }}.</td>
      <td><a href="{{ rankings_url }}?program={{ block.program.code }}&amp;year={{ block.run.year }}">{{ r.organization }}</a></td>
      <td class="num">{{ r.score|score }}</td>
      <td class="text-nowrap">{{ r.grade|grade_badge }}</td>
    </tr>
{% endfor %}
"""
)

#: The compliance warnings as dashboard_programme.html wrote them.
TEMPLATE_WARNINGS = Template(
    """{% load evaluation_tags %}
          {% for card in cards %}
          <li class="col-md-6 col-xl-4"><div class="border-start border-3 border-danger ps-2 h-100">
            <a href="{% url 'evaluation:scorecard_detail' card.pk %}">{{ card.pairing.assisting_organization }} → {{ card.pairing.recipient_region }}</a>
            {% for f in card.flags %}<div class="text-body-secondary">{{ f|flag_text }}</div>{% endfor %}
          </div></li>
          {% endfor %}
"""
)

PARTY = Organization(pk=1234, name="上海<市> & 援助方", name_en="Shanghai <& Co>")
OTHER = Organization(pk=7, name="广东", name_en="Guangdong")
REGION = Region(pk=9, code="653121", name="疏附<县>", name_en="Shufu & co")
FLAGS = [
    {"code": "mandate_shortfall", "value": 0.684, "minimum": 1.0},
    {"code": "livelihood_share_below_minimum", "value": 0.29, "minimum": 0.7},
    {"code": "county_share_below_minimum", "value": None, "minimum": 0.8},
]


def _stages() -> list[dict[str, object]]:
    counts = {"selection": 3, "approval": 0, "construction": 1200, "supervision": 5, "evaluation": 0, "cancelled": 1}
    return [
        {
            "key": k,
            "label": str(STAGE_LABELS[k]),
            "count": n,
            "color": STAGE_COLORS[k],
            "swatch": swatch(STAGE_COLORS[k]),
        }
        for k, n in counts.items()
    ]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_stage_legend_written_in_python_is_the_templates(language):
    with translation.override(language):
        stages = _stages()
        expected = TEMPLATE_LEGEND.render(Context({"stages": stages}))
        written = stage_legend(stages)
    assert parse_html(written) == parse_html(expected)
    assert written.count("<li") == 4
    assert stage_legend([]) == ""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_ends_of_the_ranking_written_in_python_are_the_templates(language):
    rows = [
        Ranking(organization=PARTY, score=Decimal("81.25"), grade="A", rank=1),
        Ranking(organization=OTHER, score=60.0, grade="C", rank=2),
        Ranking(organization=PARTY, score=None, grade="Z<", rank=17),
        Ranking(organization=OTHER, score=12.04, grade="C", rank=1018),
    ]
    program = Program(code="P<&>", name="对口", name_en="Pairing")

    class Run:
        year = 2026

    with translation.override(language):
        expected = TEMPLATE_ENDS.render(Context({"rows": rows, "block": {"program": program, "run": Run}}))
        # What the overview reads of each place (`national_dashboard`): values, the organization named in the language.
        read = [Placed(1, r.organization_id, r.score, r.grade, r.rank, str(r.organization)) for r in rows]
        written = end_rows(read, program.code, Run.year)
    assert parse_html(written) == parse_html(expected)
    assert "&lt;" in written
    assert end_rows([], "X", 2026) == ""


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_warnings_written_in_python_are_the_templates(language):
    cards = [
        PairingScorecard(pk=5, pairing=Pairing(assisting_organization=PARTY, recipient_region=REGION), flags=FLAGS),
        PairingScorecard(pk=6, pairing=Pairing(assisting_organization=OTHER, recipient_region=REGION), flags=FLAGS[:1]),
        PairingScorecard(pk=7, pairing=Pairing(assisting_organization=OTHER, recipient_region=REGION), flags=[]),
    ]
    with translation.override(language):
        expected = TEMPLATE_WARNINGS.render(Context({"cards": cards}))
        # What the overview reads of each card (`national_dashboard`): values, the parties named in the language.
        read = [
            FlaggedCard(c.pk, 1, 0, c.flags, str(c.pairing.assisting_organization), str(c.pairing.recipient_region))
            for c in cards
        ]
        written = warning_items(read)
    assert parse_html(written) == parse_html(expected)
    assert written.count("<li") == 3
    assert written.count('class="text-body-secondary"') == 4
