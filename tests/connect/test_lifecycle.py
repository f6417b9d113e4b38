"""Signed install and the lifecycle callbacks: every refusal leaves nothing stored."""

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric import rsa

from fmejira.extensions import db
from fmejira.models import Tenant, TenantState
from tests.conftest import BASE_URL
from tests.fakes.connect_keys import install_token
from tests.support import auth_header, jira_jwt

CLIENT_KEY = "jira:1234-abcd"


def body(**overrides) -> dict:
    data = {
        "key": "fme-jira-test",
        "clientKey": CLIENT_KEY,
        "sharedSecret": "a-shared-secret-that-is-long-enough-123456",
        "baseUrl": "https://acme.atlassian.net",
        "displayUrl": "https://jira.acme.com",
        "productType": "jira",
        "description": "Atlassian JIRA at https://acme.atlassian.net",
        "eventType": "installed",
    }
    data.update(overrides)
    return data


def post_install(client, key_server, payload=None, path="/lifecycle/installed", **token_kwargs):
    payload = payload or body()
    kwargs = {"client_key": payload["clientKey"], "aud": [BASE_URL], "path": path, **token_kwargs}
    signing_key = kwargs.pop("signing_key", key_server.private_key)
    kid = kwargs.pop("kid", key_server.kid)
    token = install_token(signing_key, kid, **kwargs)
    return client.post(path, json=payload, headers=auth_header(token))


def tenants():
    return db.session.scalars(sa.select(Tenant)).all()


def test_signed_install_creates_the_tenant(connect_app, client, key_server):
    response = post_install(client, key_server)
    assert response.status_code == 204
    (tenant,) = tenants()
    assert tenant.client_key == CLIENT_KEY
    assert tenant.base_url == "https://acme.atlassian.net"
    assert tenant.link_base_url == "https://jira.acme.com"
    assert tenant.shared_secret == body()["sharedSecret"]
    assert tenant.state is TenantState.INSTALLED and tenant.enabled


def test_the_key_is_fetched_once_per_kid(connect_app, client, key_server):
    post_install(client, key_server)
    post_install(client, key_server)
    assert key_server.requests == [f"/{key_server.kid}"]


def test_reinstall_is_an_upsert_with_the_new_secret(connect_app, client, key_server):
    post_install(client, key_server)
    new_secret = "another-shared-secret-that-is-long-enough-9876"
    assert post_install(client, key_server, body(sharedSecret=new_secret)).status_code == 204
    (tenant,) = tenants()
    assert tenant.shared_secret == new_secret


def test_uninstall_marks_the_tenant_and_its_tokens_stop_working(connect_app, client, key_server):
    post_install(client, key_server)
    response = post_install(
        client, key_server, body(eventType="uninstalled"), path="/lifecycle/uninstalled"
    )
    assert response.status_code == 204
    (tenant,) = tenants()
    assert tenant.state is TenantState.UNINSTALLED and tenant.uninstalled_at is not None
    token = jira_jwt(tenant, "/jira/api/_test/whoami", qsh="context-qsh")
    assert client.get("/jira/api/_test/whoami", headers=auth_header(token)).status_code == 401


def test_reinstall_after_uninstall_restores_the_tenant(connect_app, client, key_server):
    post_install(client, key_server)
    post_install(client, key_server, body(eventType="uninstalled"), path="/lifecycle/uninstalled")
    post_install(client, key_server)
    (tenant,) = tenants()
    assert tenant.state is TenantState.INSTALLED and tenant.uninstalled_at is None


def _hs256_with_public_key(key_server, **_):
    public_pem = key_server.public_pem(key_server.private_key).decode()
    now = int(time.time())
    claims = {"iss": CLIENT_KEY, "aud": [BASE_URL], "iat": now, "exp": now + 60, "qsh": "x"}

    # PyJWT refuses to HMAC-sign with a PEM, as it should; forge the token by hand like an attacker.
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": key_server.kid}).encode())
    payload = b64(json.dumps(claims).encode())
    signature = hmac.new(public_pem.encode(), f"{head}.{payload}".encode(), hashlib.sha256).digest()
    return f"{head}.{payload}.{b64(signature)}"


def _alg_none(key_server, **_):
    now = int(time.time())
    claims = {"iss": CLIENT_KEY, "aud": [BASE_URL], "iat": now, "exp": now + 60, "qsh": "x"}
    return jwt.encode(claims, None, algorithm="none", headers={"kid": key_server.kid})


@pytest.mark.parametrize(
    ("case", "token_kwargs"),
    [
        ("expired", {"lifetime": -60, "iat_offset": -120}),
        ("iat in the future", {"iat_offset": 600}),
        ("wrong aud", {"aud": ["https://evil.example.com"]}),
        ("iss is not the body's clientKey", {"client_key": "jira:someone-else"}),
        ("wrong qsh", {"path": "/lifecycle/uninstalled"}),
        ("unknown kid", {"kid": "not-a-published-kid"}),
        ("kid with path characters", {"kid": "../../etc/passwd"}),
        (
            "signed by another key",
            {"signing_key": rsa.generate_private_key(public_exponent=65537, key_size=2048)},
        ),
    ],
)
def test_install_attacks_are_refused(connect_app, client, key_server, case, token_kwargs):
    payload = body()
    kwargs = {"client_key": CLIENT_KEY, "aud": [BASE_URL], "path": "/lifecycle/installed"}
    kwargs.update(token_kwargs)
    signing_key = kwargs.pop("signing_key", key_server.private_key)
    kid = kwargs.pop("kid", key_server.kid)
    token = install_token(signing_key, kid, **kwargs)
    response = client.post("/lifecycle/installed", json=payload, headers=auth_header(token))
    assert response.status_code == 401, case
    assert response.json["error"]["code"] == "unauthenticated"
    assert tenants() == []


@pytest.mark.parametrize(
    ("token_kwargs", "message"),
    [
        ({"lifetime": -60, "iat_offset": -120}, "The JWT has expired."),
        ({"iat_offset": 600}, "The JWT is not valid yet."),
    ],
)
def test_an_install_refusal_says_why(connect_app, client, key_server, token_kwargs, message):
    kwargs = {"client_key": CLIENT_KEY, "aud": [BASE_URL], "path": "/lifecycle/installed"}
    token = install_token(key_server.private_key, key_server.kid, **kwargs, **token_kwargs)
    response = client.post("/lifecycle/installed", json=body(), headers=auth_header(token))
    assert response.status_code == 401
    assert response.json["error"]["message"] == message


@pytest.mark.parametrize("forge", [_alg_none, _hs256_with_public_key])
def test_algorithm_confusion_is_refused(connect_app, client, key_server, forge):
    token = forge(key_server)
    response = client.post("/lifecycle/installed", json=body(), headers=auth_header(token))
    assert response.status_code == 401
    assert tenants() == []


def test_missing_token_is_refused(connect_app, client):
    response = client.post("/lifecycle/installed", json=body())
    assert response.status_code == 401
    assert tenants() == []


def test_token_in_query_and_header_is_refused(connect_app, client, key_server):
    token = install_token(
        key_server.private_key, key_server.kid, client_key=CLIENT_KEY, aud=[BASE_URL]
    )
    response = client.post(
        f"/lifecycle/installed?jwt={token}", json=body(), headers=auth_header(token)
    )
    assert response.status_code == 401
    assert tenants() == []


def test_aud_as_plain_string_with_trailing_slash_is_accepted(connect_app, client, key_server):
    assert post_install(client, key_server, aud=BASE_URL + "/").status_code == 204


def test_key_server_down_is_a_clear_503(connect_app, client, key_server):
    key_server.status_override = 500
    response = post_install(client, key_server)
    assert response.status_code == 503
    assert response.json["error"]["code"] == "unavailable"
    assert tenants() == []


def test_key_server_unreachable_is_a_clear_503(connect_app, client, key_server):
    connect_app.config["CONNECT_KEYS_URL"] = "http://127.0.0.1:9"
    assert post_install(client, key_server).status_code == 503
    assert tenants() == []


@pytest.mark.slow
def test_slow_key_server_does_not_hang(connect_app, client, key_server):
    key_server.delay = 5
    started = time.monotonic()
    response = post_install(client, key_server)
    assert response.status_code == 503
    assert time.monotonic() - started < 4.5
    assert tenants() == []


def test_staging_sites_use_the_staging_key_server(connect_app, client, key_server):
    connect_app.config["CONNECT_STAGING_KEYS_URL"] = key_server.url
    connect_app.config["CONNECT_KEYS_URL"] = "http://127.0.0.1:9"
    payload = body(baseUrl="https://acme.jira-dev.com")
    assert post_install(client, key_server, payload).status_code == 204


@pytest.mark.parametrize(
    "payload",
    [
        body(sharedSecret=None),
        {k: v for k, v in body().items() if k != "sharedSecret"},
        body(baseUrl="not a url"),
        body(clientKey=""),
    ],
)
def test_bad_install_bodies_are_400(connect_app, client, key_server, payload):
    payload = {k: v for k, v in payload.items() if v is not None}
    token = install_token(
        key_server.private_key,
        key_server.kid,
        client_key=payload.get("clientKey") or "x",
        aud=[BASE_URL],
    )
    response = client.post("/lifecycle/installed", json=payload, headers=auth_header(token))
    assert response.status_code == 400
    assert tenants() == []


def test_non_json_body_is_400(connect_app, client):
    response = client.post("/lifecycle/installed", data="x", content_type="text/plain")
    assert response.status_code == 400


def test_disabled_and_enabled_with_the_shared_secret(connect_app, client, key_server):
    post_install(client, key_server)
    (tenant,) = tenants()
    token = jira_jwt(tenant, "/lifecycle/disabled", "POST", sub=None)
    payload = body(eventType="disabled")
    assert (
        client.post("/lifecycle/disabled", json=payload, headers=auth_header(token)).status_code
        == 204
    )
    db.session.refresh(tenant)
    assert tenant.enabled is False
    token = jira_jwt(tenant, "/lifecycle/enabled", "POST", sub=None)
    payload = body(eventType="enabled")
    assert (
        client.post("/lifecycle/enabled", json=payload, headers=auth_header(token)).status_code
        == 204
    )
    db.session.refresh(tenant)
    assert tenant.enabled is True


def test_unsigned_disable_changes_nothing(connect_app, client, key_server):
    post_install(client, key_server)
    assert client.post("/lifecycle/disabled", json=body(eventType="disabled")).status_code == 204
    (tenant,) = tenants()
    assert tenant.enabled is True


def test_disable_with_a_forged_token_is_refused(connect_app, client, key_server):
    post_install(client, key_server)
    (tenant,) = tenants()
    token = jira_jwt(tenant, "/lifecycle/disabled", "POST", secret="not-the-secret" * 3)
    response = client.post(
        "/lifecycle/disabled", json=body(eventType="disabled"), headers=auth_header(token)
    )
    assert response.status_code == 401
    db.session.refresh(tenant)
    assert tenant.enabled is True
