"""Helpers shared by the tests: building Jira's JWTs and installed tenants, finding Redis."""

from __future__ import annotations

import os
import secrets
import time
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
import redis

from fmejira.connect.qsh import CONTEXT_QSH, query_string_hash
from fmejira.extensions import db
from fmejira.models import Tenant


def make_tenant(
    client_key: str | None = None, base_url: str = "https://example.atlassian.net", **fields
) -> Tenant:
    tenant = Tenant(
        client_key=client_key or f"client-{secrets.token_hex(4)}",
        base_url=base_url,
        shared_secret=fields.pop("shared_secret", secrets.token_urlsafe(48)),
        **fields,
    )
    db.session.add(tenant)
    db.session.commit()
    return tenant


def jira_jwt(
    tenant: Tenant,
    url: str,
    method: str = "GET",
    *,
    sub: str | None = "account-1",
    qsh: str | None = None,
    lifetime: int = 180,
    iat_offset: int = 0,
    secret: str | None = None,
    iss: str | None = None,
    algorithm: str = "HS256",
    **extra,
) -> str:
    """A token as Jira would send it for ``method url`` (url relative to the app base URL)."""
    parts = urlsplit(url)
    now = int(time.time()) + iat_offset
    claims = {
        "iss": iss or tenant.client_key,
        "iat": now,
        "exp": now + lifetime,
        "qsh": qsh
        or query_string_hash(method, parts.path, parse_qsl(parts.query, keep_blank_values=True)),
        **extra,
    }
    if sub:
        claims["sub"] = sub
    return jwt.encode(claims, secret or tenant.shared_secret, algorithm=algorithm)


def context_jwt(tenant: Tenant, **kwargs) -> str:
    return jira_jwt(tenant, "/", qsh=CONTEXT_QSH, **kwargs)


def auth_header(token: str) -> dict:
    return {"Authorization": f"JWT {token}"}


def register_probe_routes(app) -> None:
    """Routes that echo the verified context, to test the JWT decorator on both route kinds."""
    from flask import jsonify

    from fmejira.connect.auth import jira_request
    from fmejira.context import current_context

    @jira_request(context_qsh=True)
    def api_probe():
        context = current_context()
        return jsonify(clientKey=context.tenant.client_key, accountId=context.account_id)

    @jira_request()
    def page_probe(name=None):
        context = current_context()
        return jsonify(clientKey=context.tenant.client_key, accountId=context.account_id, name=name)

    app.add_url_rule("/jira/api/_test/whoami", "api_probe", api_probe)
    app.add_url_rule("/jira/_test/page", "page_probe", page_probe)
    app.add_url_rule("/jira/_test/page/<name>", "page_probe_named", page_probe)


# A real Redis for the tests that need one: TEST_REDIS_URL, else the local one if it answers.
REDIS_URL = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"


def _redis_answers() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


needs_redis = pytest.mark.skipif(not _redis_answers(), reason=f"no Redis at {REDIS_URL}")
