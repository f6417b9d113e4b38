"""Reading flag state from FME into the store.

A whole environment is read with the list-definitions endpoint (one call per 50 flags, never
one per flag); a single flag is re-read when FME's audit-log webhook names it. Both also keep
the catalogue of flags that the connect dialog searches. A flag whose state changed and that
has links is marked for a push.

A flag without a definition in the primary environment is not necessarily deleted: a new flag
is often linked before it is added to production. A linked flag is called deleted only when
FME no longer knows the flag itself.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from fmejira.domain import configuration
from fmejira.domain.rollout import summarize
from fmejira.extensions import db
from fmejira.models import Flag, FlagState, FmeProject, Link
from fmejira.models.tenant import utcnow
from fmejira.outbound import NotFound, RemoteError
from fmejira.sync import scheduling
from fmejira.sync.push import active_tenant

log = logging.getLogger(__name__)


@dataclass
class RefreshReport:
    flags_read: int = 0
    changed_flag_ids: set[int] = field(default_factory=set)
    removed: int = 0


def _changed_at(definition) -> datetime | None:
    millis = getattr(definition, "last_update_time", None)
    return datetime.fromtimestamp(millis / 1000, UTC) if millis else None


def _apply(flag: Flag, project: FmeProject, definition, now) -> bool:
    """Store one definition's summary; True when what Jira shows would change."""
    status = summarize(definition)
    state = next((s for s in flag.states if s.environment_id == project.environment_id), None)
    if state is None:
        state = FlagState(tenant_id=flag.tenant_id, environment_id=project.environment_id)
        flag.states.append(state)
    values = {
        "environment_name": project.environment_name,
        "killed": not status.enabled,
        "default_treatment": (status.default_value or None),
        "rollout_percentage": status.rollout.get("percentage"),
        "rollout_rules": status.rollout.get("rules"),
        "last_changed_at": _changed_at(definition),
    }
    before = {name: getattr(state, name, None) for name in values}
    for name, value in values.items():
        setattr(state, name, value)
    state.read_at = now
    changed = _normalise(before) != _normalise(values) or flag.deleted_in_fme
    flag.deleted_in_fme = False
    return changed


def _undefine(flag: Flag, project: FmeProject, *, deleted: bool) -> bool:
    """Forget the flag's state in the primary environment (it has no definition there), and
    whether FME deleted the flag itself; True when what Jira shows would change."""
    state = next((s for s in flag.states if s.environment_id == project.environment_id), None)
    if state is not None:
        flag.states.remove(state)
        db.session.delete(state)
    changed = state is not None or flag.deleted_in_fme != deleted
    flag.deleted_in_fme = deleted
    return changed


def _exists(client, workspace_id: str, flag_name: str) -> bool:
    try:
        client.flag(workspace_id, flag_name)
    except NotFound:
        return False
    return True


def _normalise(values: dict) -> dict:
    moment = values.get("last_changed_at")
    if moment is not None and moment.tzinfo is None:  # SQLite returns naive UTC
        values = {**values, "last_changed_at": moment.replace(tzinfo=UTC)}
    return values


def _catalogue(tenant_id: int, workspace_id: str) -> dict[str, Flag]:
    flags = db.session.scalars(
        sa.select(Flag)
        .where(Flag.tenant_id == tenant_id, Flag.workspace_id == workspace_id)
        .options(selectinload(Flag.states))
    )
    return {flag.name: flag for flag in flags}


def _linked(flag_ids: set[int]) -> set[int]:
    if not flag_ids:
        return set()
    return set(
        db.session.scalars(sa.select(Link.flag_id).where(Link.flag_id.in_(flag_ids)).distinct())
    )


def _finish(connection, tenant_id: int, report: RefreshReport, error=None) -> RefreshReport:
    configuration.record_outcome(connection, error)
    linked = _linked(report.changed_flag_ids)
    scheduling.mark_changed(
        db.session.scalars(sa.select(Flag).where(Flag.id.in_(linked))) if linked else []
    )
    db.session.commit()
    scheduling.push_soon(linked, tenant_id)
    report.changed_flag_ids = linked
    return report


def _configured(tenant_id: int, workspace_id: str):
    """The tenant, its connection and the project, or Nones when any is gone (or inactive)."""
    tenant = active_tenant(tenant_id)
    connection = configuration.connection_for(tenant) if tenant else None
    for project in connection.projects if connection else []:
        if project.workspace_id == workspace_id:
            return tenant, connection, project
    return tenant, connection, None


def refresh_project(tenant_id: int, workspace_id: str) -> RefreshReport:
    """Re-read every flag of a configured project in its primary environment."""
    report = RefreshReport()
    tenant, connection, project = _configured(tenant_id, workspace_id)
    if project is None:
        return report
    client = configuration.client_for(connection)
    try:
        definitions = client.definitions(workspace_id, project.environment_id)
    except RemoteError as exc:
        configuration.record_outcome(connection, exc)
        db.session.commit()
        raise
    now = utcnow()
    catalogue = _catalogue(tenant.id, workspace_id)
    seen = set()
    for definition in definitions:
        seen.add(definition.name)
        flag = catalogue.get(definition.name)
        if flag is None:
            flag = Flag(tenant_id=tenant.id, workspace_id=workspace_id, name=definition.name)
            db.session.add(flag)
            catalogue[definition.name] = flag
        if _apply(flag, project, definition, now) and flag.id is not None:
            report.changed_flag_ids.add(flag.id)
        report.flags_read += 1
    missing = [f for name, f in catalogue.items() if name not in seen and not f.deleted_in_fme]
    linked = _linked({flag.id for flag in missing})
    for flag in missing:
        if flag.id not in linked:
            flag.deleted_in_fme = True  # only the catalogue: the connect dialog stops offering it
            report.removed += 1
        elif any(s.environment_id == project.environment_id for s in flag.states):
            # Its definition just went: one call per such flag tells a deletion from a flag
            # removed from this environment. Linked flags never defined here are left alone.
            try:
                deleted = not _exists(client, workspace_id, flag.name)
            except RemoteError as exc:
                configuration.record_outcome(connection, exc)
                db.session.commit()
                raise
            _undefine(flag, project, deleted=deleted)
            report.removed += int(deleted)
            report.changed_flag_ids.add(flag.id)
    return _finish(connection, tenant.id, report)


def refresh_flag(tenant_id: int, workspace_id: str, flag_name: str) -> RefreshReport:
    """Re-read one flag (the audit-log webhook named it)."""
    report = RefreshReport()
    tenant, connection, project = _configured(tenant_id, workspace_id)
    if project is None:
        return report
    lookup = {"tenant_id": tenant.id, "workspace_id": workspace_id, "name": flag_name}
    flag = db.session.scalar(sa.select(Flag).filter_by(**lookup).options(selectinload(Flag.states)))
    client = configuration.client_for(connection)
    try:
        try:
            definition = client.definition(workspace_id, flag_name, project.environment_id)
        except NotFound:
            definition, deleted = None, not _exists(client, workspace_id, flag_name)
    except RemoteError as exc:
        configuration.record_outcome(connection, exc)
        db.session.commit()
        raise
    if definition is None:
        if flag is not None and _undefine(flag, project, deleted=deleted):
            report.removed = int(deleted)
            report.changed_flag_ids.add(flag.id)
        return _finish(connection, tenant.id, report)
    if flag is None:
        flag = Flag(**lookup)
        db.session.add(flag)
    if _apply(flag, project, definition, utcnow()) and flag.id is not None:
        report.changed_flag_ids.add(flag.id)
    report.flags_read = 1
    return _finish(connection, tenant.id, report)
