"""The app pointed at a Forge world (tests/forge_world/world.py), with FME's flags."""

from __future__ import annotations

import pytest

from fmejira.forge.keys import forge_keys
from tests.conftest import ADMIN
from tests.fakes.forge import APP_ID
from tests.forge_world.world import ForgeWorld


@pytest.fixture
def world(app, client):
    world = ForgeWorld(client)
    world.jira.admin_account_ids.add(ADMIN)
    world.jira.add_issue("ABC-1", id="10001", summary="Checkout button")
    world.jira.add_issue("ABC-2", id="10002", summary="Pay with card")
    world.jira.add_issue("ABC-3", id="10003", summary="Receipts by mail")
    app.config["FORGE_APP_ID"] = APP_ID
    app.config["FORGE_JWKS_URL"] = world.keys.url
    forge_keys.clear()
    yield world
    forge_keys.clear()
    world.stop()


@pytest.fixture
def flags(fake_fme):
    """Three flags of the Checkout project: one on (50/50), one killed, one on for everyone."""
    fake_fme.add_flag(
        "ws-checkout",
        "new-checkout",
        default_treatment="on",
        default_rule=[{"treatment": "on", "size": 50}, {"treatment": "off", "size": 50}],
    )
    fake_fme.add_flag("ws-checkout", "dark-mode", killed=True)
    fake_fme.add_flag("ws-checkout", "fast-pay", default_treatment="on")
    return fake_fme
