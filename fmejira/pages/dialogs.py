"""Dialogs (and the full page the Releases field links to): connect flags, flag details."""

from __future__ import annotations

from flask import render_template, request

from fmejira.connect.auth import jira_request
from fmejira.domain import links
from fmejira.pages import bp
from fmejira.pages.glance import page_context


def _issue_key() -> str:
    return links.normalise_issue_key(
        request.args.get("issueKey") or request.args.get("ac.issueKey", "")
    )


@bp.get("/jira/dialogs/connect-flag")
@jira_request()
def connect_flag_dialog():
    return render_template("connect_flag.html", **page_context(_issue_key()), standalone=False)


@bp.get("/jira/pages/connect-flag")
@jira_request()
def connect_flag_page():
    return render_template("connect_flag.html", **page_context(_issue_key()), standalone=True)


@bp.get("/jira/dialogs/flag-details")
@jira_request()
def flag_details_dialog():
    return render_template("flag_details.html", **page_context(_issue_key()))
