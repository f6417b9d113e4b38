"""One site, one tenant, whichever door it came through.

A Forge installation is matched to its tenant by installation id; failing that, by the site's
cloud id or URL, which is how a site that installed the Connect app finds its links, flags and
FME connection again when the Forge app arrives (and how a re-installed Forge app, which gets a
new installation id, finds the site's earlier tenant). Connect installs of an app that adopted
Forge carry the ``installationId`` too (:func:`forge_only_tenant_of`).

A site that only ever came through Forge gets a tenant of its own, named by its installation
id, with a random secret of the app's own for the page tokens it issues.
"""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from fmejira.extensions import db
from fmejira.forge.invocation import SYSTEM_TOKEN_MIN_SECONDS, ForgeInvocation
from fmejira.forge.signer import has_live_token
from fmejira.models import Tenant, TenantState
from fmejira.models.tenant import as_utc, utcnow

log = logging.getLogger(__name__)

# Forge may give a new system token with every call (the docs do not say how often it mints
# one); a live one is replaced by another only after it has been held this long, and the time
# of the last call is kept to this precision, so a busy site's calls do not each write a row.
KEEP_TOKEN = timedelta(minutes=5)
INVOKED_PRECISION = timedelta(minutes=5)


class Recorded(NamedTuple):
    tenant: Tenant
    returning: bool  # a site coming back after an uninstall
    token_arrived: bool  # a token came while the site had no live one: work that waited can go


def find_site(
    *, installation_id: str | None, cloud_id: str | None, site_url: str | None
) -> Tenant | None:
    """The tenant of the first of these that is given and known (oldest tenant first)."""
    for column, value in (
        (Tenant.forge_installation_id, installation_id),
        (Tenant.cloud_id, cloud_id),
        (Tenant.base_url, site_url),
    ):
        if value:
            query = sa.select(Tenant).where(column == value).order_by(Tenant.id).limit(1)
            tenant = db.session.scalars(query).first()
            if tenant is not None:
                return tenant
    return None


def tenant_for(invocation: ForgeInvocation) -> Recorded:
    """The invocation's tenant, created or brought up to date (not committed). A valid token
    is Atlassian's word that the installation exists, so a missed ``installed`` event does not
    leave a site without one."""
    tenant = find_site(
        installation_id=invocation.installation_id,
        cloud_id=invocation.cloud_id,
        site_url=invocation.site_url,
    )
    installed = tenant is None or tenant.forge_installation_id != invocation.installation_id
    returning = installed and tenant is not None and tenant.state is TenantState.UNINSTALLED
    if tenant is None:
        tenant = Tenant(
            client_key=invocation.installation_id,
            base_url=invocation.site_url or invocation.api_base_url,
            product_type="jira",
            shared_secret=secrets.token_urlsafe(32),
            state=TenantState.INSTALLED,
            enabled=True,
        )
        db.session.add(tenant)
    elif installed and not tenant.came_through_connect:
        tenant.client_key = invocation.installation_id  # a re-install: the new installation
    if returning:
        tenant.state, tenant.enabled = TenantState.INSTALLED, True
        tenant.installed_at, tenant.uninstalled_at = utcnow(), None
    tenant.forge_installation_id = invocation.installation_id
    tenant.cloud_id = invocation.cloud_id
    tenant.forge_api_base_url = invocation.api_base_url
    if invocation.site_url and not tenant.came_through_connect:
        tenant.base_url = invocation.site_url
    now = utcnow()
    invoked_at = as_utc(tenant.forge_invoked_at)
    if invoked_at is None or now - invoked_at >= INVOKED_PRECISION:
        tenant.forge_invoked_at = now
    return Recorded(tenant, returning, _keep_system_token(tenant, invocation))


def _keep_system_token(tenant: Tenant, invocation: ForgeInvocation) -> bool:
    """Keep a current system token Forge gave (background work calls Jira with it); True
    when it came while the site had none that was live."""
    token = invocation.system_token
    if token is None or tenant.forge_system_token == token.value:
        return False
    live = has_live_token(tenant)
    if live:
        received_at = as_utc(tenant.forge_system_token_expires_at) - timedelta(
            seconds=SYSTEM_TOKEN_MIN_SECONDS
        )
        if utcnow() - received_at < KEEP_TOKEN:
            return False
    tenant.forge_system_token = token.value
    tenant.forge_system_token_expires_at = token.expires_at
    return not live


def commit_tenant(invocation: ForgeInvocation) -> Recorded:
    """:func:`tenant_for`, committed when anything changed (most calls change nothing: see
    ``KEEP_TOKEN``); two first calls of a new installation at once both end with the one
    tenant."""
    for attempt in range(2):
        recorded = tenant_for(invocation)
        tenant = recorded.tenant
        if tenant.id is not None and not db.session.is_modified(tenant):
            return recorded
        try:
            db.session.commit()
        except IntegrityError:
            db.session.rollback()
            if attempt:
                raise
            continue
        log.info("tenant %s: Forge installation %s recorded", tenant.id, invocation.installation_id)
        return recorded
    raise AssertionError("unreachable")


def forge_only_tenant_of(payload: dict) -> Tenant | None:
    """The Forge-only tenant of the site a verified Connect install (of a client key the app
    does not know) comes from. The install's body is not signed, so a Forge tenant is taken
    over only when both its installation (or cloud) id and its site URL are the body's."""
    site_url = payload["baseUrl"].rstrip("/")
    tenant = find_site(
        installation_id=payload.get("installationId"),
        cloud_id=payload.get("cloudId"),
        site_url=None,
    )
    if tenant is None or tenant.came_through_connect or tenant.base_url != site_url:
        return None
    return tenant


def record_connect_ids(tenant: Tenant, payload: dict) -> None:
    """What a Connect install says of the site's Forge side, unless another tenant holds it."""
    installation_id, cloud_id = payload.get("installationId"), payload.get("cloudId")
    if installation_id and tenant.forge_installation_id != installation_id:
        holder = find_site(installation_id=installation_id, cloud_id=None, site_url=None)
        if holder is None:
            tenant.forge_installation_id = installation_id
    if cloud_id:
        tenant.cloud_id = cloud_id


def connect_side_gone(tenant: Tenant) -> bool:
    """A Connect ``uninstalled`` for a site that Forge has called since (an adopted app):
    the site stays, called through Forge only. Its Connect client key and shared secret go
    (the tenant becomes the installation's own, as a Forge-only site's is); its links, FME
    connection and Jira records are kept. False when Forge never called: a Connect uninstall."""
    if not (tenant.forge_installation_id and tenant.forge_api_base_url):
        return False
    if tenant.state is not TenantState.INSTALLED:
        return False
    tenant.client_key = tenant.forge_installation_id
    tenant.shared_secret = secrets.token_urlsafe(32)
    return True


def doors_of(tenant: Tenant) -> dict:
    """How a site is reached, for operators: its door(s), until when its Forge system token
    is counted good (``spent`` once Jira refused it or its time ran out) and Forge's last call
    (to ``INVOKED_PRECISION``)."""
    doors = [
        name
        for name, has in (
            ("connect", tenant.came_through_connect),
            ("forge", bool(tenant.forge_api_base_url)),
        )
        if has
    ]
    until = as_utc(tenant.forge_system_token_expires_at)
    if not tenant.forge_system_token or until is None:
        expiry = "-"
    elif has_live_token(tenant):
        expiry = until.isoformat(timespec="seconds")
    else:
        expiry = "spent"
    invoked = as_utc(tenant.forge_invoked_at)
    return {
        "doors": "+".join(doors) or "-",
        "token_until": expiry,
        "forge_call": invoked.isoformat(timespec="seconds") if invoked else "-",
    }
