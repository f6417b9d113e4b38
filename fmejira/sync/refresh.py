"""Reading flag state from FME into the store.

A whole environment is read with the list-definitions endpoint (one call per 50 flags, never
one per flag); a single flag is re-read when FME's audit-log webhook names it. Both also keep
the catalogue of flags that the connect dialog searches. A flag whose state changed and that
has links is marked for a push.

A flag without a definition in the primary environment is not necessarily deleted: a new flag
is often linked before it is added to production, and the store records that it is not there
(a state with ``defined`` false). A linked flag is called deleted only when FME no longer knows
the flag itself.

A read also pushes every linked flag it read that still waits for its first true record: the
link's push sends nothing while the state is unknown, and leaves that to the read.
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
from fmejira.models.upsert import insert_missing
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


def _primary(flag: Flag, project: FmeProject) -> FlagState | None:
    return next((s for s in flag.states if s.environment_id == project.environment_id), None)


def _was_defined(flag: Flag, project: FmeProject) -> bool | None:
    """What the store knew before this read: defined there, not defined, or None (not read)."""
    state = _primary(flag, project)
    return None if state is None else state.defined


def _make_states(project: FmeProject, flags: list[Flag]) -> None:
    """Give each flag a state row for the primary environment. A concurrent read of the same
    flag may make one too: the insert yields to it, and both then update the one row."""
    lacking = {flag.id: flag for flag in flags if _primary(flag, project) is None}
    if not lacking:
        return
    rows = [
        {
            "flag_id": flag.id,
            "tenant_id": flag.tenant_id,
            "environment_id": project.environment_id,
            "environment_name": project.environment_name,
        }
        for flag in lacking.values()
    ]
    insert_missing(FlagState, rows, ["flag_id", "environment_id"])
    made = db.session.scalars(
        sa.select(FlagState).where(
            FlagState.flag_id.in_(lacking), FlagState.environment_id == project.environment_id
        )
    )
    for state in made:
        if state not in lacking[state.flag_id].states:
            lacking[state.flag_id].states.append(state)


def _apply(flag: Flag, project: FmeProject, definition, now, was_defined: bool | None) -> bool:
    """Store one definition's summary; True when what Jira shows would change."""
    status = summarize(definition)
    state = _primary(flag, project)
    values = {
        "environment_name": project.environment_name,
        "defined": True,
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
    return changed or not was_defined


def _undefine(flag: Flag, project: FmeProject, now, was_defined: bool | None, *, deleted) -> bool:
    """Record that the flag has no definition in the primary environment, and whether FME
    deleted the flag itself; True when what Jira shows would change."""
    changed = was_defined is not False or flag.deleted_in_fme != deleted
    state = _primary(flag, project)
    state.environment_name = project.environment_name
    state.defined, state.killed, state.default_treatment = False, False, None
    state.rollout_percentage = state.rollout_rules = state.last_changed_at = None
    state.read_at = now
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


def _waiting(*read) -> set[int]:
    """Of the flags this read covered (``read``: conditions on Flag), the linked ones whose
    change no push has yet sent to Jira."""
    return set(
        db.session.scalars(
            sa.select(Flag.id).where(
                *read,
                Flag.id.in_(sa.select(Link.flag_id)),
                Flag.sync_requested_at.is_not(None),
                sa.or_(Flag.synced_at.is_(None), Flag.synced_at < Flag.sync_requested_at),
            )
        )
    )


def _finish(connection, tenant_id: int, report: RefreshReport, *read) -> RefreshReport:
    configuration.record_outcome(connection, None)
    linked = _linked(report.changed_flag_ids)
    scheduling.mark_changed(
        db.session.scalars(sa.select(Flag).where(Flag.id.in_(linked))) if linked else []
    )
    db.session.commit()
    to_push = linked | (_waiting(Flag.tenant_id == tenant_id, *read) if read else set())
    scheduling.push_soon(to_push, tenant_id)
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
    new_names = [d.name for d in definitions if d.name not in catalogue]
    if new_names:  # a connect may be adding one of them right now: the inserts yield to it
        rows = [
            {"tenant_id": tenant.id, "workspace_id": workspace_id, "name": n} for n in new_names
        ]
        insert_missing(Flag, rows, ["tenant_id", "workspace_id", "name"])
        catalogue = _catalogue(tenant.id, workspace_id)
    read = [(definition, catalogue[definition.name]) for definition in definitions]
    was_defined = {flag.id: _was_defined(flag, project) for flag in catalogue.values()}
    _make_states(project, [flag for _, flag in read])
    seen = set()
    for definition, flag in read:
        seen.add(definition.name)
        if _apply(flag, project, definition, now, was_defined[flag.id]):
            report.changed_flag_ids.add(flag.id)
        report.flags_read += 1
    missing = [f for name, f in catalogue.items() if name not in seen and not f.deleted_in_fme]
    linked = _linked({flag.id for flag in missing})
    for flag in missing:
        if flag.id not in linked:
            flag.deleted_in_fme = True  # only the catalogue: the connect dialog stops offering it
            report.removed += 1
        elif was_defined[flag.id] is not False:
            # Its definition just went, or it was never read here: one call per such flag
            # tells a deletion from a flag not (or no longer) in this environment. A flag
            # already recorded as not defined here costs nothing.
            try:
                deleted = not _exists(client, workspace_id, flag.name)
            except RemoteError as exc:
                configuration.record_outcome(connection, exc)
                db.session.commit()
                raise
            _make_states(project, [flag])
            if _undefine(flag, project, now, was_defined[flag.id], deleted=deleted):
                report.changed_flag_ids.add(flag.id)
            report.removed += int(deleted)
    return _finish(connection, tenant.id, report, Flag.workspace_id == workspace_id)


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
    if definition is None and flag is None:
        return _finish(connection, tenant.id, report)
    if flag is None:
        insert_missing(Flag, [lookup], list(lookup))
        flag = db.session.scalar(sa.select(Flag).filter_by(**lookup))
    was_defined = _was_defined(flag, project)
    _make_states(project, [flag])
    if definition is None:
        if _undefine(flag, project, utcnow(), was_defined, deleted=deleted):
            report.removed = int(deleted)
            report.changed_flag_ids.add(flag.id)
        return _finish(connection, tenant.id, report, Flag.id == flag.id)
    if _apply(flag, project, definition, utcnow(), was_defined):
        report.changed_flag_ids.add(flag.id)
    report.flags_read = 1
    return _finish(connection, tenant.id, report, Flag.id == flag.id)
