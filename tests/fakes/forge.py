"""A local stand-in for Atlassian's Forge JWKS, and invocation tokens signed with its key."""

from __future__ import annotations

import json
import time
import uuid

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.wrappers import Request, Response

from tests.fakes import LocalServer

APP_ID = "ari:cloud:ecosystem::app/6f1f6d2e-0000-4000-8000-000000000001"
INSTALLATION_ID = "ari:cloud:ecosystem::installation/0a3a7799-0000-4000-8000-00000000000a"
CLOUD_ID = "d0d52620-0000-4000-8000-0000000000c1"
SITE_URL = "https://acme.atlassian.net"


class FakeForgeKeys:
    """Serves a JWKS at ``/.well-known/jwks.json``; can be told to fail or to hang."""

    def __init__(self):
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = _kid()
        self.keys = {self.kid: self.private_key}
        self.fetches = 0
        self.status_override: int | None = None
        self.delay = 0.0
        self._http = LocalServer(self._wsgi, "fake-forge-keys")
        self.url = self._http.origin + "/.well-known/jwks.json"

    def add_key(self) -> tuple[str, rsa.RSAPrivateKey]:
        kid, key = _kid(), rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.keys[kid] = key
        return kid, key

    def rotate(self) -> str:
        """Sign with a new key from now on and stop publishing the old one. Atlassian's docs do
        not say how Forge rotates its keys; this is the harshest reading (the old key is gone
        at once), so an app that caches a key set must fetch it again for the new ``kid``."""
        old = self.kid
        self.kid, self.private_key = self.add_key()
        del self.keys[old]
        return self.kid

    def _jwks(self) -> dict:
        keys = []
        for kid, private_key in self.keys.items():
            jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
            keys.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})
        return {"keys": keys}

    def _wsgi(self, environ, start_response):
        Request(environ)
        self.fetches += 1
        if self.delay:
            time.sleep(self.delay)
        if self.status_override:
            response = Response("failure", status=self.status_override)
        else:
            response = Response(json.dumps(self._jwks()), mimetype="application/json")
        return response(environ, start_response)

    def stop(self):
        self._http.stop()


def invocation_claims(
    api_base_url: str,
    *,
    installation_id: str = INSTALLATION_ID,
    module_type: str = "core:endpoint",
    module_key: str = "m",
    principal: str | None = None,
    site_url: str | None = SITE_URL,
    issue: dict | None = None,
    lifetime: int = 25,
    **overrides,
) -> dict:
    """A FIT's claims as Forge sends them (``remote/essentials``), for a Jira site."""
    now = int(time.time())
    context = {"cloudId": api_base_url.rstrip("/").rsplit("/", 1)[-1], "moduleKey": module_key}
    if site_url:
        context["siteUrl"] = site_url
    if issue:
        context["extension"] = {"type": "jira:issueContext", "issue": issue}
    claims = {
        "app": {
            "id": APP_ID,
            "appVersion": "1.0.0",
            "installationId": installation_id,
            "apiBaseUrl": api_base_url,
            "environment": {"type": "PRODUCTION", "id": "ari:cloud:ecosystem::environment/e"},
            "module": {"type": module_type, "key": module_key},
        },
        "context": context,
        "aud": APP_ID,
        "iss": "forge/invocation-token",
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": str(uuid.uuid4()),
    }
    if principal:
        claims["principal"] = principal
    claims.update(overrides)
    return claims


def invocation_token(keys: FakeForgeKeys, claims: dict, *, kid=None, key=None, alg="RS256"):
    return jwt.encode(
        claims, key or keys.private_key, algorithm=alg, headers={"kid": kid or keys.kid}
    )


def system_token(lifetime: int = 3 * 3600) -> str:
    """A system token shaped like Forge's (a JWT the app treats as opaque but for its exp)."""
    now = int(time.time())
    return jwt.encode(
        {"sub": "app", "exp": now + lifetime, "jti": str(uuid.uuid4())},
        "a key of Forge's, unknown to the app: " + "k" * 32,
    )


def _kid() -> str:
    """A key id shaped like the ones Forge's JWKS publishes (PROTOCOLS.md 1b)."""
    return f"forge/invocation-token/wf-{uuid.uuid4()}"
