"""The Forge Custom UI (forge/ui, built by ``npm run build``) in headless Chromium against the
live app: Forge's bridge is played by a script that sends each ``invokeRemote`` to the app with
a Forge invocation token, as Forge does, and the page is served from a Forge-like origin."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path

import pytest
import sqlalchemy as sa

from fmejira.extensions import db
from fmejira.models import Link
from tests.e2e.conftest import screenshot
from tests.fakes.forge import invocation_claims, invocation_token

BUILD = Path(__file__).parents[2] / "forge" / "ui" / "build"
UI_ORIGIN = "https://forge-ui.test"

# Forge's side of the bridge: the context of the module, and invokeRemote as a fetch to the
# remote carrying the invocation token (here through the page's own origin, see _serve).
BRIDGE = """
globalThis.__bridge = {
  async callBridge(name, payload) {
    if (name === "getContext") return __forge.context;
    if (name !== "invoke") throw new Error("no bridge call " + name);
    const response = await fetch("/remote" + payload.path, {
      method: payload.method,
      headers: { ...payload.headers, Authorization: "Bearer " + __forge.token },
      body: payload.body === undefined ? undefined : JSON.stringify(payload.body),
    });
    const text = await response.text();
    const answer = { status: response.status, headers: {}, body: text ? JSON.parse(text) : null };
    return response.ok ? { success: true, payload: answer } : { success: false, error: answer };
  },
};
"""

pytestmark = pytest.mark.skipif(
    not (BUILD / "issue-panel" / "index.html").is_file(),
    reason="the Forge UI is not built (cd forge/ui && npm ci && npm run build)",
)


def _serve(resource: str, app_server: str):
    def handle(route):
        path = route.request.url.removeprefix(UI_ORIGIN)
        if path.startswith("/remote/"):
            response = route.fetch(url=app_server + path.removeprefix("/remote"))
            return route.fulfill(response=response)
        file = BUILD / resource / (path.lstrip("/").split("?")[0] or "index.html")
        if not file.is_file():
            return route.fulfill(status=404, body="")
        mime = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        return route.fulfill(body=file.read_bytes(), content_type=mime)

    return handle


def open_module(
    chromium, app_server, keys, forge_jira, resource, module_type, principal, extension
):
    claims = invocation_claims(
        forge_jira.url, module_type=module_type, principal=principal, lifetime=300
    )
    if extension:
        claims["context"]["extension"] = extension
    forge = {"context": {"extension": extension or {}}, "token": invocation_token(keys, claims)}
    context = chromium.new_context(locale="en-US", timezone_id="UTC")
    page = context.new_page()
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: m.type == "error" and problems.append(m.text))
    page.add_init_script(f"globalThis.__forge = {json.dumps(forge)};" + BRIDGE)
    page.route(f"{UI_ORIGIN}/**", _serve(resource, app_server))
    page.set_viewport_size({"width": 360, "height": 560})
    page.goto(f"{UI_ORIGIN}/index.html")
    return page, problems


ISSUE = {"type": "jira:issueContext", "issue": {"key": "ABC-1", "id": "10001"}}


def test_the_issue_panel_connects_and_disconnects_a_flag(
    forge_site, browser, app_server, keys, forge_jira, fake_fme
):
    from fmejira.sync import refresh

    fake_fme.add_flag("ws-checkout", "new-checkout", default_treatment="on")
    refresh.refresh_project(forge_site.id, "ws-checkout")  # the project's flags, known
    db.session.commit()
    page, problems = open_module(
        browser,
        app_server,
        keys,
        forge_jira,
        "issue-panel",
        "jira:issueContext",
        "account-7",
        ISSUE,
    )
    page.get_by_text("No feature flags are connected to this issue.").wait_for()
    page.get_by_placeholder("Search flags").fill("new")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name="Connect new-checkout").click()
    page.locator(".flag").get_by_text("new-checkout").wait_for()
    screenshot(page, "forge-issue-panel")
    db.session.expire_all()
    (link,) = db.session.scalars(sa.select(Link)).all()
    assert link.created_by == "account-7" and link.issue.key == "ABC-1"

    page.get_by_role("button", name="Disconnect new-checkout").click()
    page.get_by_text("No feature flags are connected to this issue.").wait_for()
    db.session.expire_all()
    assert db.session.scalars(sa.select(Link)).all() == []
    assert problems == []


def test_the_admin_page_shows_the_configuration_to_an_admin_only(
    forge_site, browser, app_server, keys, forge_jira
):
    forge_jira.admin_account_ids.add("account-admin")
    page, problems = open_module(
        browser, app_server, keys, forge_jira, "admin-page", "jira:adminPage", "account-admin", None
    )
    page.locator(".lozenge").get_by_text("Authorized").wait_for()
    assert page.locator("#project-ws-checkout").is_checked()
    assert "/webhooks/fme/" in page.locator("#webhook-url").input_value()
    screenshot(page, "forge-admin-page")
    assert problems == []

    page, problems = open_module(
        browser, app_server, keys, forge_jira, "admin-page", "jira:adminPage", "account-x", None
    )
    page.get_by_text("Only Jira administrators can change the FME configuration.").wait_for()
