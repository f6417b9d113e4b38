"""End to end in headless Chromium: the glance, connecting and disconnecting, configuration."""

import pytest

from fmejira.domain import links
from fmejira.models import LinkSource
from fmejira.sync import refresh
from tests.conftest import ADMIN, FME_KEY, USER
from tests.e2e.conftest import screenshot
from tests.support import jira_jwt

pytestmark = pytest.mark.slow

GLANCE = "/jira/glance?issueKey=ABC-1&issueId=10001"


def signed(site, path, account="account-7"):
    return f"{path}{'&' if '?' in path else '?'}jwt={jira_jwt(site, path, sub=account)}"


def open_page(page, app_server, site, path, account="account-7"):
    page.goto(app_server + signed(site, path, account), wait_until="domcontentloaded")


@pytest.fixture
def fme_flags(configured_site, fake_fme):
    fake_fme.add_flag(
        "ws-checkout",
        "new-checkout",
        default_treatment="on",
        default_rule=[{"treatment": "on", "size": 50}, {"treatment": "off", "size": 50}],
    )
    fake_fme.add_flag("ws-checkout", "dark-mode", killed=True)
    fake_fme.add_flag(
        "ws-checkout",
        "search-v2",
        default_treatment="on",
        rules=[
            {
                "condition": {"combiner": "AND", "matchers": []},
                "buckets": [{"treatment": "on", "size": 100}],
            }
        ]
        * 3,
    )
    refresh.refresh_project(configured_site.id, "ws-checkout")
    return configured_site


def connect(site, *names):
    for name in names:
        links.connect(site, "ws-checkout", name, "ABC-1", source=LinkSource.JIRA)
    refresh.refresh_project(site.id, "ws-checkout")


def test_glance_with_no_flags(page, app_server, fme_flags):
    open_page(page, app_server, fme_flags, GLANCE)
    assert page.get_by_text("No feature flags are connected to ABC-1 yet").is_visible()
    screenshot(page, "glance-empty")


def test_glance_with_one_flag(page, app_server, fme_flags):
    connect(fme_flags, "new-checkout")
    open_page(page, app_server, fme_flags, GLANCE)
    flag = page.locator(".flag")
    assert flag.count() == 1
    assert "50% on" in flag.inner_text() and flag.locator(".lozenge").text_content() == "On"
    assert "50% on" in page.locator(".flag-name").get_attribute("title")  # hover shows the plan
    screenshot(page, "glance-one-flag")


def test_glance_with_several_flags(page, app_server, fme_flags):
    connect(fme_flags, "new-checkout", "dark-mode", "search-v2")
    open_page(page, app_server, fme_flags, GLANCE)
    assert page.locator(".flag").count() == 3
    assert page.locator(".lozenge-off").count() == 1
    assert "3 rules" in page.locator(".flags").inner_text()
    assert page.locator(".count").inner_text() == "3"
    screenshot(page, "glance-several-flags")


def test_connect_and_disconnect_from_the_panel(page, app_server, fme_flags):
    open_page(page, app_server, fme_flags, GLANCE)
    page.get_by_role("button", name="Connect flag").click()
    page.get_by_label("Search flags of the connected FME projects").fill("check")
    page.get_by_label("new-checkout · Checkout").check()
    screenshot(page, "glance-connect")
    page.get_by_role("button", name="Connect selected").click()
    page.wait_for_selector(".flag")
    assert page.locator(".flag-name").all_inner_texts() == ["new-checkout"]
    page.get_by_role("button", name="Disconnect new-checkout from ABC-1").click()
    page.wait_for_selector("text=No feature flags are connected to ABC-1 yet")
    assert page.locator(".flag").count() == 0


def test_configuration_flow_as_admin(page, app_server, site, fake_fme):
    page.set_viewport_size({"width": 900, "height": 900})
    open_page(page, app_server, site, "/jira/configure", ADMIN)
    page.wait_for_selector("text=Not configured")
    page.get_by_role("textbox", name="API key").fill(FME_KEY)
    page.get_by_role("button", name="Check key").click()
    page.get_by_role("checkbox", name="Checkout").check()
    page.get_by_label("Primary environment of Checkout").select_option("env-prod")
    page.get_by_role("button", name="Save").click()
    page.wait_for_selector(".lozenge-authorized")
    assert (
        page.locator("#webhook-url")
        .input_value()
        .startswith("https://fme-jira.example.com/webhooks/fme/")
    )
    screenshot(page, "configure-admin")
    page.get_by_role("button", name="Test connection").click()
    page.wait_for_selector("text=Connection checked.")


def test_configuration_page_for_a_non_admin(page, app_server, configured_site):
    page.set_viewport_size({"width": 900, "height": 400})
    open_page(page, app_server, configured_site, "/jira/configure", USER)
    assert page.get_by_text("Only Jira administrators can configure").is_visible()
    assert page.locator("#api-key").count() == 0
    screenshot(page, "configure-non-admin")
