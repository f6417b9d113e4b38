"""The whole journey of a site through the Forge door only (no Connect JWT anywhere): install,
configure from the admin page, connect flags from the issue panel and from FME, see them in
Jira's Feature Flags API, a kill reaching Jira, the system token running out, uninstall, and
installing again."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import sqlalchemy as sa

from fmejira.extensions import db
from fmejira.forge.keys import REFETCH_SECONDS, forge_keys
from fmejira.models import Link, Tenant, TenantState
from fmejira.sync import tasks
from tests.conftest import ADMIN, FME_KEY, run_tasks

ALICE = "account-alice"  # may browse every issue
BOB = "account-bob"  # may not browse ABC-1
ISSUE_1 = {"key": "ABC-1", "id": "10001"}
PROJECTS = [{"workspaceId": "ws-checkout", "primaryEnvironmentId": "env-prod"}]


def the_tenant() -> Tenant:
    db.session.expire_all()
    return db.session.scalars(sa.select(Tenant)).one()


def jira_flag(world, name: str) -> dict | None:
    stored = world.jira.flags.get(f"ws-checkout.{name}")
    if stored is None:
        return None
    return {"issues": sorted(stored.issue_ids), "status": stored.data["summary"]["status"]}


def submitted_states(world, name: str) -> list[bool]:
    """``status.enabled`` of every record of ``name`` the app sent, in order."""
    return [
        flag["summary"]["status"]["enabled"]
        for request in world.jira.requests
        if request.path == "/rest/featureflags/0.1/bulk" and request.status == 202
        for flag in request.body["flags"]
        if flag["key"] == name
    ]


def a_minute_passes() -> None:
    """What the queue's consumer does every minute (refresh what is due, reconcile), and the
    queue run dry, retries included."""
    tasks.refresh_due()
    tasks.reconcile()
    run_tasks(include_scheduled=True)


def connect_from_panel(world, person, flag, issue=ISSUE_1):
    return world.invoke(
        "fme-flags-panel",
        "POST",
        f"/jira/api/issues/{issue['key']}/flags",
        principal=person,
        issue=issue,
        json={"workspaceId": "ws-checkout", "flagName": flag},
    )


def connect_from_fme(client, flag, issue_key):
    return client.post(
        f"/api/v1/flags/ws-checkout/{flag}/issues",
        headers={"Authorization": f"Bearer {FME_KEY}"},
        json={"issueKey": issue_key},
    )


def test_a_site_through_forge_only(world, flags, client, monkeypatch):
    clock = [1000.0]  # the key store's clock, so a rotation can be waited out
    monkeypatch.setattr(forge_keys, "_clock", lambda: clock[0])

    # 1. Forge's installed trigger: the site becomes a tenant of its own
    assert world.install().status_code == 204
    tenant = the_tenant()
    assert tenant.forge_installation_id == world.installation_id
    assert not tenant.came_through_connect and tenant.is_active

    # 2. the admin page saves the FME key and the project (a non-admin may not)
    admin_page = "fme-configure"
    body = {"apiKey": FME_KEY, "projects": PROJECTS}
    refused = world.invoke(admin_page, "PUT", "/jira/api/configuration", principal=ALICE, json=body)
    assert refused.status_code == 403 and refused.json["error"]["code"]
    saved = world.invoke(admin_page, "PUT", "/jira/api/configuration", principal=ADMIN, json=body)
    assert saved.status_code == 200, saved.json
    shown = world.invoke(admin_page, "GET", "/jira/api/configuration", principal=ADMIN)
    assert shown.json["status"] == "authorized"
    assert [p["workspaceId"] for p in shown.json["projects"]] == ["ws-checkout"]
    webhook_path = urlsplit(shown.json["webhookUrl"]).path
    a_minute_passes()  # the project's flags are read from FME

    # 3. from the issue panel: Alice connects two flags; Bob, who cannot see ABC-1, is refused
    world.jira.hidden_issue_ids[BOB] = {"10001"}
    assert connect_from_panel(world, ALICE, "new-checkout").status_code == 201
    assert connect_from_panel(world, ALICE, "dark-mode").status_code == 201
    refused = connect_from_panel(world, BOB, "fast-pay")
    assert refused.status_code == 422 and refused.json["error"]["code"] == "unknown_issue"
    listed = world.invoke(
        "fme-flags-panel", "GET", "/jira/api/issues/ABC-1/flags", principal=BOB, issue=ISSUE_1
    )
    assert listed.status_code == 404
    assert {link.flag.name for link in db.session.scalars(sa.select(Link))} == {
        "new-checkout",
        "dark-mode",
    }

    # 4. a flag owner connects a third issue from FME's side
    assert connect_from_fme(client, "new-checkout", "ABC-3").status_code == 201
    assert connect_from_fme(client, "fast-pay", "ABC-2").status_code == 201

    # 5. Jira's Feature Flags API, reached at apiBaseUrl with the system token, has it all
    run_tasks(include_scheduled=True)
    assert jira_flag(world, "new-checkout")["issues"] == ["10001", "10003"]
    assert jira_flag(world, "new-checkout")["status"]["enabled"] is True
    assert jira_flag(world, "new-checkout")["status"]["rollout"] == {"percentage": 50}
    assert jira_flag(world, "dark-mode")["issues"] == ["10001"]
    assert jira_flag(world, "dark-mode")["status"]["enabled"] is False
    assert jira_flag(world, "fast-pay")["issues"] == ["10002"]
    assert jira_flag(world, "fast-pay")["status"]["enabled"] is True
    assert False not in submitted_states(world, "new-checkout")  # never shown off while on
    assert False not in submitted_states(world, "fast-pay")
    assert all(r.status != 401 for r in world.jira.requests)

    # Atlassian rotates its signing key: the app fetches the key set again for the new kid
    fetched = world.keys.fetches
    world.keys.rotate()
    clock[0] += REFETCH_SECONDS
    listed = world.invoke(
        "fme-flags-panel", "GET", "/jira/api/issues/ABC-1/flags", principal=ALICE, issue=ISSUE_1
    )
    assert listed.status_code == 200
    assert world.keys.fetches == fetched + 1

    # 6. FME's webhook says new-checkout was killed: Jira shows it disabled within seconds
    flags.set_definition("ws-checkout", "env-prod", "new-checkout", killed=True)
    started = time.monotonic()
    hint = {"name": "new-checkout", "type": "split", "environmentName": "Production"}
    assert client.post(webhook_path, json=hint).status_code == 200
    run_tasks(include_scheduled=True)
    assert jira_flag(world, "new-checkout")["status"]["enabled"] is False
    assert time.monotonic() - started < 5

    # 7. the system token runs out: FME's changes wait for the next token, and none is lost
    world.expire_system_tokens()
    refused = connect_from_fme(client, "dark-mode", "ABC-2")  # Jira must vouch for the issue
    assert refused.status_code == 503 and refused.json["error"]["code"] == "jira_unavailable"
    flags.set_definition("ws-checkout", "env-prod", "new-checkout", default_treatment="on")
    assert client.post(webhook_path, json=hint).status_code == 200
    a_minute_passes()
    assert jira_flag(world, "new-checkout")["status"]["enabled"] is False  # not sent yet
    assert world.jira.requests[-1].status == 401  # tried once, then nothing went out
    refused_requests = len(world.jira.requests)
    a_minute_passes()
    assert len(world.jira.requests) == refused_requests  # a spent token is not sent again
    assert world.scheduled().status_code == 204  # the hourly trigger brings a new token
    run_tasks(include_scheduled=True)
    assert jira_flag(world, "new-checkout")["status"]["enabled"] is True

    # ... and a person's next call brings one as well
    world.expire_system_tokens()
    flags.set_definition("ws-checkout", "env-prod", "fast-pay", killed=True)
    fast_pay_hint = {**hint, "name": "fast-pay"}
    assert client.post(webhook_path, json=fast_pay_hint).status_code == 200
    a_minute_passes()
    assert jira_flag(world, "fast-pay")["status"]["enabled"] is True  # the old state, still
    panel = world.invoke(
        "fme-flags-panel", "GET", "/jira/api/issues/ABC-1/flags", principal=ALICE, issue=ISSUE_1
    )
    assert panel.status_code == 200
    run_tasks(include_scheduled=True)
    assert jira_flag(world, "fast-pay")["status"]["enabled"] is False
    assert connect_from_fme(client, "dark-mode", "ABC-2").status_code == 201
    run_tasks(include_scheduled=True)
    assert jira_flag(world, "dark-mode")["issues"] == ["10001", "10002"]

    # 8. preUninstall: the site is uninstalled, its token forgotten, Jira holds nothing of it
    assert world.uninstall().status_code == 204
    tenant = the_tenant()
    assert tenant.state is TenantState.UNINSTALLED
    assert tenant.forge_system_token is None
    assert world.jira.flags == {}
    gone = world.invoke(
        "fme-flags-panel", "GET", "/jira/api/issues/ABC-1/flags", principal=ALICE, issue=ISSUE_1
    )
    assert gone.status_code == 401
    assert connect_from_fme(client, "fast-pay", "ABC-1").status_code == 401

    # 9. installed again (a new installation on the same site): Jira gets everything back
    world.installation_id = "ari:cloud:ecosystem::installation/0a3a7799-0000-4000-8000-00000000000b"
    assert world.install().status_code == 204
    a_minute_passes()
    assert the_tenant().is_active
    assert jira_flag(world, "new-checkout")["issues"] == ["10001", "10003"]
    assert jira_flag(world, "dark-mode")["issues"] == ["10001", "10002"]
    assert jira_flag(world, "fast-pay")["status"]["enabled"] is False
