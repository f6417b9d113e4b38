"""Connect lifecycle callbacks: installed, uninstalled, enabled, disabled.

``installed`` is an upsert (Jira re-sends it on every descriptor change and re-install, and the
shared secret may change). Nothing is written unless the callback is verified.
"""

from __future__ import annotations

import logging

import jwt
from flask import Blueprint, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from fmejira.connect.auth import (
    load_tenant,
    token_from_request,
    verify_signed_install,
    verify_tenant_jwt,
)
from fmejira.errors import ApiError, Unauthenticated
from fmejira.extensions import db
from fmejira.forge.installations import (
    connect_side_gone,
    forge_only_tenant_of,
    record_connect_ids,
)
from fmejira.forge.invocation import CLOUD_ID, INSTALLATION_ID
from fmejira.models import Tenant, TenantState
from fmejira.models.tenant import utcnow
from fmejira.sync import tasks

log = logging.getLogger(__name__)

bp = Blueprint("lifecycle", __name__, url_prefix="/lifecycle")


class LifecyclePayload(Schema):
    class Meta:
        unknown = EXCLUDE

    key = fields.String(required=True, validate=validate.Length(max=64))
    clientKey = fields.String(required=True, validate=validate.Length(min=1, max=255))
    sharedSecret = fields.String(validate=validate.Length(min=32, max=1024))
    baseUrl = fields.Url(required=True, schemes={"https", "http"}, require_tld=False)
    displayUrl = fields.Url(schemes={"https", "http"}, require_tld=False, allow_none=True)
    productType = fields.String(load_default="jira", validate=validate.Length(max=32))
    description = fields.String(load_default=None, allow_none=True)
    eventType = fields.String(required=True)
    oauthClientId = fields.String(load_default=None, allow_none=True)
    # an app that adopted Forge: the site's Forge installation (fmejira.forge.installations)
    installationId = fields.String(
        load_default=None, allow_none=True, validate=validate.Regexp(INSTALLATION_ID)
    )
    cloudId = fields.String(load_default=None, allow_none=True, validate=validate.Regexp(CLOUD_ID))


def _payload(required_secret: bool = False) -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise ApiError("The lifecycle body must be a JSON object.", code="invalid_body")
    try:
        data = LifecyclePayload().load(body)
    except ValidationError as exc:
        raise ApiError(f"Invalid lifecycle body: {exc.messages}", code="invalid_body") from exc
    if required_secret and not data.get("sharedSecret"):
        raise ApiError("The installed callback must carry a sharedSecret.", code="invalid_body")
    return data


@bp.post("/installed")
def installed():
    data = _payload(required_secret=True)
    verify_signed_install(token_from_request(), data)
    tenant = load_tenant(data["clientKey"]) or forge_only_tenant_of(data)
    returning = tenant is not None and tenant.state is TenantState.UNINSTALLED
    if tenant is None:
        tenant = Tenant(client_key=data["clientKey"])
        db.session.add(tenant)
    tenant.client_key = data["clientKey"]  # a Forge-only site's tenant now has Connect too
    tenant.base_url = data["baseUrl"].rstrip("/")
    tenant.display_url = (data.get("displayUrl") or "").rstrip("/") or None
    tenant.product_type = data["productType"]
    tenant.description = data["description"]
    tenant.oauth_client_id = data["oauthClientId"]
    tenant.shared_secret = data["sharedSecret"]
    if tenant.id is None or returning:
        tenant.installed_at = utcnow()
    tenant.state = TenantState.INSTALLED
    tenant.enabled = True
    tenant.uninstalled_at = None
    with db.session.no_autoflush:
        record_connect_ids(tenant, data)
    db.session.commit()
    log.info("installed tenant %s (%s)", tenant.id, tenant.base_url)
    if returning:  # Jira deleted the app's flag records on uninstall: send everything again
        tasks.resync_tenant(tenant.id, jira_was_emptied=True)
    return "", 204


@bp.post("/uninstalled")
def uninstalled():
    data = _payload()
    verify_signed_install(token_from_request(), data)
    tenant = load_tenant(data["clientKey"])
    if tenant is not None and connect_side_gone(tenant):
        db.session.commit()
        log.info("tenant %s: the Connect side is gone; the site stays with Forge", tenant.id)
    elif tenant is not None and tenant.state is not TenantState.UNINSTALLED:
        tenant.state = TenantState.UNINSTALLED
        tenant.uninstalled_at = utcnow()
        db.session.commit()
        log.info("uninstalled tenant %s", tenant.id)
    return "", 204


def _set_enabled(enabled: bool):
    """enabled/disabled: HS256 with the tenant's secret (or RS256 like install); without a token
    the call is treated as no change, as PROTOCOLS.md asks."""
    data = _payload()
    try:
        token = token_from_request()
    except Unauthenticated:
        log.warning("unauthenticated %s callback ignored", "enabled" if enabled else "disabled")
        return "", 204
    if _is_rs256(token):
        verify_signed_install(token, data)
        tenant = load_tenant(data["clientKey"])
    else:
        tenant = verify_tenant_jwt(token, allow_context_qsh=False, require_active=False).tenant
        if tenant.client_key != data["clientKey"]:
            raise Unauthenticated("The token was issued for another Jira site.")
    if tenant is not None and tenant.state is TenantState.INSTALLED and tenant.enabled != enabled:
        tenant.enabled = enabled
        db.session.commit()
    return "", 204


def _is_rs256(token: str) -> bool:
    try:
        return jwt.get_unverified_header(token).get("alg") == "RS256"
    except jwt.PyJWTError:
        return False


@bp.post("/enabled")
def enabled():
    return _set_enabled(True)


@bp.post("/disabled")
def disabled():
    return _set_enabled(False)
