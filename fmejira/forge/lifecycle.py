"""Forge's events at the remote: installed and upgraded, the hourly schedule, uninstall.

Each is a ``POST`` with a Forge invocation token and must be answered within 5 seconds (Forge
retries a failure after a minute, four times), so these only record and queue. Every one of
them but ``preUninstall`` also brings a fresh system token, which is what keeps the site's Jira
reachable for background work. A token lasts at least 55 minutes, so an hourly schedule leaves
a quiet site minutes without one: the work waits for the next call (fmejira.forge.signer).
"""

from __future__ import annotations

import logging

from flask import Blueprint

from fmejira.extensions import db
from fmejira.forge.auth import installed_tenant, verify_forge_event
from fmejira.forge.installations import find_site
from fmejira.models import TenantState
from fmejira.models.tenant import utcnow

log = logging.getLogger(__name__)

bp = Blueprint("forge", __name__, url_prefix="/forge")


@bp.post("/installed")
def installed():
    """``avi:forge:installed:app`` and ``avi:forge:upgraded:app``."""
    installed_tenant(verify_forge_event())
    return "", 204


@bp.post("/scheduled")
def scheduled():
    """The hourly ``scheduledTrigger``: a fresh system token."""
    installed_tenant(verify_forge_event())
    return "", 204


@bp.post("/uninstalled")
def uninstalled():
    """``preUninstall``: the site's calls stop working; its links are kept for a re-install."""
    invocation = verify_forge_event(principal_allowed=True)
    tenant = find_site(installation_id=invocation.installation_id, cloud_id=None, site_url=None)
    if tenant is not None and tenant.state is TenantState.INSTALLED:
        tenant.state, tenant.uninstalled_at = TenantState.UNINSTALLED, utcnow()
        tenant.forge_system_token = tenant.forge_system_token_expires_at = None
        db.session.commit()
        log.info("uninstalled tenant %s (Forge)", tenant.id)
    return "", 204
