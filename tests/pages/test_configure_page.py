"""The configuration page: for Jira administrators, checked with Jira, not by the descriptor."""

from tests.conftest import ADMIN, FME_KEY, USER
from tests.pages.helpers import page_token, signed
from tests.support import auth_header

CONFIGURE = "/jira/configure"


def test_an_admin_gets_the_form_and_a_token_for_the_api(client, configured_site):
    html = client.get(signed(configured_site, CONFIGURE, ADMIN)).get_data(as_text=True)
    assert 'id="api-key"' in html and "configure.js" in html
    response = client.get("/jira/api/configuration", headers=auth_header(page_token(html)))
    assert response.status_code == 200 and response.json["status"] == "authorized"
    assert FME_KEY not in html and configured_site.shared_secret not in html


def test_anyone_else_is_told_to_ask_an_admin(client, configured_site):
    for account in (USER, None):
        html = client.get(signed(configured_site, CONFIGURE, account)).get_data(as_text=True)
        assert "Only Jira administrators can configure" in html
        assert 'id="api-key"' not in html and "fmejira-token" not in html


def test_jira_unable_to_confirm_the_admin_is_a_clear_page(client, configured_site, fake_jira):
    fake_jira.fail_next(10, 503)
    response = client.get(signed(configured_site, CONFIGURE, ADMIN))
    assert response.status_code == 503
    assert "could not confirm your permissions" in response.get_data(as_text=True)
