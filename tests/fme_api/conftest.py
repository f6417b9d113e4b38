"""Fixtures of the FME-side API tests."""

import pytest


@pytest.fixture
def flag_site(configured_site, fake_fme):
    """The configured site; its FME project Checkout has the flag ``new-checkout``."""
    fake_fme.add_flag("ws-checkout", "new-checkout")
    return configured_site


@pytest.fixture
def openapi(client) -> dict:
    return client.get("/api/openapi.json").json
