"""The dialogs the glance opens, and the full page the Releases field leads to."""

import html as html_lib

import jwt

from tests.pages.helpers import page_token, signed


def page(client, site, url):
    response = client.get(signed(site, url))
    return response.status_code, html_lib.unescape(response.get_data(as_text=True))


def test_details_of_the_issue_named_in_the_query(client, configured_site, connect_flags):
    connect_flags("new-checkout", "dark-mode")
    status, html = page(client, configured_site, "/jira/dialogs/flag-details?issueKey=ABC-1")
    assert status == 200
    assert html.count('class="detail"') == 2
    assert "Last saved in FME" in html and "Open dark-mode in FME" in html


def test_dialogs_opened_by_jira_wait_for_the_issue_from_the_glance(client, configured_site):
    """Jira loads a dialog at its descriptor URL; the issue arrives as the dialog's custom data."""
    for url in ("/jira/dialogs/flag-details", "/jira/dialogs/connect-flag"):
        status, html = page(client, configured_site, url)
        assert status == 200
        assert 'data-issue-key=""' in html
        claims = jwt.decode(page_token(html), options={"verify_signature": False})
        assert "fmejira" not in claims  # a token for no issue in particular


def test_connect_dialog_for_an_issue(client, configured_site):
    status, html = page(client, configured_site, "/jira/dialogs/connect-flag?issueKey=abc-1")
    assert status == 200
    assert 'data-issue-key="ABC-1"' in html and 'data-mode="dialog"' in html
    assert 'id="flag-search"' in html


def test_the_full_page_shows_the_flags_and_the_picker(client, configured_site, connect_flags):
    connect_flags("new-checkout")
    for query in ("issueKey=ABC-1", "ac.issueKey=ABC-1"):
        status, html = page(client, configured_site, f"/jira/pages/connect-flag?{query}")
        assert status == 200
        assert f'<a href="{configured_site.base_url}/browse/ABC-1" target="_top">ABC-1</a>' in html
        assert 'class="flag"' in html and 'id="flag-search"' in html


def test_the_full_page_needs_an_issue(client, configured_site):
    status, html = page(client, configured_site, "/jira/pages/connect-flag?issueKey=")
    assert status == 400
    assert "Open this page from a Jira issue's Releases field." in html
