"""The Forge door end to end: the Forge UI's calls on the Jira-side API, and the app's calls
to Jira with Forge's system token against ``app.apiBaseUrl``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from fmejira.extensions import db
from fmejira.forge.signer import has_live_token
from fmejira.models import Link
from fmejira.outbound import Unauthorized, Unavailable
from fmejira.platform import jira_for
from fmejira.queue import huey
from tests.conftest import run_tasks
from tests.fakes.forge import invocation_claims, system_token
from tests.forge.fixtures import forge_headers


def ui_headers(keys, forge_jira, issue=None, principal="account-7"):
    claims = invocation_claims(
        forge_jira.url, module_type="jira:issueContext", principal=principal, issue=issue
    )
    return forge_headers(keys, claims)


ISSUE_1 = {"key": "ABC-1", "id": "10001", "type": "Task", "typeId": "10002"}


def test_the_issue_panel_connects_a_flag_and_jira_gets_it(
    client, keys, forge_jira, forge_site, fme_flags
):
    response = client.post(
        "/jira/api/issues/ABC-1/flags",
        headers=ui_headers(keys, forge_jira, ISSUE_1),
        json={"workspaceId": "ws-checkout", "flagName": "new-checkout"},
    )
    assert response.status_code == 201, response.json
    (link,) = db.session.scalars(sa.select(Link)).all()
    assert link.created_by == "account-7" and link.issue.jira_id == "10001"
    run_tasks()
    record = forge_jira.flags["ws-checkout.new-checkout"].data
    assert record["associations"] == [{"associationType": "issueIdOrKeys", "values": ["10001"]}]
    calls = [r for r in forge_jira.requests if r.path == "/rest/featureflags/0.1/bulk"]
    assert calls and all(r.status == 202 for r in calls)

    listed = client.get(
        "/jira/api/issues/ABC-1/flags", headers=ui_headers(keys, forge_jira, ISSUE_1)
    )
    assert listed.status_code == 200
    assert [flag["name"] for flag in listed.json["flags"]] == ["new-checkout"]


def test_a_panel_token_works_for_its_own_issue_only(
    client, keys, forge_jira, forge_site, fme_flags
):
    response = client.get(
        "/jira/api/issues/ABC-2/flags", headers=ui_headers(keys, forge_jira, ISSUE_1)
    )
    assert response.status_code == 403
    response = client.post(
        "/jira/api/issues/ABC-2/flags",
        headers=ui_headers(keys, forge_jira, ISSUE_1),
        json={"workspaceId": "ws-checkout", "flagName": "new-checkout"},
    )
    assert response.status_code == 403
    assert db.session.scalars(sa.select(Link)).all() == []


def test_pages_take_no_forge_calls(client, keys, forge_jira, forge_site):
    """Only the JSON API serves the Forge UI; Jira's Connect pages need a Connect JWT."""
    response = client.get(
        "/jira/glance?issueKey=ABC-1", headers=ui_headers(keys, forge_jira, ISSUE_1)
    )
    assert response.status_code == 401


def test_without_a_current_token_nothing_is_sent(client, forge_site, forge_jira):
    forge_site.forge_system_token_expires_at = datetime.now(UTC) + timedelta(seconds=30)
    db.session.commit()
    sent = len(forge_jira.requests)
    with pytest.raises(Unavailable, match="Forge system token"):
        jira_for(forge_site).get_issue("ABC-1")
    assert len(forge_jira.requests) == sent


def test_a_site_with_both_doors_is_called_through_forge_while_its_token_lasts(
    client, forge_site, forge_jira, fake_jira
):
    forge_site.client_key = "jira:connect-client"  # the site installed the Connect app too
    forge_site.base_url = fake_jira.url
    forge_site.shared_secret = fake_jira.shared_secret
    db.session.commit()
    assert jira_for(forge_site).get_issue("ABC-1").id == "10001"
    assert forge_jira.requests[-1].path == "/rest/api/3/issue/ABC-1"
    assert not fake_jira.requests

    forge_site.forge_system_token_expires_at = datetime.now(UTC) - timedelta(minutes=1)
    db.session.commit()
    assert jira_for(forge_site).get_issue("ABC-1").id == "10001"  # a Connect JWT now
    assert fake_jira.requests[-1].path == "/rest/api/3/issue/ABC-1"


def test_the_admin_page_asks_jira_with_the_system_token(client, keys, forge_jira, forge_site):
    forge_jira.admin_account_ids.add("account-admin")
    admin = invocation_claims(
        forge_jira.url, module_type="jira:adminPage", principal="account-admin"
    )
    response = client.get("/jira/api/configuration", headers=forge_headers(keys, admin))
    assert response.status_code == 200, response.json
    assert [p["workspaceId"] for p in response.json["projects"]] == ["ws-checkout"]
    other = invocation_claims(forge_jira.url, module_type="jira:adminPage", principal="account-x")
    response = client.delete("/jira/api/configuration", headers=forge_headers(keys, other))
    assert response.status_code == 403
    checks = [r for r in forge_jira.requests if r.path == "/rest/api/3/permissions/check"]
    assert [r.status for r in checks] == [200, 200]  # each person asked about, with the token


def test_the_panel_asks_jira_whether_the_person_may_see_its_issue(
    client, keys, forge_jira, forge_site, fme_flags
):
    """A Forge call is answered with the app's own token: the panel's issue binds the call to
    that issue, and Jira is still asked whether the person may see it."""
    forge_jira.hidden_issue_ids["account-7"] = {"10001"}
    response = client.post(
        "/jira/api/issues/ABC-1/flags",
        headers=ui_headers(keys, forge_jira, ISSUE_1),
        json={"workspaceId": "ws-checkout", "flagName": "new-checkout"},
    )
    assert response.status_code == 422
    assert response.json["error"]["code"] == "unknown_issue"
    assert db.session.scalars(sa.select(Link)).all() == []
    checks = [r for r in forge_jira.requests if r.path == "/rest/api/3/permissions/check"]
    assert [r.body["accountId"] for r in checks] == ["account-7"]


def test_a_refused_system_token_is_forgotten_and_the_call_waits(client, forge_site, forge_jira):
    """A 401 through Forge means "wait for the next token", never "give up" (PROTOCOLS 1b)."""
    forge_jira.expire_bearer_tokens()
    with pytest.raises(Unavailable, match="waiting for Forge's next call"):
        jira_for(forge_site).get_issue("ABC-1")
    db.session.expire_all()
    assert not has_live_token(forge_site)
    sent = len(forge_jira.requests)
    with pytest.raises(Unavailable):
        jira_for(forge_site).get_issue("ABC-1")
    assert len(forge_jira.requests) == sent  # nothing more is sent with it


def test_a_403_through_forge_is_not_taken_for_a_spent_token(client, forge_site, forge_jira):
    forge_jira.fail_next(1, 403)
    with pytest.raises(Unauthorized):
        jira_for(forge_site).get_issue("ABC-1")
    db.session.expire_all()
    assert has_live_token(forge_site)


def test_what_waited_for_a_token_goes_when_one_comes(
    client, keys, forge_jira, forge_site, fme_flags
):
    from fmejira.sync import refresh

    refresh.refresh_project(forge_site.id, "ws-checkout")  # the flags' state, read
    db.session.commit()
    forge_jira.expire_bearer_tokens()
    response = client.post(
        "/jira/api/issues/ABC-1/flags",
        headers=ui_headers(keys, forge_jira, ISSUE_1),
        json={"workspaceId": "ws-checkout", "flagName": "new-checkout"},
    )
    assert response.status_code == 503  # Jira could not be asked about the issue
    forge_jira.bearer_tokens.add(fresh := system_token())
    response = client.post(
        "/jira/api/issues/ABC-1/flags",
        headers={**ui_headers(keys, forge_jira, ISSUE_1), "x-forge-oauth-system": fresh},
        json={"workspaceId": "ws-checkout", "flagName": "new-checkout"},
    )
    assert response.status_code == 201
    forge_jira.expire_bearer_tokens()
    run_tasks(include_scheduled=True)  # every push is refused
    assert "ws-checkout.new-checkout" not in forge_jira.flags
    forge_jira.bearer_tokens.add(newest := system_token())
    scheduled = invocation_claims(forge_jira.url)
    response = client.post("/forge/scheduled", headers=forge_headers(keys, scheduled, newest))
    assert response.status_code == 204
    assert [task.name for task in huey.pending()] == ["push_flags"]
    run_tasks()
    assert forge_jira.flags["ws-checkout.new-checkout"].issue_ids == ["10001"]
