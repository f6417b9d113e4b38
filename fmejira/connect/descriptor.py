"""Serves the Connect descriptor: the repository's ``atlassian-connect.json`` with this
deployment's ``baseUrl`` and app key filled in."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path

from flask import Blueprint, current_app, jsonify

DESCRIPTOR_PATH = Path(__file__).resolve().parents[2] / "atlassian-connect.json"

bp = Blueprint("descriptor", __name__)


@cache
def _template() -> dict:
    return json.loads(DESCRIPTOR_PATH.read_text())


def build_descriptor(base_url: str, app_key: str) -> dict:
    """The descriptor for a deployment. The flag provider's URLs are opened by Jira outside the
    app's iframe, so they are made absolute here."""
    descriptor = copy.deepcopy(_template())
    descriptor["baseUrl"] = base_url
    descriptor["key"] = app_key
    provider = descriptor["modules"]["jiraFeatureFlagInfoProvider"]
    for action in provider.get("actions", {}).values():
        if action["templateUrl"].startswith("/"):
            action["templateUrl"] = base_url + action["templateUrl"]
    for name in ("homeUrl", "logoUrl", "documentationUrl"):
        if provider.get(name, "").startswith("/"):
            provider[name] = base_url + provider[name]
    return descriptor


@bp.get("/atlassian-connect.json")
def descriptor():
    return jsonify(
        build_descriptor(current_app.config["APP_BASE_URL"], current_app.config["APP_KEY"])
    )
