"""Signing what the app sends to a tenant's Jira through the Forge door.

Forge gives the remote a system token with its calls (``x-forge-oauth-system``); the app keeps
a current one (:mod:`fmejira.forge.installations`) and calls ``app.apiBaseUrl`` with it. There
is no way to ask Forge for a token: an expired one, or one Jira refuses (401), means waiting
for the next call (the hourly scheduled trigger brings one, so does any person's call), so it
is reported as Jira being unavailable and retried, never as credentials to give up on.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from fmejira.extensions import db
from fmejira.jira.client import SERVICE, JiraClient
from fmejira.models import Tenant
from fmejira.models.tenant import as_utc
from fmejira.outbound import Unauthorized, Unavailable

log = logging.getLogger(__name__)

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

    @property
    def expires_at(self) -> datetime | None:
        return self._expires_at

    def __repr__(self) -> str:  # never show the token
        return f"<ForgeSigner until {self._expires_at}>"


class ForgeJiraClient(JiraClient):
    """A site's Jira through Forge. When Jira refuses the system token (401: its time is up
    sooner than the app counted, or it was revoked), the token is forgotten, so nothing else
    is sent with it and the next token Forge brings is kept at once, and the call is reported
    unavailable: what it carried waits for that token instead of being dropped."""

    def __init__(self, tenant_id: int, base_url: str, signer: ForgeSigner, **kwargs):
        super().__init__(base_url, signer, **kwargs)
        self._tenant_id = tenant_id
        self._forge_signer = signer

    def _call(self, *args, **kwargs):
        try:
            return super()._call(*args, **kwargs)
        except Unauthorized as exc:
            if exc.status != 401:
                raise  # 403: the app may not do this; a new token would not change that
            _forget_token(self._tenant_id, self._forge_signer.expires_at)
            raise Unavailable(
                SERVICE, "Jira refused Forge's system token; waiting for Forge's next call", 401
            ) from exc


def _forget_token(tenant_id: int, expires_at: datetime | None) -> None:
    """Mark the site's token spent, unless a newer one has been stored since. On a connection
    of its own: the caller's transaction may be rolled back by the error this precedes."""
    try:
        with db.engine.begin() as connection:
            connection.execute(
                sa.update(Tenant)
                .where(Tenant.id == tenant_id, Tenant.forge_system_token_expires_at == expires_at)
                .values(forge_system_token_expires_at=datetime.now(UTC))
            )
    except SQLAlchemyError:
        log.warning("tenant %s: a refused Forge token could not be marked spent", tenant_id)
    log.info("tenant %s: Jira refused the Forge system token; waiting for the next", tenant_id)
