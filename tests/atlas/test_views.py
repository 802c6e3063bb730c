"""The map page: the programme's recipients shaded by the chosen figure, lines from their assisting parties, the
same figures in the table, in both languages; the dashboard, programme and pairing pages lead to it."""

import re

import pytest
from django.test import Client

from atlas.selectors import PALETTE
from tests.factories import AnnualMandateFactory, FundFlowFactory, PairingFactory, RegionFactory

pytestmark = pytest.mark.django_db


def _client(user, language: str = "zh-hans") -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def _fill(html: str, code: str) -> str:
    match = re.search(rf'<path d="[^"]*" fill="([^"]+)" data-code="{code}">', html)
    assert match, code
    return match.group(1)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", ["对口支援地图", "任务完成率", "南海诸岛", "受援地区", "支援方"]),
        ("en", ["Map of paired assistance", "Mandate fulfilment", "South China Sea Islands", "Recipient areas"]),
    ],
)
def test_the_xinjiang_programme_is_shaded_by_fulfilment_with_lines(world, pw, mw, language, words):
    response = _client(world.coordinator, language).get(f"/map/?program={pw.program.code}&measure=fulfilment")
    assert response.status_code == 200
    html = response.content.decode()
    for word in words:
        assert word in html, word
    # Shufu 65 % (the third class: 50–75 %), Aksu 125 % (fulfilled: the darkest), Jiashi no mandate (hatched); its
    # counties outside any pairing plain.
    assert _fill(html, "653121") == PALETTE[2]
    assert _fill(html, "652922") == PALETTE[4]  # a county of Aksu prefecture takes the prefecture's shading
    assert _fill(html, "653129") == "url(#map-nodata)"
    assert _fill(html, "653122") == "#f1f1ee"
    # Each shaded shape is a link with its figures in its title.
    assert re.search(
        r'<a href="/pairings/\?program=xinjiang-2010&amp;recipient_region=653121" data-area="653121">', html
    )
    title = re.search(r'data-code="653121"><title>([^<]+)</title>', html).group(1)
    assert "65 %" in title
    # Lines: Guangdong and Shenzhen → Shufu, Jiangsu → Jiashi, Zhejiang → Aksu.
    lines = re.search(r'<g class="dk-map-lines">(.*?)</g>', html, re.S).group(1)
    assert lines.count("<path") == 4
    # The 34 provincial-level units, Taiwan, Hong Kong and Macao among them, and the inset's maritime line.
    provinces = re.search(r'<g class="dk-map-provinces">(.*?)</g>', html, re.S).group(1)
    assert len(set(re.findall(r'data-code="(\d{6})"', provinces))) == 34
    assert html.count('class="dk-map-dash"') == 10
    # The table lists the same figures.
    row = re.search(r'<tr data-area="653121">(.*?)</tr>', html, re.S).group(1)
    assert 'data-value="0.6500"' in row
    assert re.search(r'data-figure="projects" data-value="4"', row)
    assert "4 " in html  # the projects drawn are counted under the legend
    assert 'id="map-points-note"' in html
    assert f'href="/api/v1/map/?program={pw.program.code}&amp;level=county&amp;measure=fulfilment"' in html


def test_english_page_has_no_chinese_outside_names(world, pw, mw):
    html = _client(world.coordinator, "en").get(f"/map/?program={pw.program.code}").content.decode()
    chrome = re.sub(r"<(title|td|option|a)[^>]*>.*?</\1>", "", html, flags=re.S)
    leftovers = [w for w in re.findall(r"[\u4e00-\u9fff]+", chrome) if w not in ("简体中文",)]
    assert leftovers == []


def test_an_official_sees_only_their_pairings_on_the_page(world, pw, mw):
    html = _client(world.outsider).get(f"/map/?program={pw.program.code}").content.decode()
    assert re.findall(r'<tr data-area="(\d+)">', html) == ["653129"]
    assert _fill(html, "653121") == "#f1f1ee"


def test_a_visitor_must_sign_in(pw):
    response = Client().get(f"/map/?program={pw.program.code}")
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("query", ["program=nonesuch", "level=township", "measure=budget", "view=world"])
def test_a_bad_choice_is_refused_naming_the_field(world, pw, query):
    response = _client(world.coordinator, "en").get(f"/map/?{query}")
    assert response.status_code == 400
    field = query.split("=")[0]
    html = response.content.decode()
    assert re.search(rf'<select name="{field}" class="form-select is-invalid"', html), html


def test_the_programme_area_view_zooms_to_its_provinces_without_the_inset(world, pw, mw):
    client = _client(world.coordinator, "en")
    whole = client.get(f"/map/?program={pw.program.code}").content.decode()
    area = client.get(f"/map/?program={pw.program.code}&view=area").content.decode()
    box = re.compile(r'<svg id="map" class="dk-map" viewBox="(-?\d+) (-?\d+) (\d+) (\d+)"')
    assert box.search(whole).groups()[:2] == ("0", "0")
    x, _y, width, _height = map(int, box.search(area).groups())
    assert x < 100
    assert width < 1000
    assert "dk-map-inset" in whole
    assert "dk-map-inset" not in area
    assert 'data-code="653121"' in area


def test_levels_and_measures(world, pw, mw):
    client = _client(world.coordinator, "en")
    for level in ("province", "prefecture", "county"):
        for measure in ("fulfilment", "received", "projects", "score"):
            response = client.get(f"/map/?program={pw.program.code}&level={level}&measure={measure}")
            assert response.status_code == 200, (level, measure)
    html = client.get(f"/map/?program={pw.program.code}&level=province&measure=score").content.decode()
    assert re.findall(r'<tr data-area="(\d+)">', html) == ["650000"]
    assert "shaded by the lowest" in html


def test_the_page_leads_there_from_the_dashboard_the_programme_and_the_pairing(world, pw):
    client = _client(world.coordinator, "en")
    target = f'href="/map/?program={pw.program.code}"'
    assert 'href="/map/"' in client.get("/").content.decode().split('id="panel-map"')[1]
    assert target in client.get(f"/programmes/{pw.program.code}/").content.decode()
    assert target in client.get(f"/pairings/{pw.shufu.pk}/").content.decode()
    assert re.search(r'class="nav-link"\s+href="/map/"', client.get("/").content.decode())  # the navigation


def test_the_query_count_does_not_grow_with_the_areas(world, pw, mw, django_assert_max_num_queries):
    client = _client(world.coordinator)
    url = f"/map/?program={pw.program.code}&level=county&measure=fulfilment"
    client.get(url)  # the boundaries and the session are read once
    with django_assert_max_num_queries(20) as before:
        client.get(url)
    for i in range(6):
        county = RegionFactory(code=f"65312{2 + i}", name=f"县{i}", level="county", parent=world.kashgar)
        pairing = PairingFactory(program=pw.program, recipient_region=county)
        AnnualMandateFactory(pairing=pairing, year=2015, funds_required="100.00")
        FundFlowFactory(pairing=pairing, amount="50.00")
    with django_assert_max_num_queries(len(before.captured_queries)):
        html = client.get(url).content.decode()
    assert len(re.findall(r"<tr data-area=", html)) == 9
