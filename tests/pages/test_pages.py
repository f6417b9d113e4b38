"""The pages Jira frames: authenticated like any Jira request, rendered from the store."""

import pytest

from fmejira.domain import links
from fmejira.models import LinkSource
from fmejira.sync import refresh
from tests.conftest import ADMIN, USER
from tests.support import context_jwt, jira_jwt, make_tenant

GLANCE = "/jira/glance?issueKey=ABC-1&issueId=10001"


def signed(site, url, account="account-7"):
    return f"{url}{'&' if '?' in url else '?'}jwt={jira_jwt(site, url, sub=account)}"


@pytest.fixture
def two_flags(configured_site, fake_fme):
    fake_fme.add_flag(
        "ws-checkout",
        "new-checkout",
        default_treatment="on",
        default_rule=[{"treatment": "on", "size": 50}, {"treatment": "off", "size": 50}],
    )
    fake_fme.add_flag("ws-checkout", "dark-mode", killed=True)
    for name in ("new-checkout", "dark-mode"):
        links.connect(configured_site, "ws-checkout", name, "ABC-1", source=LinkSource.JIRA)
    refresh.refresh_project(configured_site.id, "ws-checkout")
    return configured_site


def test_glance_lists_flags_with_state(client, two_flags):
    response = client.get(signed(two_flags, GLANCE))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "new-checkout" in html and "dark-mode" in html
    assert "50% on" in html and "lozenge-on" in html and "lozenge-off" in html
    assert 'name="fmejira-token"' in html
    assert two_flags.shared_secret not in html


def test_glance_empty_states(client, site, configured_site):
    html = client.get(signed(configured_site, GLANCE)).get_data(as_text=True)
    assert "No feature flags are connected to ABC-1 yet" in html
    other = make_tenant("jira:unconfigured")
    html = client.get(signed(other, GLANCE)).get_data(as_text=True)
    assert "Harness FME is not connected yet" in html and "Ask a Jira administrator" in html


def test_deleted_flags_say_so(client, two_flags, fake_fme):
    fake_fme.remove_flag("ws-checkout", "dark-mode")
    refresh.refresh_project(two_flags.id, "ws-checkout")
    assert "Deleted in FME" in client.get(signed(two_flags, GLANCE)).get_data(as_text=True)


def test_pages_need_a_real_qsh_jwt(client, two_flags):
    assert client.get(GLANCE).status_code == 401
    response = client.get(f"{GLANCE}&jwt={context_jwt(two_flags)}")
    assert response.status_code == 401
    assert "This page cannot be shown" in response.get_data(as_text=True)
    wrong = jira_jwt(two_flags, "/jira/glance?issueKey=ABC-2&issueId=10002")
    assert client.get(f"{GLANCE}&jwt={wrong}").status_code == 401


def test_security_headers(client, two_flags):
    response = client.get(signed(two_flags, GLANCE))
    csp = response.headers["Content-Security-Policy"]
    assert (
        "frame-ancestors https://*.atlassian.net https://*.jira.com https://*.jira-dev.com" in csp
    )
    assert "script-src 'self' https://connect-cdn.atl-paas.net" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_bad_issue_key_is_a_page_not_a_500(client, configured_site):
    url = "/jira/glance?issueKey=nope"
    response = client.get(signed(configured_site, url))
    assert response.status_code == 400
    assert "not a Jira issue key" in response.get_data(as_text=True)


def test_dialogs(client, two_flags):
    html = client.get(signed(two_flags, "/jira/dialogs/flag-details?issueKey=ABC-1")).get_data(
        as_text=True
    )
    assert "Last saved in FME" in html and "new-checkout" in html and "Production" in html
    html = client.get(signed(two_flags, "/jira/dialogs/connect-flag?issueKey=ABC-1")).get_data(
        as_text=True
    )
    assert 'id="flag-search"' in html
    page = "/jira/pages/connect-flag?ac.issueKey=ABC-1"
    assert "Connect feature flags to ABC-1" in client.get(signed(two_flags, page)).get_data(
        as_text=True
    )


def test_configure_page_for_admins_and_others(client, configured_site):
    html = client.get(signed(configured_site, "/jira/configure", ADMIN)).get_data(as_text=True)
    assert 'id="api-key"' in html and 'name="fmejira-token"' in html
    html = client.get(signed(configured_site, "/jira/configure", USER)).get_data(as_text=True)
    assert "Only Jira administrators" in html
    assert 'id="api-key"' not in html and "fmejira-token" not in html


def test_create_flag_goes_to_fme_with_the_issue(client):
    response = client.get("/releases/create-flag?issueKey=ABC-1&issueSummary=Pay%20by%20card")
    assert response.status_code == 302
    assert response.headers["Location"] == (
        "https://app.split.io/splits/create?jiraIssueKey=ABC-1&description=Pay%20by%20card"
    )


def test_connect_action_redirects_into_the_site_from_the_referer(client, app):
    make_tenant("jira:acme", base_url="https://acme.atlassian.net")
    response = client.get(
        "/releases/connect-flag?issueKey=abc-1",
        headers={"Referer": "https://acme.atlassian.net/browse/ABC-1"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == (
        "https://acme.atlassian.net/plugins/servlet/ac/fme-jira-test/fme-connect-flag-page?ac.issueKey=ABC-1"
    )


def test_list_action_uses_the_site_parameter_and_the_display_url(client, app):
    tenant = make_tenant(
        "jira:custom", base_url="https://acme.atlassian.net", display_url="https://jira.acme.com"
    )
    response = client.get("/releases/list-flags?issueKey=ABC-1&site=https://jira.acme.com")
    assert response.headers["Location"].startswith("https://jira.acme.com/plugins/servlet/ac/")
    assert tenant.client_key not in response.headers["Location"]


@pytest.mark.parametrize(
    "headers,query",
    [
        ({}, ""),
        ({"Referer": "https://evil.example.com/"}, ""),
        ({}, "&site=http://acme.atlassian.net"),
        ({}, "&site=javascript:alert(1)"),
    ],
)
def test_unknown_sites_get_a_page_that_explains(client, site, headers, query):
    response = client.get(f"/releases/connect-flag?issueKey=ABC-1{query}", headers=headers)
    assert response.status_code == 400
    assert "Open this from your Jira site" in response.get_data(as_text=True)


def test_help_and_home(client):
    assert "Set up" in client.get("/releases/help").get_data(as_text=True)
    assert client.get("/releases/home").headers["Location"] == "https://app.split.io"
