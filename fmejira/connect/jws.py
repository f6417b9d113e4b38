"""Compact JWS tokens read strictly, and HS256 verified in the same pass.

Every request Jira sends carries an HS256 token, and the glance data call is nothing but that
check and a cache read; so its verification is here rather than in PyJWT, whose verified
decode checks the base64url alphabet one character at a time in Python: 67 µs a token against
13 µs here (``bench/README.md``). The rules are PyJWT's, a little stricter where they differ
(numeric dates must be numbers, not numeric strings; no JWS extensions at all), and
``tests/connect/test_jws.py`` holds the two to that: valid tokens and thousands of mutated ones,
anything this accepts PyJWT accepts with the same claims. PyJWT still verifies the RS256
install tokens. :func:`sign_hs256` signs the app's HS256 tokens (its page tokens, one per glance,
and its calls to Jira) byte for byte as PyJWT would, at a quarter of its cost (PyJWT first
checks that an HMAC key is no PEM or SSH key, with regular expressions).
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import json
import math
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

_SEGMENT = re.compile(r"[A-Za-z0-9_-]*={0,2}")
_HS256_HEADER = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")


class InvalidToken(ValueError):
    """The token is refused; the subclasses say why when the caller should tell."""


class MalformedToken(InvalidToken):
    pass


class Expired(InvalidToken):
    pass


class NotYetValid(InvalidToken):
    pass


@dataclass(frozen=True, slots=True)
class CompactToken:
    """A token's parts, decoded but not yet verified: only ``header`` and the issuer in
    ``claims`` may be read before :func:`verify_hs256` (to choose the key)."""

    header: Mapping
    claims: dict
    signing_input: bytes
    signature: bytes


def parse(token: str) -> CompactToken:
    """Split and decode ``header.claims.signature``: canonical base64url (no stray characters,
    no non-zero spare bits), header and claims JSON objects."""
    if not isinstance(token, str) or not token.isascii():
        raise MalformedToken("a JWT is an ASCII string")
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedToken("a JWT has three segments")
    header, claims, signature = parts
    return CompactToken(
        header=_header(header),
        claims=_json_object(_base64url(claims)),
        signing_input=token[: len(header) + 1 + len(claims)].encode("ascii"),
        signature=_base64url(signature),
    )


@functools.lru_cache(maxsize=64)
def _header(segment: str) -> Mapping:
    """A header segment decoded, read-only: tokens carry one of a few, so they are remembered."""
    return MappingProxyType(_json_object(_base64url(segment)))


# The last character of a canonical segment whose length leaves 2 or 3 characters over: only
# these leave the spare bits zero (2 over: 4 spare bits; 3 over: 2).
_LAST_OF_2 = frozenset("AQgw")
_LAST_OF_3 = frozenset("AEIMQUYcgkosw048")
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def _base64url(segment: str) -> bytes:
    if not _SEGMENT.fullmatch(segment):
        raise MalformedToken("a JWT segment is base64url")
    stripped = segment.rstrip("=")
    over = len(stripped) % 4
    if (stripped != segment and len(segment) % 4) or over == 1:
        raise MalformedToken("a JWT segment has a wrong length or padding")
    if (over == 2 and stripped[-1] not in _LAST_OF_2) or (
        over == 3 and stripped[-1] not in _LAST_OF_3
    ):
        raise MalformedToken("a JWT segment is not canonical base64url")
    standard = stripped.encode("ascii").translate(_TO_STANDARD) + b"=="[: -over % 4]
    return binascii.a2b_base64(standard)  # the alphabet was checked: nothing is skipped


def _json_object(raw: bytes) -> dict:
    try:
        value = json.loads(raw.decode("utf-8"))  # RFC 7519: UTF-8 (PyJWT also guesses UTF-16)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise MalformedToken("a JWT segment is JSON") from exc
    if not isinstance(value, dict):
        raise MalformedToken("a JWT header and claims are JSON objects")
    return value


def verify_hs256(
    token: CompactToken,
    secret: str | bytes,
    *,
    required: Iterable[str],
    leeway: float,
) -> dict:
    """The claims, once the signature (HMAC-SHA256 with ``secret``, compared in constant time)
    and the registered claims hold; :class:`InvalidToken` otherwise."""
    header = token.header
    if header.get("alg") != "HS256":
        raise InvalidToken("only HS256 is accepted")
    if "crit" in header or "b64" in header:
        raise InvalidToken("no JWS extension is supported")
    if "kid" in header and not isinstance(header["kid"], str):
        raise InvalidToken("kid is a string")
    key = secret.encode() if isinstance(secret, str) else secret
    if not hmac.compare_digest(hmac.digest(key, token.signing_input, "sha256"), token.signature):
        raise InvalidToken("the signature does not match")
    check_claims(token.claims, required=required, leeway=leeway)
    return token.claims


def check_claims(claims: dict, *, required: Iterable[str], leeway: float) -> None:
    """Required claims present; ``exp``, ``iat`` and ``nbf`` numbers that admit the current
    time (with ``leeway`` seconds either way); ``sub`` and ``jti``, where present, strings."""
    for name in required:
        if claims.get(name) is None:
            raise InvalidToken(f"the {name} claim is required")
    now = time.time()
    exp, iat, nbf = (_date(claims, name) for name in ("exp", "iat", "nbf"))
    if exp is not None and exp <= now - leeway:
        raise Expired("the token has expired")
    if (iat is not None and iat > now + leeway) or (nbf is not None and nbf > now + leeway):
        raise NotYetValid("the token is not valid yet")
    for name in ("sub", "jti"):
        if name in claims and not isinstance(claims[name], str):
            raise InvalidToken(f"the {name} claim is a string")


def _date(claims: dict, name: str) -> int | None:
    """A NumericDate claim in whole seconds (as PyJWT compares it), or None when absent."""
    if name not in claims:
        return None
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise InvalidToken(f"the {name} claim is a number")
    return int(value)


def sign_hs256(claims: dict, secret: str | bytes) -> str:
    """A compact HS256 token of ``claims`` (JSON as PyJWT writes it: no spaces, keys in order)."""
    payload = json.dumps(claims, separators=(",", ":")).encode()
    signing_input = _HS256_HEADER + b"." + base64.urlsafe_b64encode(payload).rstrip(b"=")
    key = secret.encode() if isinstance(secret, str) else secret
    signature = base64.urlsafe_b64encode(hmac.digest(key, signing_input, "sha256")).rstrip(b"=")
    return (signing_input + b"." + signature).decode("ascii")
