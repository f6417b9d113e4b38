"""FME-side authentication: the FME Admin API key the Jira admin pasted identifies the tenant.

The key is found by its SHA-256 fingerprint (an indexed equality lookup), so no stored key is
decrypted or compared byte by byte.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from flask import g, request

from fmejira.domain.configuration import connection_for_api_key
from fmejira.errors import Unauthenticated
from fmejira.models import FmeConnection, Tenant


@dataclass(frozen=True)
class FmeContext:
    tenant: Tenant
    connection: FmeConnection


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def fme_request(view):
    """Require ``Authorization: Bearer <FME Admin API key>`` of an installed, configured site."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        token = bearer_token()
        if token is None:
            raise Unauthenticated(
                "Send the FME Admin API key as 'Authorization: Bearer <key>'.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        connection = connection_for_api_key(token)
        if connection is None or not connection.tenant.is_active:
            raise Unauthenticated(
                "This API key is not connected to any Jira site.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        g.fme_context = FmeContext(connection.tenant, connection)
        return view(*args, **kwargs)

    return wrapper


def current_fme_context() -> FmeContext:
    return g.fme_context
