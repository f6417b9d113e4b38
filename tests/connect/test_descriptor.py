"""The Connect descriptor, checked against the field rules in PROTOCOLS.md."""

import re

from tests.conftest import BASE_URL

KEY_PATTERN = re.compile(r"^[a-zA-Z0-9-]+$")


def test_descriptor_is_filled_in_for_this_deployment(client):
    descriptor = client.get("/atlassian-connect.json").json
    assert descriptor["baseUrl"] == BASE_URL
    assert descriptor["key"] == "fme-jira-test"
    assert len(descriptor["key"]) <= 64
    assert descriptor["authentication"] == {"type": "jwt"}
    assert descriptor["scopes"] == ["READ", "WRITE", "DELETE"]
    assert descriptor["apiMigrations"] == {
        "signed-install": True,
        "context-qsh": True,
        "gdpr": True,
    }
    assert descriptor["lifecycle"] == {
        "installed": "/lifecycle/installed",
        "uninstalled": "/lifecycle/uninstalled",
        "enabled": "/lifecycle/enabled",
        "disabled": "/lifecycle/disabled",
    }


def test_feature_flag_provider(client):
    provider = client.get("/atlassian-connect.json").json["modules"]["jiraFeatureFlagInfoProvider"]
    assert isinstance(provider, dict)
    assert KEY_PATTERN.match(provider["key"]) and len(provider["key"]) <= 100
    assert provider["name"]["value"]
    assert set(provider["actions"]) == {"createFlag", "linkFlag", "listFlags"}
    for action in provider["actions"].values():
        assert action["templateUrl"].startswith(BASE_URL + "/")
        assert "{issue.key}" in action["templateUrl"]
    assert provider["homeUrl"].startswith("https://")


def test_page_modules(client):
    modules = client.get("/atlassian-connect.json").json["modules"]
    (glance,) = modules["jiraIssueGlances"]
    assert KEY_PATTERN.match(glance["key"])
    assert glance["content"]["type"] == "label"
    assert glance["target"]["type"] == "web_panel"
    assert glance["target"]["url"].startswith("/jira/glance?issueKey={issue.key}")
    assert set(glance["icon"]) == {"width", "height", "url"}
    assert modules["configurePage"]["url"] == "/jira/configure"
    assert {d["key"] for d in modules["dialogs"]} == {
        "fme-connect-flag-dialog",
        "fme-flag-details-dialog",
    }
    for dialog in modules["dialogs"]:
        assert dialog["url"].startswith("/jira/dialogs/")
    assert {w["event"] for w in modules["webhooks"]} == {"jira:issue_updated", "jira:issue_deleted"}
    for page in modules["generalPages"]:
        assert page["location"] == "none"


def test_every_key_is_unique_and_well_formed(client):
    modules = client.get("/atlassian-connect.json").json["modules"]
    keys = [modules["jiraFeatureFlagInfoProvider"]["key"], modules["configurePage"]["key"]]
    for name in ("jiraIssueGlances", "dialogs", "generalPages"):
        keys += [module["key"] for module in modules[name]]
    assert len(keys) == len(set(keys))
    assert all(KEY_PATTERN.match(key) for key in keys)
