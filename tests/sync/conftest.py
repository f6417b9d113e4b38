"""Fixtures for the sync tests: a configured site with flags in FME linked to Jira issues."""

import json
from pathlib import Path

import jsonschema
import pytest
import sqlalchemy as sa

from fmejira.domain import links
from fmejira.extensions import db
from fmejira.models import Flag, LinkSource
from fmejira.sync import refresh
from tests.conftest import run_tasks

SCHEMA = json.loads(
    (Path(__file__).parents[1] / "data" / "jira-featureflags-bulk.schema.json").read_text()
)


def assert_valid_bulk(body: dict) -> None:
    jsonschema.validate(body, SCHEMA, format_checker=jsonschema.FormatChecker())


@pytest.fixture
def linked(configured_site, fake_fme, fake_jira):
    """Flag new-checkout (50/50 on) linked to ABC-1 and ABC-2, pushed to Jira."""
    fake_fme.add_flag(
        "ws-checkout",
        "new-checkout",
        default_treatment="on",
        default_rule=[{"treatment": "on", "size": 50}, {"treatment": "off", "size": 50}],
    )
    for key in ("ABC-1", "ABC-2"):
        links.connect(configured_site, "ws-checkout", "new-checkout", key, source=LinkSource.FME)
    refresh.refresh_project(configured_site.id, "ws-checkout")
    run_tasks()
    return db.session.scalar(sa.select(Flag).where(Flag.name == "new-checkout"))


def bulk_bodies(fake_jira) -> list[dict]:
    """The bulk submits Jira accepted (failed attempts are logged by the fake too)."""
    return [
        r.body
        for r in fake_jira.requests
        if r.path.endswith("/rest/featureflags/0.1/bulk") and r.status == 202
    ]
