"""Printing a page (and Chromium's "Save as PDF"): the content only — no menu, filter form, buttons or pagination —
with the tables at full width, each row kept whole and the heading row repeated on every page
(static/duikou/duikou.css, `@media print`)."""

import pytest
from playwright.sync_api import expect

from projects import services as project_services
from tests.browser.conftest import shot
from tests.browser.test_login_and_language import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_printed_list_has_no_navigation_and_whole_table_rows(page, world, pw):
    for n in range(60):  # more rows than one printed page holds
        project_services.project_create(by=None, pairing=pw.shufu, title=f"疏附县打印测试项目 {n:02d}")
    sign_in(page, world.coordinator.username)
    page.goto(page.base_url + "/projects/")
    expect(page.locator("nav.dk-navbar")).to_be_visible()

    page.emulate_media(media="print")

    expect(page.locator("nav.dk-navbar")).to_be_hidden()
    expect(page.locator("form[role=search]")).to_be_hidden()
    expect(page.locator("main .btn").first).to_be_hidden()
    expect(page.locator("main table")).to_be_visible()
    styles = page.evaluate(
        """() => {
          const row = document.querySelector("main table tbody tr");
          const head = document.querySelector("main table thead");
          const wrap = document.querySelector("main .table-responsive");
          return [getComputedStyle(row).breakInside, getComputedStyle(head).display,
                  wrap ? getComputedStyle(wrap).overflowX : "visible"];
        }"""
    )
    assert styles == ["avoid", "table-header-group", "visible"]
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert pages >= 2, pages  # the 60 rows run over pages, the heading repeated on each
    shot(page, "print-projects")
    assert page.console_errors == []
