"""A project page's progress reports and inspections, written in Python (project_tags.progress_report_rows and
inspection_rows): the same HTML as the page's template wrote, in both languages."""

import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test.html import parse_html
from django.utils import translation

from core.templatetags.duikou import money_unit
from projects.models import Inspection, ProgressReport
from projects.templatetags.project_tags import inspection_rows, progress_report_rows
from tests.factories import InspectionFactory, ProgressReportFactory, ProjectFactory

pytestmark = pytest.mark.django_db

#: The progress reports' rows as the page's template wrote them before they were written in Python.
TEMPLATE_REPORTS = Template(
    """{% load i18n duikou %}{% money_unit reports attr="spend_to_date" as spend_unit %}{% for r in reports %}<tr><td>{{ r.period_end|date:"Y-m-d" }}</td><td class="num">{{ r.physical_progress }}</td><td class="num pe-3 text-nowrap">{{ r.spend_to_date|cny:spend_unit }}</td>
          <td class="small">{{ r.get_review_status_display }}{% if r.pk in reviewable %} · <a href="{% url 'projects:report_review' project.pk r.pk %}">{% translate "Review" %}</a>{% endif %}{% if r.review_comment %}<div class="text-body-secondary">{{ r.review_comment }}</div>{% endif %}</td></tr>
        {% endfor %}"""
)

#: The inspections' rows as the page's template wrote them before they were written in Python.
TEMPLATE_INSPECTIONS = Template(
    """{% load i18n duikou %}{% for i in inspections %}<tr><td>{{ i.date|date:"Y-m-d" }}</td><td>{{ i.get_kind_display }}</td><td>{% if i.result == "passed" %}<span class="badge text-bg-success">{{ i.get_result_display }}</span>{% else %}<span class="badge text-bg-danger">{{ i.get_result_display }}</span>{% endif %}</td><td class="small">{{ i.findings|in_language }}</td></tr>
        {% endfor %}"""
)


@pytest.fixture
def project(world, pw):
    """A project with reports of each review status (one commented with text that needs escaping) and
    inspections passed and failed (with findings that need escaping)."""
    made = ProjectFactory(pairing=pw.shufu, state="in_construction")
    for n, (status, comment, spend) in enumerate(
        [
            ("pending", "", Decimal("3400000.00")),
            ("accepted", "", Decimal("12500000.50")),
            ("returned", "数字<不符> & 请核对", Decimal("0.00")),
        ]
    ):
        ProgressReportFactory(
            project=made,
            period_end=dt.date(2015, 3 * n + 3, 30),
            physical_progress=20 * n + 5,
            review_status=status,
            review_comment=comment,
            spend_to_date=spend,
        )
    InspectionFactory(project=made, date=dt.date(2015, 8, 15), result="passed", findings="")
    InspectionFactory(project=made, date=dt.date(2015, 9, 1), result="failed", findings="裂缝<2处> & 渗水")
    return made


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_reports_written_in_python_are_the_templates(project, language):
    reports = list(ProgressReport.objects.filter(project=project).order_by("-period_end", "-id"))
    reviewable = {r.pk for r in reports if r.review_status == "pending"}
    with translation.override(language):
        unit = money_unit(reports, attr="spend_to_date")
        context = {"reports": reports, "reviewable": reviewable, "project": project}
        expected = TEMPLATE_REPORTS.render(Context(context))
        written = progress_report_rows(project.pk, reports, reviewable, unit)
    assert parse_html(written) == parse_html(expected)
    assert written.count("<tr>") == 3 and written.count("/review/") == 1  # noqa: PT018
    assert "数字&lt;不符&gt; &amp; 请核对" in written


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_inspections_written_in_python_are_the_templates(project, language):
    inspections = list(Inspection.objects.filter(project=project))
    with translation.override(language):
        expected = TEMPLATE_INSPECTIONS.render(Context({"inspections": inspections}))
        written = inspection_rows(inspections)
    assert parse_html(written) == parse_html(expected)
    assert "text-bg-success" in written and "text-bg-danger" in written  # noqa: PT018
    assert "裂缝&lt;2处&gt; &amp; 渗水" in written
