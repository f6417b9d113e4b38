"""A site that installed the Connect app moves to the Forge app that adopted it (the manifest's
``app.connect.key`` is the descriptor's ``key``): its FME connection, links and Jira records
stay (the same record ids: nothing duplicated, nothing deleted), Jira is called through Forge
from the first Forge call on, and a Connect ``uninstalled`` arriving after the move leaves
the site with Forge."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fmejira.extensions import db
from fmejira.models import FmeConnection, Link, Tenant
from tests.conftest import ADMIN, FME_KEY, run_tasks
from tests.connect.test_lifecycle import body, post_install
from tests.fakes.forge import CLOUD_ID
from tests.fakes.jira_server import FakeJira
from tests.forge_world.test_journey import ALICE, ISSUE_1, PROJECTS, a_minute_passes, jira_flag
from tests.support import auth_header, context_jwt

SHARED_SECRET = "the-connect-install-shared-secret-0123456789"


@pytest.fixture
def world(world, app, client):
    """The Forge world, its Jira the one the Connect app was installed on."""
    world.jira.stop()
    world.jira = FakeJira(
        shared_secret=SHARED_SECRET, app_key=app.config["APP_KEY"], forge_cloud_id=CLOUD_ID
    )
    world.jira.admin_account_ids.add(ADMIN)
    for key, issue_id in (("ABC-1", "10001"), ("ABC-2", "10002"), ("ABC-3", "10003")):
        world.jira.add_issue(key, id=issue_id)
    return world


def tenants() -> list[Tenant]:
    db.session.expire_all()
    return db.session.scalars(sa.select(Tenant)).all()


def connect_headers(tenant, account):
    return auth_header(context_jwt(tenant, sub=account))


def records(world) -> dict[str, int]:
    return {
        flag_id: stored.data["updateSequenceId"] for flag_id, stored in world.jira.flags.items()
    }


def bulk_doors(world) -> list[str]:
    return [r.door for r in world.jira.requests if r.path == "/rest/featureflags/0.1/bulk"]


def test_a_connect_site_moves_to_forge(world, flags, client, connect_app, key_server):
    # Connect: installed, configured, two flags connected from the issue, one from FME
    install = body(
        clientKey="jira:acme-connect",
        sharedSecret=SHARED_SECRET,
        baseUrl=world.jira.url,
        displayUrl=None,
        cloudId=CLOUD_ID,
    )
    assert post_install(client, key_server, install).status_code == 204
    (tenant,) = tenants()
    config = {"apiKey": FME_KEY, "projects": PROJECTS}
    saved = client.put(
        "/jira/api/configuration", headers=connect_headers(tenant, ADMIN), json=config
    )
    assert saved.status_code == 200, saved.json
    a_minute_passes()
    for flag in ("new-checkout", "dark-mode"):
        response = client.post(
            "/jira/api/issues/ABC-1/flags",
            headers=connect_headers(tenant, ALICE),
            json={"workspaceId": "ws-checkout", "flagName": flag},
        )
        assert response.status_code == 201, response.json
    response = client.post(
        "/api/v1/flags/ws-checkout/fast-pay/issues",
        headers={"Authorization": f"Bearer {FME_KEY}"},
        json={"issueKey": "ABC-2"},
    )
    assert response.status_code == 201
    run_tasks(include_scheduled=True)
    before = records(world)
    assert set(before) == {
        "ws-checkout.new-checkout",
        "ws-checkout.dark-mode",
        "ws-checkout.fast-pay",
    }
    assert set(bulk_doors(world)) == {"connect"}
    links_before = db.session.scalar(sa.select(sa.func.count()).select_from(Link))

    # the first Forge call (a person opens the Forge issue panel): the same tenant, its flags
    panel = world.invoke(
        "fme-flags-panel", "GET", "/jira/api/issues/ABC-1/flags", principal=ALICE, issue=ISSUE_1
    )
    assert panel.status_code == 200, panel.json
    assert sorted(f["name"] for f in panel.json["flags"]) == ["dark-mode", "new-checkout"]
    (moved,) = tenants()
    assert moved.id == tenant.id and moved.client_key == "jira:acme-connect"
    assert moved.forge_installation_id == world.installation_id
    assert moved.forge_api_base_url == world.api_base_url

    # from then on Jira is called through Forge: the same records, updated, none added
    flags.set_definition("ws-checkout", "env-prod", "new-checkout", killed=True)
    webhook = client.get("/jira/api/configuration", headers=connect_headers(moved, ADMIN)).json[
        "webhookUrl"
    ]
    hint = {"name": "new-checkout", "type": "split", "environmentName": "Production"}
    assert client.post(webhook, json=hint).status_code == 200
    run_tasks(include_scheduled=True)
    assert set(records(world)) == set(before)
    assert records(world)["ws-checkout.new-checkout"] > before["ws-checkout.new-checkout"]
    assert jira_flag(world, "new-checkout")["status"]["enabled"] is False
    assert bulk_doors(world)[-1] == "forge"
    assert not any(r.method == "DELETE" for r in world.jira.requests)

    # Connect's uninstalled arrives after the move: the site stays, with Forge only
    uninstall = {**install, "eventType": "uninstalled"}
    uninstall.pop("sharedSecret")
    response = post_install(client, key_server, uninstall, path="/lifecycle/uninstalled")
    assert response.status_code == 204
    (after,) = tenants()
    assert after.id == tenant.id and after.is_active and not after.came_through_connect
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Link)) == links_before
    assert db.session.scalars(sa.select(FmeConnection)).one().tenant_id == tenant.id
    assert set(records(world)) == set(before)
    # the Connect client key and secret no longer open anything
    old_token = context_jwt(tenant, sub=ALICE, iss="jira:acme-connect", secret=SHARED_SECRET)
    refused = client.get("/jira/api/issues/ABC-1/flags", headers=auth_header(old_token))
    assert refused.status_code == 401
    panel = world.invoke(
        "fme-flags-panel", "GET", "/jira/api/issues/ABC-1/flags", principal=ALICE, issue=ISSUE_1
    )
    assert panel.status_code == 200
    flags.set_definition("ws-checkout", "env-prod", "dark-mode", killed=False)
    assert client.post(webhook, json={**hint, "name": "dark-mode"}).status_code == 200
    run_tasks(include_scheduled=True)
    assert jira_flag(world, "dark-mode")["status"]["enabled"] is True
    assert bulk_doors(world)[-1] == "forge"

    # with its Forge token spent, the site waits for Forge: no Connect JWT is sent any more
    world.expire_system_tokens()
    flags.set_definition("ws-checkout", "env-prod", "dark-mode", killed=True)
    assert client.post(webhook, json={**hint, "name": "dark-mode"}).status_code == 200
    run_tasks(include_scheduled=True)
    assert {r.door for r in world.jira.requests[-3:]} == {"forge"}
    assert world.scheduled().status_code == 204
    run_tasks(include_scheduled=True)
    assert jira_flag(world, "dark-mode")["status"]["enabled"] is False
