"""How a flag is shown to people: one dictionary for the JSON APIs and the pages alike."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from flask import current_app

from fmejira.domain.rollout import describe_rollout
from fmejira.sync import payload


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _iso(moment: datetime | None) -> str | None:
    moment = _aware(moment)
    return moment.isoformat() if moment else None


def is_stale(flag, project, now: datetime | None = None) -> bool:
    state = payload.primary_state(flag, project) if project else None
    if state is None:
        return True
    limit = timedelta(seconds=current_app.config["STALE_SECONDS"])
    return (now or datetime.now(UTC)) - _aware(state.read_at) > limit


def flag_view(flag, project, org_id: str | None = None) -> dict:
    """Name, project, status in the primary environment, rollout and when it changed."""
    state = payload.primary_state(flag, project) if project else None
    if flag.deleted_in_fme:
        status = {
            "state": "deleted",
            "label": "Deleted in FME",
            "rollout": None,
            "defaultTreatment": None,
        }
    elif state is None:
        status = {
            "state": "unknown",
            "label": "Not read yet",
            "rollout": None,
            "defaultTreatment": None,
        }
    elif not state.defined:
        status = {
            "state": "undefined",
            "label": f"Not in {project.environment_name}",
            "rollout": None,
            "defaultTreatment": None,
        }
    else:
        summary = payload.status_of(state)
        status = {
            "state": "off" if state.killed else "on",
            "label": "Killed" if state.killed else "On",
            "rollout": describe_rollout(summary),
            "defaultTreatment": state.default_treatment,
        }
    return {
        "workspaceId": flag.workspace_id,
        "workspaceName": project.workspace_name if project else None,
        "name": flag.name,
        "environment": project.environment_name if project else None,
        "status": status,
        "lastChangedAt": _iso(state.last_changed_at) if state else None,
        "readAt": _iso(state.read_at) if state else None,
        "url": payload.flag_url(
            current_app.config["FME_APP_URL"],
            org_id,
            flag.workspace_id,
            flag,
            project.environment_id,
        )
        if project
        else None,
    }
