"""Forge calls: a verified invocation becomes the same :class:`JiraContext` a Connect JWT gives.

Two kinds of call arrive. Forge's own events (lifecycle, scheduled triggers) are accepted only
on the routes of :mod:`fmejira.forge.lifecycle`; a person's call from the app's Forge UI
(``invokeRemote``) is accepted on the Jira-side JSON API, where the UI chooses the path. So a
lifecycle route refuses a token that a module of the UI asked for: otherwise anyone who can
open the UI could send "uninstall".
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import request

from fmejira.context import JiraContext
from fmejira.errors import Forbidden, Unauthenticated
from fmejira.extensions import db
from fmejira.forge.installations import commit_tenant
from fmejira.forge.invocation import ForgeInvocation, is_forge_token, verify_invocation
from fmejira.models import Flag, Tenant
from fmejira.sync import tasks

# The module types of a call Forge itself makes to an endpoint (a trigger, not a UI module):
# the docs' table says ``core:endpoint``; a token from a live installed trigger carried
# ``core:trigger`` (PROTOCOLS.md 1b).
EVENT_MODULE_TYPES = frozenset({"core:endpoint", "core:trigger"})


def is_forge_call() -> bool:
    return is_forge_token(request.headers.get("Authorization", ""))


def installed_tenant(invocation: ForgeInvocation) -> Tenant:
    """The invocation's tenant, recorded; a site coming back after an uninstall has its flags
    sent to Jira again (Jira deleted the app's records when it was uninstalled), and a site
    that had no live system token until this call has what waited for one sent now."""
    tenant, returning, token_arrived = commit_tenant(invocation)
    if returning:
        tasks.resync_tenant(tenant.id, jira_was_emptied=True)
    elif token_arrived:
        _push_what_waited(tenant.id)
    return tenant


def _push_what_waited(tenant_id: int) -> None:
    """Queue the pushes of the site's flags that Jira is owed (the reconcile would find them
    within minutes; the token may not last that long on a quiet site)."""
    flag_ids = db.session.scalars(
        sa.select(Flag.id)
        .where(
            Flag.tenant_id == tenant_id,
            Flag.sync_requested_at.is_not(None),
            sa.or_(Flag.synced_at.is_(None), Flag.synced_at < Flag.sync_requested_at),
        )
        .order_by(Flag.id)
    ).all()
    for start in range(0, len(flag_ids), tasks.RECONCILE_BATCH):
        tasks.push_flags(tenant_id, flag_ids[start : start + tasks.RECONCILE_BATCH])


def verify_forge_event(*, principal_allowed: bool = False) -> ForgeInvocation:
    """A call Forge made for an event or a schedule (never one a UI module asked for).

    ``preUninstall``'s principal "does not represent a user" and may come or not
    (``principal_allowed``); the other events carry none."""
    invocation = verify_invocation()
    module = invocation.claims["app"].get("module")
    module_type = module.get("type") if isinstance(module, dict) else None
    if module_type not in EVENT_MODULE_TYPES:
        raise Forbidden("Only Forge's own events are accepted here.")
    if invocation.account_id is not None and not principal_allowed:
        raise Forbidden("Only Forge's own events are accepted here.")
    return invocation


def forge_context() -> JiraContext:
    """The context of a person's call from the app's Forge UI."""
    invocation = verify_invocation()
    tenant = installed_tenant(invocation)
    if not tenant.is_active:
        raise Unauthenticated("The app is not enabled on this Jira site.")
    return JiraContext(tenant=tenant, account_id=invocation.account_id, claims=invocation.claims)
