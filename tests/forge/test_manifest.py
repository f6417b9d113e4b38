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
    endpoints = [e for e in manifest["modules"]["endpoint"] if "route" in e]
    assert len(endpoints) == 3
    for endpoint in endpoints:
        assert endpoint["remote"] in remotes
        path = endpoint["route"]["path"]
        assert "POST" in routes.get(path, set()), path


def test_the_ui_modules_call_the_service_and_their_resources_are_built_from_forge_ui(manifest):
    modules = manifest["modules"]
    endpoints = {e["key"]: e for e in modules["endpoint"]}
    resources = {r["key"]: r["path"] for r in manifest["resources"]}
    for module in (*modules["jira:issueContext"], *modules["jira:adminPage"]):
        endpoint = endpoints[module["resolver"]["endpoint"]]
        assert "route" not in endpoint  # the UI names the path: /jira/api/...
        assert endpoint["remote"] == manifest["remotes"][0]["key"]
        path = resources[module["resource"]]
        assert path == f"ui/build/{module['resource']}"  # vite build --mode <resource>
        assert (MANIFEST.parent / "ui" / "resources" / module["resource"] / "index.html").is_file()
    (admin,) = modules["jira:adminPage"]
    assert admin["useAsConfig"] is True


def test_events_reach_the_routes_that_take_them(manifest):
    modules = manifest["modules"]
    paths = {e["key"]: e["route"]["path"] for e in modules["endpoint"] if "route" in e}
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
    assert {"write:feature-flag-info:jira", "delete:feature-flag-info:jira"} <= scopes
