"""The configuration page: the admin's view of the FME connection (the API does the work)."""

from __future__ import annotations

from flask import render_template

from fmejira.connect.auth import issue_page_token, jira_request
from fmejira.context import current_context
from fmejira.jira_api.permissions import is_admin
from fmejira.pages import bp


@bp.get("/jira/configure")
@jira_request()
def configure():
    context = current_context()
    admin = bool(context.account_id) and is_admin(context.tenant, context.account_id)
    token = issue_page_token(context) if admin else None
    return render_template("configure.html", admin=admin, token=token)
