"""Who may see an issue's flags: a token bound to the issue, or Jira's word for the person.

A page token names the issue its page was rendered for, and Jira's own context tokens carry
theirs; such a token works for that issue only, with no remote call. Any other token costs one
permission check with Jira (as the person), remembered for a minute.
"""

import pytest

from fmejira.domain import links
from fmejira.models import LinkSource
from tests.jira_api.test_links import fme_flags  # noqa: F401 (a fixture)
from tests.pages.helpers import page_token, signed
from tests.support import auth_header, context_jwt

ABC1 = "/jira/api/issues/ABC-1/flags"
ABC2 = "/jira/api/issues/ABC-2/flags"
PERSON = "account-7"


@pytest.fixture
def linked(configured_site, fme_flags, fake_jira):  # noqa: F811
    for key in ("ABC-1", "ABC-2"):
        links.connect(configured_site, "ws-checkout", "new-checkout", key, source=LinkSource.FME)
    fake_jira.requests.clear()
    return configured_site


def permission_checks(fake_jira) -> int:
    return sum(r.path.endswith("/permissions/check") for r in fake_jira.requests)


def unbound(site, account=PERSON) -> dict:
    return auth_header(context_jwt(site, sub=account))


def glance_token(client, site, issue_key="ABC-1") -> dict:
    html = client.get(signed(site, f"/jira/glance?issueKey={issue_key}")).get_data(as_text=True)
    return auth_header(page_token(html))


def test_a_glance_token_reads_its_issue_without_asking_jira(client, linked, fake_jira):
    headers = glance_token(client, linked)
    fake_jira.requests.clear()
    response = client.get(ABC1, headers=headers)
    assert response.status_code == 200
    assert [flag["name"] for flag in response.json["flags"]] == ["new-checkout"]
    assert fake_jira.requests == []


def test_a_glance_token_does_not_open_another_issue(client, linked, fake_jira):
    headers = glance_token(client, linked, "ABC-1")
    for method, url in [
        ("GET", ABC2),
        ("POST", ABC2),
        ("DELETE", f"{ABC2}/ws-checkout/new-checkout"),
        ("GET", "/jira/fragments/flags?issueKey=ABC-2"),
    ]:
        body = {"workspaceId": "ws-checkout", "flagName": "dark-mode"}
        response = client.open(url, method=method, headers=headers, json=body)
        assert response.status_code == 403, (method, url)
    assert permission_checks(fake_jira) == 0
    assert len(links.issues_of_flag(linked, "ws-checkout", "new-checkout")) == 2


def test_jira_context_tokens_are_bound_by_key_or_id(client, linked, fake_jira):
    by_key = {"jira": {"issue": {"key": "ABC-1"}}}
    token = auth_header(context_jwt(linked, sub=PERSON, context=by_key))
    assert client.get(ABC1, headers=token).status_code == 200
    assert client.get(ABC2, headers=token).status_code == 403
    abc1_id = fake_jira.issue("ABC-1").id
    by_id = {"jira": {"issue": {"id": abc1_id}}}
    token = auth_header(context_jwt(linked, sub=PERSON, context=by_id))
    assert client.get(ABC1, headers=token).status_code == 200
    assert client.get(ABC2, headers=token).status_code == 403
    assert permission_checks(fake_jira) == 0


def test_an_unbound_token_is_checked_with_jira_once_a_minute(client, linked, fake_jira):
    assert client.get(ABC1, headers=unbound(linked)).status_code == 200
    assert client.get(ABC1, headers=unbound(linked)).status_code == 200
    assert permission_checks(fake_jira) == 1
    check = next(r for r in fake_jira.requests if r.path.endswith("/permissions/check"))
    assert check.body["accountId"] == PERSON
    assert check.body["projectPermissions"] == [
        {"permissions": ["BROWSE_PROJECTS"], "issues": [int(fake_jira.issue("ABC-1").id)]}
    ]


def test_a_person_who_cannot_see_the_issue_learns_nothing_and_changes_nothing(
    client, linked, fake_jira
):
    fake_jira.hidden_issue_ids["secret-person"] = {fake_jira.issue("ABC-1").id}
    headers = unbound(linked, "secret-person")
    response = client.get(ABC1, headers=headers)
    assert (response.status_code, response.json["error"]["code"]) == (404, "unknown_issue")
    response = client.delete(f"{ABC1}/ws-checkout/new-checkout", headers=headers)
    assert response.status_code == 404
    response = client.post(
        ABC1, headers=headers, json={"workspaceId": "ws-checkout", "flagName": "dark-mode"}
    )
    assert (response.status_code, response.json["error"]["code"]) == (422, "unknown_issue")
    response = client.get("/jira/fragments/flags?issueKey=ABC-1", headers=headers)
    assert response.status_code == 404
    assert [f.name for f in links.flags_of_issue(linked, "ABC-1")] == ["new-checkout"]
    # the same person still sees the issue they may see
    assert client.get(ABC2, headers=headers).status_code == 200


def test_the_releases_page_checks_the_issue_it_was_asked_for(client, linked, fake_jira):
    """``ac.issueKey`` is whatever the person typed; Jira signs it as given."""
    fake_jira.hidden_issue_ids["secret-person"] = {fake_jira.issue("ABC-1").id}
    url = signed(linked, "/jira/pages/connect-flag?issueKey=ABC-1", account="secret-person")
    response = client.get(url)
    assert response.status_code == 404
    assert "fmejira-token" not in response.get_data(as_text=True)
    url = signed(linked, "/jira/pages/connect-flag?issueKey=ABC-2", account="secret-person")
    response = client.get(url)
    assert response.status_code == 200
    token = auth_header(page_token(response.get_data(as_text=True)))
    assert client.get(ABC2, headers=token).status_code == 200
    assert client.get(ABC1, headers=token).status_code == 403


def test_reading_an_issue_the_site_never_linked_needs_no_check(client, configured_site, fake_jira):
    fake_jira.requests.clear()
    response = client.get("/jira/api/issues/ABC-9/flags", headers=unbound(configured_site))
    assert response.status_code == 200 and response.json["flags"] == []
    assert fake_jira.requests == []


def test_malformed_bindings_are_ignored_not_a_500(client, linked, fake_jira):
    """A token whose binding claims are not objects is treated as unbound (checked with Jira)."""
    for claims in ({"fmejira": "ABC-2"}, {"context": "x"}, {"context": {"jira": ["issue"]}}):
        token = auth_header(context_jwt(linked, sub=PERSON, **claims))
        assert client.get(ABC1, headers=token).status_code == 200, claims
    assert permission_checks(fake_jira) == 1  # one check, then the cached answer


def test_jira_down_during_the_check_is_503(client, linked, fake_jira):
    fake_jira.fail_next(10, 503)
    response = client.get(ABC1, headers=unbound(linked))
    assert (response.status_code, response.json["error"]["code"]) == (503, "jira_unavailable")
