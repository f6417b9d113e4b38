"""The issue glance: an issue's flags with their state, and the actions on them."""

from __future__ import annotations

from flask import render_template, request

from fmejira.connect.auth import current_context, issue_page_token, jira_request
from fmejira.domain import links
from fmejira.pages import bp
from fmejira.pages.issue_view import issue_view


@bp.get("/jira/glance")
@jira_request()
def glance():
    # Jira fills issueKey in from the issue it shows this reader ({issue.key} in the
    # descriptor) and signs the URL, so the page token may be bound to it without asking Jira.
    issue_key = links.normalise_issue_key(request.args.get("issueKey", ""))
    token = issue_page_token(current_context(), issue_key)
    return render_template("glance.html", token=token, **issue_view(issue_key))
