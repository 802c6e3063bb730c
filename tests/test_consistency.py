"""Every figure an official reads is the same wherever it is shown, for the same scope and period.

The data set: two programmes; in the first a pairing broken down into a child (parent and child with mandates),
flows of every kind — pledges (one committed, one outstanding), commitments, disbursements, expenditures — some
dated in years that have no mandate, projects in every state (one with money linked to it and a reported spend to
date that differs from its recorded expenditure), deployments and trainings in several years, and an evaluation run
of the first programme's year 2015. The figures are read as the national coordinator and as scoped users (the
province that holds the parent and sees its child, the city that holds only the child, the county that receives).

Pages and endpoints covered, each compared with the others that show the same figure (and with `pairings.figures`,
`projects.figures`, and a few totals worked out by hand):

- home `/` — the pairings panel (required, committed, received, fulfilment, delivery; all years) and the projects
  panel (counts by stage, total);
- evaluation overview `/evaluation/` — each programme's block (required, committed, received, fulfilment, counts by
  stage, projects) and the totals;
- programme page `/programmes/<code>/` — each pairing's required, received and fulfilment, and the programme's
  total;
- pairing list `/pairings/` — each pairing's required and received;
- pairing page `/pairings/<id>/` — the pairing's money (required, pledged, committed, received, spent, fulfilment),
  people (deployed, trained) and the mandates by year (required, pledged, committed, received, spent, fulfilment);
- project list `/projects/` — each project's budget, the number of projects, and by state (`?state=`);
- project page `/projects/<id>/` — budget, committed, disbursed, spent and the reported spend to date;
- scorecard `/evaluation/scorecards/<id>/` — the year's mandate fulfilment, funds delivered, people vs quota, people
  trained, and the approved budget of the projects it scored;
- API: `/api/v1/pairings/<id>/mandates/` (the year's figures of each mandate), `/api/v1/pairings/<id>/figures/`,
  `/api/v1/pairings/figures/` (the caller's whole scope, the dashboard's figures), `/api/v1/programs/<code>/figures/`,
  `/api/v1/projects/<id>/figures/`, `/api/v1/projects/figures/` (counts by state and stage) and
  `/api/v1/evaluation/scorecards/<id>/`; each for all years and for a year where it takes one (a year out of range
  is a 400 naming `year`).

A figure added later joins here: read it on every page and endpoint that shows it and compare.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from accounts.models import Role, User
from core.models import RegionLevel
from evaluation.models import EvaluationRun, PairingScorecard
from pairings import figures as pairing_figures
from pairings import services as pairing_services
from pairings.models import Pairing, Program
from pairings.selectors import pairings_visible_to
from projects import figures as project_figures
from projects.models import Project, State
from projects.selectors import projects_visible_to
from tests.conftest import api_as
from tests.evaluation.conftest import run_eagerly
from tests.factories import (
    DeploymentFactory,
    FundFlowFactory,
    ProgressReportFactory,
    ProjectFactory,
    RegionFactory,
    TrainingFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

D = dt.date
M = Decimal(1_000_000)
YEAR = 2015
MONEY = ("required", "committed", "received")


@dataclass
class Data:
    a: Program
    b: Program
    shufu: Pairing
    wusha: Pairing  # Shufu's breakdown: Shenzhen → Wusha town
    jiashi: Pairing
    nyingchi: Pairing  # programme B, Guangdong
    lhasa: Pairing  # programme B, Jiangsu
    funded: Project  # in construction, with money linked to it and a progress report
    run: EvaluationRun
    users: dict[str, User]


def _flow(pairing: Pairing, kind: str, millions: str, on: dt.date, **extra: Any) -> Any:
    return FundFlowFactory(pairing=pairing, kind=kind, amount=Decimal(millions) * M, date=on, **extra)


@pytest.fixture
def data(world, pw) -> Data:
    set_ = pairing_services.mandate_set
    wusha_town = RegionFactory(
        code="653121100", name="乌夏克巴什镇", name_en="Wusha", level=RegionLevel.TOWNSHIP, parent=world.shufu
    )
    wusha = pairing_services.pairing_create(
        by=None,
        program=pw.program,
        assisting_organization=world.shenzhen_gov,
        recipient_region=wusha_town,
        start_date=D(2011, 1, 1),
        parent=pw.shufu,
    )
    b = pairing_services.program_create(
        by=None,
        code="xizang-test",
        name="对口援藏",
        name_en="Xizang paired assistance",
        model="development",
        start_year=2011,
    )
    xizang = RegionFactory(code="540000", name="西藏自治区", name_en="Xizang", level=RegionLevel.PROVINCE)
    nyingchi_region = RegionFactory(
        code="540400", name="林芝市", name_en="Nyingchi", level=RegionLevel.PREFECTURE, parent=xizang
    )
    lhasa_region = RegionFactory(
        code="540100", name="拉萨市", name_en="Lhasa", level=RegionLevel.PREFECTURE, parent=xizang
    )
    nyingchi = pairing_services.pairing_create(
        by=None,
        program=b,
        assisting_organization=world.guangdong_gov,
        recipient_region=nyingchi_region,
        start_date=D(2011, 1, 1),
    )
    lhasa = pairing_services.pairing_create(
        by=None,
        program=b,
        assisting_organization=world.jiangsu_gov,
        recipient_region=lhasa_region,
        start_date=D(2011, 1, 1),
    )

    # Mandates: the child's 4 M is allocated out of Shufu's 10 M.
    set_(by=None, pairing=pw.shufu, year=YEAR, funds_required=10 * M, reason="协商", personnel_quota=20)
    set_(by=None, pairing=pw.shufu, year=YEAR + 1, funds_required=12 * M, reason="协商")
    set_(by=None, pairing=wusha, year=YEAR, funds_required=4 * M, reason="分解")
    set_(by=None, pairing=pw.jiashi, year=YEAR, funds_required=5 * M, reason="协商")
    set_(by=None, pairing=nyingchi, year=YEAR, funds_required=3 * M, reason="协商")
    set_(by=None, pairing=lhasa, year=YEAR + 1, funds_required=2 * M, reason="协商")

    # Projects of every state on Shufu; one on each other pairing. `funded` has money linked to it.
    projects = {s: ProjectFactory(pairing=pw.shufu, state=s, title=f"疏附 {s}") for s in State.values}
    for project in projects.values():
        if project.state not in (State.DRAFT, State.PROPOSED, State.REJECTED):
            project.approved_budget = Decimal("2500000.00")
            project.save(update_fields=["approved_budget"])
    funded = projects[State.IN_CONSTRUCTION]
    funded.approved_budget = 6 * M
    funded.save(update_fields=["approved_budget"])
    ProjectFactory(pairing=pw.jiashi, state=State.ACCEPTED, approved_budget=8 * M, budget_requested=8 * M)
    ProjectFactory(pairing=wusha, state=State.APPROVED, approved_budget=3 * M, budget_requested=3 * M)
    # A small budget beside millions: the list's budget column still shows one unit.
    ProjectFactory(pairing=nyingchi, state=State.DRAFT, budget_requested=Decimal("800.00"))
    ProgressReportFactory(project=funded, spend_to_date=Decimal("3400000.00"), period_end=D(YEAR, 9, 30))

    # Flows of every kind, some in years without a mandate (2012, 2013, 2014, 2017).
    pledge = _flow(pw.shufu, "pledge", "2", D(YEAR, 2, 1))
    _flow(pw.shufu, "commitment", "2", D(YEAR, 3, 1), pledge=pledge)
    _flow(pw.shufu, "pledge", "1.5", D(YEAR, 2, 15))  # outstanding
    _flow(pw.shufu, "commitment", "5", D(YEAR, 3, 1))
    _flow(pw.shufu, "disbursement", "3", D(YEAR, 6, 1))
    _flow(pw.shufu, "disbursement", "2.5", D(YEAR, 7, 1), project_id=funded.pk)
    _flow(pw.shufu, "commitment", "6", D(YEAR, 4, 1), project_id=funded.pk)
    _flow(pw.shufu, "expenditure", "1", D(YEAR, 8, 1), project_id=funded.pk)
    _flow(pw.shufu, "disbursement", "0.7", D(2014, 5, 1))
    _flow(pw.shufu, "commitment", "0.9", D(2017, 1, 10))
    _flow(pw.shufu, "disbursement", "4", D(YEAR + 1, 6, 1))
    _flow(wusha, "commitment", "4", D(YEAR, 3, 1))
    _flow(wusha, "disbursement", "2", D(YEAR, 6, 1))
    _flow(wusha, "disbursement", "0.3", D(2014, 6, 1))
    _flow(pw.jiashi, "commitment", "5", D(YEAR, 3, 1))
    _flow(pw.jiashi, "disbursement", "1", D(YEAR, 6, 1))
    FundFlowFactory(pairing=pw.jiashi, kind="disbursement", amount=Decimal("777.00"), date=D(2012, 1, 5))
    _flow(nyingchi, "commitment", "3", D(YEAR, 3, 1))
    _flow(nyingchi, "disbursement", "2", D(YEAR, 6, 1))
    _flow(nyingchi, "expenditure", "0.5", D(YEAR + 1, 3, 1))
    _flow(nyingchi, "disbursement", "0.1", D(2013, 6, 1))
    _flow(lhasa, "pledge", "0.8", D(YEAR + 1, 1, 10))
    _flow(lhasa, "commitment", "2", D(YEAR + 1, 3, 1))
    _flow(lhasa, "disbursement", "1.2", D(YEAR + 1, 6, 1))

    # People: a team active through 2015–2016, one of 2013 only, the child's and programme B's.
    DeploymentFactory(pairing=pw.shufu, headcount=12, start_date=D(YEAR, 3, 1), end_date=D(YEAR + 1, 12, 31))
    DeploymentFactory(pairing=pw.shufu, headcount=5, start_date=D(2013, 3, 1), end_date=D(2013, 12, 31))
    DeploymentFactory(pairing=wusha, headcount=3, start_date=D(YEAR, 9, 1))
    DeploymentFactory(pairing=nyingchi, headcount=4, start_date=D(YEAR + 1, 4, 1))
    TrainingFactory(pairing=pw.shufu, people_trained=30, start_date=D(YEAR, 7, 1))
    TrainingFactory(pairing=pw.shufu, people_trained=20, start_date=D(YEAR + 1, 7, 1))
    TrainingFactory(pairing=pw.jiashi, people_trained=15, start_date=D(YEAR, 5, 1))
    TrainingFactory(pairing=nyingchi, people_trained=10, start_date=D(YEAR, 5, 1))

    run = run_eagerly(pw.program, YEAR, by=world.coordinator)
    shenzhen_officer: User = UserFactory(
        username="sz-officer", organization=world.shenzhen_gov, roles=[Role.ASSISTING_OFFICER]
    )
    return Data(
        a=pw.program,
        b=b,
        shufu=pw.shufu,
        wusha=wusha,
        jiashi=pw.jiashi,
        nyingchi=nyingchi,
        lhasa=lhasa,
        funded=funded,
        run=run,
        users={
            "coordinator": world.coordinator,
            "province": world.assisting,
            "city": shenzhen_officer,
            "county": world.recipient,
        },
    )


USERS = ["coordinator", "province", "city", "county"]


def client_for(user: User) -> Client:
    user.preferred_language = "en"
    user.save(update_fields=["preferred_language"])
    client = Client()
    client.force_login(user)
    return client


def context(client: Client, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.context


def panel(ctx: Any, key: str) -> dict[str, Any]:
    return next(p for p in ctx["panels"] if p["key"] == key)


def amount(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.01"))


def ratio(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.0001"))


def api_money(body: dict[str, Any]) -> dict[str, Any]:
    return {k: amount(body[k]) for k in MONEY}


def blocks(ctx: Any) -> dict[str, Any]:
    return {b.program.code: b for b in ctx["blocks"]}


# --- home against the evaluation overview ----------------------------------------------------------------------


@pytest.mark.parametrize("who", USERS)
def test_home_and_the_evaluation_overview_show_the_same_money(data, who):
    client = client_for(data.users[who])
    home = panel(context(client, "/"), "pairings")
    overview = context(client, "/evaluation/")
    totals = overview["totals"]
    for name in (*MONEY, "fulfilment"):
        assert home[name] == totals[name], name
    # The overview's programmes add up to its totals.
    for name in MONEY:
        assert sum((getattr(b, name) for b in overview["blocks"]), Decimal(0)) == totals[name], name


def test_the_national_figures_are_the_ones_worked_out_by_hand(data):
    client = client_for(data.users["coordinator"])
    home = panel(context(client, "/"), "pairings")
    # Required: Shufu 10 + 12, Jiashi 5, Nyingchi 3, Lhasa 2 (Wusha's 4 lies within Shufu's 10).
    assert home["required"] == Decimal("32000000.00")
    # Every commitment (Shufu 2 + 5 + 6 linked to a project + 0.9 in 2017, Wusha 4, Jiashi 5, Nyingchi 3, Lhasa 2) and
    # every disbursement, in a year with a mandate or not.
    assert home["committed"] == Decimal("27900000.00")
    assert home["received"] == Decimal("16800777.00")
    assert home["fulfilment"] == Decimal("0.5250")
    a = blocks(context(client, "/evaluation/"))[data.a.code]
    assert (a.required, a.received) == (Decimal("27000000.00"), Decimal("13500777.00"))


def test_scoped_users_count_a_breakdown_once_or_alone(data):
    # The province sees Shufu and its child: the child's mandate lies within Shufu's; its flows add.
    province = panel(context(client_for(data.users["province"]), "/"), "pairings")
    assert province["required"] == Decimal("25000000.00")  # Shufu 22, Nyingchi 3
    assert province["received"] == Decimal("14600000.00")  # Shufu 10.2, Wusha 2.3, Nyingchi 2.1
    # The city sees the child alone: its own mandate.
    city = panel(context(client_for(data.users["city"]), "/"), "pairings")
    assert (city["required"], city["received"]) == (Decimal("4000000.00"), Decimal("2300000.00"))


# --- programmes and pairings -----------------------------------------------------------------------------------


@pytest.mark.parametrize("who", USERS)
def test_the_overview_programme_pages_pairing_list_and_pairing_pages_agree(data, who):
    user = data.users[who]
    client = client_for(user)
    overview = blocks(context(client, "/evaluation/"))
    listed = {r["pk"]: r["money"] for r in context(client, "/pairings/")["rows"]}
    assert set(listed) == set(pairings_visible_to(user).values_list("pk", flat=True))
    for program in (data.a, data.b):
        page = context(client, f"/programmes/{program.code}/")
        block = overview[program.code]
        for name in (*MONEY, "fulfilment"):
            assert getattr(page["total"], name) == getattr(block, name), (program.code, name)
        for row in page["rows"]:
            pairing = row["pk"]
            detail = context(client, f"/pairings/{pairing}/")
            for name in ("required", "received", "fulfilment"):
                assert getattr(row["money"], name) == getattr(detail["money"], name), (pairing, name)
                assert getattr(listed[pairing], name) == getattr(detail["money"], name), (pairing, name)
            assert row["fulfilment"] == detail["money"].fulfilment


@pytest.mark.parametrize("pairing", ["shufu", "wusha", "jiashi", "nyingchi", "lhasa"])
def test_a_pairing_page_its_mandates_and_the_api_agree(data, pairing):
    p = getattr(data, pairing)
    user = data.users["coordinator"]
    page = context(client_for(user), f"/pairings/{p.pk}/")
    api = api_as(user)
    money, people = page["money"], page["people"]
    assert money == pairing_figures.pairing_money(p)
    whole = api.get(f"/api/v1/pairings/{p.pk}/figures/").json()
    assert {k: amount(whole["money"][k]) for k in ("required", "pledged", "committed", "received", "spent")} == {
        "required": money.required,
        "pledged": money.pledged,
        "committed": money.committed,
        "received": money.received,
        "spent": money.spent,
    }
    assert ratio(whole["money"]["fulfilment"]) == money.fulfilment
    assert whole["people"] == {"deployed": people.deployed, "trained": people.trained}

    rows = {r["year"]: r for r in api.get(f"/api/v1/pairings/{p.pk}/mandates/").json()["results"]}
    assert set(rows) == {m.year for m in page["mandates"]}
    for m in page["mandates"]:
        year = api.get(f"/api/v1/pairings/{p.pk}/figures/?year={m.year}").json()["money"]
        for name in ("pledged", "committed", "received", "spent"):
            assert getattr(m, name) == amount(rows[m.year][name]) == amount(year[name]), (m.year, name)
        assert m.funds_required == amount(rows[m.year]["funds_required"]) == amount(year["required"])
        assert m.fulfilment == ratio(rows[m.year]["fulfilment"]) == ratio(year["fulfilment"])


@pytest.mark.parametrize("who", USERS)
def test_the_api_figures_of_a_scope_and_a_programme_agree_with_the_pages(data, who):
    user = data.users[who]
    client, api = client_for(user), api_as(user)
    home = panel(context(client, "/"), "pairings")
    scope = api.get("/api/v1/pairings/figures/").json()
    assert api_money(scope["money"]) == {k: home[k] for k in MONEY}
    assert ratio(scope["money"]["delivery"]) == home["delivery"]
    overview = blocks(context(client, "/evaluation/"))
    for program in (data.a, data.b):
        body = api.get(f"/api/v1/programs/{program.code}/figures/").json()
        assert api_money(body["money"]) == {k: getattr(overview[program.code], k) for k in MONEY}
        narrowed = api.get(f"/api/v1/pairings/figures/?program={program.code}").json()
        assert narrowed["money"] == body["money"]
        # A year: the mandates of that year and its flows.
        year = api.get(f"/api/v1/programs/{program.code}/figures/?year={YEAR}").json()
        expected = pairing_figures.money(pairings_visible_to(user).filter(program=program), YEAR)
        assert api_money(year["money"]) == {k: getattr(expected, k) for k in MONEY}


# --- projects ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", USERS)
def test_project_counts_agree_on_home_the_overview_the_list_and_the_api(data, who):
    user = data.users[who]
    client = client_for(user)
    home = panel(context(client, "/"), "projects")
    overview = context(client, "/evaluation/")
    listed = context(client, "/projects/")["page"].total
    assert home["total"] == overview["totals"]["projects"] == listed == projects_visible_to(user).count()
    by_stage: dict[str, int] = {}
    for block in overview["blocks"]:
        for stage in block.stages:
            by_stage[stage["key"]] = by_stage.get(stage["key"], 0) + stage["count"]
    assert dict(home["stages"]) == by_stage
    counts = api_as(user).get("/api/v1/projects/figures/").json()
    assert counts["stages"] == by_stage
    assert counts["total"] == listed
    for state, n in counts["states"].items():
        assert context(client, f"/projects/?state={state}")["page"].total == n, state


def test_a_project_page_the_list_and_the_api_agree(data):
    user = data.users["coordinator"]
    client, api = client_for(user), api_as(user)
    listed = {p.pk: p.budget for p in context(client, "/projects/")["page"]}
    for project in projects_visible_to(user):
        money = context(client, f"/projects/{project.pk}/")["money"]
        assert money == project_figures.project_money(project)
        assert listed[project.pk] == money.budget, project.code
        body = api.get(f"/api/v1/projects/{project.pk}/figures/").json()
        for name in ("budget", "committed", "disbursed", "spent", "reported_spend_to_date"):
            assert amount(body[name]) == amount(money.as_dict()[name]), (project.code, name)
        row = api.get(f"/api/v1/projects/{project.pk}/").json()
        assert amount(row["approved_budget"] or row["budget_requested"]) == money.budget
    funded = project_figures.project_money(data.funded)
    # Spent is the expenditure recorded; the report's spend to date is shown beside it as reported.
    assert (funded.committed, funded.disbursed, funded.spent) == (6 * M, Decimal("2500000.00"), 1 * M)
    assert funded.reported_spend == Decimal("3400000.00")


def test_the_project_lists_budget_column_has_one_unit(data):
    client = client_for(data.users["coordinator"])
    for language, units in (("en", ("million", "billion")), ("zh-hans", ("万元", "亿元"))):
        data.users["coordinator"].preferred_language = language
        data.users["coordinator"].save(update_fields=["preferred_language"])
        html = client.get("/projects/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        cells = [c.split(">", 1)[1].split("<", 1)[0] for c in html.split('data-figure="budget"')[1:]]
        assert len(cells) == Project.objects.count()
        shown = {next((u for u in units if c.endswith(u)), c.rsplit(" ", 1)[-1]) for c in cells}
        assert len(shown) == 1, cells


# --- the scorecard -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pairing", ["shufu", "wusha", "jiashi"])
def test_a_scorecard_shows_the_years_figures_of_its_pairing(data, pairing):
    p = getattr(data, pairing)
    user = data.users["coordinator"]
    card = PairingScorecard.objects.get(run=data.run, pairing=p)
    ctx = context(client_for(user), f"/evaluation/scorecards/{card.pk}/")
    values = {line.indicator.formula: line.value for line in ctx["lines"]}
    money = pairing_figures.pairing_money(p, YEAR)
    people = pairing_figures.pairing_people(p, YEAR)
    mandate = p.mandates.filter(year=YEAR).first()

    def close(measured: float | None, figure: Decimal | None) -> bool:
        return (measured is None and figure is None) or abs(Decimal(str(measured)) - figure) < Decimal("0.0001")

    assert close(values.get("mandate_fulfilment"), money.fulfilment)
    assert close(values.get("funds_delivery"), money.delivery)
    assert values.get("people_trained", people.trained) == people.trained
    quota = mandate.personnel_quota if mandate else None
    assert close(values.get("personnel_vs_quota"), pairing_figures.fulfilment(Decimal(people.deployed), quota))
    # The approved budget it scored is what the project pages show as those projects' budgets.
    scored = [ps.project for ps in ctx["page"].paginator.object_list]
    assert ctx["card"].budget == sum((project_figures.budget_of(x) or 0 for x in scored), Decimal(0))
    body = api_as(user).get(f"/api/v1/evaluation/scorecards/{card.pk}/").json()
    assert amount(body["budget"]) == ctx["card"].budget
    assert {k: body["measures"].get(k) for k in ("mandate_fulfilment", "funds_delivery")} == {
        k: card.measures.get(k) for k in ("mandate_fulfilment", "funds_delivery")
    }


def test_the_figures_are_those_of_the_users_own_scope(data):
    """The same page for two users shows two scopes: the county that receives sees Shufu and its child only."""
    county = data.users["county"]
    assert set(pairings_visible_to(county).values_list("pk", flat=True)) == {data.shufu.pk, data.wusha.pk}
    client = client_for(county)
    assert panel(context(client, "/"), "pairings")["required"] == Decimal("22000000.00")  # Shufu 10 + 12
    # Another programme's money never reaches them.
    assert blocks(context(client, "/evaluation/"))[data.b.code].money.is_empty


@pytest.mark.parametrize("year", ["abc", "-2.19e270", "99999999999999999999", "1800"])
def test_a_figures_period_out_of_range_is_a_400_naming_it(data, year):
    api = api_as(data.users["coordinator"])
    for url in (
        "/api/v1/pairings/figures/",
        f"/api/v1/pairings/{data.shufu.pk}/figures/",
        "/api/v1/programs/xizang-test/figures/",
    ):
        response = api.get(url, {"year": year})
        assert response.status_code == 400, url
        assert [e["field"] for e in response.json()["errors"]] == ["year"], url
