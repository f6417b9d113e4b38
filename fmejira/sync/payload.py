"""What the app tells Jira about a flag: a Feature Flags API record and an issue's glance.

Pure functions of the store's rows, so the same state always yields the same payload.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from fmejira.domain.rollout import FlagStatus, environment_type, to_jira_status

MAX_ASSOCIATED_ISSUES = 500
GLANCE_KEY = "fme-flags-glance"
PROVIDER_PRODUCT = "Harness FME"
RECORD_SOURCE = "fmejira"  # the bulk ``source`` property: every record the app sends carries it
LOZENGE_LABEL_LIMIT = 40


def jira_flag_id(workspace_id: str, flag_name: str) -> str:
    """Stable per tenant, workspace and flag (the tenant is the Jira site itself)."""
    return f"{workspace_id}.{flag_name}"


def status_of(state) -> FlagStatus:
    if state.rollout_rules is not None:
        rollout = {"rules": state.rollout_rules}
    else:
        rollout = {"percentage": state.rollout_percentage or 0.0}
    return FlagStatus(
        enabled=not state.killed, default_value=state.default_treatment, rollout=rollout
    )


def rfc3339(moment: datetime | None) -> str:
    moment = moment or datetime.now(UTC)
    if moment.tzinfo is None:  # SQLite hands back naive datetimes; the store writes UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def flag_url(app_url: str, org_id: str | None, workspace_id: str, flag, environment_id: str) -> str:
    """A link to the flag's definition in FME (the org segment only when known)."""
    org = f"/org/{org_id}" if org_id else ""
    flag_ref = flag.fme_id or flag.name
    return f"{app_url}{org}/ws/{workspace_id}/splits/{flag_ref}/env/{environment_id}/definition"


def primary_state(flag, project):
    return next((s for s in flag.states if s.environment_id == project.environment_id), None)


def state_known(flag, project) -> bool:
    """Whether the app may tell Jira anything of the flag: a record says ``enabled``, and a
    flag whose state was never read from FME must not be reported off (or on)."""
    return flag.deleted_in_fme or primary_state(flag, project) is not None


def feature_flag_record(
    flag, project, issue_ids: Sequence[str], *, app_url: str, org_id: str | None, sequence: int
) -> dict:
    """One FeatureFlagData for Jira's bulk endpoint (only for a flag whose state is known)."""
    state = primary_state(flag, project)
    url = flag_url(app_url, org_id, project.workspace_id, flag, project.environment_id)
    changed = rfc3339((state.last_changed_at or state.read_at) if state else flag.created_at)
    if flag.deleted_in_fme:  # still linked, so Jira keeps the record: say what happened
        status = {"enabled": False, "rollout": {"text": "Deleted in FME"}}
    elif state is None:
        raise ValueError(f"{flag!r} was never read from FME: Jira is told nothing of it yet")
    elif not state.defined:  # FME serves no treatment of it there: off, and why
        status = {"enabled": False, "rollout": {"text": f"Not in {project.environment_name}"}}
    else:
        status = to_jira_status(status_of(state))
    detail = {
        "url": url,
        "lastUpdated": changed,
        "environment": {
            "name": project.environment_name[:255],
            "type": environment_type(project.environment_name, project.environment_production),
        },
        "status": status,
    }
    return {
        "schemaVersion": "1.0",
        "id": jira_flag_id(project.workspace_id, flag.name),
        "key": flag.name,
        "displayName": flag.name,
        "updateSequenceId": sequence,
        "associations": [
            {"associationType": "issueIdOrKeys", "values": list(issue_ids)[:MAX_ASSOCIATED_ISSUES]}
        ],
        "summary": {"url": url, "status": status, "lastUpdated": changed},
        "details": [detail],
    }


def bulk_body(records: list[dict], workspace_id: str) -> dict:
    """The bulk request; the properties let the app delete all its records of a project."""
    return {
        "properties": {"source": RECORD_SOURCE, "workspaceId": workspace_id},
        "flags": records,
        "providerMetadata": {"product": PROVIDER_PRODUCT},
    }


def glance_property_key(app_key: str) -> str:
    return f"com.atlassian.jira.issue:{app_key}:{GLANCE_KEY}:status"


def glance_status(flags_with_states: Sequence[tuple[object, object]]) -> dict:
    """The issue glance's lozenge: the flag's name (or "N flags"), coloured by whether the
    flags are on in their primary environment: all on, all off, or mixed. A flag deleted in
    FME counts as off."""
    if not flags_with_states:
        return {"type": "lozenge", "value": {"label": "No flags", "type": "default"}}
    if len(flags_with_states) == 1:
        label = flags_with_states[0][0].name
    else:
        label = f"{len(flags_with_states)} flags"
    live = [(flag, state) for flag, state in flags_with_states if not flag.deleted_in_fme]
    on = sum(1 for _, state in live if state is not None and state.enabled)
    if any(state is None for _, state in live):
        kind = "default"  # no definition read from FME: say nothing rather than guess
    elif on == len(flags_with_states):
        kind = "success"
    elif on == 0:
        kind = "removed"
    else:
        kind = "moved"
    return {"type": "lozenge", "value": {"label": label[:LOZENGE_LABEL_LIMIT], "type": kind}}
