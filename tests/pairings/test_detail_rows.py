"""The rows of a pairing's tables of flows, deployments and trainings written in Python (pairings.views._flow_rows,
_deployment_rows, _training_rows, _programme_rows): the same HTML as the page's template wrote per row, in both languages."""

import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test.html import parse_html
from django.utils import translation

from core.models import RegionLevel
from pairings import services, views
from pairings.models import Deployment, FundFlow, Training
from tests.factories import RegionFactory

pytestmark = pytest.mark.django_db

#: The loops as the page's template wrote them before the rows were written in Python.
TEMPLATE_FLOWS = Template(
    """{% load i18n %}{% for f in flows %}
          <tr><td class="text-nowrap">{{ f.date }}</td><td>{{ f.kind }}{% if f.fulfils_pledge %} <span class="small text-body-secondary">({% translate "fulfils a pledge" %})</span>{% endif %}{% if f.is_synthetic %} <span class="badge text-bg-warning dk-synthetic">{% translate "synthetic" %}</span>{% endif %}</td><td class="num">{{ f.amount }}</td><td class="small">{{ f.source }}</td><td class="small">{{ f.reference }}</td></tr>
        {% endfor %}"""
)
TEMPLATE_DEPLOYMENTS = Template(
    """{% load i18n duikou %}{% for d in deployments %}<tr><td>{{ d.get_kind_display }}{% if d.group_style %} <span class="badge text-bg-light border">{% translate "group-style" %}</span>{% endif %}{% if d.is_synthetic %} <span class="badge text-bg-warning dk-synthetic">{% translate "synthetic" %}</span>{% endif %}</td><td class="small">{{ d.batch|in_language }}</td><td class="num">{{ d.headcount }}</td><td class="small text-nowrap">{{ d.start_date|date:"Y-m" }} – {{ d.end_date|date:"Y-m"|default:"…" }}</td></tr>
        {% endfor %}"""
)
TEMPLATE_TRAININGS = Template(
    """{% load i18n duikou %}{% for t in trainings %}<tr><td>{{ t.topic|in_language }}{% if t.is_synthetic %} <span class="badge text-bg-warning dk-synthetic">{% translate "synthetic" %}</span>{% endif %}</td><td class="num">{{ t.people_trained }}</td><td class="num">{{ t.days }}</td><td class="small text-nowrap">{{ t.start_date|date:"Y-m-d" }}</td></tr>
        {% endfor %}"""
)


@pytest.fixture
def recorded(world, pw) -> None:
    """Flows (a pledge and the commitment that fulfils it, a synthetic one, a reference to escape), deployments
    (group-style, synthetic, ended, ongoing) and trainings (a fraction of a day, synthetic) on Guangdong → Shufu."""
    record = lambda **kw: services.fund_flow_record(by=None, pairing=pw.shufu, source="assisting_fiscal", **kw)  # noqa: E731
    pledge = record(kind="pledge", amount=Decimal("500000"), date=dt.date(2011, 3, 1), reference="<承诺> & 1")
    record(kind="commitment", amount=Decimal("500000"), date=dt.date(2011, 4, 1), pledge=pledge)
    record(kind="disbursement", amount=Decimal("123456.78"), date=dt.date(2012, 5, 6), reference="\"a\" 'b'")
    FundFlow.objects.filter(kind="disbursement").update(is_synthetic=True)
    services.deployment_record(
        by=None, pairing=pw.shufu, kind="teacher", headcount=1200, start_date=dt.date(2011, 8, 1), group_style=True
    )
    services.deployment_record(
        by=None,
        pairing=pw.shufu,
        kind="cadre",
        headcount=3,
        start_date=dt.date(2010, 7, 1),
        end_date=dt.date(2013, 7, 1),
        batch="第一批 <援疆> & 干部",
    )
    Deployment.objects.filter(kind="cadre").update(is_synthetic=True)
    services.training_record(
        by=None,
        pairing=pw.shufu,
        topic="双语教学 & <培训>",
        people_trained=40,
        days=Decimal("2.5"),
        start_date=dt.date(2011, 5, 2),
    )
    services.training_record(
        by=None, pairing=pw.shufu, topic="医疗", people_trained=1000, days=Decimal("10"), start_date=dt.date(2012, 1, 9)
    )
    Training.objects.filter(topic="医疗").update(is_synthetic=True)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_rows_are_the_html_the_template_wrote(world, pw, recorded, language):
    with translation.override(language):
        flows = views._latest_flows(pw.shufu)
        assert {f["fulfils_pledge"] for f in flows} == {True, False}
        before = TEMPLATE_FLOWS.render(Context({"flows": flows}))
        assert "&lt;" in before
        assert parse_html(views._flow_rows(flows)) == parse_html(before)

        deployments = list(pw.shufu.deployments.order_by("-start_date")[:20])
        before = TEMPLATE_DEPLOYMENTS.render(Context({"deployments": deployments}))
        assert "&lt;" in before
        assert "…" in before
        latest_deployments, latest_trainings = views._latest_people(pw.shufu)
        assert parse_html(views._deployment_rows(latest_deployments)) == parse_html(before)

        trainings = list(pw.shufu.trainings.order_by("-start_date")[:20])
        before = TEMPLATE_TRAININGS.render(Context({"trainings": trainings}))
        assert "&lt;" in before
        assert parse_html(views._training_rows(latest_trainings)) == parse_html(before)


def test_a_pairing_with_nothing_recorded_has_no_rows(world, pw):
    assert views._flow_rows(views._latest_flows(pw.jiashi)) == ""
    assert views._latest_people(pw.jiashi) == ([], [])
    assert views._deployment_rows([]) == ""
    assert views._training_rows([]) == ""


def test_a_breakdown_shows_its_parent_to_whoever_may_see_it_and_its_actions_by_the_parent(client, world, pw):
    """The parent is read apart from the pairing (pairings.views._parent): linked for those who may see it, and
    read by the policy (whoever assists the parent manages the breakdown) whether or not the user sees it."""
    from django.urls import reverse

    from accounts.models import Role
    from tests.factories import RegionFactory, UserFactory

    town = RegionFactory(code="653121100", level=RegionLevel.TOWNSHIP, parent=world.shufu)
    child = services.pairing_create(
        by=None,
        program=pw.program,
        assisting_organization=world.shenzhen_gov,
        recipient_region=town,
        parent=pw.shufu,
        start_date=dt.date(2011, 1, 1),
    )
    shenzhen = UserFactory(username="sz", organization=world.shenzhen_gov, roles=[Role.ASSISTING_OFFICER])
    parent_link = f'href="{reverse("pairings:pairing_detail", args=[pw.shufu.pk])}"'
    edit_link = f'href="{reverse("pairings:pairing_edit", args=[child.pk])}"'
    for user, sees_parent, edits in [
        (world.coordinator, True, True),
        (world.assisting, True, True),
        (world.recipient, True, False),
        (shenzhen, False, False),
    ]:
        client.force_login(user)
        page = client.get(reverse("pairings:pairing_detail", args=[child.pk]))
        assert page.status_code == 200
        html = page.content.decode()
        assert (parent_link in html) is sees_parent, user
        assert (edit_link in html) is edits, user


#: The programme page's rows as its template wrote them (on the rows the view reads) before they were written in
#: Python (pairings.views._programme_rows).
TEMPLATE_PROGRAMME_ROWS = Template(
    """{% load i18n duikou %}{% for r in rows %}
          <tr><td><a href="{{ r.url }}">{{ r.assisting_organization }}</a>{% if r.is_breakdown %} <span class="badge text-bg-light border">{% translate "breakdown" %}</span>{% endif %}</td><td>{{ r.recipient_region }}</td><td>{{ r.mode }}</td>
          <td>{% include "pairings/includes/status.html" with status=r.status label=r.status_label %}</td>
          <td class="num" data-figure="required" data-amount="{{ r.money.required }}">{{ r.money.required|cny:required_unit }}</td><td class="num" data-figure="received" data-amount="{{ r.money.received }}">{{ r.money.received|cny:received_unit }}</td><td>{% include "pairings/includes/bar.html" with f=r.fulfilment %}</td></tr>
        {% endfor %}"""
)


def test_the_programme_rows_are_the_html_the_template_wrote(client, world, pw, recorded):
    from django.urls import reverse

    from pairings.models import Pairing

    town = RegionFactory(
        code="653121100",
        level=RegionLevel.TOWNSHIP,
        parent=world.shufu,
        name="乡 <镇> & 村",
        name_en="<Town> & village",
    )
    services.pairing_create(
        by=None,
        program=pw.program,
        assisting_organization=world.shenzhen_gov,
        recipient_region=town,
        parent=pw.shufu,
        start_date=dt.date(2011, 1, 1),
    )
    services.mandate_set(by=None, pairing=pw.shufu, year=2012, funds_required=Decimal("800000"), reason="试")
    Pairing.objects.filter(pk=pw.jiashi.pk).update(status="ended")
    client.force_login(world.coordinator)
    for language in ("zh-hans", "en"):
        client.cookies["django_language"] = language
        page = client.get(reverse("pairings:program_detail", args=[pw.program.code]))
        context = page.context
        rows = context["rows"]
        assert {r["status"] for r in rows} == {"active", "ended"}
        assert any(r["is_breakdown"] for r in rows)
        units = {"required_unit": context["required_unit"], "received_unit": context["received_unit"]}
        with translation.override(language):
            before = TEMPLATE_PROGRAMME_ROWS.render(Context({"rows": rows, **units}))
        assert "&lt;" in before
        assert parse_html(context["rows_html"]) == parse_html(before)


def test_the_latest_people_are_the_same_read_in_one_statement_or_two(world, pw, recorded, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        together = views._latest_people(pw.shufu)
    monkeypatch.setattr(connection.features, "supports_slicing_ordering_in_compound", False)
    with CaptureQueriesContext(connection) as two:
        apart = views._latest_people(pw.shufu)
    assert together == apart
    assert [len(part) for part in together] == [2, 2]
    assert (len(one.captured_queries), len(two.captured_queries)) == (1 if connection.vendor == "postgresql" else 2, 2)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_the_pairing_lists_choices_are_those_read_apart(world, pw, language):
    """The programmes and the assisting organizations of the list's selects, read in one statement
    (pairings.views._filter_choices), as the two statements read them before."""
    from accounts.models import Organization
    from core.models import name_in_language
    from pairings import selectors
    from pairings.models import Program

    services.program_create(
        by=None, code="xizang-1994", name="对口援藏", name_en="", model="development", start_year=1994
    )
    with translation.override(language):
        for user in (world.coordinator, world.assisting, world.recipient, world.outsider):
            visible = selectors.pairings_visible_to(user)
            programmes = Program.objects.order_by("start_year").values_list("code", "name", "name_en")
            organizations = (
                Organization.objects.filter(pairings__in=visible)
                .distinct()
                .order_by("path")
                .values_list("pk", "name", "name_en")
            )
            assert views._filter_choices(visible) == (
                [(code, name_in_language(name, en)) for code, name, en in programmes],
                [(pk, name_in_language(name, en)) for pk, name, en in organizations],
            )
