"""Fixtures for the Forge door (also used by the browser tests): a local JWKS, the app told
its Forge app id, a Jira site as Forge reaches it, a Forge-only site."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from fmejira.domain import configuration
from fmejira.extensions import db
from fmejira.forge.keys import forge_keys
from fmejira.models import Tenant
from fmejira.queue import huey
from tests.conftest import FME_KEY
from tests.fakes.forge import (
    APP_ID,
    CLOUD_ID,
    FakeForgeKeys,
    invocation_claims,
    invocation_token,
    system_token,
)
from tests.fakes.jira_server import FakeJira


@pytest.fixture
def keys():
    server = FakeForgeKeys()
    yield server
    server.stop()


@pytest.fixture
def forge_app(app, keys):
    app.config["FORGE_APP_ID"] = APP_ID
    app.config["FORGE_JWKS_URL"] = keys.url
    forge_keys.clear()
    yield app
    forge_keys.clear()


@pytest.fixture
def forge_jira(app):
    """A Jira site as Forge's ``apiBaseUrl`` reaches it, taking one system token."""
    server = FakeJira(context_path=f"/ex/jira/{CLOUD_ID}", shared_secret="-", app_key="-")
    server.token = system_token()
    server.bearer_tokens.add(server.token)
    server.add_issue("ABC-1", id="10001", summary="Checkout button")
    server.add_issue("ABC-2", id="10002", summary="Pay with card")
    yield server
    server.stop()


def forge_headers(keys, claims, system: str | None = None, **token_kwargs) -> dict:
    headers = {"Authorization": "Bearer " + invocation_token(keys, claims, **token_kwargs)}
    if system:
        headers["x-forge-oauth-system"] = system
    return headers


@pytest.fixture
def forge_site(forge_app, client, keys, forge_jira, fake_fme):
    """A site that came only through Forge, connected to FME (Checkout, primary Production)."""
    claims = invocation_claims(forge_jira.url)
    response = client.post(
        "/forge/installed", headers=forge_headers(keys, claims, forge_jira.token)
    )
    assert response.status_code == 204
    tenant = db.session.scalars(sa.select(Tenant)).one()
    configuration.save(tenant, FME_KEY, [configuration.ProjectSelection("ws-checkout", "env-prod")])
    huey.flush()
    return tenant
