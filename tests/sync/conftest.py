"""Fixtures for the sync tests: a configured site with flags in FME linked to Jira issues."""

import json
from pathlib import Path

import jsonschema
import pytest
import sqlalchemy as sa

from fmejira.domain import links
from fmejira.extensions import db
from fmejira.models import Flag, FlagState, Issue, Link, LinkSource
from fmejira.outbound import RetryPolicy
from fmejira.sync import refresh
from tests.conftest import run_tasks

SCHEMA = json.loads(
    (Path(__file__).parents[1] / "data" / "jira-featureflags-bulk.schema.json").read_text()
)
RECORD = "ws-checkout.new-checkout"
GLANCE = "com.atlassian.jira.issue:fme-jira-test:fme-flags-glance:status"


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


@pytest.fixture
def no_client_retries(app):
    """Let the queue, not the HTTP client, handle each failure."""
    app.config["RETRY_POLICY"] = RetryPolicy(total=0, max_wait=5.0)


def bulk_requests(fake_jira) -> list:
    return [r for r in fake_jira.requests if r.path == "/rest/featureflags/0.1/bulk"]


def bulk_bodies(fake_jira) -> list[dict]:
    """The bulk submits Jira accepted (failed attempts are logged by the fake too)."""
    return [r.body for r in bulk_requests(fake_jira) if r.status == 202]


def many_linked_flags(site, count: int) -> list[int]:
    """``count`` flags of ws-checkout linked to ABC-1, straight into the store, each read as
    on in Production (a flag never read is not pushed)."""
    issue = db.session.scalar(sa.select(Issue).where(Issue.jira_id == "10001")) or Issue(
        tenant_id=site.id, jira_id="10001", key="ABC-1"
    )
    db.session.add(issue)
    flags = [
        Flag(tenant_id=site.id, workspace_id="ws-checkout", name=f"flag-{n:03d}", fme_id=str(n))
        for n in range(count)
    ]
    db.session.add_all(flags)
    db.session.flush()
    db.session.add_all(
        Link(tenant_id=site.id, flag_id=f.id, issue_id=issue.id, source=LinkSource.FME)
        for f in flags
    )
    db.session.add_all(
        FlagState(
            tenant_id=site.id,
            flag_id=f.id,
            environment_id="env-prod",
            environment_name="Production",
        )
        for f in flags
    )
    db.session.commit()
    return [f.id for f in flags]
