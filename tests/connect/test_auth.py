"""The JWT on every request from Jira: the attack catalogue of the Foundation issue."""

import time

import jwt
import pytest

from fmejira.connect.auth import issue_page_token
from fmejira.connect.qsh import query_string_hash
from fmejira.context import JiraContext
from tests.support import auth_header, context_jwt, jira_jwt, make_tenant

PAGE = "/jira/_test/page?issueKey=ABC-1&xdm_e=https%3A%2F%2Facme.atlassian.net"
API = "/jira/api/_test/whoami"


@pytest.fixture
def tenant(app):
    return make_tenant("jira:tenant-a")


def test_page_route_accepts_a_real_qsh_in_the_query(client, tenant):
    token = jira_jwt(tenant, PAGE)
    response = client.get(f"{PAGE}&jwt={token}")
    assert response.status_code == 200
    assert response.json == {"clientKey": "jira:tenant-a", "accountId": "account-1", "name": None}


def test_api_route_accepts_a_context_token_in_the_header(client, tenant):
    response = client.get(API, headers=auth_header(context_jwt(tenant)))
    assert response.status_code == 200
    assert response.json["accountId"] == "account-1"


def test_api_route_accepts_a_real_qsh_too(client, tenant):
    response = client.get(API, headers=auth_header(jira_jwt(tenant, API)))
    assert response.status_code == 200


def test_app_level_token_has_no_account(client, tenant):
    response = client.get(API, headers=auth_header(context_jwt(tenant, sub=None)))
    assert response.json["accountId"] is None


def _alg_none(tenant):
    now = int(time.time())
    claims = {"iss": tenant.client_key, "iat": now, "exp": now + 60, "qsh": "context-qsh"}
    return jwt.encode(claims, None, algorithm="none")


def _rs256(tenant):
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    claims = {"iss": tenant.client_key, "iat": now, "exp": now + 60, "qsh": "context-qsh"}
    return jwt.encode(claims, key, algorithm="RS256")


@pytest.mark.parametrize(
    ("case", "make_token"),
    [
        ("alg none", _alg_none),
        ("RS256 on the HS route", _rs256),
        ("HS512 with the right secret", lambda t: context_jwt(t, algorithm="HS512")),
        ("expired", lambda t: context_jwt(t, lifetime=-30, iat_offset=-200)),
        ("iat in the future beyond leeway", lambda t: context_jwt(t, iat_offset=300)),
        ("wrong secret", lambda t: context_jwt(t, secret="x" * 40)),
        ("unknown iss", lambda t: context_jwt(t, iss="jira:nobody")),
        ("wrong qsh", lambda t: jira_jwt(t, "/jira/api/other")),
        ("garbage", lambda t: "not.a.jwt"),
    ],
)
def test_api_route_refuses(client, tenant, case, make_token):
    response = client.get(API, headers=auth_header(make_token(tenant)))
    assert response.status_code == 401, case
    assert response.json["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize(
    ("make_token", "message"),
    [
        (lambda t: context_jwt(t, lifetime=-30, iat_offset=-200), "The JWT has expired."),
        (lambda t: context_jwt(t, iat_offset=300), "The JWT is not valid yet."),
        (lambda t: context_jwt(t, secret="x" * 40), "The JWT signature or claims are invalid."),
        (lambda t: "a.b", "The JWT is malformed."),
    ],
)
def test_a_refusal_says_why(client, tenant, make_token, message):
    response = client.get(API, headers=auth_header(make_token(tenant)))
    assert response.status_code == 401
    assert response.json["error"]["message"] == message


def test_within_leeway_is_accepted(client, tenant):
    token = context_jwt(tenant, lifetime=98, iat_offset=-100)  # expired 2 s ago
    assert client.get(API, headers=auth_header(token)).status_code == 200


def test_token_for_another_tenant_with_its_own_secret_is_refused(client, tenant):
    other = make_tenant("jira:tenant-b")
    token = context_jwt(tenant, secret=other.shared_secret)
    assert client.get(API, headers=auth_header(token)).status_code == 401


def test_missing_claims_are_refused(client, tenant):
    claims = {"iss": tenant.client_key, "exp": int(time.time()) + 60, "qsh": "context-qsh"}
    token = jwt.encode(claims, tenant.shared_secret, algorithm="HS256")
    assert client.get(API, headers=auth_header(token)).status_code == 401


def test_context_qsh_is_refused_on_a_page_route(client, tenant):
    response = client.get(PAGE + "&jwt=" + context_jwt(tenant))
    assert response.status_code == 401


def test_wrong_qsh_on_a_page_route_is_refused(client, tenant):
    token = jira_jwt(tenant, "/jira/_test/page?issueKey=ABC-2")
    assert client.get(f"{PAGE}&jwt={token}").status_code == 401


def test_missing_token_is_refused(client, tenant):
    assert client.get(API).status_code == 401
    assert client.get(PAGE).status_code == 401


def test_token_in_query_and_header_is_refused(client, tenant):
    token = jira_jwt(tenant, PAGE)
    response = client.get(f"{PAGE}&jwt={token}", headers=auth_header(token))
    assert response.status_code == 401


def test_uninstalled_tenants_token_is_refused(client, tenant):
    from fmejira.extensions import db
    from fmejira.models import TenantState

    token = context_jwt(tenant)
    tenant.state = TenantState.UNINSTALLED
    db.session.commit()
    assert client.get(API, headers=auth_header(token)).status_code == 401


@pytest.mark.parametrize("hashed_path", ["/jira/_test/page/a b", "/jira/_test/page/a%20b"])
def test_percent_encoded_path_is_accepted_in_either_spelling(client, tenant, hashed_path):
    token = jira_jwt(tenant, "/", qsh=query_string_hash("GET", hashed_path))
    response = client.get(f"/jira/_test/page/a%20b?jwt={token}")
    assert response.status_code == 200
    assert response.json["name"] == "a b"


def test_app_base_path_is_removed_before_hashing(app, client, tenant):
    app.config["APP_BASE_URL"] = "https://fme-jira.example.com/app"
    token = jira_jwt(tenant, "/", qsh=query_string_hash("GET", "/jira/_test/page"))
    response = client.get(
        f"/jira/_test/page?jwt={token}", environ_overrides={"SCRIPT_NAME": "/app"}
    )
    assert response.status_code == 200


def test_page_token_works_on_api_routes_only(client, tenant):
    context = JiraContext(tenant=tenant, account_id="account-7", claims={})
    token = issue_page_token(context, issue_key="ABC-1")
    response = client.get(API, headers=auth_header(token))
    assert response.status_code == 200
    assert response.json["accountId"] == "account-7"
    assert client.get(f"{PAGE}&jwt={token}").status_code == 401


def test_page_token_expires(app, client, tenant):
    app.config["PAGE_TOKEN_TTL_SECONDS"] = -60
    token = issue_page_token(JiraContext(tenant=tenant, account_id="a", claims={}))
    assert client.get(API, headers=auth_header(token)).status_code == 401
