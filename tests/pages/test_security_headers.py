"""Every page: framed only by Atlassian's sites, never sniffed, cached or leaking its URL."""

import json
import re
from pathlib import Path

from fmejira.pages import issue_view, releases
from tests.conftest import ADMIN
from tests.pages.helpers import signed

SIGNED = [
    "/jira/glance?issueKey=ABC-1&issueId=10001",
    "/jira/pages/connect-flag?issueKey=ABC-1",
    "/jira/dialogs/connect-flag",
    "/jira/dialogs/flag-details?issueKey=ABC-1",
    "/jira/configure",
]
PUBLIC = ["/releases/help", "/releases/home", "/releases/connect-flag?issueKey=ABC-1"]
ROOT = Path(__file__).resolve().parents[2]


def responses(client, site):
    yield client.get("/jira/glance?issueKey=ABC-1")  # refused: headers all the same
    for url in SIGNED:
        yield client.get(signed(site, url, ADMIN))
    for url in PUBLIC:
        yield client.get(url)


def test_headers_on_every_page(client, configured_site):
    for response in responses(client, configured_site):
        csp = dict(
            directive.split(" ", 1)
            for directive in response.headers["Content-Security-Policy"].split("; ")
        )
        assert csp["frame-ancestors"] == (
            "https://*.atlassian.net https://*.jira.com https://*.jira-dev.com"
        )
        assert csp["script-src"] == "'self' https://connect-cdn.atl-paas.net"
        assert csp["object-src"] == "'none'" and csp["default-src"] == "'self'"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["Cache-Control"] == "no-store"


def test_pages_load_only_the_app_s_files_and_all_js(client, configured_site):
    html = client.get(signed(configured_site, SIGNED[0])).get_data(as_text=True)
    loaded = re.findall(r'<script src="([^"]+)"|<link rel="stylesheet" href="([^"]+)"', html)
    sources = {src or href for src, href in loaded}
    assert "https://connect-cdn.atl-paas.net/all.js" in sources
    assert all(
        s.startswith("/static/") for s in sources - {"https://connect-cdn.atl-paas.net/all.js"}
    )


def test_module_keys_are_the_descriptor_s():
    modules = json.loads((ROOT / "atlassian-connect.json").read_text())["modules"]
    assert modules["generalPages"][0]["key"] == releases.CONNECT_PAGE_KEY
    assert modules["configurePage"]["key"] == issue_view.CONFIGURE_PAGE_KEY
    script = (ROOT / "fmejira" / "static" / "issue.js").read_text()
    for dialog in modules["dialogs"]:
        assert f'key: "{dialog["key"]}"' in script
