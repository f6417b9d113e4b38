"""The glance in a real browser: zero, one and several flags, details, connect, disconnect."""

import re

import pytest
import sqlalchemy as sa

from fmejira.extensions import db
from fmejira.models import ConnectionStatus, FmeConnection, Link
from tests.conftest import ADMIN, USER
from tests.e2e.conftest import screenshot
from tests.support import context_jwt

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect
pytestmark = pytest.mark.slow

GLANCE = "/jira/glance?issueKey=ABC-1&issueId=10001"


def linked_flags():
    db.session.expire_all()
    names = db.session.scalars(sa.select(Link)).all()
    db.session.commit()
    return sorted(link.flag.name for link in names)


def test_no_flags_yet(browsing, configured_site, fme_flags):
    page = browsing.open(configured_site, GLANCE)
    expect(page.get_by_text("No feature flags are connected to ABC-1 yet.")).to_be_visible()
    expect(page.get_by_role("button", name="Connect flag")).to_be_visible()
    screenshot(page, "glance-empty")


def test_one_flag_and_its_rollout_plan_on_hover(browsing, configured_site, connect_flags):
    connect_flags("new-checkout")
    page = browsing.open(configured_site, GLANCE)
    flag = page.locator(".flag")
    expect(flag).to_have_count(1)
    expect(flag.locator(".lozenge")).to_have_text("On")
    expect(flag).to_contain_text("Checkout · Production")
    expect(flag).to_contain_text("50% on")
    expect(flag).to_contain_text("Changed 3 hours ago")
    expect(page.locator(".freshness")).to_contain_text("As of")
    name = page.get_by_role("button", name="new-checkout", exact=True)
    name.hover()
    expect(page.get_by_role("tooltip")).to_have_text("Production: On, 50% on; default treatment on")
    expect(name).to_have_accessible_description("Production: On, 50% on; default treatment on")
    screenshot(page, "glance-one-flag")


def test_several_flags_and_each_status_on_hover(browsing, configured_site, connect_flags):
    connect_flags("new-checkout", "dark-mode", "search-v2")
    page = browsing.open(configured_site, GLANCE)
    expect(page.locator(".flag")).to_have_count(3)
    expect(page.locator(".flag .lozenge")).to_have_text(["Killed", "On", "On"])
    expect(page.locator(".flags")).to_contain_text("3 rules")
    screenshot(page, "glance-several-flags")
    summary = page.get_by_role("button", name="3 flags · 2 on")
    summary.focus()  # keyboard users get the tooltip too
    expect(page.locator("#summary-tip")).to_have_text(
        "dark-mode: Killednew-checkout: Onsearch-v2: On"
    )
    screenshot(page, "glance-several-flags-hover")


def test_a_flag_opens_its_details(browsing, configured_site, connect_flags):
    connect_flags("new-checkout", "dark-mode")
    page = browsing.open(configured_site, GLANCE)
    page.get_by_role("button", name="dark-mode", exact=True).click()
    dialog = page.get_by_role("dialog", name="Feature flags of ABC-1")
    expect(dialog).to_be_visible()
    expect(dialog.locator(".detail")).to_have_count(2)
    link = dialog.get_by_role("link", name="Open dark-mode in FME")
    expect(link).to_have_attribute(
        "href", re.compile(r"^https://app\.split\.io/ws/ws-checkout/splits/")
    )
    expect(dialog).to_contain_text("Primary environment")
    expect(dialog).to_contain_text("Last saved in FME")
    screenshot(page, "glance-details", fit=False)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_connect_several_and_disconnect_one_from_the_panel(browsing, configured_site, fme_flags):
    page = browsing.open(configured_site, GLANCE)
    page.get_by_role("button", name="Connect flag").click()
    search = page.get_by_label("Search flags in the connected FME projects")
    expect(search).to_be_focused()
    results = page.locator(".results li")
    expect(results).to_have_count(3)
    search.fill("check")  # choose in one search, then in another
    expect(results).to_have_count(1)
    page.get_by_role("checkbox", name="new-checkout").check()
    search.fill("search")
    expect(results).to_have_text([re.compile("^search-v2")])
    page.get_by_role("checkbox", name="search-v2").check()
    search.fill("")
    expect(results).to_have_count(3)
    expect(page.get_by_role("checkbox", name="new-checkout")).to_be_checked()
    screenshot(page, "glance-connect")
    page.get_by_role("button", name="Connect 2 flags").click()
    expect(page.locator(".flag")).to_have_count(2)
    expect(page.get_by_role("button", name="2 flags · 2 on")).to_be_visible()
    assert linked_flags() == ["new-checkout", "search-v2"]

    page.get_by_role("button", name="Disconnect new-checkout from ABC-1").click()
    expect(page.get_by_text("Disconnect new-checkout from ABC-1? The flag")).to_be_visible()
    page.keyboard.press("Escape")  # changed their mind
    expect(page.locator(".flag-confirm:visible")).to_have_count(0)
    page.get_by_role("button", name="Disconnect new-checkout from ABC-1").click()
    screenshot(page, "glance-disconnect")
    page.get_by_role("button", name="Disconnect", exact=True).click()
    expect(page.locator(".flag")).to_have_count(1)
    expect(page.locator(".flag-name")).to_have_text("search-v2")
    assert linked_flags() == ["search-v2"]


def test_already_connected_flags_cannot_be_chosen_again(browsing, configured_site, connect_flags):
    connect_flags("dark-mode")
    page = browsing.open(configured_site, GLANCE)
    page.get_by_role("button", name="Connect flag").click()
    choice = page.get_by_role("checkbox", name="dark-mode")
    expect(choice).to_be_disabled()
    expect(choice).to_be_checked()
    expect(page.get_by_role("button", name="Connect selected")).to_be_disabled()


def test_not_configured_for_someone_else(browsing, site):
    page = browsing.open(site, GLANCE, USER)
    expect(page.get_by_text("Ask a Jira administrator to connect Harness FME")).to_be_visible()
    expect(page.get_by_role("button", name="Connect flag")).to_have_count(0)
    screenshot(page, "glance-not-configured")


def test_not_configured_for_an_admin(browsing, site):
    page = browsing.open(site, GLANCE, ADMIN)
    link = page.get_by_role("link", name="app's configuration page")
    expect(link).to_have_attribute(
        "href", f"{site.base_url}/plugins/servlet/ac/fme-jira-test/fme-configure"
    )
    expect(link).to_have_attribute("target", "_top")


def test_fme_unreachable_shows_the_last_state_read(browsing, configured_site, connect_flags):
    connect_flags("new-checkout", "dark-mode")
    db.session.scalar(sa.select(FmeConnection)).status = ConnectionStatus.INTERRUPTED
    page = browsing.open(configured_site, GLANCE)
    expect(page.get_by_text("FME can't be reached right now.")).to_be_visible()
    expect(page.locator(".flag")).to_have_count(2)
    screenshot(page, "glance-fme-unreachable")


def test_a_flag_deleted_in_fme(browsing, configured_site, connect_flags, fme_flags):
    from fmejira.sync import refresh

    connect_flags("new-checkout", "dark-mode")
    fme_flags.remove_flag("ws-checkout", "dark-mode")
    refresh.refresh_project(configured_site.id, "ws-checkout")
    page = browsing.open(configured_site, GLANCE)
    expect(page.locator(".lozenge-deleted")).to_have_text("Deleted in FME")
    expect(page.get_by_text("This flag was deleted in FME.")).to_be_visible()
    screenshot(page, "glance-deleted-flag")


def test_inside_jira_the_panel_opens_jira_s_dialogs(browsing, configured_site, connect_flags):
    connect_flags("new-checkout")
    page = browsing.with_jira().open(configured_site, GLANCE)
    page.get_by_role("button", name="new-checkout", exact=True).click()
    page.get_by_role("button", name="Connect flag").click()
    expect(page.locator("#details-dialog")).to_be_hidden()
    expect(page.locator("#connect")).to_be_hidden()
    assert browsing.jira_calls() == [
        ["dialog.create", {"key": "fme-flag-details-dialog", "customData": {"issueKey": "ABC-1"}}],
        ["dialog.create", {"key": "fme-connect-flag-dialog", "customData": {"issueKey": "ABC-1"}}],
        ["events.once", "dialog.close"],
    ]


def test_an_expired_page_token_is_renewed_inside_jira(
    browsing, app, configured_site, connect_flags
):
    connect_flags("new-checkout")
    app.config["PAGE_TOKEN_TTL_SECONDS"] = -60  # the page token is stale on arrival
    browsing.allow_console("status of 401")
    page = browsing.with_jira(fresh_token=context_jwt(configured_site)).open(
        configured_site, GLANCE
    )
    page.get_by_role("button", name="Disconnect new-checkout from ABC-1").click()
    page.get_by_role("button", name="Disconnect", exact=True).click()
    expect(page.get_by_text("No feature flags are connected to ABC-1 yet.")).to_be_visible()
    assert ["context.getToken"] in browsing.jira_calls()


def test_an_expired_page_token_outside_jira_asks_for_a_reload(
    browsing, app, configured_site, connect_flags
):
    connect_flags("new-checkout")
    app.config["PAGE_TOKEN_TTL_SECONDS"] = -60
    browsing.allow_console("status of 401")
    page = browsing.open(configured_site, GLANCE)
    page.get_by_role("button", name="Disconnect new-checkout from ABC-1").click()
    page.get_by_role("button", name="Disconnect", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(
        "This page has been open too long. Reload the Jira page to continue."
    )
    assert linked_flags() == ["new-checkout"]
