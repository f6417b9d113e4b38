"""The configuration page in a real browser: the admin's flow, confirmations, the non-admin."""

import re

import pytest
import sqlalchemy as sa

from fmejira.extensions import db
from fmejira.models import FmeConnection, Link
from tests.conftest import ADMIN, FME_KEY, USER
from tests.e2e.conftest import screenshot

expect = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed").expect
pytestmark = pytest.mark.slow

CONFIGURE = "/jira/configure"
WIDE = {"width": 900, "height": 700}


def test_the_admin_connects_fme(browsing, site, fake_fme):
    page = browsing.open(site, CONFIGURE, ADMIN, size=WIDE)
    expect(page.locator(".js-status")).to_have_text("Not configured")
    expect(page.get_by_role("button", name="Test connection")).to_be_hidden()
    screenshot(page, "configure-unconfigured")
    page.get_by_role("textbox", name="API key").fill(FME_KEY)
    page.get_by_role("button", name="Check key").click()
    page.get_by_role("checkbox", name="Checkout").check()
    expect(page.get_by_label("Primary environment of Checkout")).to_have_value("env-prod")
    page.get_by_label("Primary environment of Checkout").select_option("env-stg")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".js-status")).to_have_text("Authorized")
    expect(page.get_by_text("Last checked")).to_be_visible()
    expect(page.get_by_role("textbox", name="API key")).to_have_value("")
    webhook = page.get_by_role("textbox", name="Webhook URL")
    expect(webhook).to_have_value(
        re.compile(r"^https://fme-jira\.example\.com/webhooks/fme/.{20,}")
    )
    screenshot(page, "configure-admin")
    db.session.expire_all()
    (project,) = db.session.scalar(sa.select(FmeConnection)).projects
    assert project.environment_id == "env-stg"
    db.session.commit()

    page.get_by_role("button", name="Test connection").click()
    expect(page.get_by_text("Connection checked.")).to_be_visible()

    before = webhook.input_value()
    page.get_by_role("button", name="Regenerate").click()
    page.get_by_role("dialog", name="Regenerate the webhook URL?").get_by_role(
        "button", name="Regenerate"
    ).click()
    expect(page.get_by_text("New webhook URL created.")).to_be_visible()
    assert webhook.input_value() != before


def test_a_failing_key_says_why_and_changes_nothing(browsing, site, fake_fme):
    page = browsing.open(site, CONFIGURE, ADMIN, size=WIDE)
    browsing.allow_console("status of 400")
    page.get_by_role("textbox", name="API key").fill("not-a-key-of-this-account")
    page.get_by_role("button", name="Check key").click()
    expect(page.get_by_role("alert")).to_contain_text("FME refused this API key.")
    expect(page.locator(".js-status")).to_have_text("Not configured")


def test_removing_links_needs_a_confirmation(browsing, configured_site, connect_flags, fake_fme):
    connect_flags("new-checkout")
    fake_fme.add_workspace("ws-payments", "Payments")
    fake_fme.add_key(FME_KEY, {"ws-checkout", "ws-payments"})
    page = browsing.open(configured_site, CONFIGURE, ADMIN, size=WIDE)
    browsing.allow_console("status of 409")
    page.get_by_role("checkbox", name="Payments").check()
    page.get_by_role("checkbox", name="Checkout").uncheck()
    page.get_by_role("button", name="Save").click()
    confirm = page.get_by_role("dialog", name="Remove links?")
    expect(confirm).to_contain_text("Saving removes 1 link(s)")
    expect(confirm.get_by_role("button", name="Cancel")).to_be_focused()
    screenshot(page, "configure-confirm-link-removal", fit=False)
    page.keyboard.press("Escape")
    expect(page.get_by_text("Nothing was changed.")).to_be_visible()
    assert len(db.session.scalars(sa.select(Link)).all()) == 1
    db.session.commit()

    page.get_by_role("button", name="Save").click()
    confirm.get_by_role("button", name="Save and remove links").click()
    expect(page.get_by_text("Saved.")).to_be_visible()
    db.session.expire_all()
    assert db.session.scalars(sa.select(Link)).all() == []


def test_deleting_the_configuration(browsing, configured_site, fake_fme):
    page = browsing.open(configured_site, CONFIGURE, ADMIN, size=WIDE)
    expect(page.locator(".js-status")).to_have_text("Authorized")
    page.get_by_role("button", name="Delete configuration").click()
    page.get_by_role("dialog", name="Delete the configuration?").get_by_role(
        "button", name="Delete"
    ).click()
    expect(page.locator(".js-status")).to_have_text("Not configured")
    db.session.expire_all()
    assert db.session.scalar(sa.select(FmeConnection)) is None


def test_someone_else_is_told_to_ask_an_admin(browsing, configured_site):
    page = browsing.open(configured_site, CONFIGURE, USER, size={"width": 900, "height": 300})
    expect(page.get_by_text("Only Jira administrators can configure")).to_be_visible()
    expect(page.get_by_role("textbox", name="API key")).to_have_count(0)
    screenshot(page, "configure-non-admin")
