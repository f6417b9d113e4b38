"""Building the URLs Jira would load, and reading what a page hands its script."""

from __future__ import annotations

import re

from tests.support import jira_jwt

TOKEN = re.compile(r'<meta name="fmejira-token" content="([^"]+)">')


def signed(site, url: str, account: str | None = "account-7") -> str:
    """``url`` with the real-qsh JWT Jira appends when it loads a page module."""
    return f"{url}{'&' if '?' in url else '?'}jwt={jira_jwt(site, url, sub=account)}"


def page_token(html: str) -> str:
    match = TOKEN.search(html)
    assert match, "the page carries no token"
    return match.group(1)
