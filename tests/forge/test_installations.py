"""One site is one tenant through either door; re-installs and uninstalls through Forge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from fmejira.extensions import db
from fmejira.forge import installations
from fmejira.models import Tenant, TenantState
from fmejira.models.tenant import as_utc
from fmejira.queue import huey
from tests.connect.test_lifecycle import body, post_install
from tests.fakes.forge import CLOUD_ID, INSTALLATION_ID, SITE_URL, invocation_claims, system_token
from tests.forge.fixtures import forge_headers

API_BASE_URL = f"https://api.atlassian.com/ex/jira/{CLOUD_ID}"
OTHER_INSTALLATION = "ari:cloud:ecosystem::installation/0a3a7799-0000-4000-8000-00000000000b"


def tenants() -> list[Tenant]:
    db.session.expire_all()
    return db.session.scalars(sa.select(Tenant).order_by(Tenant.id)).all()


def forge_post(client, keys, path="/forge/installed", system=None, **claim_kwargs):
    claims = invocation_claims(API_BASE_URL, **claim_kwargs)
    return client.post(path, headers=forge_headers(keys, claims, system))


def test_a_connect_site_adopting_forge_keeps_its_tenant(
    forge_app, connect_app, client, keys, key_server
):
    payload = body(baseUrl=SITE_URL, installationId=INSTALLATION_ID)
    assert post_install(client, key_server, payload).status_code == 204
    assert forge_post(client, keys, system=system_token()).status_code == 204
    (tenant,) = tenants()
    assert tenant.client_key == payload["clientKey"] and tenant.came_through_connect
    assert tenant.shared_secret == payload["sharedSecret"]
    assert tenant.forge_installation_id == INSTALLATION_ID
    assert tenant.cloud_id == CLOUD_ID and tenant.forge_api_base_url == API_BASE_URL


def test_a_connect_site_is_found_by_its_cloud_id(forge_app, connect_app, client, keys, key_server):
    assert post_install(client, key_server, body(cloudId=CLOUD_ID)).status_code == 204
    assert forge_post(client, keys, site_url=None).status_code == 204
    (tenant,) = tenants()
    assert tenant.forge_installation_id == INSTALLATION_ID
    assert tenant.base_url == "https://acme.atlassian.net"  # Connect's, signed with its JWTs


def test_a_forge_site_that_installs_connect_too(forge_app, connect_app, client, keys, key_server):
    assert forge_post(client, keys).status_code == 204
    payload = body(baseUrl=SITE_URL, installationId=INSTALLATION_ID)
    assert post_install(client, key_server, payload).status_code == 204
    (tenant,) = tenants()
    assert tenant.client_key == payload["clientKey"] and tenant.came_through_connect
    assert tenant.shared_secret == payload["sharedSecret"]
    assert tenant.forge_installation_id == INSTALLATION_ID


def test_a_connect_install_naming_another_sites_installation_takes_nothing(
    forge_app, connect_app, client, keys, key_server
):
    """The install's body is not signed: the installation id alone does not hand over a site."""
    assert forge_post(client, keys).status_code == 204
    payload = body(baseUrl="https://evil.atlassian.net", installationId=INSTALLATION_ID)
    assert post_install(client, key_server, payload).status_code == 204
    forge_tenant, connect_tenant = tenants()
    assert forge_tenant.client_key == INSTALLATION_ID
    assert forge_tenant.forge_installation_id == INSTALLATION_ID
    assert connect_tenant.client_key == payload["clientKey"]
    assert connect_tenant.forge_installation_id is None


def test_a_malformed_installation_id_in_a_connect_install(connect_app, client, key_server):
    response = post_install(client, key_server, body(installationId="ari:cloud:jira::site/x"))
    assert response.status_code == 400
    assert tenants() == []


def test_uninstall_then_reinstall_through_forge(forge_app, client, keys):
    assert forge_post(client, keys, system=system_token()).status_code == 204
    assert forge_post(client, keys, path="/forge/uninstalled").status_code == 204
    (tenant,) = tenants()
    assert tenant.state is TenantState.UNINSTALLED and tenant.forge_system_token is None
    # the same installation's UI calls no longer work
    ui = invocation_claims(API_BASE_URL, module_type="jira:issueContext", principal="acc-1")
    assert client.get("/jira/api/flags", headers=forge_headers(keys, ui)).status_code == 401
    # a re-install is a new installation on the same site: the tenant (and its links) return
    huey.flush()
    assert forge_post(client, keys, installation_id=OTHER_INSTALLATION).status_code == 204
    (tenant,) = tenants()
    assert tenant.state is TenantState.INSTALLED and tenant.uninstalled_at is None
    assert tenant.forge_installation_id == OTHER_INSTALLATION == tenant.client_key
    assert [task.name for task in huey.pending()] == ["resync_tenant"]


def test_uninstall_of_an_unknown_installation(forge_app, client, keys):
    assert forge_post(client, keys, path="/forge/uninstalled").status_code == 204
    assert tenants() == []


def test_a_live_token_is_replaced_only_after_it_has_been_held_a_while(forge_app, client, keys):
    """Forge may bring a new token with every call: a busy site does not write one each time."""
    first, second, third = system_token(), system_token(), system_token()
    assert forge_post(client, keys, "/forge/scheduled", system=first).status_code == 204
    (tenant,) = tenants()
    updated_at = tenant.updated_at
    assert forge_post(client, keys, "/forge/scheduled", system=second).status_code == 204
    (tenant,) = tenants()
    assert tenant.forge_system_token == first and tenant.updated_at == updated_at
    held = installations.KEEP_TOKEN + timedelta(seconds=1)
    tenant.forge_system_token_expires_at = as_utc(tenant.forge_system_token_expires_at) - held
    db.session.commit()
    assert forge_post(client, keys, "/forge/scheduled", system=third).status_code == 204
    assert tenants()[0].forge_system_token == third


def test_a_spent_token_is_replaced_at_once(forge_app, client, keys):
    first, second = system_token(), system_token()
    assert forge_post(client, keys, "/forge/scheduled", system=first).status_code == 204
    (tenant,) = tenants()
    tenant.forge_system_token_expires_at = datetime.now(UTC)  # Jira refused it
    db.session.commit()
    assert forge_post(client, keys, "/forge/scheduled", system=second).status_code == 204
    (tenant,) = tenants()
    assert tenant.forge_system_token == second
    assert as_utc(tenant.forge_system_token_expires_at) > datetime.now(UTC) + timedelta(minutes=54)


def test_an_opaque_system_token_counts_forge_minimum_lifetime(forge_app, client, keys):
    import time

    assert forge_post(client, keys, "/forge/scheduled", system="opaque-token").status_code == 204
    (tenant,) = tenants()
    assert tenant.forge_system_token == "opaque-token"
    remaining = tenant.forge_system_token_expires_at.timestamp() - time.time()
    assert 54 * 60 < remaining <= 55 * 60


def connect_uninstall(client, key_server, payload):
    uninstall = {**payload, "eventType": "uninstalled"}
    uninstall.pop("sharedSecret")
    return post_install(client, key_server, uninstall, path="/lifecycle/uninstalled")


def test_a_connect_uninstall_after_the_move_leaves_the_site_with_forge(
    forge_app, connect_app, client, keys, key_server
):
    payload = body(baseUrl=SITE_URL, installationId=INSTALLATION_ID)
    assert post_install(client, key_server, payload).status_code == 204
    assert forge_post(client, keys, system=system_token()).status_code == 204
    assert connect_uninstall(client, key_server, payload).status_code == 204
    (tenant,) = tenants()
    assert tenant.is_active and tenant.client_key == INSTALLATION_ID
    assert not tenant.came_through_connect
    assert tenant.shared_secret != payload["sharedSecret"]


def test_a_connect_uninstall_before_any_forge_call_uninstalls(
    forge_app, connect_app, client, keys, key_server
):
    payload = body(baseUrl=SITE_URL, installationId=INSTALLATION_ID)
    assert post_install(client, key_server, payload).status_code == 204
    assert connect_uninstall(client, key_server, payload).status_code == 204
    (tenant,) = tenants()
    assert tenant.state is TenantState.UNINSTALLED and tenant.client_key == payload["clientKey"]
