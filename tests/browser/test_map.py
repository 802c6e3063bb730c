"""The map in a real browser: nothing loads from outside the server (a request to any other host fails the test),
hovering an area shows its figures and marks its table row, and a click opens its pairings."""

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from tests.atlas.conftest import make_map_world
from tests.browser.conftest import shot
from tests.browser.test_login_and_language import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A point of the shape that is the topmost element there (not under a line or a project's dot).
FIND_POINT = """(code) => {
  const el = document.querySelector(`#map path[data-code="${code}"]`);
  const box = el.getBoundingClientRect();
  for (let i = 1; i < 20; i++) for (let j = 1; j < 20; j++) {
    const x = box.left + box.width * i / 20, y = box.top + box.height * j / 20;
    if (document.elementFromPoint(x, y) === el) return [x, y];
  }
  return null;
}"""


def test_the_map_loads_nothing_from_outside_and_hover_and_click_give_figures_and_links(page, live_server, world, pw):
    make_map_world(world, pw)
    server = urlparse(live_server.url).netloc
    outside: list[str] = []

    def guard(route):  # type: ignore[no-untyped-def]
        if urlparse(route.request.url).netloc != server:
            outside.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    page.route("**/*", guard)
    sign_in(page, world.coordinator.username)
    page.goto(page.base_url + f"/map/?program={pw.program.code}&measure=fulfilment")
    expect(page.locator("#map")).to_be_visible()
    expect(page.locator("#map-table tr[data-area='653121']")).to_be_visible()

    page.locator("#map").scroll_into_view_if_needed()
    point = page.evaluate(FIND_POINT, "653121")
    assert point, "Shufu is hidden under lines and dots"
    page.mouse.move(*point)
    tip = page.locator("#map-tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text(re.compile("疏附县|Shufu County"))
    expect(tip).to_contain_text("65 %")
    expect(page.locator("#map-table tr[data-area='653121']")).to_have_class(re.compile("dk-map-hl"))
    shot(page, "map-xinjiang-hover")

    page.mouse.move(5, 5)
    expect(tip).to_be_hidden()

    # Printed: the map, its legend and its table, without the controls.
    page.emulate_media(media="print")
    expect(page.locator("#map")).to_be_visible()
    expect(page.locator("#map-legend")).to_be_visible()
    expect(page.locator("#map-controls")).to_be_hidden()
    page.emulate_media(media="screen")

    assert outside == [], outside
    assert page.console_errors == []

    page.mouse.click(*point)
    expect(page).to_have_url(re.compile(r"/pairings/\?program=xinjiang-2010&recipient_region=653121"))
    # The guard is not idle: a request to another host is caught (the page's CSP would refuse it before it left).
    with pytest.raises(PlaywrightError):
        page.goto("http://192.0.2.1/probe.png")
    assert outside == ["http://192.0.2.1/probe.png"]
