"""Jira's issue webhooks: verified like any Jira request; moves and deletions follow links."""

import sqlalchemy as sa

from fmejira.extensions import db
from fmejira.models import Flag, Issue, Link, LinkSource
from tests.conftest import run_tasks
from tests.support import context_jwt, jira_jwt


def _linked(site, jira_id="10001", key="ABC-1"):
    flag = Flag(
        tenant_id=site.id,
        workspace_id="ws-checkout",
        name="new-checkout",
        fme_id="f1",
        in_jira=True,
    )
    issue = Issue(tenant_id=site.id, jira_id=jira_id, key=key, summary="Old summary")
    db.session.add_all([flag, issue])
    db.session.flush()
    db.session.add(
        Link(tenant_id=site.id, flag_id=flag.id, issue_id=issue.id, source=LinkSource.FME)
    )
    db.session.commit()
    return flag, issue


def post(client, site, path, body, token=None):
    token = token or jira_jwt(site, path, "POST", sub=None)
    return client.post(f"{path}?jwt={token}", json=body)


def event(key="XYZ-7", summary="New summary", status="In Progress", jira_id="10001"):
    return {
        "webhookEvent": "jira:issue_updated",
        "issue": {
            "id": jira_id,
            "key": key,
            "fields": {"summary": summary, "status": {"name": status}},
        },
    }


def test_a_moved_issue_keeps_its_links_under_the_new_key(client, configured_site):
    _, issue = _linked(configured_site)
    assert post(client, configured_site, "/webhooks/jira/issue-updated", event()).status_code == 204
    db.session.refresh(issue)
    assert (issue.key, issue.summary, issue.status) == ("XYZ-7", "New summary", "In Progress")
    assert db.session.scalar(sa.select(sa.func.count(Link.id))) == 1


def test_an_unknown_issue_is_ignored(client, configured_site):
    response = post(client, configured_site, "/webhooks/jira/issue-updated", event(jira_id="999"))
    assert response.status_code == 204
    assert db.session.scalar(sa.select(sa.func.count(Issue.id))) == 0


def test_a_deleted_issue_loses_its_links_and_jira_follows(client, configured_site, fake_jira):
    _linked(configured_site)
    body = {"webhookEvent": "jira:issue_deleted", "issue": {"id": "10001", "key": "ABC-1"}}
    assert post(client, configured_site, "/webhooks/jira/issue-deleted", body).status_code == 204
    assert db.session.scalar(sa.select(sa.func.count(Link.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Issue.id))) == 0
    run_tasks()
    deletes = [r for r in fake_jira.requests if r.method == "DELETE" and "/featureflags/" in r.path]
    assert [r.path.rsplit("/", 1)[1] for r in deletes] == ["ws-checkout.new-checkout"]


def test_webhooks_need_a_real_qsh(client, configured_site):
    _linked(configured_site)
    response = post(
        client,
        configured_site,
        "/webhooks/jira/issue-updated",
        event(),
        token=context_jwt(configured_site),
    )
    assert response.status_code == 401
    response = client.post("/webhooks/jira/issue-updated", json=event())
    assert response.status_code == 401
    assert db.session.scalar(sa.select(Issue.key)) == "ABC-1"


def test_another_tenant_cannot_touch_this_tenants_issues(client, configured_site):
    from tests.support import make_tenant

    _linked(configured_site)
    other = make_tenant("jira:other")
    body = {"webhookEvent": "jira:issue_deleted", "issue": {"id": "10001", "key": "ABC-1"}}
    assert post(client, other, "/webhooks/jira/issue-deleted", body).status_code == 204
    assert db.session.scalar(sa.select(sa.func.count(Link.id))) == 1


def test_garbage_bodies_are_harmless(client, configured_site):
    _linked(configured_site)
    bodies = (
        {},
        {"issue": None},
        {"issue": {"id": ""}},
        {"issue": {"id": "10001", "fields": None}},
    )
    for body in bodies:
        response = post(client, configured_site, "/webhooks/jira/issue-updated", body)
        assert response.status_code == 204
    assert db.session.scalar(sa.select(Issue.key)) == "ABC-1"
