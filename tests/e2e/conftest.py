"""A live server and headless Chromium (Debian's, driven by Playwright) for browser tests.

Pages are loaded as Jira loads them: JWT-signed URLs of the running app, with the fakes of FME
and Jira behind it. Atlassian's all.js is either blocked (the pages must work without it) or
replaced by ``fake_all.js``, which records what a page asks of Jira. Every test fails if a page
throws, logs an error, or requests anything but the app and all.js.

``FMEJIRA_SCREENSHOTS=1`` saves the screenshots to docs/screenshots/.
"""

import json
import os
import shutil
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from fmejira.extensions import db
from tests.fakes import LocalServer
from tests.forge.fixtures import forge_app, forge_jira, forge_site, keys  # noqa: F401
from tests.pages.fixtures import connect_flags, fme_flags  # noqa: F401  (fixtures)
from tests.pages.helpers import signed

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ALL_JS = "https://connect-cdn.atl-paas.net/all.js"
FAKE_ALL_JS = (Path(__file__).parent / "fake_all.js").read_text()
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SIDEBAR = {"width": 360, "height": 560}  # about the width of Jira's issue sidebar


@pytest.fixture(scope="session")
def browser():
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="Playwright is not installed (pip install playwright)"
    )
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def app_server(app):
    server = LocalServer(app, "live-app", poll_interval=0.05)
    yield server.origin
    server.stop()


class Browsing:
    """One browser tab on the live app, and what it did."""

    def __init__(self, page, server: str):
        self.page = page
        self.server = server
        self.problems: list[str] = []
        self.allowed = ["net::ERR_FAILED"]  # all.js, blocked
        self.elsewhere: list[str] = []
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        page.on("console", self._console)
        page.on("request", self._request)
        page.route(ALL_JS, lambda route: route.abort())

    def _console(self, message):
        if message.type == "error" and not any(text in message.text for text in self.allowed):
            self.problems.append(f"console: {message.text}")

    def allow_console(self, text: str) -> None:
        """An error the test provokes on purpose (the browser logs failed requests)."""
        self.allowed.append(text)

    def _request(self, request):
        if urlsplit(request.url).netloc != urlsplit(self.server).netloc and request.url != ALL_JS:
            self.elsewhere.append(request.url)

    def expect_elsewhere(self, prefix: str) -> None:
        """A request outside the app the test expects (a redirect into a Jira site)."""
        self.page.on(
            "request",
            lambda request: request.url.startswith(prefix) and self.elsewhere.remove(request.url),
        )

    def with_jira(self, custom_data: dict | None = None, fresh_token: str | None = None):
        """Serve the recording all.js, with a dialog's custom data and a context token."""
        self.page.add_init_script(
            f"window.__fake = {{customData: {_js(custom_data)}, token: {_js(fresh_token)}}};"
        )
        self.page.unroute(ALL_JS)
        self.page.route(
            ALL_JS,
            lambda route: route.fulfill(body=FAKE_ALL_JS, content_type="text/javascript"),
        )
        return self

    def open(self, site, path: str, account: str | None = "account-7", size=SIDEBAR):
        """Load ``path`` as Jira would: the app's URL with a fresh real-qsh JWT."""
        db.session.commit()  # the live server must not wait on this thread's transaction
        self.page.set_viewport_size(size)
        self.page.goto(self.server + signed(site, path, account))
        return self.page

    def jira_calls(self) -> list:
        return self.page.evaluate("window.AP.calls")

    def wait_for_jira_call(self, name: str, timeout: float = 5.0) -> list:
        """The page's calls once it made ``name`` (wait_for_function would need unsafe-eval)."""
        deadline = time.monotonic() + timeout
        while not any(call[0] == name for call in self.jira_calls()):
            assert time.monotonic() < deadline, f"the page never called AP.{name}"
            self.page.wait_for_timeout(50)
        return self.jira_calls()


def _js(value) -> str:
    return json.dumps(value)


@pytest.fixture
def browsing(browser, app_server):
    context = browser.new_context(locale="en-US", timezone_id="UTC")
    tab = Browsing(context.new_page(), app_server)
    yield tab
    context.close()
    assert tab.problems == [], tab.problems
    assert tab.elsewhere == [], f"requests beyond the app: {tab.elsewhere}"


def screenshot(page, name: str, fit: bool = True) -> None:
    """Saved to docs/screenshots/ only when FMEJIRA_SCREENSHOTS=1 (they are committed).

    ``fit`` crops to the content, as Jira sizes its iframes; else the viewport (for a modal).
    """
    if os.environ.get("FMEJIRA_SCREENSHOTS") != "1":
        return
    if fit:
        bottom = page.evaluate(
            "Math.ceil(document.querySelector('main').getBoundingClientRect().bottom)"
        )
        page.set_viewport_size({"width": page.viewport_size["width"], "height": bottom + 16})
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=fit)
