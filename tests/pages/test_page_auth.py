"""Pages load with the real-qsh JWT Jira appends to a module's URL, and with nothing else."""

import pytest

from fmejira.models import TenantState
from tests.conftest import ADMIN
from tests.pages.helpers import page_token, signed
from tests.support import context_jwt, jira_jwt

PAGES = [
    "/jira/glance?issueKey=ABC-1&issueId=10001",
    "/jira/pages/connect-flag?issueKey=ABC-1",
    "/jira/dialogs/connect-flag",
    "/jira/dialogs/flag-details",
    "/jira/configure",
]


@pytest.mark.parametrize("url", PAGES)
def test_a_page_without_a_jwt_is_refused_with_a_page(client, configured_site, url):
    response = client.get(url)
    assert response.status_code == 401
    assert response.mimetype == "text/html"
    assert "This page cannot be shown" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", PAGES)
def test_context_tokens_cannot_load_a_page(client, configured_site, url):
    separator = "&" if "?" in url else "?"
    response = client.get(f"{url}{separator}jwt={context_jwt(configured_site)}")
    assert response.status_code == 401
    assert "context token cannot be used" in response.get_data(as_text=True)


def test_a_page_token_cannot_load_a_page(client, configured_site):
    """The token a page hands its script is a context token: it cannot open another page."""
    html = client.get(signed(configured_site, PAGES[0])).get_data(as_text=True)
    response = client.get(f"/jira/configure?jwt={page_token(html)}")
    assert response.status_code == 401


def test_a_jwt_for_another_url_is_refused(client, configured_site):
    token = jira_jwt(configured_site, "/jira/glance?issueKey=ABC-2&issueId=10002")
    response = client.get(f"{PAGES[0]}&jwt={token}")
    assert response.status_code == 401
    assert "qsh mismatch" in response.get_data(as_text=True)


def test_an_expired_jwt_is_refused(client, configured_site):
    token = jira_jwt(configured_site, PAGES[0], iat_offset=-600, lifetime=180)
    response = client.get(f"{PAGES[0]}&jwt={token}")
    assert response.status_code == 401
    assert "Reload the Jira page" in response.get_data(as_text=True)


def test_a_site_that_uninstalled_the_app_is_refused(client, configured_site):
    configured_site.state = TenantState.UNINSTALLED
    assert client.get(signed(configured_site, "/jira/configure", ADMIN)).status_code == 401
