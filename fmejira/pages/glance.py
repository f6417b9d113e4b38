"""The issue glance: an issue's flags with their state, and the actions on them."""

from __future__ import annotations

from urllib.parse import quote

from flask import current_app, render_template, request

from fmejira.connect.auth import current_context, issue_page_token, jira_request
from fmejira.domain import links
from fmejira.jira_api.links import issue_flags_payload
from fmejira.pages import bp


def create_flag_url(issue_key: str, summary: str = "") -> str:
    return current_app.config["FME_CREATE_FLAG_URL"].format(
        issue_key=quote(issue_key, safe=""), summary=quote(summary[:200], safe="")
    )


def page_context(issue_key: str) -> dict:
    """What every issue page needs: the issue's flags from the store, and a token for its calls."""
    context = current_context()
    return {
        "issue_key": issue_key,
        "data": issue_flags_payload(context.tenant, issue_key),
        "token": issue_page_token(context, issue_key),
        "create_url": create_flag_url(issue_key),
        "app_key": current_app.config["APP_KEY"],
    }


@bp.get("/jira/glance")
@jira_request()
def glance():
    issue_key = links.normalise_issue_key(request.args.get("issueKey", ""))
    return render_template("glance.html", **page_context(issue_key))
