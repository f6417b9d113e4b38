"""Verifying the JWTs Jira sends, and the short-lived tokens the app gives its own pages.

Every rule of PROTOCOLS.md §1 "Incoming JWT" and "Signed install" is enforced here: the
algorithm is pinned before any key is chosen, ``exp``/``iat`` are checked with a few seconds of
leeway, ``iss`` selects the tenant, and ``qsh`` binds the token to this exact request.
"""

from __future__ import annotations

import contextlib
import functools
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from urllib.parse import urlsplit

import jwt
import sqlalchemy as sa
from flask import current_app, g, request

from fmejira import crypto
from fmejira.connect import jws
from fmejira.connect.install_keys import install_keys
from fmejira.connect.qsh import CONTEXT_QSH, query_string_hashes
from fmejira.context import JiraContext
from fmejira.errors import Unauthenticated
from fmejira.extensions import db
from fmejira.forge.auth import forge_context, is_forge_call
from fmejira.hot_cache import HotCache, Snapshot
from fmejira.models import Tenant

REQUIRED_CLAIMS = ["iss", "iat", "exp", "qsh"]
STAGING_SITE_SUFFIX = ".jira-dev.com"


@dataclass(frozen=True)
class Site:
    """What the hot read paths need of a tenant, as the hot cache keeps it (the shared secret
    encrypted like in the database)."""

    id: int
    client_key: str
    shared_secret: str = field(repr=False)
    is_active: bool
    link_base_url: str

    @classmethod
    def of(cls, tenant: Tenant) -> Site:
        return cls(
            tenant.id,
            tenant.client_key,
            tenant.shared_secret,
            tenant.is_active,
            tenant.link_base_url,
        )

    def to_bytes(self) -> bytes:
        fields_ = asdict(self)
        fields_["shared_secret"] = crypto.box().encrypt(self.shared_secret)
        return json.dumps(fields_).encode()

    @staticmethod
    def from_bytes(raw: bytes | None) -> Site | None:
        """None when absent, or encrypted under a key this process does not hold."""
        return None if raw is None else _site_from_bytes(raw)


@functools.lru_cache(maxsize=10_000)  # an entry's bytes change only when it is rewritten
def _site_from_bytes(raw: bytes) -> Site | None:
    try:
        fields_ = json.loads(raw)
        fields_["shared_secret"] = crypto.box().decrypt(fields_["shared_secret"])
        return Site(**fields_)
    except (ValueError, TypeError, KeyError, crypto.SecretKeyError):
        return None


# -- reading the token ---------------------------------------------------------------------------


def token_from_request() -> str:
    """The token from the ``jwt`` query parameter or ``Authorization: JWT``, never both."""
    header = request.headers.get("Authorization", "")
    from_header = header[4:].strip() if header[:4].upper() == "JWT " else None
    from_query = request.args.get("jwt") if request.query_string else None
    if from_header and from_query:
        raise Unauthenticated("Send the token in the query or the Authorization header, not both.")
    token = from_header or from_query
    if not token:
        raise Unauthenticated("This request needs a JWT from Jira.")
    return token


def _parse(token: str) -> jws.CompactToken:
    """The token's parts *before* verification: only the header and the issuer are read, to
    choose the key that then verifies everything."""
    try:
        return jws.parse(token)
    except jws.MalformedToken as exc:
        raise Unauthenticated("The JWT is malformed.") from exc


def _request_hashes() -> set[str]:
    """The qsh of this request, for the decoded and for the raw path (Jira's spelling varies)."""
    base_path = urlsplit(current_app.config["APP_BASE_URL"]).path
    params = list(request.args.items(multi=True))
    paths = {request.script_root + request.path}
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        paths.add(raw.split("?", 1)[0])
    return query_string_hashes(request.method, paths, params, base_path)


def _check_qsh(claims: dict, allow_context_qsh: bool) -> None:
    qsh = claims.get("qsh")
    if not isinstance(qsh, str):
        raise Unauthenticated("The JWT has no query string hash.")
    if qsh == CONTEXT_QSH:
        if allow_context_qsh:
            return
        raise Unauthenticated("A context token cannot be used for this request.")
    if not any(hmac.compare_digest(qsh, expected) for expected in _request_hashes()):
        raise Unauthenticated("The JWT was issued for another request (qsh mismatch).")


@contextlib.contextmanager
def _refused_as_unauthenticated():
    """Why a token was refused, told the same way whichever library refused it."""
    try:
        yield
    except (jws.Expired, jwt.ExpiredSignatureError) as exc:
        raise Unauthenticated("The JWT has expired.") from exc
    except (jws.NotYetValid, jwt.ImmatureSignatureError) as exc:
        raise Unauthenticated("The JWT is not valid yet.") from exc
    except (jws.InvalidToken, jwt.PyJWTError) as exc:
        raise Unauthenticated("The JWT signature or claims are invalid.") from exc


def _decode_rs256(token: str, key) -> dict:
    with _refused_as_unauthenticated():
        return jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            leeway=current_app.config["JWT_LEEWAY_SECONDS"],
            options={"require": REQUIRED_CLAIMS, "verify_aud": False},
        )


def _verify_signature(token: jws.CompactToken, shared_secret: str) -> dict:
    with _refused_as_unauthenticated():
        return jws.verify_hs256(
            token,
            shared_secret,
            required=REQUIRED_CLAIMS,
            leeway=current_app.config["JWT_LEEWAY_SECONDS"],
        )


# -- HS256: every request from Jira, and the app's page tokens -------------------------------------


# Built once: composing the expression anew costs more than running it (every Jira request).
_TENANT_BY_CLIENT_KEY = sa.select(Tenant).where(Tenant.client_key == sa.bindparam("client_key"))


def load_tenant(client_key: str) -> Tenant | None:
    return db.session.scalar(_TENANT_BY_CLIENT_KEY, {"client_key": client_key})


def verify_tenant_jwt(
    token: str, *, allow_context_qsh: bool, require_active: bool = True
) -> JiraContext:
    """Verify an HS256 token signed with a tenant's shared secret; return its context."""
    return _verify_hs256(_parse(token), load_tenant, allow_context_qsh, require_active)


def _verify_hs256(
    token: jws.CompactToken,
    find_tenant: Callable[[str], Tenant | Site | None],
    allow_context_qsh: bool,
    require_active: bool = True,
) -> JiraContext:
    """``find_tenant`` maps the client key to the tenant: the database, or on the hot read
    paths the hot cache's :class:`Site`."""
    if token.header.get("alg") != "HS256":
        raise Unauthenticated("Only HS256 JWTs are accepted here.")
    client_key = token.claims.get("iss")
    tenant = find_tenant(client_key) if isinstance(client_key, str) else None
    if tenant is None:
        raise Unauthenticated("The JWT names an unknown Jira site.")
    if require_active and not tenant.is_active:
        raise Unauthenticated("The app is not installed on this Jira site.")
    claims = _verify_signature(token, tenant.shared_secret)
    _check_qsh(claims, allow_context_qsh)
    sub = claims.get("sub")
    return JiraContext(
        tenant=tenant, account_id=sub if isinstance(sub, str) else None, claims=claims
    )


def jira_request(*, context_qsh: bool = False):
    """Require a valid Jira JWT; the handler reads the result with :func:`current_context`.

    ``context_qsh=True`` additionally accepts context tokens (``AP.context.getToken()`` and the
    app's page tokens), which are not bound to one request: only for in-page API routes, which
    also serve the app's Forge UI (a Forge invocation token, :mod:`fmejira.forge.auth`).
    """

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            if context_qsh and is_forge_call():
                g.jira_context = forge_context()
            else:
                token = token_from_request()
                g.jira_context = verify_tenant_jwt(token, allow_context_qsh=context_qsh)
            return view(*args, **kwargs)

        return wrapper

    return decorator


def issue_page_token(context: JiraContext, issue_key: str | None = None) -> str:
    """A short-lived context token for a page the app rendered, so its XHR calls authenticate.

    It has the shape of Jira's own context tokens (HS256 with the tenant's secret,
    ``qsh=context-qsh``), so one verifier serves both and it is accepted on API routes only.
    """
    now = int(time.time())
    claims = {
        "iss": context.tenant.client_key,
        "iat": now,
        "exp": now + current_app.config["PAGE_TOKEN_TTL_SECONDS"],
        "qsh": CONTEXT_QSH,
    }
    if context.account_id:
        claims["sub"] = context.account_id
    if issue_key:
        claims["fmejira"] = {"issueKey": issue_key}
    return jws.sign_hs256(claims, context.tenant.shared_secret)


# -- RS256: signed install and uninstall ----------------------------------------------------------


def keys_url_for(site_base_url: str) -> str:
    host = (urlsplit(site_base_url or "").hostname or "").lower()
    if host.endswith(STAGING_SITE_SUFFIX):
        return current_app.config["CONNECT_STAGING_KEYS_URL"]
    return current_app.config["CONNECT_KEYS_URL"]


def _audience_matches(aud) -> bool:
    first = aud[0] if isinstance(aud, list) and aud else aud
    if not isinstance(first, str):
        return False
    return first.rstrip("/") == current_app.config["APP_BASE_URL"].rstrip("/")


def verify_signed_install(token: str, body: dict) -> dict:
    """Verify an RS256 lifecycle token from Atlassian against the request ``body``.

    The body is not covered by the signature: ``iss == body.clientKey`` is what binds it.
    """
    header = _parse(token).header
    if header.get("alg") != "RS256":
        raise Unauthenticated("Lifecycle callbacks must be signed with RS256.")
    public_key = install_keys.public_key(keys_url_for(body.get("baseUrl")), header.get("kid"))
    claims = _decode_rs256(token, public_key)
    if not _audience_matches(claims.get("aud")):
        raise Unauthenticated("The install token is for another app (aud mismatch).")
    if claims.get("iss") != body.get("clientKey"):
        raise Unauthenticated("The install token was issued for another Jira site.")
    _check_qsh(claims, allow_context_qsh=False)
    return claims


# -- the hot read paths: the tenant from the hot cache ---------------------------------------------

SITE_ENTRY = "site"


def verify_from_cache(
    token: str, cache: HotCache, *names: str, allow_context_qsh: bool
) -> tuple[JiraContext | None, Snapshot]:
    """Verify ``token`` against the site in the hot cache, reading the site's entries ``names``
    in the same round trip (a None name: nothing to read). The context is None when the site
    is not cached (or not active):
    the caller then verifies against the database, and writes :func:`site_entry`.

    A current site entry holds the secret of the site's latest commit, so a token it refuses
    is refused, as the database would."""
    if not cache.enabled or None in names:
        return None, Snapshot(None, [None] * len(names))
    parsed = _parse(token)
    client_key = parsed.claims.get("iss")
    if not isinstance(client_key, str):
        return None, Snapshot(None, [None] * len(names))
    generation, (raw_site, *values) = cache.read(client_key, SITE_ENTRY, *names)
    snapshot = Snapshot(generation, values)
    site = Site.from_bytes(raw_site)
    if site is None or not site.is_active:
        return None, snapshot
    context = _verify_hs256(parsed, lambda _client_key: site, allow_context_qsh)
    return context, snapshot


def site_entry(cache: HotCache, tenant: Tenant) -> dict:
    """The site's entry, for :meth:`HotCache.write` (kept as long as the cache allows)."""
    return {SITE_ENTRY: (Site.of(tenant).to_bytes(), cache.max_seconds)}
