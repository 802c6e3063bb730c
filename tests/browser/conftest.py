"""Playwright on Debian's Chromium (never a downloaded browser) against pytest-django's live server."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls the tests make between
# browser steps are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("DUIKOU_CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts"


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        # Not a skip: a browser test that cannot run is a failure, with the fix in one sentence.
        pytest.fail(
            f"Chromium is not at {CHROMIUM}: run 'apt-get install chromium fonts-noto-cjk' (make test does this as root)."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


def watch_errors(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Collect the page's console errors and failed requests into `page.console_errors`.

    A request the browser itself abandons because the page moved on (a favicon still loading when a form is
    submitted) fails with net::ERR_ABORTED; that is navigation, not a fault of the page, so it is not collected.
    """
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on(
        "requestfailed",
        lambda r: None if r.failure == "net::ERR_ABORTED" else errors.append(f"request failed: {r.url} ({r.failure})"),
    )
    page.console_errors = errors
    return errors


@pytest.fixture
def page(browser, live_server) -> Iterator[object]:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    watch_errors(pg)
    pg.base_url = live_server.url  # type: ignore[attr-defined]
    yield pg
    context.close()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
