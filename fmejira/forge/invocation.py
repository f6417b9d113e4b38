"""Verifying the Forge Invocation Token (FIT) that Forge sends with every call to the remote.

The rules (Atlassian's Forge Remote contract): ``Authorization: Bearer <FIT>``, RS256 only,
signed by a key of Atlassian's JWKS, ``iss`` ``forge/invocation-token``, ``aud`` this app's id,
``exp`` and ``nbf`` with a few seconds of leeway. What the token says of the installation is
all the app believes: a request's body is not signed, so nothing in it names the tenant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import jwt
from flask import current_app, request

from fmejira.context import FORGE_ISSUER
from fmejira.errors import Unauthenticated
from fmejira.forge.keys import forge_keys

REQUIRED_CLAIMS = ["iss", "aud", "exp", "app"]
INSTALLATION_ID = re.compile(r"^ari:cloud:ecosystem::installation/[A-Za-z0-9-]{1,64}$")
CLOUD_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")
# a Jira site's REST API as Forge gives it: https://api.atlassian.com/ex/jira/{cloudId}
_API_BASE_PATH = re.compile(r"^/ex/jira/(?P<cloud_id>[A-Za-z0-9-]{1,64})$")
SYSTEM_TOKEN_HEADER = "x-forge-oauth-system"  # noqa: S105 (a header name)
# Forge guarantees a system token at least this long; the app uses one no longer.
SYSTEM_TOKEN_MIN_SECONDS = 55 * 60


@dataclass(frozen=True)
class SystemToken:
    value: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True)
class ForgeInvocation:
    """One verified call from Forge: which installation, on which site, by whom."""

    installation_id: str
    api_base_url: str
    cloud_id: str
    site_url: str | None
    account_id: str | None
    claims: dict = field(repr=False)
    system_token: SystemToken | None = None


def is_forge_token(header_value: str) -> bool:
    return header_value[:7].lower() == "bearer "


def verify_invocation() -> ForgeInvocation:
    """The verified invocation of this request, or 401 (503 when the keys cannot be read)."""
    app_id = current_app.config["FORGE_APP_ID"]
    if not app_id:
        raise Unauthenticated("This app does not take Forge calls (no Forge app id is set).")
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if is_forge_token(header) else ""
    if not token:
        raise Unauthenticated("This request needs a Forge invocation token.")
    claims = _verified_claims(token, app_id)
    return _invocation(claims, _system_token(request.headers.get(SYSTEM_TOKEN_HEADER)))


def _verified_claims(token: str, app_id: str) -> dict:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError as exc:
        raise Unauthenticated("The Forge invocation token is malformed.") from exc
    if header.get("alg") != "RS256":
        raise Unauthenticated("Forge invocation tokens must be signed with RS256.")
    key = forge_keys.signing_key(current_app.config["FORGE_JWKS_URL"], header.get("kid"))
    try:
        return jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            audience=app_id,
            issuer=FORGE_ISSUER,
            leeway=current_app.config["JWT_LEEWAY_SECONDS"],
            options={"require": REQUIRED_CLAIMS},
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("The Forge invocation token has expired.") from exc
    except jwt.ImmatureSignatureError as exc:
        raise Unauthenticated("The Forge invocation token is not valid yet.") from exc
    except jwt.InvalidAudienceError as exc:
        raise Unauthenticated("The Forge invocation token is for another app.") from exc
    except jwt.InvalidIssuerError as exc:
        raise Unauthenticated("The token is not a Forge invocation token.") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated(
            "The Forge invocation token's signature or claims are invalid."
        ) from exc


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def _invocation(claims: dict, system_token: SystemToken | None) -> ForgeInvocation:
    app = _mapping(claims.get("app"))
    context = _mapping(claims.get("context"))
    installation_id = app.get("installationId")
    if not isinstance(installation_id, str) or not INSTALLATION_ID.match(installation_id):
        raise Unauthenticated("The Forge invocation token names no installation.")
    api_base_url = app.get("apiBaseUrl")
    cloud_id = _cloud_id_of(api_base_url)
    if cloud_id is None:
        raise Unauthenticated("The Forge invocation token is not for a Jira site.")
    if context.get("cloudId") not in (None, cloud_id):
        raise Unauthenticated("The Forge invocation token names two sites.")
    site_url = context.get("siteUrl")
    principal = claims.get("principal")
    return ForgeInvocation(
        installation_id=installation_id,
        api_base_url=api_base_url.rstrip("/"),
        cloud_id=cloud_id,
        site_url=_site_url(site_url),
        account_id=principal if isinstance(principal, str) and principal else None,
        claims=claims,
        system_token=system_token,
    )


def _cloud_id_of(api_base_url) -> str | None:
    if not isinstance(api_base_url, str):
        return None
    parts = urlsplit(api_base_url.rstrip("/"))
    match = _API_BASE_PATH.match(parts.path)
    if parts.scheme not in ("https", "http") or not parts.netloc or match is None:
        return None
    return match["cloud_id"]


def _site_url(value) -> str | None:
    if not isinstance(value, str):
        return None
    parts = urlsplit(value)
    if parts.scheme != "https" or not parts.hostname or parts.query or parts.fragment:
        return None
    return value.rstrip("/")


def _system_token(value: str | None) -> SystemToken | None:
    """The app's system token for this site's Jira. Opaque (PROTOCOLS.md 1b): not decoded,
    and counted good for Forge's guaranteed minimum from the moment it arrived."""
    value = (value or "").strip()
    if not value:
        return None
    return SystemToken(value, datetime.now(UTC) + timedelta(seconds=SYSTEM_TOKEN_MIN_SECONDS))
