"""A tenant's FME configuration: the key, the projects and their primary environments.

Everything a save needs from FME is read before anything is written, so a rejected key, an
unknown project or FME being down leaves the stored configuration exactly as it was.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from fmejira import crypto, hot_cache
from fmejira.errors import ApiError, Conflict, ServiceUnavailable
from fmejira.extensions import db
from fmejira.fme.client import FmeClient, detect_auth_scheme
from fmejira.models import (
    AuthScheme,
    ConnectionStatus,
    Flag,
    FmeConnection,
    FmeProject,
    Link,
    Tenant,
)
from fmejira.models.tenant import utcnow
from fmejira.outbound import INTERACTIVE, RemoteError, Unauthorized, Unavailable
from fmejira.sync import scheduling


@dataclass(frozen=True)
class ProjectChoice:
    """One FME project as the admin sees it when choosing."""

    workspace_id: str
    workspace_name: str
    environments: list  # fme.schemas.Environment


@dataclass(frozen=True)
class ProjectSelection:
    workspace_id: str
    primary_environment_id: str


def connection_for(tenant: Tenant) -> FmeConnection | None:
    return db.session.scalar(sa.select(FmeConnection).where(FmeConnection.tenant_id == tenant.id))


def fme_client(api_key: str, scheme: AuthScheme | str | None = None, policy=None) -> FmeClient:
    scheme = AuthScheme(scheme or detect_auth_scheme(api_key))
    policy = policy or current_app.config["RETRY_POLICY"]
    return FmeClient(current_app.config["FME_API_URL"], api_key, scheme.value, policy=policy)


def client_for(connection: FmeConnection, policy=None) -> FmeClient:
    return fme_client(connection.api_key, connection.auth_scheme, policy)


# -- reading FME for a person ---------------------------------------------------------------------


def _interactive(call):
    """Run an FME call for a waiting person and turn failures into clear API errors."""
    try:
        return call()
    except Unauthorized as exc:
        raise ApiError(
            "FME refused this API key. Generate a new Admin API key in FME and paste it here.",
            code="invalid_api_key",
        ) from exc
    except Unavailable as exc:
        raise ServiceUnavailable(
            "FME could not be reached. Nothing was changed; try again in a moment.",
            code="fme_unavailable",
        ) from exc
    except RemoteError as exc:
        raise ServiceUnavailable(
            f"FME answered unexpectedly ({exc.message}). Nothing was changed.",
            code="fme_unavailable",
        ) from exc


def discover(client: FmeClient) -> list[ProjectChoice]:
    """The projects the key can see, each with its environments."""

    def read():
        return [
            ProjectChoice(ws.id, ws.name, client.environments(ws.id)) for ws in client.workspaces()
        ]

    return _interactive(read)


# -- saving ---------------------------------------------------------------------------------------


def _validate_selection(
    selection: list[ProjectSelection], choices: list[ProjectChoice]
) -> list[tuple[ProjectChoice, object]]:
    by_id = {choice.workspace_id: choice for choice in choices}
    seen: set[str] = set()
    chosen = []
    for item in selection:
        if item.workspace_id in seen:
            raise ApiError(
                f"Project {item.workspace_id} is listed twice: choose exactly one primary "
                "environment per project.",
                code="duplicate_project",
            )
        seen.add(item.workspace_id)
        choice = by_id.get(item.workspace_id)
        if choice is None:
            raise ApiError(
                f"This API key cannot see the FME project {item.workspace_id}.",
                code="unknown_project",
            )
        environment = next(
            (env for env in choice.environments if env.id == item.primary_environment_id), None
        )
        if environment is None:
            raise ApiError(
                f"Environment {item.primary_environment_id} is not an environment of the project "
                f"{choice.workspace_name}.",
                code="unknown_environment",
            )
        chosen.append((choice, environment))
    return chosen


def _links_in(tenant: Tenant, workspace_ids: set[str]) -> int:
    if not workspace_ids:
        return 0
    return db.session.scalar(
        sa.select(sa.func.count(Link.id))
        .join(Flag, Link.flag_id == Flag.id)
        .where(Link.tenant_id == tenant.id, Flag.workspace_id.in_(workspace_ids))
    )


def _remove_flags_of(tenant: Tenant, workspace_ids: set[str] | None) -> list[int]:
    """Delete the flags (and so the links) of these projects, or of all; returns the ids of the
    issues that lost links, whose glances must be recomputed."""
    scope = [Flag.tenant_id == tenant.id]
    if workspace_ids is not None:
        if not workspace_ids:
            return []
        scope.append(Flag.workspace_id.in_(workspace_ids))
    issue_ids = list(
        db.session.scalars(
            sa.select(Link.issue_id).join(Flag, Link.flag_id == Flag.id).where(*scope).distinct()
        )
    )
    db.session.execute(sa.delete(Flag).where(*scope))
    hot_cache.changed(db.session, tenant.id)
    return issue_ids


def save(
    tenant: Tenant,
    api_key: str | None,
    selection: list[ProjectSelection],
    *,
    confirm_link_removal: bool = False,
) -> FmeConnection:
    """Validate the key and the selection against FME, then store them in one transaction.

    Dropping a project (or switching to a key of another FME account, which cannot see the old
    projects) removes that project's links, so it needs ``confirm_link_removal``.
    """
    connection = connection_for(tenant)
    if api_key is None and connection is None:
        raise ApiError("Paste an FME Admin API key first.", code="missing_api_key")
    key = api_key if api_key is not None else connection.api_key
    scheme = AuthScheme(detect_auth_scheme(key))
    key_hash = crypto.fingerprint(key)
    if api_key is not None:
        owner = db.session.scalar(
            sa.select(FmeConnection.tenant_id).where(FmeConnection.api_key_hash == key_hash)
        )
        if owner is not None and owner != tenant.id:
            raise Conflict(
                "This API key is already connected to another Jira site. "
                "Generate a separate key in FME for this site.",
                code="api_key_in_use",
            )

    choices = discover(fme_client(key, scheme, INTERACTIVE))
    chosen = _validate_selection(selection, choices)

    kept = {choice.workspace_id for choice, _ in chosen}
    previous = {project.workspace_id for project in connection.projects} if connection else set()
    dropped = previous - kept
    losing = _links_in(tenant, dropped)
    if losing and not confirm_link_removal:
        raise Conflict(
            f"Saving removes {losing} link(s) of projects no longer connected "
            "(a key of another FME account cannot see them). Confirm to continue.",
            code="links_would_be_removed",
        )

    if connection is None:
        connection = FmeConnection(tenant_id=tenant.id)
        _new_webhook_secret(connection)
        db.session.add(connection)
    connection.api_key = key
    connection.api_key_hash = key_hash
    connection.auth_scheme = scheme
    _mark(connection, ConnectionStatus.AUTHORIZED, None)
    by_id = {project.workspace_id: project for project in connection.projects}
    connection.projects = [
        _project(tenant, by_id.get(choice.workspace_id), choice, environment)
        for choice, environment in chosen
    ]
    orphaned_issues = _remove_flags_of(tenant, dropped)
    db.session.commit()
    if dropped:
        scheduling.forget_soon(tenant.id, sorted(dropped), orphaned_issues)
    scheduling.refresh_soon(tenant.id, kept)  # a new project or primary environment: read it
    return connection


def _project(tenant, project, choice, environment) -> FmeProject:
    project = project or FmeProject(tenant_id=tenant.id, workspace_id=choice.workspace_id)
    project.workspace_name = choice.workspace_name
    project.environment_id = environment.id
    project.environment_name = environment.name
    project.environment_production = bool(environment.production)
    return project


def delete(tenant: Tenant) -> None:
    """Forget the key, the projects and every link and flag of the site, and remove the app's
    records from Jira."""
    orphaned_issues = _remove_flags_of(tenant, None)
    db.session.execute(sa.delete(FmeConnection).where(FmeConnection.tenant_id == tenant.id))
    hot_cache.changed(db.session, tenant.id)
    db.session.commit()
    scheduling.forget_soon(tenant.id, None, orphaned_issues)


# -- health ---------------------------------------------------------------------------------------


def _mark(connection: FmeConnection, status: ConnectionStatus, error: str | None) -> None:
    connection.status = status
    connection.last_error = error
    connection.checked_at = utcnow()


def record_outcome(connection: FmeConnection, error: Exception | None) -> None:
    """Fold the outcome of an FME call into the connection's status (the caller commits)."""
    if error is None:
        _mark(connection, ConnectionStatus.AUTHORIZED, None)
    elif isinstance(error, Unauthorized):
        _mark(
            connection,
            ConnectionStatus.NOT_AUTHORIZED,
            "FME refused the API key (it was revoked or deleted). Paste a new key.",
        )
    elif isinstance(error, RemoteError):
        _mark(
            connection,
            ConnectionStatus.INTERRUPTED,
            f"FME could not be reached or failed ({error.message}). Retrying automatically.",
        )


def check(connection: FmeConnection, policy=None) -> FmeConnection:
    """Ask FME now whether the key still works, and store the answer."""
    try:
        client_for(connection, policy or INTERACTIVE).workspaces()
    except RemoteError as exc:
        record_outcome(connection, exc)
    else:
        record_outcome(connection, None)
    db.session.commit()
    return connection


# -- the FME audit-log webhook --------------------------------------------------------------------


def _new_webhook_secret(connection: FmeConnection) -> None:
    secret = secrets.token_urlsafe(32)
    connection.webhook_secret = secret
    connection.webhook_secret_hash = crypto.fingerprint(secret)


def regenerate_webhook_secret(connection: FmeConnection) -> FmeConnection:
    _new_webhook_secret(connection)
    db.session.commit()
    return connection


def webhook_url(connection: FmeConnection) -> str:
    return f"{current_app.config['APP_BASE_URL']}/webhooks/fme/{connection.webhook_secret}"


def connection_for_webhook_secret(secret: str) -> FmeConnection | None:
    return db.session.scalar(
        sa.select(FmeConnection).where(
            FmeConnection.webhook_secret_hash == crypto.fingerprint(secret)
        )
    )


_CONNECTION_BY_KEY_HASH = sa.select(FmeConnection).where(
    FmeConnection.api_key_hash == sa.bindparam("key_hash")
)


def connection_for_api_key(api_key: str) -> FmeConnection | None:
    """The connection an FME-side request belongs to, found by the key's hash (no decryption).
    Every FME-side request runs this, so the statement is built once."""
    return db.session.scalar(_CONNECTION_BY_KEY_HASH, {"key_hash": crypto.fingerprint(api_key)})
