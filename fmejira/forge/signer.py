"""Signing what the app sends to a tenant's Jira through the Forge door.

Forge gives the remote a system token with its calls (``x-forge-oauth-system``); the app keeps
the newest one (:mod:`fmejira.forge.installations`) and calls ``app.apiBaseUrl`` with it. There
is no way to ask Forge for a token: an expired one means waiting for the next call (the hourly
scheduled trigger brings one), so it is reported as Jira being unavailable and retried.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fmejira.jira.client import SERVICE
from fmejira.models.tenant import as_utc
from fmejira.outbound import Unavailable

# a token this close to its end could expire in flight
EXPIRY_MARGIN = timedelta(seconds=60)


def _is_live(expires_at: datetime | None) -> bool:
    return expires_at is not None and as_utc(expires_at) - EXPIRY_MARGIN > datetime.now(UTC)


def has_live_token(tenant) -> bool:
    return bool(tenant.forge_api_base_url and tenant.forge_system_token) and _is_live(
        tenant.forge_system_token_expires_at
    )


class ForgeSigner:
    def __init__(self, system_token: str | None, expires_at: datetime | None):
        self._token = system_token
        self._expires_at = expires_at

    def __call__(self, method: str, url: str) -> str:
        if not (self._token and _is_live(self._expires_at)):
            raise Unavailable(
                SERVICE, "no current Forge system token; waiting for Forge's next call"
            )
        return "Bearer " + self._token

    def __repr__(self) -> str:  # never show the token
        return f"<ForgeSigner until {self._expires_at}>"
