"""Atlassian's query string hash (qsh): the request a Connect JWT is bound to.

``sha256_hex(METHOD & canonical_uri & canonical_query)``, see PROTOCOLS.md "Query string hash".
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from urllib.parse import quote

CONTEXT_QSH = "context-qsh"
# RFC 3986's unreserved characters, the only ones left unescaped (space -> %20, * -> %2A)
_UNRESERVED = re.compile(r"[A-Za-z0-9._~-]*").fullmatch


def _enc(value: str) -> str:
    # most keys and values need no escaping: a match costs a quarter of quote()
    return value if _UNRESERVED(value) else quote(value, safe="~")


def canonical_uri(path: str, base_path: str = "") -> str:
    base_path = base_path.rstrip("/")
    if base_path and (path == base_path or path.startswith(base_path + "/")):
        path = path[len(base_path) :]
    path = path or "/"
    path = path.replace("&", "%26")
    if not path.startswith("/"):
        path = "/" + path
    if len(path) > 1 and path.endswith("/"):
        path = path.rstrip("/") or "/"
    return path


def canonical_query(params: Iterable[tuple[str, str]]) -> str:
    grouped: dict[str, list[str]] = {}
    for key, value in params:
        if key == "jwt":
            continue
        grouped.setdefault(key, []).append(value or "")
    return "&".join(f"{_enc(key)}={_enc_values(grouped[key])}" for key in sorted(grouped))


def _enc_values(values: list[str]) -> str:
    # a key mostly comes once: no sorting then
    return _enc(values[0]) if len(values) == 1 else ",".join(sorted(map(_enc, values)))


def canonical_request(
    method: str, path: str, params: Iterable[tuple[str, str]] = (), base_path: str = ""
) -> str:
    return f"{method.upper()}&{canonical_uri(path, base_path)}&{canonical_query(params)}"


def query_string_hash(
    method: str, path: str, params: Iterable[tuple[str, str]] = (), base_path: str = ""
) -> str:
    return _sha256_hex(canonical_request(method, path, params, base_path))


def query_string_hashes(
    method: str, paths: Iterable[str], params: Iterable[tuple[str, str]], base_path: str = ""
) -> set[str]:
    """The qsh of one request under each spelling of its path (the query canonicalised once)."""
    query = canonical_query(params)
    return {
        _sha256_hex(f"{method.upper()}&{canonical_uri(path, base_path)}&{query}") for path in paths
    }


def _sha256_hex(canonical: str) -> str:
    return hashlib.sha256(canonical.encode()).hexdigest()
