from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from core.money import data_amount, format_cny, unit_for


@pytest.mark.parametrize(
    ("amount", "language", "expected"),
    [
        (Decimal("1234"), "zh-hans", "1,234 元"),
        (Decimal("1234.5"), "zh-hans", "1,234.50 元"),
        (Decimal("3400000"), "zh-hans", "340.00 万元"),
        (Decimal("820000000"), "zh-hans", "8.20 亿元"),
        (Decimal("76202000000"), "zh-hans", "762.02 亿元"),
        (Decimal("-5000000"), "zh-hans", "-500.00 万元"),
        (Decimal("1234"), "en", "CNY 1,234"),
        (Decimal("3400000"), "en", "CNY 3.40 million"),
        (Decimal("820000000"), "en", "CNY 820.00 million"),
        (Decimal("76202000000"), "en", "CNY 76.20 billion"),
        (0, "en", "CNY 0"),
        (None, "en", "—"),
    ],
)
def test_amounts_format_as_cny_for_the_language(amount, language, expected):
    assert format_cny(amount, language) == expected


def test_the_cny_filter_follows_the_active_language():
    template = Template("{% load duikou %}{{ amount|cny }}")
    with translation.override("zh-hans"):
        assert template.render(Context({"amount": Decimal("340000000")})) == "3.40 亿元"
    with translation.override("en"):
        assert template.render(Context({"amount": Decimal("340000000")})) == "CNY 340.00 million"


def test_a_value_that_is_not_a_number_is_shown_as_is():
    assert format_cny("n/a", "en") == "n/a"


@pytest.mark.parametrize(
    ("amounts", "language", "expected"),
    [
        # One unit for the column, from its largest amount: never 亿元 above 万元 above 元.
        (
            [Decimal("820000000"), Decimal("3400000"), Decimal("800")],
            "zh-hans",
            ["8.20 亿元", "0.03 亿元", "0.00 亿元"],
        ),
        ([Decimal("3400000"), Decimal("800")], "zh-hans", ["340.00 万元", "0.08 万元"]),
        ([Decimal("1234"), Decimal("800.5")], "zh-hans", ["1,234.00 元", "800.50 元"]),
        ([Decimal("1234"), Decimal("800")], "zh-hans", ["1,234 元", "800 元"]),
        ([Decimal("76202000000"), Decimal("3400000")], "en", ["CNY 76.20 billion", "CNY 0.00 billion"]),
        ([Decimal("3400000"), Decimal("800")], "en", ["CNY 3.40 million", "CNY 0.00 million"]),
        ([Decimal("999999"), Decimal("-800")], "en", ["CNY 999,999", "-CNY 800"]),
    ],
)
def test_amounts_shown_together_share_one_unit(amounts, language, expected):
    unit = unit_for(amounts, language)
    assert [format_cny(a, unit=unit) for a in amounts] == expected


def test_an_empty_column_and_empty_cells():
    unit = unit_for([None, ""], "zh-hans")
    assert format_cny(None, unit=unit) == "—"
    assert format_cny(0, unit=unit) == "0 元"


def test_the_money_unit_tag_chooses_once_for_a_card_or_a_column():
    rows = [{"money": {"received": Decimal("820000000")}}, {"money": {"received": Decimal("3400000")}}]
    template = Template(
        "{% load duikou %}{% money_unit rows attr='money.received' as unit %}"
        "{% for r in rows %}{{ r.money.received|cny:unit }};{% endfor %}"
        "{% money_unit a b as card %}{{ a|cny:card }}/{{ b|cny:card }}"
    )
    context = Context({"rows": rows, "a": Decimal("3400000"), "b": Decimal("1234")})
    with translation.override("zh-hans"):
        assert template.render(context) == "8.20 亿元;0.03 亿元;340.00 万元/0.12 万元"
    with translation.override("en"):
        assert template.render(context) == "CNY 820.00 million;CNY 3.40 million;CNY 3.40 million/CNY 0.00 million"


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(
    "amount", [Decimal("0.00"), Decimal("1234.50"), Decimal("76202000000.00"), Decimal("-5000000.10"), Decimal("7")]
)
def test_data_amount_is_what_a_template_writes(amount, language):
    """The rows written in Python carry the figure in `data-amount` as the templates' `{{ amount }}` writes it."""
    with translation.override(language):
        written = Template("{{ amount }}").render(Context({"amount": amount}))
    assert data_amount(amount) == written
