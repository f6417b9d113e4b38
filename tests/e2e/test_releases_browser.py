"""The Releases field's "Connect feature flag" when the app cannot tell the person's site."""

import pytest

from tests.e2e.conftest import screenshot
from tests.support import make_tenant

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect
pytestmark = pytest.mark.slow

JIRA_PAGE = "https://acme.atlassian.net/plugins/servlet/ac/fme-jira-test/fme-connect-flag-page"


def test_choosing_the_site_leads_into_jira(browsing, app):
    make_tenant("jira:acme", base_url="https://acme.atlassian.net")
    page = browsing.page
    page.set_viewport_size({"width": 900, "height": 500})
    browsing.expect_elsewhere(JIRA_PAGE)
    browsing.allow_console("status of 400")
    page.goto(f"{browsing.server}/releases/connect-flag?issueKey=ABC-1")
    expect(page.get_by_role("heading")).to_have_text("Which Jira site are you using?")
    screenshot(page, "releases-choose-site")
    page.get_by_label("Jira site").fill("acme.atlassian.net")
    with page.expect_response(lambda response: "site=" in response.url) as submitted:
        page.get_by_role("button", name="Open in Jira").click()
    assert submitted.value.status == 302
    assert submitted.value.headers["location"] == f"{JIRA_PAGE}?ac.issueKey=ABC-1"
