"""The Releases field's actions: opened by Jira in a new tab, without any JWT."""

import pytest

from fmejira.models import TenantState
from tests.support import make_tenant

CONNECT_PAGE = "/plugins/servlet/ac/fme-jira-test/fme-connect-flag-page?ac.issueKey=ABC-1"


@pytest.fixture
def acme(app):
    return make_tenant("jira:acme", base_url="https://acme.atlassian.net")


def test_create_flag_goes_to_fme_with_the_issue(client, app):
    response = client.get("/releases/create-flag?issueKey=abc-1&issueSummary=Pay%20by%20card")
    assert response.status_code == 302
    assert response.headers["Location"] == (
        "https://app.split.io/splits/create?jiraIssueKey=ABC-1&description=Pay%20by%20card"
    )


def test_create_flag_follows_the_configured_fme_url(client, app):
    app.config["FME_CREATE_FLAG_URL"] = "https://fme.example/create?issue={issue_key}"
    response = client.get("/releases/create-flag?issueKey=ABC-1")
    assert response.headers["Location"] == "https://fme.example/create?issue=ABC-1"


def test_a_bad_issue_key_is_a_page(client, app):
    response = client.get("/releases/create-flag?issueKey=%3Cscript%3E")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "not a Jira issue key" in html and "<script>" not in html


@pytest.mark.parametrize("action", ["connect-flag", "list-flags"])
def test_back_into_the_site_from_the_referer(client, acme, action):
    response = client.get(
        f"/releases/{action}?issueKey=abc-1",
        headers={"Referer": "https://acme.atlassian.net/browse/ABC-1"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"https://acme.atlassian.net{CONNECT_PAGE}"


@pytest.mark.parametrize(
    "site", ["acme.atlassian.net", "https://ACME.atlassian.net/", " https://acme.atlassian.net "]
)
def test_a_typed_site_wins_over_the_referer(client, acme, site):
    make_tenant("jira:other", base_url="https://other.atlassian.net")
    response = client.get(
        "/releases/connect-flag",
        query_string={"issueKey": "ABC-1", "site": site},
        headers={"Referer": "https://other.atlassian.net/browse/ABC-1"},
    )
    assert response.headers["Location"] == f"https://acme.atlassian.net{CONNECT_PAGE}"


def test_a_custom_domain_leads_to_the_custom_domain(client, app):
    make_tenant(
        "jira:custom", base_url="https://acme.atlassian.net", display_url="https://jira.acme.com"
    )
    response = client.get("/releases/list-flags?issueKey=ABC-1&site=https://jira.acme.com")
    assert response.headers["Location"] == f"https://jira.acme.com{CONNECT_PAGE}"


@pytest.mark.parametrize(
    "headers,query",
    [
        ({}, ""),
        ({"Referer": "https://evil.example.com/"}, ""),
        ({}, "&site=http://acme.atlassian.net"),
        ({}, "&site=javascript:alert(1)"),
        ({}, "&site=acme.atlassian.net.evil.example.com"),
    ],
)
def test_unknown_sites_get_a_page_that_explains(client, acme, headers, query):
    response = client.get(f"/releases/connect-flag?issueKey=ABC-1{query}", headers=headers)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Which Jira site are you using?" in html
    assert '<input type="hidden" name="issueKey" value="ABC-1">' in html
    assert 'action="/releases/connect-flag"' in html
    # the form's answer redirects into a Jira site, which form-action governs as well
    assert "form-action 'self' https:;" in response.headers["Content-Security-Policy"]


def test_a_typed_site_without_the_app_says_so(client, acme):
    response = client.get('/releases/list-flags?issueKey=ABC-1&site="><b>x')
    html = response.get_data(as_text=True)
    assert "Harness FME for Jira is not installed on" in html
    assert "<b>x" not in html  # escaped


def test_a_site_that_uninstalled_the_app_is_not_a_destination(client, acme):
    acme.state = TenantState.UNINSTALLED
    response = client.get("/releases/connect-flag?issueKey=ABC-1&site=acme.atlassian.net")
    assert response.status_code == 400


def test_home_and_help(client, app):
    assert client.get("/releases/home").headers["Location"] == "https://app.split.io"
    html = client.get("/releases/help").get_data(as_text=True)
    assert "Set up" in html and "Statuses" in html


@pytest.mark.parametrize("action", ["connect-flag", "list-flags"])
def test_a_forge_site_lands_on_the_issue_and_its_forge_panel(client, app, action):
    """Forge's action URLs cannot name a Forge page: the issue's Forge panel chooses flags."""
    make_tenant(
        "ari:cloud:ecosystem::installation/0a3a7799-0000-4000-8000-00000000000a",
        base_url="https://acme.atlassian.net",
        forge_installation_id="ari:cloud:ecosystem::installation/0a3a7799-0000-4000-8000-00000000000a",
        forge_api_base_url="https://api.atlassian.com/ex/jira/d0d52620-0000-4000-8000-0000000000c1",
    )
    response = client.get(
        f"/releases/{action}?issueKey=abc-1",
        headers={"Referer": "https://acme.atlassian.net/browse/ABC-1"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "https://acme.atlassian.net/browse/ABC-1"
