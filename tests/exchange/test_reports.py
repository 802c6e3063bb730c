"""PDF reports (exchange/reports.py): a pairing's scorecard, a programme-year's ranking and a project's dossier.

Each renders in both languages with its Chinese names as text (pdftotext reads them back) and the figures its page
shows, formatted as the page formats them; a photo is embedded as an image, and nothing is ever fetched but the
project's own files. Whatever the caller may not see is refused as not found, and bad filters name their field.
"""

import datetime as dt
import io
import re
import subprocess
from decimal import Decimal
from html import unescape

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from django.utils.text import capfirst
from factory.django import FileField
from PIL import Image

from core.history import action_label
from core.services import history_record
from evaluation.models import PairingScorecard, Ranking
from exchange import pdf, reports
from pairings.models import FlowKind
from projects.models import Inspection, Rectification
from tests.evaluation import conftest as evaluation_fixtures
from tests.evaluation import conftest_views as evaluation_view_fixtures
from tests.factories import DocumentFactory, FundFlowFactory, ProgressReportFactory

pytestmark = pytest.mark.django_db

# The evaluation world (tests/evaluation/conftest.py) and a run finished as the pages finish it.
YEAR = evaluation_fixtures.YEAR
ev = evaluation_fixtures.ev
disbursed = evaluation_fixtures.disbursed
finished = evaluation_view_fixtures.finished

LANGUAGES = ["zh-hans", "en"]


def text_of(pdf: bytes) -> str:
    """The PDF's text as pdftotext reads it (layout kept, so a table row stays on one line)."""
    assert pdf.startswith(b"%PDF-")
    done = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True)
    return done.stdout.decode()


def images_in(pdf: bytes) -> list[str]:
    """The rows of `pdfimages -list` (one per image drawn)."""
    done = subprocess.run(["pdfimages", "-list", "-"], input=pdf, capture_output=True, check=False)
    if done.returncode != 0:  # an older pdfimages reads no standard input: write the file
        import tempfile

        with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
            f.write(pdf)
            f.flush()
            done = subprocess.run(["pdfimages", "-list", f.name], capture_output=True, check=True)
    return [line for line in done.stdout.decode().splitlines()[2:] if line.strip()]


def page(user, url: str, language: str) -> str:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def shown(html: str, element_id: str) -> str:
    """The text of the element with ELEMENT_ID on a page, as it reads (tags dropped, spaces collapsed)."""
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert match, element_id
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split())


def squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


# --- scorecard ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_scorecard_shows_the_pages_figures_and_chinese_names(ev, finished, language):
    card = PairingScorecard.objects.get(run=finished, pairing=ev.shufu)
    html = page(ev.assisting, f"/evaluation/scorecards/{card.pk}/", language)
    pdf = reports.render_report("scorecard", user=ev.assisting, object_id=card.pk, filters={}, language=language)
    text = text_of(pdf)
    flat = squeezed(text)
    assert shown(html, "card-score") in text  # the score as the page formats it, e.g. "71.3"
    assert squeezed(shown(html, "explain-total")) in flat
    assert ev.shufu_accepted.title in flat  # 疏附县人民医院门诊楼, one of its projects
    assert ev.shufu_accepted.code in text
    if language == "zh-hans":
        assert "疏附县" in flat
        assert "广东省人民政府" in flat
        assert "评分卡" in flat or "记分卡" in flat or "计分卡" in flat
    else:
        assert "Shufu County" in text
        assert "Scorecard" in text
    assert "Duikou" in text


def test_scorecard_of_a_pairing_the_caller_does_not_see_is_not_found(ev, finished):
    card = PairingScorecard.objects.get(run=finished, pairing=ev.shufu)
    for call in (reports.check_report, reports.render_report):
        extra = {"language": "en"} if call is reports.render_report else {}
        with pytest.raises(reports.ReportRefused) as refused:
            call("scorecard", user=ev.outsider, object_id=card.pk, filters={}, **extra)
        assert refused.value.status == 404
        missing = PairingScorecard.objects.order_by("-pk").first().pk + 1000
        with pytest.raises(reports.ReportRefused) as unknown:
            call("scorecard", user=ev.outsider, object_id=missing, filters={}, **extra)
        # The same answer whether the scorecard is hidden or does not exist.
        assert unknown.value.status == 404
        assert unknown.value.errors == refused.value.errors


def test_check_names_the_file_after_the_pairing_and_year(ev, finished):
    card = PairingScorecard.objects.get(run=finished, pairing=ev.shufu)
    stem = reports.check_report("scorecard", user=ev.recipient, object_id=card.pk, filters={})
    assert stem == f"scorecard-{ev.shufu.pk}-{YEAR}"


# --- ranking -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_ranking_shows_every_party_with_the_pages_scores(ev, finished, language):
    ranking = list(Ranking.objects.filter(run=finished).order_by("rank"))
    assert len(ranking) == 2
    html = page(ev.assisting, f"/evaluation/rankings/?program={ev.program.code}&year={YEAR}", language)
    pdf = reports.render_report(
        "ranking",
        user=ev.assisting,
        object_id=None,
        filters={"program": ev.program.code, "year": YEAR},
        language=language,
    )
    text = text_of(pdf)
    flat = squeezed(text)
    for r in ranking:
        row = re.search(rf'data-organization="{r.organization_id}">(.*?)</tr>', html, re.S).group(1)
        score = re.findall(r'<td class="num fs-6">([^<]+)', row)[0].strip()
        assert re.search(rf"^\s*{r.rank}\b.*{re.escape(score)}", text, re.M), (r.rank, score)
    if language == "zh-hans":
        assert "广东省人民政府" in flat
        assert "江苏省人民政府" in flat
        assert "疏附县" in flat  # the scorecard the caller sees, by its region
        assert "对口援疆" in flat
    else:
        assert "Guangdong" in text
        assert "Jiangsu" in text
        assert "Shufu County" in text


def test_ranking_lists_only_the_scorecards_the_caller_sees(ev, finished):
    pdf = reports.render_report(
        "ranking",
        user=ev.outsider,
        object_id=None,
        filters={"program": ev.program.pk, "year": str(YEAR)},
        language="zh-hans",
    )
    flat = squeezed(text_of(pdf))
    # Rankings are published: both parties are there; of the scorecards, only Jiangsu → Jiashi's.
    assert "广东省人民政府" in flat
    assert "江苏省人民政府" in flat
    assert "伽师县" in flat
    assert "疏附县" not in flat


def test_ranking_without_a_year_is_the_latest_year_evaluated(ev, finished):
    stem = reports.check_report("ranking", user=ev.observer, object_id=None, filters={"program": ev.program.code})
    assert stem == f"ranking-{ev.program.code}-{YEAR}"


@pytest.mark.parametrize(
    ("filters", "fields"),
    [
        ({}, {"filters.program"}),
        ({"year": YEAR}, {"filters.program"}),
        ({"program": ""}, {"filters.program"}),
        ({"program": "no-such-programme", "year": YEAR}, {"filters.program"}),
        ({"program": "999999999", "year": YEAR}, {"filters.program"}),
        ({"program": "bad\x00code", "year": YEAR}, {"filters.program"}),
        ({"program": ["xinjiang-2010"], "year": YEAR}, {"filters.program"}),
        ({"program": "xinjiang-2010", "year": "twenty"}, {"filters.year"}),
        ({"program": "xinjiang-2010", "year": "2015.0"}, {"filters.year"}),
        ({"program": "xinjiang-2010", "year": True}, {"filters.year"}),
        ({"program": "xinjiang-2010", "year": 0}, {"filters.year"}),
        ({"program": "xinjiang-2010", "year": 20150}, {"filters.year"}),
        ({"program": "xinjiang-2010", "year": -2015}, {"filters.year"}),
        ({"program": "xinjiang-2010", "year": YEAR + 1}, {"filters.year"}),  # no run finished for that year
        ({"program": "nope", "year": "x"}, {"filters.program", "filters.year"}),  # every problem at once
        ({"program": "xinjiang-2010", "year": YEAR, "region": "653121"}, {"filters.region"}),
    ],
)
def test_bad_ranking_filters_are_refused_naming_the_field(ev, finished, filters, fields):
    with pytest.raises(reports.ReportRefused) as refused:
        reports.check_report("ranking", user=ev.assisting, object_id=None, filters=filters)
    assert refused.value.status == 400
    assert set(refused.value.errors) == fields
    assert all(refused.value.errors.values())


def test_refusals_are_in_the_callers_language(ev, finished):
    with translation.override("zh-hans"), pytest.raises(reports.ReportRefused) as refused:
        reports.check_report("ranking", user=ev.assisting, object_id=None, filters={"program": "x", "year": 1800})
    assert re.search(r"[\u4e00-\u9fff]", refused.value.errors["filters.year"])


def test_unknown_kind_and_bad_objects_are_refused(ev, finished):
    cases = [
        ("invoice", 1, {}, "kind", 400),
        ("project", None, {}, "object", 400),
        ("project", "abc", {}, "object", 400),
        ("project", True, {}, "object", 400),
        ("project", 2**70, {}, "object", 404),
        ("project", 0, {}, "object", 404),
        ("scorecard", 1, {"year": 2015}, "filters.year", 400),
        ("project", 1, [], "filters", 400),
        ("ranking", 5, {"program": ev.program.code}, "object", 400),
    ]
    for kind, object_id, filters, field, status in cases:
        with pytest.raises(reports.ReportRefused) as refused:
            reports.check_report(kind, user=ev.assisting, object_id=object_id, filters=filters)
        assert (field in refused.value.errors, refused.value.status) == (True, status), (kind, object_id)


# --- project dossier ---------------------------------------------------------------------------------------


def png(width: int = 320, height: int = 200) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def dossier(ev):
    """疏附县职业学校实训楼 with what a dossier shows: money, a report, inspections, a rectification, a timeline,
    a photo and a PDF document."""
    project = ev.shufu_building
    FundFlowFactory(pairing=ev.shufu, project_id=project.pk, kind=FlowKind.DISBURSEMENT, amount=Decimal("1500000.00"))
    ProgressReportFactory(project=project, period_end=dt.date(YEAR, 8, 31), physical_progress=45)
    Inspection.objects.create(project=project, date=dt.date(YEAR, 11, 2), kind="routine", result="passed")
    Rectification.objects.create(project=project, finding="消防通道堵塞", deadline=dt.date(YEAR + 1, 1, 15))
    history_record(obj=project, action="approve", actor=ev.coordinator, from_state="proposed", to_state="approved")
    DocumentFactory(
        project=project,
        kind="photo",
        title="主体结构封顶照片",
        file=FileField(filename="site.png", data=png()),
        content_type="image/png",
    )
    DocumentFactory(project=project, kind="report", title="第三季度施工报告")
    return project


@pytest.mark.parametrize("language", LANGUAGES)
def test_project_dossier_shows_the_pages_data_and_embeds_the_photo(ev, dossier, language):
    html = page(ev.assisting, f"/projects/{dossier.pk}/", language)
    pdf = reports.render_report("project", user=ev.assisting, object_id=dossier.pk, filters={}, language=language)
    text = text_of(pdf)
    flat = squeezed(text)
    assert "疏附县职业学校实训楼" in flat
    assert dossier.code in text
    for figure in ("budget", "disbursed"):
        value = re.search(rf'data-figure="{figure}"[^>]*>([^<]+)<', html).group(1)
        assert squeezed(unescape(value)) in flat, figure
    assert "消防通道堵塞" in flat  # the rectification
    assert "主体结构封顶照片" in flat
    assert "第三季度施工报告" in flat
    assert "2015-11-02" in text
    assert "2015-08-31" in text
    # The timeline's action label, translated as the page shows it.
    with translation.override(language):
        label = capfirst(action_label("approve"))
    assert label in html
    assert squeezed(label) in flat
    if language == "zh-hans":
        assert "疏附县" in flat
    else:
        assert "Shufu County" in text
    assert len(images_in(pdf)) == 1
    assert b"/Image" in pdf


def test_a_photo_that_is_not_an_image_is_listed_but_not_drawn(ev, dossier):
    DocumentFactory(
        project=dossier,
        kind="photo",
        title="损坏的照片",
        file=FileField(filename="broken.png", data=b"\x89PNG\r\n\x1a\nnot really"),
        content_type="image/png",
    )
    pdf = reports.render_report("project", user=ev.recipient, object_id=dossier.pk, filters={}, language="zh-hans")
    assert "损坏的照片" in squeezed(text_of(pdf))
    assert len(images_in(pdf)) == 1  # the good photo only


def test_project_outside_the_callers_scope_is_not_found(ev, dossier):
    with pytest.raises(reports.ReportRefused) as refused:
        reports.render_report("project", user=ev.outsider, object_id=dossier.pk, filters={}, language="en")
    assert refused.value.status == 404
    assert set(refused.value.errors) == {"object"}
    assert reports.check_report("project", user=ev.recipient, object_id=dossier.pk, filters={}) == (
        f"project-{dossier.code}"
    )


# --- nothing leaves the machine ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/logo.png",
        "https://example.com/font.woff2",
        "ftp://example.com/x.css",
        "data:image/png;base64,iVBORw0KGgo=",
        "file:///etc/passwd",
        "file://" + str(settings.BASE_DIR / "static" / ".." / "manage.py"),
        "duikou-photo:1",
    ],
)
def test_the_fetcher_refuses_anything_but_the_projects_own_files(url):
    with pytest.raises(ValueError, match="only the project's own files"):
        pdf.LocalFetcher().fetch(url)


def test_the_fetcher_reads_the_projects_static_files():
    css = settings.BASE_DIR / "static" / "duikou" / "report.css"
    response = pdf.LocalFetcher().fetch(css.resolve().as_uri())
    assert b"@page" in response.read()


def test_a_long_table_keeps_its_rows_whole_and_repeats_its_header(ev, dossier):
    for day in range(90):
        Inspection.objects.create(
            project=dossier,
            date=dt.date(YEAR, 1, 1) + dt.timedelta(days=day),
            kind="routine",
            result="failed",
            findings=f"第{day}号检查发现：外墙保温层施工不规范，需要返工处理并重新报验。",
        )
    pdf = reports.render_report("project", user=ev.assisting, object_id=dossier.pk, filters={}, language="en")
    pages = text_of(pdf).split("\f")
    with_rows = [p for p in pages if re.search(r"外墙保温层", p)]
    assert len(with_rows) >= 2
    # Each page the inspections run onto starts them under the table's header again.
    assert all(re.search(r"Date\s+Kind\s+Result\s+Findings", p) for p in with_rows)
    # No row is cut: each finding's number appears with its date, on one page.
    for day in range(90):
        on = (dt.date(YEAR, 1, 1) + dt.timedelta(days=day)).isoformat()
        assert sum(on in p and f"第{day}号" in squeezed(p) for p in pages) == 1, on


def test_what_users_typed_cannot_reach_out(ev, dossier, monkeypatch):
    dossier.title = (
        '学校</style><img src="http://example.com/x.png"><link rel=stylesheet href="https://example.com/a.css">'
    )
    dossier.save(update_fields=["title"])
    asked: list[str] = []
    fetch = pdf.LocalFetcher.fetch

    def spy(self, url, headers=None):
        asked.append(url)
        return fetch(self, url, headers)

    monkeypatch.setattr(pdf.LocalFetcher, "fetch", spy)
    made = reports.render_report("project", user=ev.assisting, object_id=dossier.pk, filters={}, language="zh-hans")
    assert squeezed(text_of(made)).count("学校</style>") >= 2  # shown as text, in the body and the page header
    assert len(images_in(made)) == 1  # the photo, and no other image
    # WeasyPrint asked for the photo only: the typed markup was text, not an image or a stylesheet to fetch.
    assert [url.split(":")[0] for url in asked] == [pdf.PHOTO_SCHEME]
