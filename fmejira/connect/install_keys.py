"""Atlassian's public keys for signed install callbacks, fetched by ``kid`` and cached.

A key never changes under a ``kid``, so a fetched key is kept for the life of the process; the
cache is bounded so a stream of made-up ``kid`` values cannot grow memory (failures are never
cached).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

import requests
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from fmejira.errors import ServiceUnavailable, Unauthenticated

KID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
TIMEOUT = (2.0, 3.0)
CACHE_SIZE = 64


class InstallKeyStore:
    def __init__(self, session: requests.Session | None = None):
        self._session = session or requests.Session()
        self._cache: OrderedDict[tuple[str, str], object] = OrderedDict()
        self._lock = threading.Lock()

    def public_key(self, keys_url: str, kid: str):
        """The RSA public key for ``kid`` from ``keys_url``; 401 when unknown, 503 when down."""
        if not KID_PATTERN.match(kid or ""):
            raise Unauthenticated("The install token names no valid key id.")
        cache_key = (keys_url, kid)
        with self._lock:
            if cache_key in self._cache:
                self._cache.move_to_end(cache_key)
                return self._cache[cache_key]
        key = self._fetch(keys_url, kid)
        with self._lock:
            self._cache[cache_key] = key
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return key

    def _fetch(self, keys_url: str, kid: str):
        try:
            response = self._session.get(f"{keys_url}/{kid}", timeout=TIMEOUT)
        except requests.RequestException as exc:
            raise ServiceUnavailable(
                "Atlassian's install key server could not be reached; Jira will retry."
            ) from exc
        if response.status_code in (403, 404):
            raise Unauthenticated("The install token is signed by an unknown key.")
        if response.status_code != 200:
            raise ServiceUnavailable(
                f"Atlassian's install key server answered {response.status_code}; Jira will retry."
            )
        try:
            return load_pem_public_key(response.content)
        except ValueError as exc:
            raise Unauthenticated("The install key server returned no valid public key.") from exc

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()


install_keys = InstallKeyStore()
