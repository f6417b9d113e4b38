"""The hot paths (glance data call, glance page, FME-side list) cost the same whatever the data,
and make no remote call while a person waits.

"The same" is checked twice: the number of SQL statements per request (any database), and on
PostgreSQL the rows each statement examines (a missing index, or a predicate the index cannot
use, shows as a scan that grows with other issues, flags or sites).

Each measured request runs on a fresh session after a warm-up request, as in production (one
session per request, per-process caches warm). These tests measure the database path, so the
hot cache (which would answer the measured request from Redis) is off; its own tests are in
``tests/test_hot_cache.py``.
"""

from __future__ import annotations

import http.client
import json
import os
from datetime import timedelta

import pytest
import sqlalchemy as sa
from requests.adapters import HTTPAdapter

from fmejira.crypto import fingerprint
from fmejira.extensions import db
from fmejira.hot_cache import EXTENSION, HotCache
from fmejira.models import Flag, FlagState, FmeConnection, FmeProject, Issue, Link, LinkSource
from fmejira.models.tenant import utcnow
from fmejira.queue import huey
from tests.conftest import FME_KEY
from tests.support import auth_header, context_jwt, jira_jwt, make_tenant

ISSUE, WS, FLAG = "ABC-100", "ws-checkout", "flag-000"
GLANCE = f"/jira/glance?issueKey={ISSUE}&issueId=20000"
NAMES = ["glance data", "glance page", "FME-side issues"]
ON_POSTGRESQL = (os.environ.get("TEST_DATABASE_URL") or "").startswith("postgres")
LONG_AGO = timedelta(days=1)


@pytest.fixture(autouse=True)
def database_path(app):
    app.extensions[EXTENSION] = HotCache(None, app.config["HOT_CACHE_SECONDS"])


# -- data ----------------------------------------------------------------------------------------


def _link(tenant_id: int, flag: Flag, issue: Issue) -> Link:
    return Link(tenant_id=tenant_id, flag_id=flag.id, issue_id=issue.id, source=LinkSource.JIRA)


def _state(tenant_id: int, flag: Flag, stale: bool = False) -> FlagState:
    return FlagState(
        tenant_id=tenant_id,
        flag=flag,
        environment_id="env-prod",
        environment_name="Production",
        rollout_percentage=50.0,
        read_at=utcnow() - LONG_AGO if stale else utcnow(),
    )


def _pair(tenant_id: int, stale: bool = False, name: str | None = None) -> tuple[Issue, Flag]:
    """Issue ABC-100 connected to flag-000 (with its state) in one site; or, given a ``name``,
    issue NAME-1 and flag-NAME."""
    key, flag_name = (ISSUE, FLAG) if name is None else (f"{name.upper()}-1", f"flag-{name}")
    issue = Issue(tenant_id=tenant_id, jira_id="20000", key=key, summary="Measured")
    flag = Flag(tenant_id=tenant_id, workspace_id=WS, name=flag_name, fme_id="0")
    db.session.add_all([issue, flag, _state(tenant_id, flag, stale)])
    db.session.flush()
    db.session.add(_link(tenant_id, flag, issue))
    return issue, flag


def more_of_the_same(site_id: int, n: int, tag: str, stale: bool = False) -> None:
    """``n`` more flags on the measured issue and ``n`` more issues on the measured flag."""
    issue = db.session.scalar(sa.select(Issue).filter_by(tenant_id=site_id, key=ISSUE))
    flag = db.session.scalar(sa.select(Flag).filter_by(tenant_id=site_id, name=FLAG))
    flags = [
        Flag(tenant_id=site_id, workspace_id=WS, name=f"flag-{tag}{i}", fme_id=f"{tag}{i}")
        for i in range(n)
    ]
    issues = [Issue(tenant_id=site_id, jira_id=f"{tag}{i}", key=f"NEW-{i + 1}") for i in range(n)]
    db.session.add_all(flags + issues + [_state(site_id, f, stale) for f in flags])
    db.session.flush()
    db.session.add_all([_link(site_id, f, issue) for f in flags])
    db.session.add_all([_link(site_id, flag, i) for i in issues])
    db.session.commit()


def unrelated(site_id: int, n: int, tag: str, sites: int | None = None) -> None:
    """Data the measured request must not pay for: ``n`` issues and flags of the site linked to
    each other, and ``sites`` (default ``n``) configured sites with a linked pair each; three of
    them have an issue ABC-100 and a flag flag-000 of their own (same key, same name: none of
    it may show up either)."""
    flags = [
        Flag(tenant_id=site_id, workspace_id=WS, name=f"other-{tag}{i}", fme_id=f"o{tag}{i}")
        for i in range(n)
    ]
    issues = [Issue(tenant_id=site_id, jira_id=f"o{tag}{i}", key=f"OTH-{i + 1}") for i in range(n)]
    db.session.add_all(flags + issues + [_state(site_id, f) for f in flags])
    db.session.flush()
    db.session.add_all(_link(site_id, f, i) for f, i in zip(flags, issues, strict=True))
    for k in range(n if sites is None else sites):
        other = make_tenant(f"jira:other-{tag}-{k}")
        connection = FmeConnection(
            tenant_id=other.id,
            api_key=f"other-key-{tag}-{k}",
            api_key_hash=fingerprint(f"other-key-{tag}-{k}"),
            auth_scheme="bearer",
            webhook_secret=f"hook-{tag}-{k}",
            webhook_secret_hash=fingerprint(f"hook-{tag}-{k}"),
        )
        db.session.add(connection)
        db.session.flush()
        db.session.add(
            FmeProject(
                tenant_id=other.id,
                connection_id=connection.id,
                workspace_id=WS,
                workspace_name="Checkout",
                environment_id="env-prod",
                environment_name="Production",
            )
        )
        _pair(other.id, name=None if k < 3 else f"{tag}{k}")
    db.session.commit()


# -- requests ------------------------------------------------------------------------------------


def hot_paths(client, site) -> dict:
    """The three hot-path requests; tokens are made now (the site object goes stale later)."""
    # bound to the issue, as the page token the glance hands its script
    glance_data = auth_header(context_jwt(site, lifetime=600, fmejira={"issueKey": ISSUE}))
    glance_page = f"{GLANCE}&jwt={jira_jwt(site, GLANCE, lifetime=600)}"
    fme = {"Authorization": f"Bearer {FME_KEY}"}
    return {
        "glance data": lambda: client.get(f"/jira/api/issues/{ISSUE}/flags", headers=glance_data),
        "glance page": lambda: client.get(glance_page),
        "FME-side issues": lambda: client.get(f"/api/v1/flags/{WS}/{FLAG}/issues", headers=fme),
    }


def measured(call) -> tuple[list[tuple[str, object]], object]:
    """The SQL statements (with their parameters) one warm request sends, and its response."""
    assert call().status_code == 200
    db.session.remove()
    statements = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = call()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.get_data(as_text=True)
    db.session.remove()
    return statements, response


def shown(name: str, response) -> int | None:
    """How many flags (glance data) or issues (FME side) the answer lists."""
    if name == "glance data":
        return len(response.get_json()["flags"])
    if name == "FME-side issues":
        return len(response.get_json())
    return None


# -- statement counts ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_statement_count_does_not_grow_with_the_data(configured_site, client, name):
    site_id, call = configured_site.id, hot_paths(client, configured_site)[name]
    _pair(site_id)
    db.session.commit()
    small, response = measured(call)
    assert shown(name, response) in (None, 1)
    more_of_the_same(site_id, 12, "b")
    unrelated(site_id, 12, "b")
    large, response = measured(call)
    assert len(large) == len(small), (
        f"{name}: {len(small)} statements with 1 link, {len(large)} with 13 links and 12 more "
        "sites:\n" + "\n".join(statement for statement, _ in large)
    )
    assert shown(name, response) in (None, 13)  # and nothing of the other sites


def test_stale_flags_are_queued_for_refresh_without_more_statements(configured_site, client):
    site_id, call = configured_site.id, hot_paths(client, configured_site)["glance data"]
    _pair(site_id, stale=True)
    db.session.commit()
    small, response = measured(call)
    assert response.get_json()["refreshing"] is True
    more_of_the_same(site_id, 12, "s", stale=True)
    large, response = measured(call)
    assert response.get_json()["refreshing"] is True
    assert len(large) == len(small)


# -- no remote call ------------------------------------------------------------------------------


@pytest.mark.parametrize("stale", [False, True], ids=["fresh", "stale"])
def test_hot_paths_make_no_remote_call(configured_site, client, monkeypatch, stale):
    """Nothing leaves the process over HTTP while a person waits (requests and urllib3 end in
    http.client, as the standard library does); refreshes of stale flags are queued, not run."""
    site_id, calls = configured_site.id, []
    paths = hot_paths(client, configured_site)
    _pair(site_id, stale)
    db.session.commit()
    more_of_the_same(site_id, 3, "c", stale)
    real_send, real_putrequest = HTTPAdapter.send, http.client.HTTPConnection.putrequest

    def recording_send(self, request, *args, **kwargs):
        calls.append(("requests", request.url))
        return real_send(self, request, *args, **kwargs)

    def recording_putrequest(self, method, url, *args, **kwargs):
        calls.append(("http.client", f"{method} {self.host}:{self.port}{url}"))
        return real_putrequest(self, method, url, *args, **kwargs)

    monkeypatch.setattr(HTTPAdapter, "send", recording_send)
    monkeypatch.setattr(http.client.HTTPConnection, "putrequest", recording_putrequest)
    huey.flush()
    for name, call in paths.items():
        assert call().status_code == 200, name
    assert calls == []
    assert (huey.pending_count() > 0) is stale  # the refreshes are waiting for a worker


# -- rows examined (PostgreSQL) ------------------------------------------------------------------


def _rows_examined(plan: dict) -> int:
    """Rows the plan's scans read: those they returned and those their filters threw away."""
    rows = 0
    if "Scan" in plan["Node Type"] and plan["Node Type"] != "Bitmap Index Scan":
        loops = plan["Actual Loops"]
        rows += (plan["Actual Rows"] + plan.get("Rows Removed by Filter", 0)) * loops
    return rows + sum(_rows_examined(child) for child in plan.get("Plans", []))


def rows_examined(statements) -> list[int]:
    """Per SELECT, with fresh statistics and planned as for big tables: tiny test tables would
    otherwise be read whole (scanned, or into a hash or merge join) whatever the indexes."""
    counts = []
    with db.engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        for method in ("seqscan", "bitmapscan", "hashjoin", "mergejoin"):
            connection.exec_driver_sql(f"SET enable_{method} = off")
        for statement, parameters in statements:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            plan = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters
            ).scalar()
            plan = json.loads(plan) if isinstance(plan, str) else plan
            counts.append(_rows_examined(plan[0]["Plan"]))
        connection.rollback()
    return counts


@pytest.mark.skipif(not ON_POSTGRESQL, reason="PostgreSQL only (TEST_DATABASE_URL)")
@pytest.mark.parametrize("name", NAMES)
def test_rows_examined_do_not_grow_with_unrelated_data(configured_site, client, name):
    site_id, call = configured_site.id, hot_paths(client, configured_site)[name]
    _pair(site_id)
    db.session.commit()
    small = rows_examined(measured(call)[0])
    unrelated(site_id, 150, "r", sites=30)
    large = rows_examined(measured(call)[0])
    assert large == small, f"{name}: rows examined per statement went from {small} to {large}"
