"""The Forge invocation token: every refusal is a clear 401 (503 for unreadable keys) and
leaves nothing stored."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import jwt
import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization

from fmejira.extensions import db
from fmejira.forge import keys as forge_key_module
from fmejira.forge.keys import forge_keys
from fmejira.models import Tenant
from tests.fakes.forge import (
    APP_ID,
    CLOUD_ID,
    INSTALLATION_ID,
    SITE_URL,
    invocation_claims,
    invocation_token,
    system_token,
)
from tests.forge.fixtures import forge_headers
from tests.support import auth_header, jira_jwt, make_tenant

API_BASE_URL = f"https://api.atlassian.com/ex/jira/{CLOUD_ID}"


def tenants() -> list[Tenant]:
    db.session.expire_all()
    return db.session.scalars(sa.select(Tenant)).all()


def scheduled(client, keys, claims=None, **kwargs):
    claims = claims or invocation_claims(API_BASE_URL)
    return client.post("/forge/scheduled", headers=forge_headers(keys, claims, **kwargs))


def assert_refused(response, status: int, words: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert words in body["error"]["message"]
    assert tenants() == []


def test_a_valid_call_records_the_installation(forge_app, client, keys):
    token = system_token()
    response = scheduled(client, keys, system=token)
    assert response.status_code == 204
    (tenant,) = tenants()
    assert tenant.forge_installation_id == INSTALLATION_ID
    assert tenant.client_key == INSTALLATION_ID and not tenant.came_through_connect
    assert tenant.cloud_id == CLOUD_ID
    assert tenant.forge_api_base_url == API_BASE_URL
    assert tenant.base_url == SITE_URL
    assert tenant.forge_system_token == token and tenant.is_active
    raw = db.session.execute(sa.text("SELECT forge_system_token FROM tenants")).scalar_one()
    assert token not in raw  # encrypted at rest
    assert abs(tenant.forge_system_token_expires_at.timestamp() - (time.time() + 55 * 60)) < 60


def test_a_second_call_changes_nothing(forge_app, client, keys):
    assert scheduled(client, keys).status_code == 204
    (first,) = tenants()
    updated_at = first.updated_at
    assert scheduled(client, keys).status_code == 204
    (again,) = tenants()
    assert again.id == first.id and again.updated_at == updated_at


def test_without_a_forge_app_id_no_forge_call_is_taken(app, client, keys):
    app.config["FORGE_JWKS_URL"] = keys.url
    assert_refused(scheduled(client, keys), 401, "no Forge app id")


def test_no_token(forge_app, client):
    assert_refused(client.post("/forge/scheduled"), 401, "Forge invocation token")


def test_a_connect_jwt_is_not_a_forge_call(forge_app, client, keys):
    tenant = make_tenant("jira:x")
    response = client.post(
        "/forge/scheduled", headers=auth_header(jira_jwt(tenant, "/forge/scheduled", "POST"))
    )
    assert response.status_code == 401
    assert [t.client_key for t in tenants()] == ["jira:x"]


def test_alg_none(forge_app, client, keys):
    claims = invocation_claims(API_BASE_URL)
    token = jwt.encode(claims, None, algorithm="none", headers={"kid": keys.kid})
    response = client.post("/forge/scheduled", headers={"Authorization": f"Bearer {token}"})
    assert_refused(response, 401, "RS256")


def test_hs256_signed_with_the_public_key(forge_app, client, keys):
    pem = keys.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = invocation_claims(API_BASE_URL)
    header = {"kid": keys.kid, "alg": "HS256", "typ": "JWT"}
    signing_input = (
        jwt.utils.base64url_encode(json.dumps(header).encode())
        + b"."
        + jwt.utils.base64url_encode(json.dumps(claims).encode())
    )
    signature = hmac.new(pem, signing_input, hashlib.sha256).digest()
    token = (signing_input + b"." + jwt.utils.base64url_encode(signature)).decode()
    response = client.post("/forge/scheduled", headers={"Authorization": f"Bearer {token}"})
    assert_refused(response, 401, "RS256")


def test_signed_by_a_key_atlassian_does_not_publish(forge_app, client, keys):
    from cryptography.hazmat.primitives.asymmetric import rsa

    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    response = scheduled(client, keys, key=stranger)  # under the published kid
    assert_refused(response, 401, "signature or claims are invalid")


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"iss": "someone-else"}, "not a Forge invocation token"),
        ({"aud": "ari:cloud:ecosystem::app/another-app"}, "for another app"),
        ({"exp": int(time.time()) - 60}, "expired"),
        ({"nbf": int(time.time()) + 600}, "not valid yet"),
    ],
)
def test_claims_that_do_not_hold(forge_app, client, keys, overrides, words):
    claims = invocation_claims(API_BASE_URL, **overrides)
    assert_refused(scheduled(client, keys, claims), 401, words)


@pytest.mark.parametrize("missing", ["exp", "aud", "iss", "app"])
def test_a_required_claim_missing(forge_app, client, keys, missing):
    claims = invocation_claims(API_BASE_URL)
    del claims[missing]
    assert scheduled(client, keys, claims).status_code == 401
    assert tenants() == []


@pytest.mark.parametrize(
    ("app_claims", "words"),
    [
        ({"installationId": "not-an-installation"}, "names no installation"),
        ({"installationId": None}, "names no installation"),
        ({"apiBaseUrl": "https://api.atlassian.com/ex/confluence/" + CLOUD_ID}, "not for a Jira"),
        ({"apiBaseUrl": "ftp://api.atlassian.com/ex/jira/" + CLOUD_ID}, "not for a Jira"),
        ({"apiBaseUrl": None}, "not for a Jira"),
    ],
)
def test_an_installation_the_app_cannot_serve(forge_app, client, keys, app_claims, words):
    claims = invocation_claims(API_BASE_URL)
    claims["app"].update(app_claims)
    assert_refused(scheduled(client, keys, claims), 401, words)


def test_two_sites_in_one_token(forge_app, client, keys):
    claims = invocation_claims(API_BASE_URL)
    claims["context"]["cloudId"] = "another-cloud"
    assert_refused(scheduled(client, keys, claims), 401, "two sites")


def test_an_unknown_kid(forge_app, client, keys):
    assert_refused(scheduled(client, keys, kid="made-up"), 401, "unknown key")


def test_made_up_kids_cost_atlassian_one_fetch_per_interval(forge_app, client, keys, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(forge_keys, "_clock", lambda: now[0])
    assert scheduled(client, keys).status_code == 204
    assert keys.fetches == 1
    for n in range(20):
        assert scheduled(client, keys, kid=f"made-up-{n}").status_code == 401
    assert keys.fetches == 1
    now[0] += forge_key_module.REFETCH_SECONDS
    for n in range(20):
        assert scheduled(client, keys, kid=f"made-up-again-{n}").status_code == 401
    assert keys.fetches == 2
    assert scheduled(client, keys).status_code == 204
    assert keys.fetches == 2


def test_the_key_set_is_read_again_after_its_time(forge_app, client, keys, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(forge_keys, "_clock", lambda: now[0])
    assert scheduled(client, keys).status_code == 204
    now[0] += forge_key_module.KEYS_SECONDS
    assert scheduled(client, keys).status_code == 204
    assert keys.fetches == 2


def test_a_rotated_key_is_fetched(forge_app, client, keys, monkeypatch):
    assert scheduled(client, keys).status_code == 204
    kid, key = keys.add_key()
    monkeypatch.setattr(forge_key_module, "REFETCH_SECONDS", 0)
    assert scheduled(client, keys, kid=kid, key=key).status_code == 204


@pytest.mark.parametrize("status", [500, 404])
def test_the_key_set_unreadable(forge_app, client, keys, status):
    keys.status_override = status
    assert_refused(scheduled(client, keys), 503, "Forge keys could not be read")


def test_the_key_set_slow(forge_app, client, keys):
    keys.delay = 5
    started = time.monotonic()
    assert_refused(scheduled(client, keys), 503, "Forge keys could not be read")
    assert time.monotonic() - started < 4.5
    keys.delay = 0


def test_a_ui_call_cannot_send_forge_events(forge_app, client, keys):
    """The UI chooses invokeRemote's path: its tokens must not uninstall or install anything."""
    assert scheduled(client, keys).status_code == 204
    ui = invocation_claims(API_BASE_URL, module_type="jira:issueContext", principal="acc-1")
    for path in ("/forge/uninstalled", "/forge/installed", "/forge/scheduled"):
        response = client.post(path, headers=forge_headers(keys, ui))
        assert response.status_code == 403, path
    (tenant,) = tenants()
    assert tenant.is_active


def test_the_app_id_is_the_audience(forge_app, client, keys):
    claims = invocation_claims(API_BASE_URL, aud=[APP_ID])
    assert scheduled(client, keys, claims).status_code == 204


def test_a_token_of_an_hs_algorithm_is_refused_before_any_key_is_fetched(forge_app, client, keys):
    claims = invocation_claims(API_BASE_URL)
    token = invocation_token(keys, claims, key="a-guessable-secret-of-32-bytes!!", alg="HS256")
    response = client.post("/forge/scheduled", headers={"Authorization": f"Bearer {token}"})
    assert_refused(response, 401, "RS256")
    assert keys.fetches == 0


@pytest.mark.parametrize("module_type", ["core:endpoint", "core:trigger"])
def test_forge_events_come_as_either_module_type(forge_app, client, keys, module_type):
    """The docs' table says core:endpoint; a live installed trigger's token said core:trigger."""
    claims = invocation_claims(API_BASE_URL, module_type=module_type)
    response = client.post("/forge/installed", headers=forge_headers(keys, claims))
    assert response.status_code == 204
    assert len(tenants()) == 1


def test_pre_uninstall_may_carry_a_principal(forge_app, client, keys):
    """preUninstall's principal "does not represent a user"; other events carry none."""
    assert scheduled(client, keys).status_code == 204
    with_principal = invocation_claims(API_BASE_URL, principal="account-admin")
    response = client.post("/forge/scheduled", headers=forge_headers(keys, with_principal))
    assert response.status_code == 403
    response = client.post("/forge/uninstalled", headers=forge_headers(keys, with_principal))
    assert response.status_code == 204
    (tenant,) = tenants()
    assert not tenant.is_active
