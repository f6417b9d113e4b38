"""The Jira side of links: an issue's flags, connecting and disconnecting them, flag search."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from cachetools import TTLCache
from flask import current_app, g, jsonify, request
from marshmallow import Schema, fields, validate

from fmejira.connect.auth import (
    jira_request,
    site_entry,
    token_from_request,
    verify_from_cache,
    verify_tenant_jwt,
)
from fmejira.context import current_context
from fmejira.domain import links
from fmejira.domain.flag_view import flag_view, is_stale
from fmejira.extensions import db
from fmejira.forge.auth import forge_context, is_forge_call
from fmejira.hot_cache import HotCache, hot_cache
from fmejira.jira_api import bp
from fmejira.jira_api.permissions import require_issue_access
from fmejira.models import FmeConnection, FmeProject, LinkSource
from fmejira.payloads import load_body
from fmejira.sync import tasks

# A glance viewed by many people asks for one refresh of a stale flag, not one per view.
_recent_refreshes: TTLCache = TTLCache(maxsize=50_000, ttl=60)


def _refresh_stale(tenant, flags, projects) -> bool:
    stale = False
    for flag in flags:
        project = projects.get(flag.workspace_id)
        if project is None or not is_stale(flag, project):
            continue
        stale = True
        key = (tenant.id, flag.workspace_id, flag.name)
        if key not in _recent_refreshes:
            _recent_refreshes[key] = True
            tasks.refresh_flag(tenant.id, flag.workspace_id, flag.name)
    return stale


def clear_refresh_cache() -> None:
    _recent_refreshes.clear()


class ConnectFlagSchema(Schema):
    workspaceId = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$"))
    flagName = fields.String(required=True, validate=validate.Length(min=1, max=250))


_PROJECTS_AND_ORG = (
    sa.select(FmeConnection.fme_org_id, FmeProject)
    .select_from(FmeConnection)
    .outerjoin(FmeProject, FmeProject.tenant_id == FmeConnection.tenant_id)
    .where(FmeConnection.tenant_id == sa.bindparam("tenant_id"))
)


def _projects_and_org(tenant) -> tuple[dict[str, FmeProject], str | None]:
    """The configured projects and the FME organization id, in one query."""
    rows = db.session.execute(_PROJECTS_AND_ORG, {"tenant_id": tenant.id}).all()
    projects = {project.workspace_id: project for _, project in rows if project is not None}
    return projects, rows[0][0] if rows else None


def issue_flags_payload(tenant, issue_key: str) -> dict:
    """An issue's flags as the glance shows them; stale ones are queued for a refresh."""
    projects, org_id = _projects_and_org(tenant)
    flags = links.flags_of_issue(tenant, issue_key)
    return {
        "issueKey": links.normalise_issue_key(issue_key),
        "configured": bool(projects),
        "refreshing": _refresh_stale(tenant, flags, projects),
        "flags": [flag_view(f, projects.get(f.workspace_id), org_id) for f in flags],
    }


def flags_entry(issue_key: str | None) -> str | None:
    """The hot cache's name for an issue's glance data (None for what is no issue key)."""
    key = links.issue_key_or_none(issue_key)
    return None if key is None else "flags:" + key


def fresh_seconds(payload: dict, now: datetime | None = None) -> float:
    """How long ``payload`` stays what the glance must show: until its first flag's state
    turns stale (a glance then asks for a refresh); 0 while a refresh is under way."""
    limit = current_app.config["STALE_SECONDS"]
    if payload["refreshing"]:
        return 0
    now = now or datetime.now(UTC)
    read = [
        datetime.fromisoformat(flag["readAt"])
        for flag in payload["flags"]
        if flag["environment"] is not None and flag["readAt"]
    ]
    return min((limit - (now - moment).total_seconds() for moment in read), default=limit)


def remember_issue_flags(
    cache: HotCache, generation, tenant, payload: dict, body: bytes | None = None, also=None
) -> None:
    """Cache the glance data call's answer ``body`` (by default: ``payload`` as it answers it),
    the site that verifies its tokens, and the entries ``also``; one round trip."""
    if generation is None:  # no cache, or Redis unavailable
        return
    if body is None:
        body = current_app.json.response(payload).get_data()
    entries = {
        **site_entry(cache, tenant),
        flags_entry(payload["issueKey"]): (body, fresh_seconds(payload)),
        **(also or {}),
    }
    cache.write(tenant.client_key, generation, entries)


@bp.get("/issues/<issue_key>/flags")
def issue_flags(issue_key):
    """The glance's data. With the hot cache, a token bound to this issue (the glance's page
    token) costs one Redis round trip when the answer is current; anything else is verified
    and read from the database as on every other route, and the answer cached. A Forge call
    (the Forge UI's issue panel) is verified by its invocation token and read from the database.
    """
    if is_forge_call():
        g.jira_context = forge_context()
        return _issue_flags_answer(issue_key)
    token = token_from_request()
    cache = hot_cache()
    entry = flags_entry(issue_key)
    context, snapshot = verify_from_cache(token, cache, entry, allow_context_qsh=True)
    cached = snapshot.values[0]
    if context is not None and cached and flags_entry(context.bound_issue.key) == entry:
        return current_app.response_class(cached, mimetype="application/json")
    g.jira_context = verify_tenant_jwt(token, allow_context_qsh=True)
    return _issue_flags_answer(issue_key, cache, snapshot.generation)


def _issue_flags_answer(issue_key: str, cache: HotCache | None = None, generation=None):
    issue_key = require_issue_access(issue_key)
    tenant = current_context().tenant
    payload = issue_flags_payload(tenant, issue_key)
    response = jsonify(payload)
    if cache is not None:
        remember_issue_flags(cache, generation, tenant, payload, response.get_data())
    return response


@bp.post("/issues/<issue_key>/flags")
@jira_request(context_qsh=True)
def connect_flag(issue_key):
    require_issue_access(issue_key, connecting=True)
    body = load_body(ConnectFlagSchema())
    context = current_context()
    result = links.connect(
        context.tenant,
        body["workspaceId"],
        body["flagName"],
        issue_key,
        source=LinkSource.JIRA,
        account_id=context.account_id,
    )
    flag = result.link.flag
    projects, org_id = _projects_and_org(context.tenant)
    view = flag_view(flag, projects.get(flag.workspace_id), org_id)
    return jsonify(view), 201 if result.created else 200


@bp.delete("/issues/<issue_key>/flags/<workspace_id>/<flag_name>")
@jira_request(context_qsh=True)
def disconnect_flag(issue_key, workspace_id, flag_name):
    require_issue_access(issue_key)
    links.disconnect(current_context().tenant, workspace_id, flag_name, issue_key)
    return "", 204


@bp.get("/flags")
@jira_request(context_qsh=True)
def search_flags():
    tenant = current_context().tenant
    query = (request.args.get("q") or "").strip()[:100]
    projects, org_id = _projects_and_org(tenant)
    return jsonify(
        flags=[
            flag_view(f, projects.get(f.workspace_id), org_id)
            for f in links.search_flags(tenant, query)
        ]
    )
