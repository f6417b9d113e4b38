"""The dialogs as Jira opens them (no issue in the URL, the glance's custom data through all.js),
and the full page the Releases field leads to."""

import pytest
import sqlalchemy as sa

from fmejira.extensions import db
from fmejira.models import Link
from tests.e2e.conftest import screenshot

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect
pytestmark = pytest.mark.slow

DIALOG = {"width": 600, "height": 480}  # Jira's "medium" dialog
PAGE = {"width": 900, "height": 700}


def test_details_dialog_opened_by_jira(browsing, configured_site, connect_flags):
    connect_flags("new-checkout", "search-v2")
    page = browsing.with_jira(custom_data={"issueKey": "ABC-1"}).open(
        configured_site, "/jira/dialogs/flag-details", size=DIALOG
    )
    expect(page.locator(".detail")).to_have_count(2)
    expect(page.locator(".detail").first).to_contain_text("Last saved in FME")
    expect(page.get_by_role("link", name="Open search-v2 in FME")).to_be_visible()
    screenshot(page, "dialog-details")


def test_connect_dialog_opened_by_jira_closes_when_done(browsing, configured_site, fme_flags):
    page = browsing.with_jira(custom_data={"issueKey": "ABC-1"}).open(
        configured_site, "/jira/dialogs/connect-flag", size=DIALOG
    )
    page.get_by_label("Search flags in the connected FME projects").fill("dark")
    expect(page.locator(".results li")).to_have_count(1)
    page.get_by_role("checkbox", name="dark-mode").check()
    screenshot(page, "dialog-connect")
    page.get_by_role("button", name="Connect selected").click()
    calls = browsing.wait_for_jira_call("dialog.close")
    assert ["dialog.close", {"connected": 1}] in calls
    assert ["events.on", "dialog.submit"] in calls  # Jira's own Submit button connects too
    db.session.expire_all()
    assert [link.flag.name for link in db.session.scalars(sa.select(Link))] == ["dark-mode"]


def test_a_dialog_outside_jira_without_an_issue_says_what_to_do(browsing, configured_site):
    page = browsing.open(configured_site, "/jira/dialogs/connect-flag", size=DIALOG)
    expect(page.get_by_role("alert")).to_have_text(
        "Open this from the Feature flags panel of a Jira issue."
    )


def test_the_releases_page_lists_and_connects(browsing, configured_site, connect_flags):
    connect_flags("new-checkout")
    page = browsing.open(configured_site, "/jira/pages/connect-flag?issueKey=ABC-1", size=PAGE)
    expect(page.locator(".flag")).to_have_count(1)
    expect(page.get_by_role("checkbox", name="new-checkout")).to_be_disabled()
    page.get_by_role("checkbox", name="search-v2").check()
    screenshot(page, "page-connect-flag")
    page.get_by_role("button", name="Connect selected").click()
    expect(page.locator(".flag")).to_have_count(2)
    expect(page.get_by_role("checkbox", name="search-v2")).to_be_disabled()
