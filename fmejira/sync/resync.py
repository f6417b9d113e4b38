"""Operator-driven full resync and the status report behind ``flask fmejira status``."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import sqlalchemy as sa

from fmejira.domain import configuration
from fmejira.extensions import db
from fmejira.models import Flag, Link, Tenant
from fmejira.outbound import RemoteError
from fmejira.queue import depth
from fmejira.sync import push, refresh, scheduling


@dataclass
class ResyncSummary:
    tenants: int = 0
    flags_read: int = 0
    records_sent: int = 0
    records_deleted: int = 0
    jira_requests: int = 0
    failures: list[str] = field(default_factory=list)


def _tenants(client_key: str | None) -> list[Tenant]:
    query = sa.select(Tenant).where(Tenant.is_active)
    if client_key:
        query = query.where(Tenant.client_key == client_key)
    return list(db.session.scalars(query.order_by(Tenant.id)))


def run(client_key: str | None = None, progress=None) -> ResyncSummary:
    """Refresh and push inline (no queue), so the operator sees the outcome."""
    summary = ResyncSummary()
    for tenant in _tenants(client_key):
        connection = configuration.connection_for(tenant)
        if connection is None:
            continue
        summary.tenants += 1
        for project in connection.projects:
            try:
                summary.flags_read += refresh.refresh_project(
                    tenant.id, project.workspace_id
                ).flags_read
            except RemoteError as exc:
                summary.failures.append(f"{tenant.client_key} {project.workspace_id}: {exc}")
        flag_ids = list(
            db.session.scalars(
                sa.select(Flag.id).where(
                    Flag.tenant_id == tenant.id, Flag.id.in_(sa.select(Link.flag_id))
                )
            )
        )
        scheduling.mark_changed(db.session.scalars(sa.select(Flag).where(Flag.id.in_(flag_ids))))
        db.session.commit()
        batches = [
            flag_ids[i : i + push.BATCH_SIZE] for i in range(0, len(flag_ids), push.BATCH_SIZE)
        ]
        bar = (
            progress(batches, label=tenant.client_key)
            if progress
            else contextlib.nullcontext(batches)
        )
        glanced: set[int] = set()  # an issue's glance covers all its flags: set it once
        with bar as items:
            for batch in items:
                try:
                    report = push.push_flags(tenant.id, batch)
                    push.update_glances(tenant.id, sorted(report.issue_ids - glanced))
                    glanced |= report.issue_ids
                except RemoteError as exc:
                    db.session.rollback()
                    summary.failures.append(f"{tenant.client_key}: {exc}")
                    continue
                summary.records_sent += report.sent
                summary.records_deleted += report.deleted
                summary.jira_requests += report.requests
                summary.failures += [
                    f"{tenant.client_key} flag {k}: {v}" for k, v in report.failed.items()
                ]
    return summary


def status_report() -> dict:
    tenants = []
    for tenant in db.session.scalars(sa.select(Tenant).order_by(Tenant.id)):
        connection = configuration.connection_for(tenant)
        flags = sa.select(Flag).where(Flag.tenant_id == tenant.id).subquery()
        last_sync, pending, failures = db.session.execute(
            sa.select(
                sa.func.max(flags.c.synced_at),
                sa.func.count().filter(
                    flags.c.sync_requested_at.is_not(None),
                    sa.or_(
                        flags.c.synced_at.is_(None), flags.c.synced_at < flags.c.sync_requested_at
                    ),
                ),
                sa.func.count().filter(flags.c.sync_error.is_not(None)),
            )
        ).one()
        tenants.append(
            {
                "client_key": tenant.client_key,
                "state": tenant.state.value if tenant.enabled else "disabled",
                "connection": connection.status.value if connection else "unconfigured",
                "projects": len(connection.projects) if connection else 0,
                "links": db.session.scalar(
                    sa.select(sa.func.count(Link.id)).where(Link.tenant_id == tenant.id)
                ),
                "last_sync": last_sync.isoformat() if last_sync else None,
                "pending": pending,
                "failures": failures,
            }
        )
    return {"queue_depth": depth(), "tenants": tenants}
