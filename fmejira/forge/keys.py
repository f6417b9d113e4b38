"""Atlassian's public keys for Forge Invocation Tokens: one JWKS, fetched and cached.

The set is kept for ``KEYS_SECONDS`` and fetched again early when a token names a key it does
not hold (Atlassian rotates keys by publishing the new one first), but at most once per
``REFETCH_SECONDS``: a stream of made-up ``kid`` values costs Atlassian one request per that
interval, not one each. A failed fetch is not cached.
"""

from __future__ import annotations

import threading
import time

import jwt
import requests

from fmejira.errors import ServiceUnavailable, Unauthenticated

TIMEOUT = (2.0, 3.0)
KEYS_SECONDS = 3600
REFETCH_SECONDS = 30


class ForgeKeyStore:
    def __init__(self, session: requests.Session | None = None, clock=time.monotonic):
        self._session = session or requests.Session()
        self._clock = clock
        self._lock = threading.Lock()
        self._url: str | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")

    def signing_key(self, jwks_url: str, kid: str | None) -> jwt.PyJWK:
        """The RS256 key ``kid`` of the set at ``jwks_url``: 401 when the set has no such key,
        503 when the set cannot be read."""
        if not isinstance(kid, str) or not kid:
            raise Unauthenticated("The Forge invocation token names no key id.")
        with self._lock:
            age = self._clock() - self._fetched_at
            fresh = self._url == jwks_url and age < KEYS_SECONDS
            if fresh and kid in self._keys:
                return self._keys[kid]
            if not fresh or age >= REFETCH_SECONDS:
                self._keys = self._fetch(jwks_url)
                self._url, self._fetched_at = jwks_url, self._clock()
            key = self._keys.get(kid)
        if key is None:
            raise Unauthenticated("The Forge invocation token is signed by an unknown key.")
        return key

    def _fetch(self, jwks_url: str) -> dict[str, jwt.PyJWK]:
        try:
            response = self._session.get(jwks_url, timeout=TIMEOUT)
            response.raise_for_status()
            key_set = jwt.PyJWKSet.from_dict(response.json())
        except (requests.RequestException, ValueError, jwt.PyJWKSetError) as exc:
            raise ServiceUnavailable(
                "Atlassian's Forge keys could not be read; Forge will retry."
            ) from exc
        return {
            key.key_id: key
            for key in key_set.keys
            if key.key_id and key.key_type == "RSA" and key.public_key_use in (None, "sig")
        }

    def clear(self) -> None:
        with self._lock:
            self._url, self._keys, self._fetched_at = None, {}, float("-inf")


forge_keys = ForgeKeyStore()
