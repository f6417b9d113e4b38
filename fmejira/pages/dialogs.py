"""Dialogs (and the full page the Releases field links to): connect flags, flag details.

Jira opens a dialog at its descriptor URL, without the issue: the glance hands the issue key
over as the dialog's custom data, which the page's script reads from all.js and then loads the
issue's part through :mod:`fmejira.pages.fragments`. The app's own links may name the issue in
the query instead, and then the page is rendered whole.
"""

from __future__ import annotations

from flask import render_template, request

from fmejira.connect.auth import issue_page_token, jira_request
from fmejira.context import current_context
from fmejira.domain import links
from fmejira.errors import ApiError
from fmejira.jira_api.permissions import require_issue_access
from fmejira.pages import bp
from fmejira.pages.issue_view import issue_view


def _issue_key() -> str | None:
    key = request.args.get("issueKey") or request.args.get("ac.issueKey")
    return links.normalise_issue_key(key) if key else None


def _render(template: str, issue_key: str | None, with_flags: bool = True, **extra):
    """The page, with a token bound to its issue once Jira confirms the reader may see it: the
    issue key here is a query parameter anyone can choose (Jira signs ``ac.*`` as given)."""
    if issue_key:
        require_issue_access(issue_key)
    token = issue_page_token(current_context(), issue_key)
    view = issue_view(issue_key) if issue_key and with_flags else {"issue_key": issue_key}
    return render_template(template, token=token, **view, **extra)


@bp.get("/jira/dialogs/connect-flag")
@jira_request()
def connect_flag_dialog():
    """Only the picker: it asks the API for the flags, and the glance shows the result."""
    return _render("connect_flag.html", _issue_key(), with_flags=False, standalone=False)


@bp.get("/jira/pages/connect-flag")
@jira_request()
def connect_flag_page():
    issue_key = _issue_key()
    if issue_key is None:
        raise ApiError("Open this page from a Jira issue's Releases field.", code="missing_issue")
    return _render("connect_flag.html", issue_key, standalone=True)


@bp.get("/jira/dialogs/flag-details")
@jira_request()
def flag_details_dialog():
    return _render("flag_details.html", _issue_key())
