"""The pairing pages: scoped like the API, forms that say what is wrong on the field and keep what was typed,
and lists whose query count does not grow with rows."""

import datetime as dt
from decimal import Decimal

import pytest

from core.models import HistoryEvent, RegionLevel
from pairings import services
from pairings.models import Deployment, FiscalRevenue, FundFlow, Pairing
from tests.factories import RegionFactory

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


@pytest.mark.parametrize(
    "path",
    [
        "/pairings/{pk}/",
        "/pairings/{pk}/flows/new/",
        "/pairings/{pk}/deployments/new/",
        "/pairings/{pk}/trainings/new/",
        "/pairings/{pk}/mandates/compute/",
    ],
)
def test_the_outsider_gets_404_on_every_page_of_anothers_pairing(client, world, pw, path):
    assert login(client, world.outsider).get(path.format(pk=pw.shufu.pk)).status_code == 404
    assert login(client, world.assisting).get(path.format(pk=pw.shufu.pk)).status_code == 200


def test_both_sides_see_the_pairing_and_only_theirs_in_the_list(client, world, pw):
    for user in (world.assisting, world.recipient):
        html = login(client, user).get("/pairings/").content.decode()
        assert f"/pairings/{pw.shufu.pk}/" in html
        assert f"/pairings/{pw.jiashi.pk}/" not in html
    html = login(client, world.coordinator).get("/pairings/").content.decode()
    assert f"/pairings/{pw.jiashi.pk}/" in html


def test_a_flow_with_bad_amount_and_date_shows_both_errors_and_keeps_the_input(client, world, pw):
    response = login(client, world.assisting).post(
        f"/pairings/{pw.shufu.pk}/flows/new/",
        {
            "kind": "commitment",
            "amount": "-5",
            "date": "2009-01-01",
            "source": "assisting_fiscal",
            "reference": "粤财 12 号",
        },
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "amount" in form.errors
    assert "date" in form.errors
    assert 'value="粤财 12 号"' in response.content.decode()
    assert not FundFlow.objects.exists()


def test_a_deployment_with_three_mistakes_shows_all_three_after_one_submit(client, world, pw):
    """The form's refusal (no headcount) and the service's date rules (before the pairing began, an end before the
    start) come back together."""
    response = login(client, world.assisting).post(
        f"/pairings/{pw.shufu.pk}/deployments/new/",
        {"kind": "cadre", "batch": "第10批", "headcount": "", "start_date": "2009-01-01", "end_date": "2008-01-01"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"headcount", "start_date", "end_date"}
    assert 'value="第10批"' in response.content.decode()
    assert not Deployment.objects.exists()


def test_recording_a_commitment_in_the_page_lands_with_history(client, world, pw):
    response = login(client, world.assisting).post(
        f"/pairings/{pw.shufu.pk}/flows/new/",
        {"kind": "commitment", "amount": "1000000", "date": "2012-03-01", "source": "assisting_fiscal"},
    )
    assert response.status_code == 302
    flow = FundFlow.objects.get()
    assert (flow.amount, flow.recorded_by) == (Decimal("1000000.00"), world.assisting)
    assert HistoryEvent.objects.for_object(pw.shufu).filter(action="flow_recorded", actor=world.assisting).exists()


def test_the_flow_form_takes_ten_thousands_and_shows_pledges_formatted(client, world, pw):
    services.fund_flow_record(
        by=None,
        pairing=pw.shufu,
        kind="pledge",
        amount=Decimal("149020000.00"),
        date=dt.date(2012, 1, 5),
        source="assisting_fiscal",
    )
    login(client, world.assisting)
    client.cookies["django_language"] = "zh-hans"
    page = client.get(f"/pairings/{pw.shufu.pk}/flows/new/").content.decode()
    assert "2012-01-05 · 1.49 亿元" in page  # not "认捐 149020000.00"
    assert 'name="amount_1"' in page  # the unit beside the amount
    response = client.post(
        f"/pairings/{pw.shufu.pk}/flows/new/",
        {
            "kind": "commitment",
            "amount_0": "120.5",
            "amount_1": "wan",
            "date": "2012-03-01",
            "source": "assisting_fiscal",
        },
    )
    assert response.status_code == 302
    assert FundFlow.objects.get(kind="commitment").amount == Decimal("1205000.00")


def test_a_recipient_officer_cannot_pledge_and_is_told_so_on_the_form(client, world, pw):
    response = login(client, world.recipient).post(
        f"/pairings/{pw.shufu.pk}/flows/new/",
        {"kind": "pledge", "amount": "1000", "date": "2012-03-01", "source": "assisting_fiscal"},
    )
    assert response.status_code == 403
    assert not FundFlow.objects.exists()


def test_recording_revenue_twice_shows_the_duplicate_on_the_year(client, world):
    data = {"organization": world.guangdong_gov.pk, "year": 2010, "amount": "427000000000"}
    assert login(client, world.assisting).post("/fiscal-revenues/", data).status_code == 302
    response = client.post("/fiscal-revenues/", data)
    assert response.status_code == 200
    assert "year" in response.context["form"].errors
    assert FiscalRevenue.objects.count() == 1


def test_an_officer_cannot_record_revenue_for_another_province(client, world):
    response = login(client, world.assisting).post(
        "/fiscal-revenues/", {"organization": world.jiangsu_gov.pk, "year": 2010, "amount": "1"}
    )
    assert response.status_code == 200
    assert "organization" in response.context["form"].errors
    assert not FiscalRevenue.objects.exists()


def test_computing_a_mandate_in_the_page_shows_it_with_its_fulfilment(client, world, pw):
    services.fiscal_revenue_record(by=None, organization=world.guangdong_gov, year=2010, amount="427000000000")
    login(client, world.assisting)
    assert client.post(f"/pairings/{pw.shufu.pk}/mandates/compute/", {"year": 2012}).status_code == 302
    services.fund_flow_record(
        by=None,
        pairing=pw.shufu,
        kind="disbursement",
        amount="1152900000",
        date=dt.date(2012, 6, 1),
        source="assisting_fiscal",
    )
    html = client.get(f"/pairings/{pw.shufu.pk}/").content.decode()
    assert "2012" in html
    assert "50 %" in html


def test_a_mandate_without_revenue_names_the_year_whose_revenue_is_missing(client, world, pw):
    response = login(client, world.assisting).post(f"/pairings/{pw.shufu.pk}/mandates/compute/", {"year": 2012})
    assert response.status_code == 200
    assert "2010" in str(response.context["form"].errors["year"])


def test_the_coordinator_creates_a_pairing_and_a_taken_recipient_is_refused_on_the_field(client, world, pw):
    login(client, world.coordinator)
    data = {
        "program": pw.program.pk,
        "assisting_organization": world.shenzhen_gov.pk,
        "recipient_region": "653121",
        "start_date": "2011-01-01",
    }
    response = client.post("/pairings/new/", data)
    assert response.status_code == 200
    assert "recipient_region" in response.context["form"].errors
    # Kashgar prefecture as a whole would cover Shufu, which Guangdong holds: refused on the field too.
    data["recipient_region"] = "653100"
    response = client.post("/pairings/new/", data)
    assert response.status_code == 200
    assert "Shufu" in str(response.context["form"].errors["recipient_region"])
    assert not Pairing.objects.filter(recipient_region=world.kashgar).exists()
    kashgar_city = RegionFactory(code="653101", name="喀什市", level=RegionLevel.COUNTY, parent=world.kashgar)
    data["recipient_region"] = kashgar_city.code  # free
    response = client.post("/pairings/new/", data)
    assert response.status_code == 302
    assert Pairing.objects.filter(recipient_region=kashgar_city, assisting_organization=world.shenzhen_gov).exists()


def test_an_assisting_officer_cannot_open_the_new_pairing_form_to_create_a_top_level_pairing(client, world, pw):
    response = login(client, world.assisting).post(
        "/pairings/new/",
        {
            "program": pw.program.pk,
            "assisting_organization": world.guangdong_gov.pk,
            "recipient_region": "653100",
            "start_date": "2011-01-01",
        },
    )
    assert response.status_code == 403
    assert not Pairing.objects.filter(recipient_region=world.kashgar).exists()


def test_ending_a_pairing_needs_a_comment_and_then_refuses_new_flows(client, world, pw):
    login(client, world.coordinator)
    response = client.post(f"/pairings/{pw.shufu.pk}/end/", {"end_date": "2020-12-31", "comment": ""})
    assert response.status_code == 200
    response = client.post(
        f"/pairings/{pw.shufu.pk}/end/", {"end_date": "2020-12-31", "comment": "Programme period over"}
    )
    assert response.status_code == 302
    response = client.post(
        f"/pairings/{pw.shufu.pk}/flows/new/",
        {"kind": "commitment", "amount": "1", "date": "2020-06-01", "source": "assisting_fiscal"},
    )
    assert response.status_code == 200
    assert "pairing" in str(response.context["form"].non_field_errors()) or response.context["form"].errors
    assert not FundFlow.objects.exists()


def _many_pairings(world, pw, n: int, first: int) -> None:
    from tests.factories import RegionFactory

    for i in range(first, first + n):
        region = RegionFactory(code=f"6531{50 + i:02d}", name=f"测试县{i}", level="county", parent=world.kashgar)
        pairing = services.pairing_create(
            by=None,
            program=pw.program,
            assisting_organization=world.shenzhen_gov,
            recipient_region=region,
            start_date=dt.date(2011, 1, 1),
        )
        services.fund_flow_record(
            by=None,
            pairing=pairing,
            kind="disbursement",
            amount="10",
            date=dt.date(2012, 1, 1),
            source="assisting_fiscal",
        )


@pytest.mark.parametrize("path", ["/pairings/", "/programmes/", "/programmes/xinjiang-2010/", "/"])
def test_list_pages_do_not_query_more_with_more_pairings(client, world, pw, path, django_assert_max_num_queries):
    login(client, world.coordinator)
    _many_pairings(world, pw, 2, first=0)
    with django_assert_max_num_queries(40) as few:
        client.get(path)
    _many_pairings(world, pw, 15, first=2)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(path).status_code == 200


def test_the_pairing_page_queries_do_not_grow_with_flows(client, world, pw, django_assert_max_num_queries):
    login(client, world.assisting)
    for _ in range(2):
        services.fund_flow_record(
            by=None,
            pairing=pw.shufu,
            kind="commitment",
            amount="10",
            date=dt.date(2012, 1, 1),
            source="assisting_fiscal",
        )
    with django_assert_max_num_queries(60) as few:
        client.get(f"/pairings/{pw.shufu.pk}/")
    for _ in range(20):
        services.fund_flow_record(
            by=None,
            pairing=pw.shufu,
            kind="disbursement",
            amount="10",
            date=dt.date(2012, 1, 1),
            source="assisting_fiscal",
        )
        services.deployment_record(
            by=None, pairing=pw.shufu, kind="teacher", headcount=3, start_date=dt.date(2012, 1, 1)
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(f"/pairings/{pw.shufu.pk}/").status_code == 200
