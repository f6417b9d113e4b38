"""What the pages about one issue show: its flags from the store, and what to say around them
(connection trouble, the "as of" time, what to do when FME is not configured)."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import quote

from flask import current_app

from fmejira.context import current_context
from fmejira.domain import configuration
from fmejira.errors import ServiceUnavailable
from fmejira.jira_api.links import issue_flags_payload
from fmejira.jira_api.permissions import is_admin

CONFIGURE_PAGE_KEY = "fme-configure"


def create_flag_url(issue_key: str, summary: str = "") -> str:
    return current_app.config["FME_CREATE_FLAG_URL"].format(
        issue_key=quote(issue_key, safe=""), summary=quote(summary[:200], safe="")
    )


def configure_url(tenant) -> str:
    """The app's configuration page inside the tenant's Jira."""
    return (
        f"{tenant.link_base_url}/plugins/servlet/ac/{current_app.config['APP_KEY']}"
        f"/{CONFIGURE_PAGE_KEY}"
    )


def _as_of(flags: list[dict]) -> str | None:
    """The oldest read time: everything shown is at least this fresh."""
    times = [datetime.fromisoformat(flag["readAt"]) for flag in flags if flag["readAt"]]
    return min(times).isoformat() if times else None


def _viewer_is_admin(context) -> bool | None:
    """None when Jira cannot say right now: the page then addresses both kinds of reader."""
    if not context.account_id:
        return False
    try:
        return is_admin(context.tenant, context.account_id)
    except ServiceUnavailable:
        return None


def connection_status(tenant) -> str:
    connection = configuration.connection_for(tenant)
    return connection.status.value if connection else "unconfigured"


def issue_view(issue_key: str) -> dict:
    """The template context of every page and fragment about ``issue_key``.

    Only the "not configured" state asks Jira something (whether the reader is an admin, cached
    for a minute); everything else comes from the store.
    """
    tenant = current_context().tenant
    return view_of(issue_flags_payload(tenant, issue_key), connection_status(tenant))


def view_of(data: dict, status: str) -> dict:
    """The template context from an issue's glance data and the FME connection's status."""
    context = current_context()
    return {
        "issue_key": data["issueKey"],
        "data": data,
        "connection_status": status,
        "as_of": _as_of(data["flags"]),
        "viewer_is_admin": None if data["configured"] else _viewer_is_admin(context),
        "issue_url": f"{context.tenant.link_base_url}/browse/{data['issueKey']}",
        "configure_url": configure_url(context.tenant),
        "create_url": create_flag_url(data["issueKey"]),
    }
