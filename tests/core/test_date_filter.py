"""The project's `date` filter (core/templatetags/dates.py, a builtin of the template engine) writes the numeric
formats itself: its output must be Django's own for every value and format, in both languages and in local time."""

import datetime as dt
import zoneinfo

import pytest
from django.template import engines
from django.template.defaultfilters import date as django_date
from django.utils import timezone, translation

from core.templatetags import dates
from core.templatetags.dates import date

UTC = dt.UTC
FORMATS = ["Y-m-d", "Y-m-d H:i", "Y-m-d H:i:s", "H:i:s", "Y-m", "m-d H:i", "Y", "d", "", "j F Y", "Y-m-d\\T", "N j, Y"]
VALUES = [
    dt.date(2026, 12, 6),
    dt.date(5, 1, 2),  # a year of one digit: four digits, as Django writes it
    dt.datetime(2026, 1, 2, 3, 4, 5),
    dt.datetime(2026, 12, 31, 23, 59, 59, 999999),
    dt.datetime(2026, 12, 31, 20, 30, tzinfo=UTC),  # after midnight in Beijing
    None,
    "",
    "2026-12-06",
    42,
    dt.time(12, 30),
]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_the_filter_writes_what_django_writes(value, fmt, language) -> None:
    """Called as a filter (an aware value already in local time, as `expects_localtime` passes it)."""
    local = timezone.localtime(value) if isinstance(value, dt.datetime) and timezone.is_aware(value) else value
    with translation.override(language):
        try:
            expected = django_date(local, fmt)
        except (TypeError, ValueError) as exc:  # a time format of a date: Django refuses it, so must the filter
            with pytest.raises(type(exc)):
                date(local, fmt)
            return
        assert date(local, fmt) == expected


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_pages_use_it_and_show_local_time(language, settings) -> None:
    settings.TIME_ZONE = "Asia/Shanghai"
    template = engines["django"].from_string(
        '{{ a|date:"Y-m-d H:i" }}|{{ b|date:"Y-m-d" }}|{{ c|date:"j F Y" }}|{{ d|date:"Y-m-d"|default:"—" }}'
    )
    context = {
        "a": dt.datetime(2026, 12, 31, 20, 30, tzinfo=UTC),
        "b": dt.date(2026, 3, 4),
        "c": dt.date(2026, 3, 4),
        "d": None,
    }
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo("Asia/Shanghai")):
        html = template.render(context)
    month = "三月" if language == "zh-hans" else "March"
    assert html == f"2027-01-01 04:30|2026-03-04|4 {month} 2026|—"
    assert "core.templatetags.dates" in engines["django"].engine.builtins


def test_only_plain_numeric_formats_are_written_directly() -> None:
    assert dates._plan("Y-m-d H:i") is not None
    assert dates._plan("Y-m-d")[1] is False  # type: ignore[index]
    assert dates._plan("H:i")[1] is True  # type: ignore[index]
    for other in ("j F Y", "Y/m/d", "Y-m-d\\T", "N", ""):
        assert dates._plan(other) is None
