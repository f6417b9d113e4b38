"""Signing what the app sends to a tenant's Jira (Connect's outgoing JWT).

A signer is a callable ``signer(method, url) -> Authorization header value``; the Jira client
takes one, so a Forge signer can replace this without the client knowing.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlsplit

from fmejira.connect import jws
from fmejira.connect.qsh import query_string_hash

TOKEN_LIFETIME_SECONDS = 180


class ConnectSigner:
    def __init__(self, app_key: str, site_base_url: str, shared_secret: str):
        self._app_key = app_key
        self._base_path = urlsplit(site_base_url).path
        self._secret = shared_secret

    def __call__(self, method: str, url: str) -> str:
        parts = urlsplit(url)
        qsh = query_string_hash(
            method, parts.path, parse_qsl(parts.query, keep_blank_values=True), self._base_path
        )
        now = int(time.time())
        claims = {"iss": self._app_key, "iat": now, "exp": now + TOKEN_LIFETIME_SECONDS, "qsh": qsh}
        return "JWT " + jws.sign_hs256(claims, self._secret)

    def __repr__(self) -> str:  # never show the secret
        return f"<ConnectSigner {self._app_key}>"
