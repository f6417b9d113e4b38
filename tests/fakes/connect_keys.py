"""A local stand-in for Atlassian's Connect install-key server, and a signer for installs."""

from __future__ import annotations

import time
import uuid

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.wrappers import Request, Response

from fmejira.connect.qsh import query_string_hash
from tests.fakes import LocalServer


class FakeKeyServer:
    """Serves PEM public keys at ``/{kid}``; can be told to fail or to hang."""

    def __init__(self):
        self.private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = str(uuid.uuid4())
        self.keys = {self.kid: self.public_pem(self.private_key)}
        self.requests: list[str] = []
        self.status_override: int | None = None
        self.delay = 0.0
        self._http = LocalServer(self._wsgi, "fake-connect-keys")
        self.url = self._http.origin

    @staticmethod
    def public_pem(private_key) -> bytes:
        return private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        self.requests.append(request.path)
        if self.delay:
            time.sleep(self.delay)
        if self.status_override:
            response = Response("failure", status=self.status_override)
        else:
            pem = self.keys.get(request.path.lstrip("/"))
            response = Response(pem, mimetype="text/plain") if pem else Response("", status=404)
        return response(environ, start_response)

    def stop(self):
        self._http.stop()


def install_token(
    private_key,
    kid: str,
    *,
    client_key: str,
    aud: str | list,
    path: str = "/lifecycle/installed",
    method: str = "POST",
    lifetime: int = 180,
    iat_offset: int = 0,
    algorithm: str = "RS256",
    **extra,
) -> str:
    now = int(time.time()) + iat_offset
    claims = {
        "iss": client_key,
        "aud": aud,
        "iat": now,
        "exp": now + lifetime,
        "qsh": query_string_hash(method, path),
        **extra,
    }
    return jwt.encode(claims, private_key, algorithm=algorithm, headers={"kid": kid})
