"""Playwright fixtures: one headless Chromium per run, a fresh browser context per page.

A browser test fails when any page it opened logged a console error, threw an uncaught
exception or violated the Content Security Policy (which forbids inline script). The only
console errors tolerated are Chromium's "Failed to load resource: ... status of N" for a
document the test navigated to and which answered N (a 403 or a form re-rendered with 400),
whose content is what the test asserts on. A failing test leaves a screenshot of every page it
opened in test-artifacts/.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_TIMEOUT_MS = 10_000
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Runs in every page before its own scripts; CDP-injected, so the CSP does not block it.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  const blocked = event.blockedURI || "inline code";
  console.error(`CSP violation: ${event.violatedDirective} blocked ${blocked}`);
});
"""
FAILED_DOCUMENT = re.compile(
    r"^Failed to load resource: the server responded with a status of (\d+)"
)


@dataclass
class BrowserLog:
    """What the pages of one test reported, checked once the test body has run."""

    pages: list[Page] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (message, url)
    error_documents: set[tuple[str, int]] = field(default_factory=set)  # (url, status)

    def watch(self, page: Page) -> None:
        self.pages.append(page)
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append((f"uncaught: {error}", page.url)))
        page.on("response", self._on_response)

    def _on_console(self, message) -> None:
        if message.type == "error":
            self.errors.append((message.text, message.location.get("url", "")))

    def _on_response(self, response) -> None:
        if response.status >= 400 and response.request.is_navigation_request():
            self.error_documents.add((response.url, response.status))

    def problems(self) -> list[str]:
        found = []
        for text, url in self.errors:
            failed = FAILED_DOCUMENT.match(text)
            if failed and (url, int(failed.group(1))) in self.error_documents:
                continue  # the page the test opened on purpose, e.g. the 403 page
            found.append(f"{text} (at {url or 'unknown url'})")
        return found


_log_key = pytest.StashKey[BrowserLog]()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM}, which is missing")
    expect.set_options(timeout=DEFAULT_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def new_page(request, browser: Browser, live_server: str) -> Iterator[Callable[[], Page]]:
    """Open a page in a brand-new browser context: another device, sharing no cookies."""
    log = request.node.stash.setdefault(_log_key, BrowserLog())
    contexts = []

    def open_page() -> Page:
        context = browser.new_context(base_url=live_server)
        contexts.append(context)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.set_default_navigation_timeout(DEFAULT_TIMEOUT_MS)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        page = context.new_page()
        log.watch(page)
        return page

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[[], Page]) -> Page:
    """A page in its own browser context, at the live server (relative URLs work)."""
    return new_page()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """Fail a test whose pages logged errors; screenshot its pages when it fails."""
    log = item.stash.get(_log_key, None)
    try:
        result = yield
    except BaseException as error:
        if log and not isinstance(error, (pytest.skip.Exception, KeyboardInterrupt)):
            _screenshot(item, log)
            if problems := log.problems():
                item.add_report_section("call", "browser console", "\n".join(problems))
        raise
    if log and (problems := log.problems()):
        _screenshot(item, log)
        pytest.fail(
            "the browser reported errors:\n" + "\n".join(f"  {p}" for p in problems),
            pytrace=False,
        )
    return result


def _screenshot(item: pytest.Item, log: BrowserLog) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)
    for number, page in enumerate(log.pages, start=1):
        if page.is_closed():
            continue
        path = ARTIFACTS / f"{stem}-page{number}.png"
        try:
            page.screenshot(path=str(path), full_page=True)
        except Exception as error:  # a broken page must not hide the test's own failure
            item.add_report_section("call", "screenshot", f"{path}: {error}")
        else:
            item.add_report_section("call", "screenshot", str(path))
