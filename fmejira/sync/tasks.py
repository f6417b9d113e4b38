"""The queue's tasks. Each recomputes from the store, so it is safe to run twice or late."""

from __future__ import annotations

import functools
import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app
from huey import RetryTask, crontab

from fmejira import hot_cache
from fmejira.domain import configuration
from fmejira.extensions import db
from fmejira.models import ConnectionStatus, Flag, FmeConnection, Link, Tenant
from fmejira.models.tenant import utcnow
from fmejira.outbound import RateLimited, Unauthorized
from fmejira.queue import huey, in_app_context
from fmejira.sync import push, refresh, scheduling

log = logging.getLogger(__name__)

RETRIES = 8  # with the backoff below: about 21 minutes of attempts before the reconcile takes over
RETRY_DELAY = 5
RETRY_BACKOFF = 2
RECONCILE_BATCH = 500
# What Jira's Releases field shows goes first; glances (one call per issue) fill in after.
PRIORITY_FLAGS = 10
PRIORITY_GLANCES = 0


class PushIncomplete(Exception):
    """Jira refused some records; the task is retried with backoff."""


def remote_task(fn=None, *, priority: int = PRIORITY_FLAGS):
    """A queue task that talks to FME or Jira: retried with backoff, waiting what a rate limit
    asks for (bounded), and dropped when the peer refuses the credentials (retrying cannot help;
    the connection status tells the admin, and the reconcile picks the work up later)."""
    if fn is None:
        return functools.partial(remote_task, priority=priority)

    @huey.task(
        retries=RETRIES,
        retry_delay=RETRY_DELAY,
        retry_backoff=RETRY_BACKOFF,
        context=True,
        name=fn.__name__,
        priority=priority,
    )
    @in_app_context
    @functools.wraps(fn)
    def run(*args, task=None, **kwargs):
        try:
            return fn(*args, **kwargs)
        except Unauthorized as exc:
            db.session.rollback()
            log.warning("%s: %s refused the credentials; not retrying", fn.__name__, exc.service)
        except RateLimited as exc:
            db.session.rollback()
            if exc.retry_after and task is not None and task.retries > 0:
                task.retries -= 1  # RetryTask spends no retry by itself: keep the total bounded
                raise RetryTask(delay=exc.retry_after) from exc
            raise
        except Exception:
            db.session.rollback()
            raise

    return run


@remote_task
def push_flags(tenant_id: int, flag_ids: list[int]) -> None:
    report = push.push_flags(tenant_id, flag_ids)
    scheduling.glance_soon(report.issue_ids, tenant_id)
    if report.failed:
        raise PushIncomplete(f"Jira refused {len(report.failed)} flag record(s)")


@remote_task(priority=PRIORITY_GLANCES)
def update_glances(tenant_id: int, issue_ids: list[int]) -> None:
    push.update_glances(tenant_id, issue_ids)


@remote_task
def refresh_project(tenant_id: int, workspace_id: str) -> None:
    refresh.refresh_project(tenant_id, workspace_id)


@remote_task
def refresh_flag(tenant_id: int, workspace_id: str, flag_name: str) -> None:
    refresh.refresh_flag(tenant_id, workspace_id, flag_name)


@huey.task()
@in_app_context
def resync_tenant(tenant_id: int, jira_was_emptied: bool = False) -> None:
    """Everything again for one site: re-read FME, then push every linked flag.

    After an install Jira holds none of the app's records (it deleted them on uninstall).
    """
    tenant = push.active_tenant(tenant_id)
    connection = configuration.connection_for(tenant) if tenant else None
    if connection is None:
        return
    if jira_was_emptied:
        db.session.execute(sa.update(Flag).where(Flag.tenant_id == tenant_id).values(in_jira=False))
        hot_cache.changed(db.session, tenant_id)
    flagged = db.session.scalars(
        sa.select(Flag).where(Flag.tenant_id == tenant_id, Flag.id.in_(sa.select(Link.flag_id)))
    ).all()
    scheduling.mark_changed(flagged)
    db.session.commit()
    for project in connection.projects:
        refresh_project(tenant_id, project.workspace_id)
    _push_in_batches(tenant_id, [flag.id for flag in flagged])


def _push_in_batches(tenant_id: int, flag_ids: list[int]) -> None:
    for start in range(0, len(flag_ids), RECONCILE_BATCH):
        push_flags(tenant_id, flag_ids[start : start + RECONCILE_BATCH])


@huey.periodic_task(crontab(minute="*"))
@in_app_context
def reconcile() -> None:
    """Find what a lost task missed: flags marked for a push that none completed, and
    interrupted connections that may be back."""
    grace = utcnow() - timedelta(seconds=30)  # leave the freshly queued pushes to their task
    pending = db.session.execute(
        sa.select(Flag.tenant_id, Flag.id)
        .join(Tenant, Tenant.id == Flag.tenant_id)
        .where(
            Tenant.is_active,
            Flag.sync_requested_at.is_not(None),
            Flag.sync_requested_at < grace,
            sa.or_(Flag.synced_at.is_(None), Flag.synced_at < Flag.sync_requested_at),
        )
        .order_by(Flag.tenant_id, Flag.id)
    ).all()
    queued = _queued_pushes()
    by_tenant: dict[int, list[int]] = {}
    for tenant_id, flag_id in pending:
        if (tenant_id, flag_id) not in queued:
            by_tenant.setdefault(tenant_id, []).append(flag_id)
    for tenant_id, flag_ids in by_tenant.items():
        _push_in_batches(tenant_id, flag_ids)
    interrupted = db.session.scalars(
        sa.select(FmeConnection).where(FmeConnection.status == ConnectionStatus.INTERRUPTED)
    ).all()
    for connection in interrupted:
        if connection.tenant.is_active:
            configuration.check(connection)


def _queued_pushes() -> set[tuple[int, int]]:
    """The (tenant, flag) pairs that a push waiting in the queue or for its retry will send.

    Such a push is not lost: queueing another each minute while Jira is down would add one
    chain of retries per minute of the outage, all firing when Jira comes back.
    """
    queued = set()
    for task in [*huey.pending(), *huey.scheduled()]:
        if isinstance(task, push_flags.task_class):
            (tenant_id, flag_ids), _ = task.data
            queued.update((tenant_id, flag_id) for flag_id in flag_ids)
    return queued


@huey.periodic_task(crontab(minute="*"))
@in_app_context
def refresh_due() -> None:
    """Queue a refresh of every configured project whose state is older than the interval."""
    interval = timedelta(minutes=current_app.config["REFRESH_MINUTES"])
    due_before = utcnow() - interval
    rows = db.session.execute(
        sa.select(FmeConnection.tenant_id, FmeConnection.id)
        .join(Tenant, Tenant.id == FmeConnection.tenant_id)
        .where(
            Tenant.is_active,
            FmeConnection.status != ConnectionStatus.NOT_AUTHORIZED,
            sa.or_(FmeConnection.refreshed_at.is_(None), FmeConnection.refreshed_at < due_before),
        )
    ).all()
    for tenant_id, connection_id in rows:
        connection = db.session.get(FmeConnection, connection_id)
        connection.refreshed_at = utcnow()
        db.session.commit()
        for project in connection.projects:
            refresh_project(tenant_id, project.workspace_id)
