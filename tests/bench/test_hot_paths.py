"""The hot paths cost a constant number of SQL statements, whatever the data, and make no
remote call while a person waits."""

import pytest
import sqlalchemy as sa
from requests.adapters import HTTPAdapter

from fmejira.extensions import db
from fmejira.models import Flag, FlagState, Issue, Link, LinkSource
from tests.conftest import FME_KEY
from tests.support import auth_header, context_jwt, jira_jwt, make_tenant


def grow(site, flags: int, issues: int, tag: str):
    """More data around the measured issue ABC-100 and flag flag-000: ``flags`` more flags on
    the issue, ``issues`` more issues on the flag, and as many other tenants."""
    issue = db.session.scalar(sa.select(Issue).where(Issue.key == "ABC-100"))
    flag = db.session.scalar(sa.select(Flag).where(Flag.name == "flag-000"))
    if issue is None:
        issue = Issue(tenant_id=site.id, jira_id="20000", key="ABC-100")
        flag = Flag(tenant_id=site.id, workspace_id="ws-checkout", name="flag-000", fme_id="0")
        db.session.add_all([issue, flag])
        db.session.flush()
        db.session.add(
            Link(tenant_id=site.id, flag_id=flag.id, issue_id=issue.id, source=LinkSource.JIRA)
        )
    new_flags = [
        Flag(
            tenant_id=site.id,
            workspace_id="ws-checkout",
            name=f"flag-{tag}-{n}",
            fme_id=f"{tag}{n}",
        )
        for n in range(flags)
    ]
    new_issues = [
        Issue(tenant_id=site.id, jira_id=f"{tag}{n}", key=f"NEW-{tag}{n}") for n in range(issues)
    ]
    db.session.add_all(new_flags + new_issues)
    db.session.flush()
    for f in [flag, *new_flags]:
        if not f.states:
            state = FlagState(
                tenant_id=site.id,
                flag_id=f.id,
                environment_id="env-prod",
                environment_name="Production",
                rollout_percentage=50.0,
            )
            db.session.add(state)
    db.session.add_all(
        Link(tenant_id=site.id, flag_id=f.id, issue_id=issue.id, source=LinkSource.JIRA)
        for f in new_flags
    )
    db.session.add_all(
        Link(tenant_id=site.id, flag_id=flag.id, issue_id=i.id, source=LinkSource.JIRA)
        for i in new_issues
    )
    for n in range(issues):
        make_tenant(f"jira:noise-{tag}-{n}")
    db.session.commit()


def count_statements(call) -> int:
    statements = []

    def record(*_):
        statements.append(1)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        response = call()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert response.status_code == 200, response.get_data(as_text=True)
    return len(statements)


def hot_paths(client, site):
    glance = "/jira/glance?issueKey=ABC-100&issueId=1"
    return {
        "glance data": lambda: client.get(
            "/jira/api/issues/ABC-100/flags", headers=auth_header(context_jwt(site))
        ),
        "glance page": lambda: client.get(f"{glance}&jwt={jira_jwt(site, glance)}"),
        "FME-side issues": lambda: client.get(
            "/api/v1/flags/ws-checkout/flag-000/issues",
            headers={"Authorization": f"Bearer {FME_KEY}"},
        ),
    }


@pytest.mark.parametrize("name", ["glance data", "glance page", "FME-side issues"])
def test_statement_count_does_not_grow_with_the_data(app, client, configured_site, name):
    grow(configured_site, flags=0, issues=0, tag="a")
    small = count_statements(hot_paths(client, configured_site)[name])
    grow(configured_site, flags=12, issues=15, tag="b")
    large = count_statements(hot_paths(client, configured_site)[name])
    assert large == small, f"{name}: {small} statements with 1 link, {large} with 28 links"


def test_hot_paths_make_no_remote_call(app, client, configured_site, monkeypatch):
    grow(configured_site, flags=3, issues=2, tag="c")
    calls = []
    real_send = HTTPAdapter.send

    def recording_send(self, request, *args, **kwargs):
        calls.append(request.url)
        return real_send(self, request, *args, **kwargs)

    monkeypatch.setattr(HTTPAdapter, "send", recording_send)
    for name, call in hot_paths(client, configured_site).items():
        assert call().status_code == 200, name
    assert calls == []
