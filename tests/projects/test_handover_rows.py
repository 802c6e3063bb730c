"""The handover panel's operation report rows, written in Python (handover_tags.operation_report_rows): the same
HTML as the panel's template wrote, in both languages."""

from decimal import Decimal

import pytest
from django.db.models import Exists, OuterRef
from django.template import Context, Template
from django.test.html import parse_html
from django.utils import translation

from core.templatetags.duikou import money_unit
from projects.models import OperationReport
from projects.templatetags.handover_tags import operation_report_rows
from tests.factories import DocumentFactory
from tests.projects.test_handover import accepted, confirmed, register  # noqa: F401 — the fixtures

pytestmark = pytest.mark.django_db

#: The rows as the panel's template wrote them before they were written in Python.
TEMPLATE_ROWS = Template(
    """{% load i18n duikou %}{% money_unit reports attr="running_cost,revenue" as unit %}{% for r in reports %}<tr data-year="{{ r.year }}">
              <td>{{ r.year }}</td>
              <td><span class="badge {% if r.status == 'in_use' %}text-bg-success{% elif r.status == 'under_used' %}text-bg-warning{% else %}text-bg-danger{% endif %}">{{ r.get_status_display }}</span>{% if r.has_photos %}{% for d in r.photos.all %} <a class="small" href="{% url 'projects:document_download' project.pk d.pk %}">{% blocktranslate with n=forloop.counter %}Photo {{ n }}{% endblocktranslate %}</a>{% endfor %}{% endif %}{% if r.notes %}<div class="small text-body-secondary">{{ r.notes|in_language }}</div>{% endif %}</td>
              <td class="num">{% if r.utilisation is not None %}{{ r.utilisation }} %{% else %}—{% endif %}</td>
              <td class="num text-nowrap">{% if r.operating_cost is None and r.maintenance_cost is None %}—{% else %}{{ r.running_cost|cny:unit }}{% endif %}</td>
              <td class="small">{{ r.get_cost_payer_display|default:"—" }}</td>
              <td class="num text-nowrap">{% if r.revenue is None %}—{% else %}{{ r.revenue|cny:unit }}{% endif %}</td>
              <td class="num">{{ r.jobs|default_if_none:"—" }}</td>
              <td class="num">{{ r.people_served|default_if_none:"—" }}</td></tr>
            {% endfor %}"""
)


@pytest.fixture
def reports(confirmed, accepted, world):  # noqa: F811 — the fixtures imported above
    """Reports of every status, with and without figures, photos and notes (one that needs escaping)."""
    made = [
        OperationReport.objects.create(
            project=accepted,
            year=2025,
            status="in_use",
            utilisation=87,
            operating_cost=Decimal("120000.00"),
            maintenance_cost=None,
            cost_payer="recipient_government",
            revenue=Decimal("3500000.50"),
            jobs=12,
            people_served=4500,
            notes="运行<良好> & 稳定",
        ),
        OperationReport.objects.create(project=accepted, year=2026, status="under_used", jobs=0),
        OperationReport.objects.create(
            project=accepted, year=2027, status="idle", maintenance_cost=Decimal("8000.00"), cost_payer="other"
        ),
        OperationReport.objects.create(project=accepted, year=2028, status="closed", utilisation=0),
    ]
    made[0].photos.set([DocumentFactory(project=accepted, kind="photo") for _ in range(2)])
    return made


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_rows_written_in_python_are_the_templates(reports, accepted, language):  # noqa: F811
    has_photos = Exists(OperationReport.photos.through.objects.filter(operationreport=OuterRef("pk")))
    with translation.override(language):
        rows = list(OperationReport.objects.filter(project=accepted).annotate(has_photos=has_photos).order_by("-year"))
        expected = TEMPLATE_ROWS.render(Context({"reports": rows, "project": accepted}))
        written = operation_report_rows(accepted.pk, rows, money_unit(rows, attr="running_cost,revenue"))
    assert parse_html(written) == parse_html(expected)
    assert "运行&lt;良好&gt; &amp; 稳定" in written
    assert written.count("<tr") == 4 and written.count('class="small" href=') == 2  # noqa: PT018
    assert ("Photo 2" if language == "en" else "照片 2") in written
