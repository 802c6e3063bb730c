from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from core.money import format_cny


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
