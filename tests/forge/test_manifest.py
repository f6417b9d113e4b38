"""The Forge manifest and the service agree: every endpoint it declares is a route here."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from fmejira.settings import DEFAULT_APP_KEY

ROOT = Path(__file__).parents[2]
MANIFEST = ROOT / "forge" / "manifest.yml"
UI = ROOT / "forge" / "ui"


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
    assert schedule["interval"] == "hour"  # a token lasts at least 55 minutes: waits are short
    (uninstall,) = modules["preUninstall"]
    assert paths[uninstall["endpoint"]] == "/forge/uninstalled"


def test_calls_that_refresh_the_token_ask_for_it(manifest):
    """Without ``appSystemToken`` Forge sends no ``x-forge-oauth-system`` header."""
    modules = manifest["modules"]
    by_key = {e["key"]: e for e in modules["endpoint"]}
    for module in (*modules["trigger"], *modules["scheduledTrigger"]):
        assert by_key[module["endpoint"]]["auth"]["appSystemToken"]["enabled"] is True
    assert "read:app-system-token" in manifest["permissions"]["scopes"]


def test_the_feature_flag_provider(app, manifest):
    """Forge takes absolute URL templates only: each is a route of the service under the
    remote's base URL, with the issue in it (the Connect descriptor's actions, same routes)."""
    (provider,) = manifest["modules"]["devops:featureFlagInfoProvider"]
    assert provider["name"]["value"] == "Harness FME"
    base = manifest["remotes"][0]["baseUrl"]
    adapter = app.url_map.bind("fme-jira.example.com")
    actions = provider["actions"]
    assert set(actions) == {"createFlag", "linkFlag", "listFlag"}
    for action in actions.values():
        url = action["urlTemplate"]
        assert url.startswith(base + "/") and "{issue.key}" in url
        adapter.match(urlsplit(url).path, method="GET")  # raises when it is no route
    assert "{issue.summary}" in actions["createFlag"]["urlTemplate"]
    for url in (provider["homeUrl"], provider["logoUrl"], provider["documentationUrl"]):
        assert url.startswith(base + "/")
    scopes = set(manifest["permissions"]["scopes"])
    assert {"write:feature-flag-info:jira", "delete:feature-flag-info:jira"} <= scopes


def test_the_forge_app_adopts_the_connect_app(app, manifest):
    """``app.connect.key`` is the descriptor's key, so Atlassian upgrades Connect installs."""
    descriptor = json.loads((ROOT / "atlassian-connect.json").read_text())
    assert manifest["app"]["connect"]["key"] == descriptor["key"] == DEFAULT_APP_KEY
    assert manifest["app"]["connect"]["remote"] == manifest["remotes"][0]["key"]
    routes = {rule.rule: rule.methods for rule in app.url_map.iter_rules()}
    (lifecycle,) = manifest["connectModules"]["jira:lifecycle"]
    for event, path in descriptor["lifecycle"].items():
        assert lifecycle[event] == path and "POST" in routes[path]
    kept = {(w["event"], w["url"]) for w in manifest["connectModules"]["jira:webhooks"]}
    assert kept == {(w["event"], w["url"]) for w in descriptor["modules"]["webhooks"]}


@pytest.mark.skipif(
    not (UI / "node_modules" / "@forge" / "manifest").is_dir() or not shutil.which("node"),
    reason="@forge/manifest is not installed (cd forge/ui && npm ci)",
)
@pytest.mark.skipif(
    not (UI / "build").is_dir(), reason="the Forge UI is not built (cd forge/ui && npm run build)"
)
def test_atlassians_validator_finds_no_error():
    """@forge/manifest, the validator `forge lint` and `forge deploy` run."""
    result = subprocess.run(
        ["node", "validate-manifest.cjs"],  # noqa: S607
        cwd=UI,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == {"success": True, "errors": []}
