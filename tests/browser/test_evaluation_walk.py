"""In the browser, the issue's "done when": the national coordinator starts an evaluation run of a programme-year
from the runs page, sees its progress bar and then the ranking of the assisting provinces with grades and
reasons; a recipient officer rates an accepted project's satisfaction on its score page; the coordinator runs
the year again and the province's score moves. The coordinator works in Chinese, then in English; the officer in
English. Celery is eager in the live server: a run is done by the time the page that started it is shown.

Elements are found by id, name and data attributes, not by visible text, so the walk does not depend on which
strings are translated yet; what the page should say is computed in the reader's language."""

import datetime as dt
import re
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from django.utils import translation
from playwright.sync_api import expect

from accounts.models import OrganizationKind, User
from core.models import RegionLevel
from evaluation.models import EvaluationRun, ProjectScore, Ranking, RunStatus, SatisfactionRating
from pairings import services as pairing_services
from pairings.models import Pairing
from projects.models import Project
from tests.browser.conftest import shot, watch_errors
from tests.browser.test_login_and_language import sign_in
from tests.evaluation.conftest import make_inspection, make_project
from tests.factories import OrganizationFactory, RegionFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

YEAR = 2016
D = dt.date


@pytest.fixture
def open_as(browser, live_server) -> Iterator[Callable[[User, str], object]]:
    """Sign USER in, in a browser context of their own, with LANGUAGE as their preference."""
    contexts = []

    def open_(user: User, language: str):  # type: ignore[no-untyped-def]
        user.preferred_language = language
        user.save(update_fields=["preferred_language"])
        context = browser.new_context(
            viewport={"width": 1366, "height": 900}, locale="zh-CN" if language == "zh-hans" else "en-GB"
        )
        contexts.append(context)
        page = context.new_page()
        watch_errors(page)
        page.base_url = live_server.url
        sign_in(page, user.username)
        expect(page.locator("html")).to_have_attribute("lang", language)
        return page

    yield open_
    for context in contexts:
        context.close()


def _flows(pairing: Pairing, project: Project | None, committed: str, received: str, spent: str = "") -> None:
    on = D(YEAR, 8, 1)
    record = pairing_services.fund_flow_record
    kw = {"by": None, "pairing": pairing, "date": on, "source": "assisting_fiscal"}
    if project is not None:
        kw["project_id"] = project.pk
    record(kind="commitment", amount=Decimal(committed), **kw)
    record(kind="disbursement", amount=Decimal(received), **kw)
    if spent:
        record(kind="expenditure", amount=Decimal(spent), **kw)


@pytest.fixture
def programme(world, pw):
    """Xinjiang 2016 with three assisting provinces: Guangdong → Shufu (mediocre: late, beneficiaries short),
    Jiangsu → Jiashi (good), Shanghai → Shache (poor on money); each with two accepted projects (acceptance
    inspections passed, money committed, disbursed and spent) and one under construction; mandates for all."""
    shache = RegionFactory(
        code="653125", name="莎车县", name_en="Shache County", level=RegionLevel.COUNTY, parent=world.kashgar
    )
    shanghai = RegionFactory(code="310000", name="上海市", name_en="Shanghai", level=RegionLevel.PROVINCE)
    shanghai_gov = OrganizationFactory(
        name="上海市人民政府", name_en="Shanghai", kind=OrganizationKind.PROVINCIAL_GOVERNMENT, region=shanghai
    )
    shache_pairing = pairing_services.pairing_create(
        by=None,
        program=pw.program,
        assisting_organization=shanghai_gov,
        recipient_region=shache,
        start_date=D(2010, 6, 1),
    )
    plans = [
        # pairing, mandate, (late days, reached of 1000 beneficiaries, livelihood) per accepted project, received
        (pw.shufu, "20000000", [(90, 700, True), (60, 800, False)], "15000000"),
        (pw.jiashi, "20000000", [(0, 1000, True), (0, 950, True)], "20000000"),
        (shache_pairing, "20000000", [(30, 900, True), (120, 600, False)], "8000000"),
    ]
    accepted: dict[int, list[Project]] = {}
    for pairing, mandate, projects, received in plans:
        pairing_services.mandate_set(
            by=None, pairing=pairing, year=YEAR, funds_required=Decimal(mandate), reason="Allocated in the plan."
        )
        for i, (late, reached, livelihood) in enumerate(projects):
            end = D(YEAR, 10, 31)
            project = make_project(
                pairing,
                "accepted",
                title=f"{pairing.recipient_region.name}项目{i + 1}",
                approved_budget=Decimal("5000000.00"),
                budget_requested=Decimal("5000000.00"),
                planned_start=D(YEAR, 3, 1),
                planned_end=end,
                actual_start=D(YEAR, 3, 1),
                actual_end=end + dt.timedelta(days=late),
                expected_beneficiaries=1000,
                reached_beneficiaries=reached,
                is_livelihood=livelihood,
            )
            make_inspection(project, end + dt.timedelta(days=late + 5), kind="acceptance")
            _flows(pairing, project, "5000000", "4500000" if late else "5000000", "4800000")
            accepted.setdefault(pairing.pk, []).append(project)
        make_project(
            pairing,
            "in_construction",
            title=f"{pairing.recipient_region.name}在建项目",
            planned_start=D(YEAR, 6, 1),
            planned_end=D(YEAR + 1, 6, 30),
            actual_start=D(YEAR, 6, 1),
        )
        _flows(pairing, None, received, received)
    return {"pairings": [p for p, *_ in plans], "accepted": accepted}


def ranking_rows(page):  # type: ignore[no-untyped-def]
    return page.locator("#ranking-table tbody tr[data-organization]")


def score_on_page(page, organization_id: int) -> float:  # type: ignore[no-untyped-def]
    cell = page.locator(f"#ranking-table tr[data-organization='{organization_id}'] td.num").nth(1)
    return float(re.match(r"\s*([\d.]+)", cell.inner_text()).group(1))  # type: ignore[union-attr]


def start_run(page, program_code: str) -> EvaluationRun:  # type: ignore[no-untyped-def]
    """From the runs page: choose the programme and the year, start, and land on the run's page."""
    page.goto(page.base_url + "/evaluation/runs/")
    page.select_option("#run-start-form select[name=program]", program_code)
    page.fill("#run-start-form input[name=year]", str(YEAR))
    page.locator("#run-start").click()
    expect(page).to_have_url(re.compile(r"/evaluation/runs/\d+/$"))
    run = EvaluationRun.objects.get(pk=int(re.search(r"/runs/(\d+)/$", page.url).group(1)))  # type: ignore[union-attr]
    return run


def expect_finished_progress(page, run: EvaluationRun) -> None:  # type: ignore[no-untyped-def]
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.total > 0
    bar = page.locator("#run-status .dk-run-progress")
    expect(bar).to_be_visible()
    expect(bar).to_have_attribute("data-total", str(run.total))
    expect(bar).to_have_attribute("data-done", str(run.total))
    expect(bar.locator(".dk-progress-text")).to_have_text(f"{run.total}/{run.total} · 100 %")


def expect_ranking(page, run: EvaluationRun, language: str) -> None:  # type: ignore[no-untyped-def]
    """The page shows RUN's ranking: every province once, in rank order, with its grade and its reasons."""
    expect(page.locator("html")).to_have_attribute("lang", language)
    expected = list(Ranking.objects.filter(run=run).order_by("rank").select_related("organization"))
    assert len(expected) == 3
    rows = ranking_rows(page)
    expect(rows).to_have_count(3)
    with translation.override(language):
        names = [str(r.organization) for r in expected]
    for i, r in enumerate(expected):
        row = rows.nth(i)
        expect(row).to_have_attribute("data-organization", str(r.organization_id))
        expect(row).to_contain_text(names[i])
        expect(row.locator(".dk-grade")).to_have_text(r.grade)
        expect(row.locator(".dk-reason").first).to_be_visible()
        assert score_on_page(page, r.organization_id) == round(r.score, 1)


def test_a_run_ranks_the_provinces_and_a_satisfaction_rating_moves_the_next_one(
    world, pw, programme, open_as, live_server
):
    coordinator = world.coordinator
    shufu_project = programme["accepted"][pw.shufu.pk][0]
    guangdong = world.guangdong_gov.pk

    # 1. The coordinator, in Chinese, starts the run of Xinjiang 2016 from the runs page.
    boss = open_as(coordinator, "zh-hans")
    first = start_run(boss, pw.program.code)
    assert first.requested_by == coordinator
    assert (first.program_id, first.year) == (pw.program.pk, YEAR)
    expect_finished_progress(boss, first)
    shot(boss, "evaluation-01-run.zh-hans")
    boss.locator("#run-ranking").click()
    expect(boss).to_have_url(re.compile(rf"/evaluation/rankings/\?program={pw.program.code}&year={YEAR}"))
    expect_ranking(boss, first, "zh-hans")
    before = score_on_page(boss, guangdong)
    shot(boss, "evaluation-02-ranking.zh-hans")
    # The accepted projects with a final score moved on to `evaluated`.
    assert Project.objects.get(pk=shufu_project.pk).state == "evaluated"

    # 2. The recipient officer of Shufu, in English, rates the project on its score page.
    officer = open_as(world.recipient, "en")
    officer.goto(officer.base_url + f"/evaluation/projects/{shufu_project.pk}/score/")
    first_score = ProjectScore.objects.get(run=first, project=shufu_project).score
    expect(officer.locator("#project-score")).to_have_text(f"{first_score:.1f}")
    officer.locator("#rating-form label[for=id_rating-score_0]").click()  # 1 · very unsatisfied
    officer.fill("#rating-form textarea[name=rating-comment]", "The clinic opened three months late.")
    shot(officer, "evaluation-03-rating.en")
    officer.locator("#rating-form button[type=submit]").click()
    expect(officer.locator(".alert-success")).to_be_visible()
    rating = SatisfactionRating.objects.get(project=shufu_project, rated_by=world.recipient)
    assert rating.score == 1
    assert rating.comment == "The clinic opened three months late."

    # 3. The coordinator, now in English, runs the year again: Guangdong's score moves, the ranking says so.
    boss.locator("button[data-language=en]").click()
    expect(boss.locator("html")).to_have_attribute("lang", "en")
    second = start_run(boss, pw.program.code)
    assert second.pk != first.pk
    expect_finished_progress(boss, second)
    boss.locator("#run-ranking").click()
    expect_ranking(boss, second, "en")
    after = score_on_page(boss, guangdong)
    assert after != before
    assert after < before
    row = boss.locator(f"#ranking-table tr[data-organization='{guangdong}']")
    expect(row).to_contain_text(f"{before:.1f}")  # "was …", against the first run
    second_ranking = Ranking.objects.get(run=second, organization_id=guangdong)
    assert second_ranking.previous_score == pytest.approx(
        Ranking.objects.get(run=first, organization_id=guangdong).score
    )
    # The provinces that nobody rated keep their scores.
    for pairing in programme["pairings"][1:]:
        org = pairing.assisting_organization_id
        assert score_on_page(boss, org) == round(Ranking.objects.get(run=first, organization_id=org).score, 1)
    shot(boss, "evaluation-04-ranking-again.en")

    # 4. The officer sees the project's new score, lower by the rating.
    officer.reload()
    second_score = ProjectScore.objects.get(run=second, project=shufu_project).score
    assert second_score < first_score
    expect(officer.locator("#project-score")).to_have_text(f"{second_score:.1f}")

    # 5. The dashboard shows the new ranking's ends, linking to the ranking page.
    boss.goto(boss.base_url + "/evaluation/")
    block = boss.locator(f"#programme-{pw.program.code}")
    expect(block.locator("[data-link=ranking]")).to_have_attribute(
        "href", f"/evaluation/rankings/?program={pw.program.code}&year={YEAR}"
    )
    top = block.locator("tbody[data-list=top] tr")
    expect(top).to_have_count(3)
    best = Ranking.objects.filter(run=second).order_by("rank").first()
    expect(top.first).to_have_attribute("data-organization", str(best.organization_id))
    shot(boss, "evaluation-05-dashboard.en")

    # Both languages for the ranking page: the same numbers in Chinese.
    boss.locator("button[data-language=zh-hans]").click()
    boss.goto(boss.base_url + f"/evaluation/rankings/?program={pw.program.code}&year={YEAR}")
    expect_ranking(boss, second, "zh-hans")
    assert score_on_page(boss, guangdong) == after
    shot(boss, "evaluation-06-ranking.zh-hans")

    assert boss.console_errors == []
    assert officer.console_errors == []
