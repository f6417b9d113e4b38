"""The Jira side of links: an issue's flags, connecting and disconnecting them, flag search."""

from __future__ import annotations

import sqlalchemy as sa
from cachetools import TTLCache
from flask import jsonify, request
from marshmallow import Schema, fields, validate

from fmejira.connect.auth import current_context, jira_request
from fmejira.domain import links
from fmejira.domain.flag_view import flag_view, is_stale
from fmejira.extensions import db
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


@bp.get("/issues/<issue_key>/flags")
@jira_request(context_qsh=True)
def issue_flags(issue_key):
    require_issue_access(issue_key)
    return jsonify(issue_flags_payload(current_context().tenant, issue_key))


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
