"""Jira's issue webhooks: a moved issue keeps its links under its new key; a deleted one
loses them (and its flags' records in Jira follow)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, request

from fmejira.connect.auth import jira_request
from fmejira.context import current_context
from fmejira.extensions import db
from fmejira.models import Flag, Issue, Link
from fmejira.sync import scheduling

bp = Blueprint("jira_webhooks", __name__, url_prefix="/webhooks/jira")


def _issue_from_body():
    body = request.get_json(silent=True)
    issue = body.get("issue") if isinstance(body, dict) else None
    if not isinstance(issue, dict) or not issue.get("id"):
        return None, None
    stored = db.session.scalar(
        sa.select(Issue).where(
            Issue.tenant_id == current_context().tenant.id, Issue.jira_id == str(issue["id"])
        )
    )
    return issue, stored


@bp.post("/issue-updated")
@jira_request()
def issue_updated():
    issue, stored = _issue_from_body()
    if stored is None:
        return "", 204
    fields = issue.get("fields") or {}
    key = issue.get("key")
    if isinstance(key, str) and key:
        stored.key = key.upper()[:255]
    if isinstance(fields.get("summary"), str):
        stored.summary = fields["summary"][:1000]
    status = fields.get("status")
    if isinstance(status, dict) and isinstance(status.get("name"), str):
        stored.status = status["name"][:255]
    db.session.commit()
    return "", 204


@bp.post("/issue-deleted")
@jira_request()
def issue_deleted():
    _, stored = _issue_from_body()
    if stored is None:
        return "", 204
    tenant_id = stored.tenant_id
    flags = db.session.scalars(
        sa.select(Flag).join(Link, Link.flag_id == Flag.id).where(Link.issue_id == stored.id)
    ).all()
    scheduling.mark_changed(flags)
    db.session.delete(stored)
    db.session.commit()
    scheduling.push_soon([flag.id for flag in flags], tenant_id)
    return "", 204
