"""Connecting flags and issues: the one way to do it, for the Jira side and the FME side alike.

A connect checks that the flag belongs to a configured FME project and that Jira knows the
issue, records the issue by id (so a later key change keeps the link), and leaves the Jira
update to the sync. Concurrent connects of the same pair end in one link.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import contains_eager, selectinload

from fmejira.domain import configuration
from fmejira.errors import ApiError, Conflict, NotFoundError, ServiceUnavailable
from fmejira.extensions import db
from fmejira.models import Flag, FmeConnection, FmeProject, Issue, Link, LinkSource, Tenant
from fmejira.models.tenant import utcnow
from fmejira.models.upsert import insert_missing
from fmejira.outbound import INTERACTIVE, NotFound, RemoteError
from fmejira.platform import jira_for
from fmejira.sync import scheduling

ISSUE_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,99}-[1-9][0-9]{0,17}$")
FLAG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,249}$")
SEARCH_LIMIT = 50


@dataclass(frozen=True)
class LinkResult:
    link: Link
    created: bool


def issue_key_or_none(issue_key: str | None) -> str | None:
    """``issue_key`` as Jira spells it (upper case, no spaces around), if it is one."""
    key = (issue_key or "").strip().upper()
    return key if ISSUE_KEY.match(key) else None


def normalise_issue_key(issue_key: str) -> str:
    key = issue_key_or_none(issue_key)
    if key is None:
        raise ApiError(
            f"{issue_key!r} is not a Jira issue key (like ABC-123).", code="invalid_issue_key"
        )
    return key


def check_flag_name(flag_name: str) -> str:
    if not FLAG_NAME.match(flag_name or ""):
        raise ApiError(
            "A flag name starts with a letter or digit and holds only letters, digits, "
            "'_', '-' or '.' (at most 250).",
            code="invalid_flag_name",
        )
    return flag_name


def require_connection(tenant: Tenant) -> FmeConnection:
    connection = configuration.connection_for(tenant)
    if connection is None:
        raise Conflict(
            "FME is not configured for this Jira site. A Jira administrator can connect it on "
            "the app's configuration page.",
            code="unconfigured",
        )
    return connection


_PROJECT = sa.select(FmeProject).where(
    FmeProject.tenant_id == sa.bindparam("tenant_id"),
    FmeProject.workspace_id == sa.bindparam("workspace_id"),
)


def configured_project(tenant: Tenant, workspace_id: str) -> FmeProject:
    parameters = {"tenant_id": tenant.id, "workspace_id": workspace_id}
    project = db.session.scalar(_PROJECT, parameters)
    if project is None:
        raise NotFoundError(
            f"The FME project {workspace_id} is not connected to this Jira site.",
            code="unknown_project",
        )
    return project


def _get_or_create(model, lookup: dict, values: dict):
    """The row matching ``lookup`` (its unique key), created with ``values`` if absent; a
    racing insert of the same row ends in one row (``insert_missing``)."""
    row = db.session.scalar(sa.select(model).filter_by(**lookup))
    if row is not None:
        return row, False
    created = insert_missing(model, [{**lookup, **values}], list(lookup))
    return db.session.scalar(sa.select(model).filter_by(**lookup)), bool(created)


def known_flag(tenant: Tenant, connection: FmeConnection, project: FmeProject, name: str) -> Flag:
    """The flag from the catalogue, or from FME when the catalogue cannot vouch for it yet
    (never seen, deleted, or only known from a definition, which carries no flag id)."""
    check_flag_name(name)
    lookup = {"tenant_id": tenant.id, "workspace_id": project.workspace_id, "name": name}
    flag = db.session.scalar(sa.select(Flag).filter_by(**lookup))
    if flag is not None and not flag.deleted_in_fme and flag.fme_id:
        return flag
    try:
        remote = configuration.client_for(connection, INTERACTIVE).flag(project.workspace_id, name)
    except NotFound as exc:
        raise NotFoundError(
            f"FME has no flag {name!r} in the project {project.workspace_name}.",
            code="unknown_flag",
        ) from exc
    except RemoteError as exc:
        configuration.record_outcome(connection, exc)
        db.session.commit()
        raise ServiceUnavailable(
            "FME could not be reached to check the flag; nothing was changed.",
            code="fme_unavailable",
        ) from exc
    flag, _ = _get_or_create(Flag, lookup, {})
    flag.fme_id = remote.id
    flag.description = remote.description
    flag.traffic_type = remote.traffic_type
    flag.deleted_in_fme = False
    return flag


def known_issue(tenant: Tenant, issue_key: str) -> Issue:
    """The issue as Jira knows it now, stored by id with its current key."""
    try:
        remote = jira_for(tenant, INTERACTIVE).get_issue(issue_key)
    except NotFound as exc:
        raise ApiError(
            f"Jira has no issue {issue_key} (or the app cannot see it).",
            code="unknown_issue",
            status=422,
        ) from exc
    except RemoteError as exc:
        raise ServiceUnavailable(
            "Jira could not be reached to check the issue; nothing was changed.",
            code="jira_unavailable",
        ) from exc
    issue, _ = _get_or_create(
        Issue, {"tenant_id": tenant.id, "jira_id": str(remote.id)}, {"key": remote.key}
    )
    issue.key = remote.key
    issue.summary = (remote.summary or "")[:1000]
    issue.status = remote.status
    issue.read_at = utcnow()
    return issue


def connect(
    tenant: Tenant,
    workspace_id: str,
    flag_name: str,
    issue_key: str,
    *,
    source: LinkSource,
    account_id: str | None = None,
) -> LinkResult:
    issue_key = normalise_issue_key(issue_key)
    check_flag_name(flag_name)
    connection = require_connection(tenant)
    project = configured_project(tenant, workspace_id)
    flag = known_flag(tenant, connection, project, flag_name)
    issue = known_issue(tenant, issue_key)
    link, created = _get_or_create(
        Link,
        {"flag_id": flag.id, "issue_id": issue.id},
        {"tenant_id": tenant.id, "source": source, "created_by": account_id},
    )
    if created:
        scheduling.mark_changed([flag])
    unread = not any(s.environment_id == project.environment_id for s in flag.states)
    db.session.commit()
    if created:
        scheduling.push_soon([flag.id], tenant.id)
    if unread:  # the push sends nothing until FME's state is read: read it now
        scheduling.read_soon(tenant.id, project.workspace_id, flag.name)
    return LinkResult(link, created)


def _link(tenant: Tenant, workspace_id: str, flag_name: str, issue_key: str) -> Link | None:
    return db.session.scalar(
        sa.select(Link)
        .join(Flag, Link.flag_id == Flag.id)
        .join(Issue, Link.issue_id == Issue.id)
        .where(
            Link.tenant_id == tenant.id,
            Flag.tenant_id == tenant.id,
            Flag.workspace_id == workspace_id,
            Flag.name == flag_name,
            Issue.tenant_id == tenant.id,
            Issue.key == issue_key,
        )
    )


def disconnect(tenant: Tenant, workspace_id: str, flag_name: str, issue_key: str) -> None:
    issue_key = normalise_issue_key(issue_key)
    check_flag_name(flag_name)
    link = _link(tenant, workspace_id, flag_name, issue_key)
    if link is None:
        raise NotFoundError(f"{flag_name} is not connected to {issue_key}.", code="unknown_link")
    flag, issue_id = link.flag, link.issue_id
    db.session.delete(link)
    scheduling.mark_changed([flag])
    db.session.commit()
    scheduling.push_soon([flag.id], tenant.id)
    scheduling.glance_soon([issue_id], tenant.id)


_FLAGS_OF_ISSUE = (
    sa.select(Flag)
    .join(Link, Link.flag_id == Flag.id)
    .join(Issue, Link.issue_id == Issue.id)
    .outerjoin(Flag.states)
    # Issue.tenant_id too, so the (tenant_id, key) index finds the issue directly
    .where(
        Link.tenant_id == sa.bindparam("tenant_id"),
        Issue.tenant_id == sa.bindparam("tenant_id"),
        Issue.key == sa.bindparam("issue_key"),
    )
    .options(contains_eager(Flag.states))
    .order_by(Flag.name)
)


def flags_of_issue(tenant: Tenant, issue_key: str) -> list[Flag]:
    """The flags connected to an issue, with their states, in one query whatever the count
    (the glance's hot path; the statement is built once)."""
    parameters = {"tenant_id": tenant.id, "issue_key": normalise_issue_key(issue_key)}
    return list(db.session.scalars(_FLAGS_OF_ISSUE, parameters).unique())


_ISSUES_OF_FLAG = (
    sa.select(Issue)
    .join(Link, Link.issue_id == Issue.id)
    .join(Flag, Link.flag_id == Flag.id)
    .where(
        Link.tenant_id == sa.bindparam("tenant_id"),
        Flag.tenant_id
        == sa.bindparam("tenant_id"),  # so the (tenant, workspace, name) index serves
        Flag.workspace_id == sa.bindparam("workspace_id"),
        Flag.name == sa.bindparam("flag_name"),
    )
    .order_by(Issue.key)
)


def issues_of_flag(tenant: Tenant, workspace_id: str, flag_name: str) -> list[Issue]:
    """The FME side's hot path; the statement is built once."""
    check_flag_name(flag_name)
    parameters = {"tenant_id": tenant.id, "workspace_id": workspace_id, "flag_name": flag_name}
    return list(db.session.scalars(_ISSUES_OF_FLAG, parameters))


def search_flags(tenant: Tenant, query: str, limit: int = SEARCH_LIMIT) -> list[Flag]:
    """Flags of the configured projects whose name contains ``query``, from the catalogue."""
    pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return list(
        db.session.scalars(
            sa.select(Flag)
            .join(
                FmeProject,
                sa.and_(
                    FmeProject.tenant_id == Flag.tenant_id,
                    FmeProject.workspace_id == Flag.workspace_id,
                ),
            )
            .where(
                Flag.tenant_id == tenant.id,
                Flag.deleted_in_fme.is_(False),
                Flag.name.ilike(pattern, escape="\\"),
            )
            .options(selectinload(Flag.states))
            .order_by(Flag.name)
            .limit(limit)
        )
    )
