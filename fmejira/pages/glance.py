"""The issue glance: an issue's flags with their state, and the actions on them."""

from __future__ import annotations

import json

from flask import g, render_template, request

from fmejira.connect.auth import (
    current_context,
    issue_page_token,
    token_from_request,
    verify_from_cache,
    verify_tenant_jwt,
)
from fmejira.domain import links
from fmejira.hot_cache import hot_cache
from fmejira.jira_api.links import flags_entry, issue_flags_payload, remember_issue_flags
from fmejira.pages import bp
from fmejira.pages.issue_view import connection_status, view_of

CONNECTION_ENTRY = "connection"


@bp.get("/jira/glance")
def glance():
    """The glance. Jira fills issueKey in from the issue it shows this reader ({issue.key} in
    the descriptor) and signs the URL, so the page token may be bound to it without asking Jira.

    With the hot cache, the site, the issue's flags and the connection's status come from one
    Redis round trip when current; else from the database, and they are cached."""
    token = token_from_request()
    cache = hot_cache()
    entry = flags_entry(request.args.get("issueKey"))
    context, snapshot = verify_from_cache(
        token, cache, entry, CONNECTION_ENTRY, allow_context_qsh=False
    )
    cached_flags, cached_status = snapshot.values
    if context is not None and cached_flags and cached_status:
        data = json.loads(cached_flags)
        if data["configured"]:  # else the page asks Jira whether the reader is an admin
            g.jira_context = context
            return _render(data["issueKey"], view_of(data, cached_status.decode()))
    g.jira_context = verify_tenant_jwt(token, allow_context_qsh=False)
    tenant = current_context().tenant
    issue_key = links.normalise_issue_key(request.args.get("issueKey", ""))
    data = issue_flags_payload(tenant, issue_key)
    status = connection_status(tenant)
    remember_issue_flags(
        cache,
        snapshot.generation,
        tenant,
        data,
        also={CONNECTION_ENTRY: (status.encode(), cache.max_seconds)},
    )
    return _render(issue_key, view_of(data, status))


def _render(issue_key: str, view: dict) -> str:
    token = issue_page_token(current_context(), issue_key)
    return render_template("glance.html", token=token, **view)
