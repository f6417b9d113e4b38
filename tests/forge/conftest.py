"""Fixtures for the Forge door: a local JWKS, the app told its Forge app id, a Forge Jira."""

from __future__ import annotations

import pytest

from fmejira.forge.keys import forge_keys
from tests.fakes.forge import APP_ID, CLOUD_ID, FakeForgeKeys, invocation_token, system_token
from tests.fakes.jira_server import FakeJira
from tests.jira_api.test_links import fme_flags  # noqa: F401  (a fixture of these tests too)


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
