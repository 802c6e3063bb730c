"""The national evaluation dashboard: per programme the money (mandate, committed, received), projects by stage,
the latest ranking's ends and its compliance warnings, with charts; scoped figures, public rankings, a number of
queries that does not grow with programmes; the navigation entries and the home dashboard's panel."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from core.models import RegionLevel
from evaluation.dashboard import ranking_chart, stage_bar
from evaluation.models import EvaluationRun, PairingScorecard, Ranking, RunStatus
from pairings import services as pairing_services
from tests.evaluation.conftest import YEAR, make_project, run_eagerly
from tests.factories import OrganizationFactory, RegionFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/evaluation/"


def blocks_of(response) -> dict[str, object]:
    return {b.program.code: b for b in response.context["blocks"]}


def client_as(client, user, language: str = "en"):
    user.preferred_language = language
    user.save(update_fields=["preferred_language"])
    client.force_login(user)
    return client


@pytest.fixture
def money(ev, world):
    """Mandates and flows of 2015: Guangdong → Shufu owes 10 M (of which 4 M broken down to Shenzhen → Wusha
    town), Jiangsu → Jiashi owes 5 M; commitments and disbursements on each, the child's on the child."""
    wusha = RegionFactory(
        code="653121100", name="乌夏克巴什镇", name_en="Wusha", level=RegionLevel.TOWNSHIP, parent=world.shufu
    )
    child = pairing_services.pairing_create(
        by=None,
        program=ev.program,
        assisting_organization=world.shenzhen_gov,
        recipient_region=wusha,
        start_date=dt.date(2011, 1, 1),
        parent=ev.shufu,
    )
    set_ = pairing_services.mandate_set
    set_(by=None, pairing=ev.shufu, year=YEAR, funds_required=Decimal("10000000"), reason="test")
    set_(by=None, pairing=child, year=YEAR, funds_required=Decimal("4000000"), reason="test")
    set_(by=None, pairing=ev.jiashi, year=YEAR, funds_required=Decimal("5000000"), reason="test")
    flow = pairing_services.fund_flow_record
    on = dt.date(YEAR, 6, 1)
    for pairing, committed, received in (
        (ev.shufu, "5000000", "3000000"),
        (child, "4000000", "2000000"),
        (ev.jiashi, "5000000", "1000000"),
    ):
        flow(by=None, pairing=pairing, kind="commitment", amount=Decimal(committed), date=on, source="assisting_fiscal")
        flow(
            by=None, pairing=pairing, kind="disbursement", amount=Decimal(received), date=on, source="assisting_fiscal"
        )
    # A flow of a year without a mandate: received all the same (the figures count every disbursement of the period).
    flow(
        by=None,
        pairing=ev.jiashi,
        kind="disbursement",
        amount=Decimal("777"),
        date=dt.date(2012, 1, 5),
        source="assisting_fiscal",
    )
    return child


# --- money and projects ---------------------------------------------------------------------------------------


def test_national_coordinator_sees_each_programmes_money_with_breakdowns_counted_once(client, ev, money):
    response = client_as(client, ev.coordinator).get(URL)
    assert response.status_code == 200
    block = blocks_of(response)[ev.program.code]
    # 10 M + 5 M: the child's 4 M is part of Guangdong's 10 M, not on top of it.
    assert block.required == Decimal("15000000.00")
    assert block.committed == Decimal("14000000.00")
    assert block.received == Decimal("6000777.00")  # 2012's 777 too, though 2012 has no mandate
    assert block.fulfilment == Decimal("0.4001")
    assert response.context["totals"]["required"] == Decimal("15000000.00")


def test_a_city_official_sees_the_money_of_the_breakdown_they_act_for(client, ev, world, money):
    shenzhen_officer = UserFactory(username="sz-ao", organization=world.shenzhen_gov, roles=[Role.ASSISTING_OFFICER])
    block = blocks_of(client_as(client, shenzhen_officer).get(URL))[ev.program.code]
    assert (block.required, block.committed, block.received) == (
        Decimal("4000000.00"),
        Decimal("4000000.00"),
        Decimal("2000000.00"),
    )


def test_a_province_official_counts_its_own_mandate_once_with_its_breakdown(client, ev, money):
    block = blocks_of(client_as(client, ev.assisting).get(URL))[ev.program.code]
    assert block.required == Decimal("10000000.00")  # Guangdong's own; Shenzhen's 4 M lies within it
    assert block.received == Decimal("5000000.00")  # 3 M on Guangdong → Shufu, 2 M on Shenzhen → Wusha
    assert block.committed == Decimal("9000000.00")


def test_the_outsider_sees_only_jiangsus_money(client, ev, money):
    block = blocks_of(client_as(client, ev.outsider).get(URL))[ev.program.code]
    assert (block.required, block.received) == (Decimal("5000000.00"), Decimal("1000777.00"))


def test_projects_by_stage_are_counted_in_the_users_scope(client, ev):
    national = {
        s["key"]: s["count"] for s in blocks_of(client_as(client, ev.coordinator).get(URL))[ev.program.code].stages
    }
    # Shufu: draft, in construction, accepted; Jiashi: accepted, cancelled.
    assert national == {
        "selection": 1,
        "approval": 0,
        "construction": 1,
        "supervision": 2,
        "evaluation": 0,
        "cancelled": 1,
    }
    client.logout()
    shufu = {s["key"]: s["count"] for s in blocks_of(client_as(client, ev.recipient).get(URL))[ev.program.code].stages}
    assert shufu == {
        "selection": 1,
        "approval": 0,
        "construction": 1,
        "supervision": 1,
        "evaluation": 0,
        "cancelled": 0,
    }


def test_the_stage_bar_draws_one_segment_per_stage_with_projects(client, ev):
    block = blocks_of(client_as(client, ev.coordinator).get(URL))[ev.program.code]
    chart = str(block.stage_chart)
    assert chart.startswith("<svg")
    assert chart.count("<rect") == 4
    assert "Accepted · 2" in chart


# --- rankings and warnings ---------------------------------------------------------------------------------------


@pytest.fixture
def ranked(ev, disbursed):
    return run_eagerly(ev.program, ev.year, by=ev.coordinator)


def test_the_latest_runs_top_and_bottom_link_to_the_ranking(client, ev, ranked):
    assert ranked.status == RunStatus.SUCCEEDED
    response = client_as(client, ev.coordinator).get(URL)
    block = blocks_of(response)[ev.program.code]
    expected = list(Ranking.objects.filter(run=ranked).order_by("rank").values_list("organization_id", "grade"))
    assert len(expected) == 2
    assert [(r.organization_id, r.grade) for r in block.top] == expected
    assert block.bottom == []  # two organizations are all among the top three
    html = response.content.decode()
    link = f"{reverse('evaluation:rankings')}?program={ev.program.code}&amp;year={ev.year}"
    assert link in html
    best = Ranking.objects.filter(run=ranked).order_by("rank").first()
    assert re.search(rf'data-organization="{best.organization_id}"[^§]*?{best.score:.1f}', html)


def test_bottom_three_are_the_last_three_of_a_long_ranking(client, ev, ranked):
    # Seven more organizations ranked in the same run, below the two real ones.
    for i in range(7):
        org = OrganizationFactory(name=f"测试省{i}", name_en=f"Province {i}")
        Ranking.objects.create(run=ranked, organization=org, score=50 - i, grade="D", rank=3 + i)
    block = blocks_of(client_as(client, ev.coordinator).get(URL))[ev.program.code]
    assert [r.rank for r in block.top] == [1, 2, 3]
    assert [r.rank for r in block.bottom] == [7, 8, 9]
    assert str(block.ranking_chart).count("<rect") == 9


def test_a_newer_run_of_a_later_year_is_the_one_shown(client, ev, ranked):
    later = EvaluationRun.objects.create(
        program=ev.program, year=ev.year + 1, framework=ranked.framework, status=RunStatus.SUCCEEDED
    )
    Ranking.objects.create(run=later, organization=ev.jiashi.assisting_organization, score=99, grade="A", rank=1)
    # A run still going is not a result.
    EvaluationRun.objects.create(program=ev.program, year=ev.year + 2, framework=ranked.framework)
    block = blocks_of(client_as(client, ev.coordinator).get(URL))[ev.program.code]
    assert block.run.pk == later.pk
    assert [(r.organization_id, r.score) for r in block.rankings] == [(ev.jiashi.assisting_organization_id, 99)]


def test_compliance_warnings_name_the_pairing_the_flag_and_link_to_the_scorecard(client, ev, ranked):
    flagged = list(PairingScorecard.objects.filter(run=ranked).exclude(flags=[]))
    assert flagged, "the fixture's pairings fall short of the livelihood minimum"
    response = client_as(client, ev.coordinator).get(URL)
    block = blocks_of(response)[ev.program.code]
    assert {card.pk for card in block.warnings} == {c.pk for c in flagged}
    html = response.content.decode()
    for card in flagged:
        assert reverse("evaluation:scorecard_detail", args=[card.pk]) in html
    # Guangdong → Shufu: 10 M of the year's 15 M disbursed to livelihood, against the rule's 70 % (in the words of the
    # ranking page's reasons).
    shufu = html[html.index(reverse("evaluation:scorecard_detail", args=[card_of(ranked, ev.shufu).pk])) :]
    assert "Share to livelihood 67 %, below the minimum of 70 %" in shufu[: shufu.index("</li>")]


def test_warnings_are_scoped_but_the_ranking_is_public(client, ev, ranked):
    response = client_as(client, ev.outsider).get(URL)
    block = blocks_of(response)[ev.program.code]
    assert len(block.rankings) == 2  # every assisting party's place
    assert {card.pairing_id for card in block.warnings} <= {ev.jiashi.pk}
    assert reverse(
        "evaluation:scorecard_detail", args=[PairingScorecard.objects.get(run=ranked, pairing=ev.shufu).pk]
    ) not in (response.content.decode())


def test_a_programme_with_none_of_the_users_pairings_shows_its_ranking_but_no_money(client, ev, world):
    _another_programme(world, "test-d", 4)
    response = client_as(client, ev.recipient).get(URL)
    block = blocks_of(response)["test-d"]
    assert not block.has_figures
    assert block.project_count == 0
    assert len(block.rankings) == 1
    html = response.content.decode()
    section = html[html.index('id="programme-test-d"') :]
    section = section[: section.index("</section>")]
    assert 'data-empty="figures"' in section
    assert 'data-figure="required"' not in section
    assert "Helper 4" in section  # the ranked organization
    mine = html[html.index(f'id="programme-{ev.program.code}"') :]
    assert 'data-figure="required"' in mine[: mine.index("</section>")]


def test_a_programme_not_yet_evaluated_says_so(client, ev):
    response = client_as(client, ev.coordinator).get(URL)
    block = blocks_of(response)[ev.program.code]
    assert block.run is None
    assert block.rankings == []
    assert block.warnings == []
    assert "No ranking yet" in response.content.decode()


# --- the number of queries ---------------------------------------------------------------------------------------


def card_of(run: EvaluationRun, pairing) -> PairingScorecard:
    return PairingScorecard.objects.get(run=run, pairing=pairing)


def _another_programme(world, code: str, n: int) -> None:
    program = pairing_services.program_create(
        by=None, code=code, name=f"测试计划{n}", name_en=f"Programme {n}", model="development", start_year=2011
    )
    region = RegionFactory(code=f"65{n:02d}00", name=f"测试地区{n}", name_en=f"Area {n}", level=RegionLevel.PREFECTURE)
    org = OrganizationFactory(name=f"测试援助方{n}", name_en=f"Helper {n}")
    pairing = pairing_services.pairing_create(
        by=None, program=program, assisting_organization=org, recipient_region=region, start_date=dt.date(2011, 1, 1)
    )
    pairing_services.mandate_set(by=None, pairing=pairing, year=YEAR, funds_required=Decimal("1000"), reason="t")
    make_project(pairing, "accepted")
    make_project(pairing, "draft")
    run_eagerly(program, YEAR)


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(URL).status_code == 200
    return len(ctx.captured_queries)


def test_the_page_costs_the_same_queries_however_many_programmes(
    client, ev, world, money, ranked, django_assert_max_num_queries
):
    client_as(client, ev.coordinator)
    client.get(URL)  # the session and the user's organization are read once either way
    one = _queries(client)
    _another_programme(world, "test-a", 1)
    _another_programme(world, "test-b", 2)
    response = client.get(URL)
    assert len(response.context["blocks"]) == 3
    assert all(b.run is not None for b in response.context["blocks"])
    assert _queries(client) == one
    # 12 with the navigation's count of tasks (the user's roles, then one count); the money is one statement (the
    # mandates and the flows' rollup, grouped, UNION ALL).
    with django_assert_max_num_queries(12):
        client.get(URL)


def test_a_scoped_user_also_gets_a_fixed_number_of_queries(
    client, ev, world, money, ranked, django_assert_max_num_queries
):
    client_as(client, ev.recipient)
    client.get(URL)
    one = _queries(client)
    _another_programme(world, "test-c", 3)
    assert _queries(client) == one
    # 13 with the navigation's count of tasks (the user's roles, then one count) and the bell's unread count.
    with django_assert_max_num_queries(13):
        client.get(URL)


# --- access, languages, navigation, the home panel -------------------------------------------------------------------


def test_signing_in_is_required(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize(
    ("language", "heading", "name"),
    [("en", "Evaluation", "Xinjiang paired assistance"), ("zh-hans", "对口援疆", "对口援疆")],
)
def test_the_page_speaks_the_users_language(client, ev, ranked, language, heading, name):
    html = client_as(client, ev.coordinator, language).get(URL).content.decode()
    assert f'lang="{language}"' in html
    assert heading in html
    assert name in html


def test_the_navigation_leads_to_the_dashboard_and_its_tabs_to_the_rankings(client, ev):
    response = client_as(client, ev.recipient).get(URL)
    items = {i["key"]: i for i in response.context["nav_items"]}
    assert items["evaluation"]["url"] == URL
    assert items["evaluation"]["active"]
    # The rankings are one of the evaluation tabs, not a menu entry of their own (the menu fits 1366 px).
    assert "rankings" not in items
    assert reverse("evaluation:rankings") in response.content.decode()


def test_the_home_dashboard_shows_who_leads_each_evaluated_programme(client, ev, ranked):
    response = client_as(client, ev.recipient).get(reverse("core:dashboard"))
    panel = next(p for p in response.context["panels"] if p["key"] == "evaluation")
    assert [row["program"].code for row in panel["rows"]] == [ev.program.code]
    leaders = panel["rows"][0]["leaders"]
    assert [r.rank for r in leaders] == sorted(r.rank for r in leaders)
    assert len(leaders) == 2
    assert panel["rows"][0]["year"] == ev.year


# --- the pieces --------------------------------------------------------------------------------------------------


def test_empty_charts_draw_nothing():
    assert stage_bar([{"key": "selection", "label": "x", "count": 0, "color": "#000"}]) == ""
    assert ranking_chart([], None) == ""
