"""Removing the app's records from Jira when a project or the whole configuration goes.

Jira's delete-by-properties removes every record the app sent for a project (or all of them);
the glances of the issues that lost links are then recomputed from the store.
"""

from __future__ import annotations

from fmejira.platform import jira_for
from fmejira.sync import push
from fmejira.sync.payload import RECORD_SOURCE
from fmejira.sync.tasks import remote_task


@remote_task
def forget_projects(tenant_id: int, workspace_ids: list[str] | None, issue_ids: list[int]) -> None:
    """Delete the records of these projects (``None``: of every project) and refresh glances."""
    tenant = push.active_tenant(tenant_id)
    if tenant is None:
        return
    jira = jira_for(tenant)
    if workspace_ids is None:
        jira.delete_feature_flags_by_properties(source=RECORD_SOURCE)
    else:
        for workspace_id in workspace_ids:
            jira.delete_feature_flags_by_properties(source=RECORD_SOURCE, workspaceId=workspace_id)
    if issue_ids:
        push.update_glances(tenant_id, issue_ids)
