"""How a change asks for a Jira update: mark the flag in the store, then enqueue after commit.

The mark is the source of truth. If the process dies between the commit and the enqueue, the
periodic reconcile still finds the flag by its mark.
"""

from __future__ import annotations

from collections.abc import Iterable

from fmejira.models.tenant import utcnow


def mark_changed(flags: Iterable) -> None:
    """Record that these flags' Jira records are out of date (inside the caller's transaction)."""
    now = utcnow()
    for flag in flags:
        flag.sync_requested_at = now


def push_soon(flag_ids: Iterable[int], tenant_id: int) -> None:
    """Enqueue the push of these flags (and their issues' glances); call after the commit."""
    from fmejira.sync import tasks

    ids = sorted(set(flag_ids))
    if ids:
        tasks.push_flags(tenant_id, ids)


def read_soon(tenant_id: int, workspace_id: str, flag_name: str) -> None:
    """Enqueue a read of one flag's state from FME (its push follows when Jira needs it)."""
    from fmejira.sync import tasks

    tasks.refresh_flag(tenant_id, workspace_id, flag_name)


def refresh_soon(tenant_id: int, workspace_ids: Iterable[str]) -> None:
    """Enqueue a read of these projects' flags in their primary environments."""
    from fmejira.sync import tasks

    for workspace_id in sorted(set(workspace_ids)):
        tasks.refresh_project(tenant_id, workspace_id)


GLANCE_CHUNK = 50  # one call per issue: small tasks spread over workers and yield to pushes


def glance_soon(issue_ids: Iterable[int], tenant_id: int) -> None:
    """Enqueue the glance updates of these issues, in chunks."""
    from fmejira.sync import tasks

    ids = sorted(set(issue_ids))
    for start in range(0, len(ids), GLANCE_CHUNK):
        tasks.update_glances(tenant_id, ids[start : start + GLANCE_CHUNK])


def forget_soon(tenant_id: int, workspace_ids: list[str] | None, issue_ids: Iterable[int]) -> None:
    """Enqueue the removal of the app's Jira records of these projects (None: all of them)."""
    from fmejira.sync import forget

    forget.forget_projects(tenant_id, workspace_ids, sorted(set(issue_ids)))
