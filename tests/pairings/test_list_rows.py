"""The pairing list's rows written in Python (pairings_extras.pairing_list_rows): the same HTML as the list's
template wrote per row, in both languages, for the rows the list view reads."""

import pytest
from django.template import Context, Template
from django.test.html import parse_html
from django.utils import translation

from pairings.models import Pairing
from pairings.templatetags.pairings_extras import pairing_list_rows

pytestmark = pytest.mark.django_db

#: The rows as the list's template wrote them before they were written in Python.
TEMPLATE_ROWS = Template(
    """{% load i18n %}{% for r in rows %}
    <tr>
      <td><a href="{{ r.url }}">{{ r.assisting_organization }}</a>{% if r.is_breakdown %} <span class="badge text-bg-light border">{% translate "breakdown" %}</span>{% endif %}</td>
      <td>{{ r.recipient_region }} <span class="small text-body-secondary">{{ r.region_code }}</span></td>
      <td class="small">{{ r.program }}<div class="text-body-secondary">{{ r.mode }}</div></td>
      <td class="small text-nowrap">{{ r.term }}</td>
      <td>{% if r.status == "active" %}<span class="badge text-bg-success">{{ r.status_label }}</span>{% else %}<span class="badge text-bg-secondary">{{ r.status_label }}</span>{% endif %}</td>
      <td class="num" data-figure="required" data-amount="{{ r.money.required }}">{{ r.required }}</td>
      <td class="num" data-figure="received" data-amount="{{ r.money.received }}">{{ r.received }}</td>
      <td class="text-nowrap">{{ r.bar }}</td>
    </tr>
  {% endfor %}"""
)


def test_the_rows_are_the_html_the_template_wrote(client, world, pw):
    # A breakdown, an ended pairing and a name that needs escaping among the list's rows.
    Pairing.objects.filter(pk=pw.jiashi.pk).update(status="ended", parent=pw.shufu)
    world.guangdong_gov.name, world.guangdong_gov.name_en = "广东省<人民> & 政府", "Guangdong <People's> & Government"
    world.guangdong_gov.save()
    client.force_login(world.coordinator)
    for language in ("zh-hans", "en"):
        with translation.override(language):
            rows = client.get("/pairings/", headers={"accept-language": language}).context["rows"]
            assert {r["status"] for r in rows} >= {"active", "ended"}
            assert any(r["is_breakdown"] for r in rows)
            before = TEMPLATE_ROWS.render(Context({"rows": rows}))
            assert parse_html(pairing_list_rows(rows)) == parse_html(before)
            assert "&lt;" in before
