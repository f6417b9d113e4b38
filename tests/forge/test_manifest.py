"""The Forge manifest and the service agree: every endpoint it declares is a route here."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

MANIFEST = Path(__file__).parents[2] / "forge" / "manifest.yml"


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text())


def test_every_endpoint_is_a_post_route_of_a_declared_remote(app, manifest):
    remotes = {remote["key"] for remote in manifest["remotes"]}
    routes = {rule.rule: rule.methods for rule in app.url_map.iter_rules()}
    endpoints = manifest["modules"]["endpoint"]
    assert endpoints
    for endpoint in endpoints:
        assert endpoint["remote"] in remotes
        path = endpoint["route"]["path"]
        assert "POST" in routes.get(path, set()), path


def test_events_reach_the_routes_that_take_them(manifest):
    modules = manifest["modules"]
    paths = {e["key"]: e["route"]["path"] for e in modules["endpoint"]}
    (lifecycle,) = modules["trigger"]
    assert paths[lifecycle["endpoint"]] == "/forge/installed"
    assert set(lifecycle["events"]) == {"avi:forge:installed:app", "avi:forge:upgraded:app"}
    (schedule,) = modules["scheduledTrigger"]
    assert paths[schedule["endpoint"]] == "/forge/scheduled"
    assert schedule["interval"] == "hour"  # a system token lasts at least two hours
    (uninstall,) = modules["preUninstall"]
    assert paths[uninstall["endpoint"]] == "/forge/uninstalled"


def test_calls_that_refresh_the_token_ask_for_it(manifest):
    """Without ``appSystemToken`` Forge sends no ``x-forge-oauth-system`` header."""
    modules = manifest["modules"]
    by_key = {e["key"]: e for e in modules["endpoint"]}
    for module in (*modules["trigger"], *modules["scheduledTrigger"]):
        assert by_key[module["endpoint"]]["auth"]["appSystemToken"]["enabled"] is True
    assert "read:app-system-token" in manifest["permissions"]["scopes"]


def test_the_feature_flag_provider(manifest):
    (provider,) = manifest["modules"]["devops:featureFlagInfoProvider"]
    assert provider["name"]["value"] == "Harness FME"
    assert "{issue.key}" in provider["actions"]["createFlag"]["urlTemplate"]
    scopes = set(manifest["permissions"]["scopes"])
    assert {"write:feature-flag:jira", "delete:feature-flag:jira"} <= scopes
