"""Parts of the issue pages, fetched again by the page's script with its page token."""

import html as html_lib

from tests.pages.fixtures import changed_iso
from tests.pages.helpers import page_token, signed
from tests.support import auth_header, jira_jwt

GLANCE = "/jira/glance?issueKey=ABC-1&issueId=10001"


def token_of_glance(client, site):
    return page_token(client.get(signed(site, GLANCE)).get_data(as_text=True))


def fragment(client, token, part="flags", issue="ABC-1"):
    return client.get(f"/jira/fragments/{part}?issueKey={issue}", headers=auth_header(token))


def test_the_flags_part_follows_a_change(client, configured_site, connect_flags):
    connect_flags("new-checkout", "dark-mode")
    token = token_of_glance(client, configured_site)
    assert fragment(client, token).get_data(as_text=True).count('class="flag"') == 2
    url = "/jira/api/issues/ABC-1/flags/ws-checkout/dark-mode"
    assert client.delete(url, headers=auth_header(token)).status_code == 204
    html = fragment(client, token).get_data(as_text=True)
    assert html.count('class="flag"') == 1 and "dark-mode" not in html
    assert "<html" not in html  # a part, not a page


def test_the_details_part(client, configured_site, connect_flags):
    connect_flags("new-checkout")
    html = html_lib.unescape(
        fragment(client, token_of_glance(client, configured_site), "details").get_data(as_text=True)
    )
    assert "<dt>Primary environment</dt><dd>Production</dd>" in html
    assert "<dt>Rollout</dt><dd>50% on</dd>" in html
    assert f'<time datetime="{changed_iso("new-checkout")}" data-style="datetime">' in html
    assert "/ws/ws-checkout/splits/id-ws-checkout-new-checkout/env/env-prod/definition" in html
    assert "Open new-checkout in FME" in html


def test_fragments_need_a_token(client, configured_site):
    assert client.get("/jira/fragments/flags?issueKey=ABC-1").status_code == 401


def test_a_real_qsh_jwt_for_the_fragment_works_too(client, configured_site, connect_flags):
    connect_flags("new-checkout")
    url = "/jira/fragments/flags?issueKey=ABC-1"
    response = client.get(url, headers=auth_header(jira_jwt(configured_site, url)))
    assert response.status_code == 200 and "new-checkout" in response.get_data(as_text=True)


def test_unknown_parts_and_bad_keys(client, configured_site):
    token = token_of_glance(client, configured_site)
    assert fragment(client, token, part="secrets").status_code == 404
    assert fragment(client, token, issue="nope").status_code == 400
