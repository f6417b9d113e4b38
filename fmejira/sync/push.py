"""Pushing the store's view of flags to Jira: Feature Flags API records and issue glances.

Always recomputed from the store, never from a queued payload, so a late, repeated or
reordered push sends the current truth. ``updateSequenceId`` rises strictly per flag.

A flag whose state in the primary environment was never read from FME is not sent: a record
must say ``enabled``, and Jira would show the guess. It stays marked, and the read that
follows every new link (``refresh``) pushes it with its real state.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from fmejira.domain import configuration
from fmejira.extensions import db
from fmejira.jira.client import PayloadTooLarge
from fmejira.models import Flag, FmeProject, Issue, Link, Tenant
from fmejira.models.tenant import utcnow
from fmejira.outbound import NotFound
from fmejira.platform import jira_for
from fmejira.sync import payload

log = logging.getLogger(__name__)

BATCH_SIZE = 100


@dataclass
class PushReport:
    sent: int = 0
    deleted: int = 0
    requests: int = 0
    failed: dict[int, str] = field(default_factory=dict)  # flag id -> reason
    unread: list[int] = field(default_factory=list)  # not sent: FME's state not read yet
    unknown_issues: list[str] = field(default_factory=list)
    issue_ids: set[int] = field(default_factory=set)  # whose glance must follow


def active_tenant(tenant_id: int) -> Tenant | None:
    tenant = db.session.get(Tenant, tenant_id)
    return tenant if tenant is not None and tenant.is_active else None


def _flags(tenant: Tenant, flag_ids) -> list[Flag]:
    """The flags, row-locked until the sequence ids are committed (PostgreSQL), so that two
    concurrent pushes of one flag number their records in the order they read the store."""
    return list(
        db.session.scalars(
            sa.select(Flag)
            .where(Flag.tenant_id == tenant.id, Flag.id.in_(flag_ids))
            .options(selectinload(Flag.states), selectinload(Flag.links))
            .with_for_update(of=Flag)
        )
    )


def _reload(tenant_id: int, flag_ids) -> None:
    """Refresh the flags and their links in two queries: the commit expired them, and reading
    them back one attribute at a time costs several queries per flag (1,258 for 250 flags)."""
    db.session.scalars(
        sa.select(Flag)
        .where(Flag.tenant_id == tenant_id, Flag.id.in_(flag_ids))
        .options(selectinload(Flag.links))
    ).all()


def _next_sequence(flag: Flag) -> int:
    flag.jira_sequence = max(int(time.time() * 1000), (flag.jira_sequence or 0) + 1)
    return flag.jira_sequence


def push_flags(tenant_id: int, flag_ids: list[int]) -> PushReport:
    """Send these flags' records to Jira (or delete those with no links left)."""
    report = PushReport()
    tenant = active_tenant(tenant_id)
    if tenant is None:
        return report
    connection = configuration.connection_for(tenant)
    projects = {p.workspace_id: p for p in connection.projects} if connection else {}
    flags = _flags(tenant, flag_ids)
    started = utcnow()  # after the locked read: a change marked later is not counted as sent

    to_send: dict[str, list[tuple[Flag, dict]]] = defaultdict(list)
    to_delete: list[Flag] = []
    for flag in flags:
        issue_ids = sorted(link.issue_id for link in flag.links)
        project = projects.get(flag.workspace_id)
        if issue_ids and project is not None and not payload.state_known(flag, project):
            report.unread.append(flag.id)  # stays marked: the flag's read pushes it
            continue
        report.issue_ids.update(issue_ids)
        if not issue_ids or project is None:
            if flag.in_jira:
                to_delete.append(flag)
            else:
                flag.synced_at = started
            continue
        jira_ids = [link.issue.jira_id for link in sorted(flag.links, key=lambda li: li.issue_id)]
        record = payload.feature_flag_record(
            flag,
            project,
            jira_ids,
            app_url=current_app.config["FME_APP_URL"],
            org_id=connection.fme_org_id,
            sequence=_next_sequence(flag),
        )
        to_send[flag.workspace_id].append((flag, record))
    db.session.commit()  # the sequence ids are spent before anything is sent
    _reload(tenant.id, flag_ids)

    jira = jira_for(tenant)
    for workspace_id, items in to_send.items():
        for start in range(0, len(items), BATCH_SIZE):
            _submit(jira, workspace_id, items[start : start + BATCH_SIZE], started, report)
    for flag in to_delete:
        jira.delete_feature_flag(payload.jira_flag_id(flag.workspace_id, flag.name))
        report.requests += 1
        report.deleted += 1
        flag.in_jira = False
        flag.synced_at = started
        flag.sync_error = None
    db.session.commit()
    return report


def _submit(jira, workspace_id: str, items, started, report: PushReport) -> None:
    try:
        result = jira.submit_feature_flags(payload.bulk_body([r for _, r in items], workspace_id))
    except PayloadTooLarge:
        if len(items) == 1:
            raise
        half = len(items) // 2  # Jira asks for fewer: split and send both halves
        _submit(jira, workspace_id, items[:half], started, report)
        _submit(jira, workspace_id, items[half:], started, report)
        return
    report.requests += 1
    accepted = set(result.accepted)
    unknown = _unknown_issue_refs(result)
    for flag, record in items:
        if record["id"] in result.failed:
            reason = "; ".join(e.get("message", "rejected") for e in result.failed[record["id"]])
            flag.sync_error = reason[:500]
            report.failed[flag.id] = reason
            log.warning("Jira rejected flag record %s: %s", record["id"], reason)
            continue
        flag.sync_error = None
        flag.synced_at = started
        flag.in_jira = record["id"] in accepted or flag.in_jira
        report.sent += 1
        for link in flag.links:
            link.unknown_in_jira = link.issue.jira_id in unknown or link.issue.key in unknown
    if unknown:
        report.unknown_issues.extend(sorted(unknown))
        log.warning("Jira does not know issues %s", ", ".join(sorted(unknown)))


def _unknown_issue_refs(result) -> set[str]:
    refs = set(result.unknown_issue_keys)
    for item in result.unknown_associations:
        refs.update(str(value) for value in item.get("values", []))
    return refs


def update_glances(tenant_id: int, issue_ids: list[int]) -> int:
    """Set each issue's glance status property from its links; returns the calls made."""
    tenant = active_tenant(tenant_id)
    if tenant is None:
        return 0
    issues = db.session.scalars(
        sa.select(Issue).where(Issue.tenant_id == tenant.id, Issue.id.in_(issue_ids))
    ).all()
    primary = dict(
        db.session.execute(
            sa.select(FmeProject.workspace_id, FmeProject.environment_id).where(
                FmeProject.tenant_id == tenant.id
            )
        ).all()
    )
    links = db.session.scalars(
        sa.select(Link)
        .where(Link.tenant_id == tenant.id, Link.issue_id.in_(issue_ids))
        .options(selectinload(Link.flag).selectinload(Flag.states))
    )
    by_issue: dict[int, list] = defaultdict(list)
    for link in links:
        env = primary.get(link.flag.workspace_id)
        state = next((s for s in link.flag.states if s.environment_id == env), None)
        by_issue[link.issue_id].append((link.flag, state))
    jira = jira_for(tenant)
    key = payload.glance_property_key(current_app.config["APP_KEY"])
    for issue in issues:
        try:
            jira.set_issue_property(issue.jira_id, key, payload.glance_status(by_issue[issue.id]))
        except NotFound:  # deleted in Jira or hidden from the app: retrying cannot help
            log.warning("Jira does not know issue %s; its glance was not set", issue.key)
    return len(issues)
