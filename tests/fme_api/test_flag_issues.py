"""The FME-side REST API: what a flag's Integrations tab in FME calls, keyed by the FME key."""

import pytest
import sqlalchemy as sa

from fmejira.domain import configuration
from fmejira.extensions import db
from fmejira.models import Link, LinkSource, TenantState
from tests.conftest import FME_KEY
from tests.support import make_tenant

ISSUES = "/api/v1/flags/ws-checkout/new-checkout/issues"


@pytest.fixture
def fme_flag(configured_site, fake_fme):
    fake_fme.add_flag("ws-checkout", "new-checkout")
    return configured_site


def bearer(key=FME_KEY):
    return {"Authorization": f"Bearer {key}"}


def links():
    return db.session.scalars(sa.select(Link)).all()


def test_connect_list_disconnect(client, fme_flag):
    response = client.post(ISSUES, headers=bearer(), json={"issueKey": "ABC-1"})
    assert response.status_code == 201, response.json
    assert response.json == {
        "key": "ABC-1",
        "id": "10001",
        "summary": "Checkout button",
        "status": "To Do",
        "url": f"{fme_flag.base_url}/browse/ABC-1",
    }
    assert client.post(ISSUES, headers=bearer(), json={"issueKey": "abc-1"}).status_code == 200
    (link,) = links()
    assert link.source is LinkSource.FME and link.created_by is None
    client.post(ISSUES, headers=bearer(), json={"issueKey": "ABC-2"})
    listed = client.get(ISSUES, headers=bearer()).json
    assert [i["key"] for i in listed] == ["ABC-1", "ABC-2"]
    assert client.delete(f"{ISSUES}/ABC-1", headers=bearer()).status_code == 204
    assert [i["key"] for i in client.get(ISSUES, headers=bearer()).json] == ["ABC-2"]
    response = client.delete(f"{ISSUES}/ABC-1", headers=bearer())
    assert response.status_code == 404 and response.json["error"]["code"] == "unknown_link"


def test_an_unlinked_flag_has_no_issues(client, fme_flag):
    assert client.get(ISSUES, headers=bearer()).json == []


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic abc"},
        bearer("not-a-known-key-000000"),
        {"Authorization": f"bearer  {FME_KEY}x"},
    ],
)
def test_missing_or_unknown_keys_are_401(client, fme_flag, headers):
    response = client.get(ISSUES, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthenticated"
    assert response.headers["WWW-Authenticate"] == "Bearer"


def test_an_uninstalled_sites_key_is_401(client, fme_flag):
    fme_flag.state = TenantState.UNINSTALLED
    db.session.commit()
    assert client.get(ISSUES, headers=bearer()).status_code == 401


def test_a_revoked_configuration_is_401(client, fme_flag):
    configuration.delete(fme_flag)
    assert client.get(ISSUES, headers=bearer()).status_code == 401


def test_tenants_are_isolated(client, fme_flag, fake_fme, fake_jira):
    client.post(ISSUES, headers=bearer(), json={"issueKey": "ABC-1"})
    other_key = "other-site-fme-key-000000001"
    fake_fme.add_key(other_key, {"ws-checkout"})
    other = make_tenant(
        "jira:other-site", base_url=fake_jira.url, shared_secret=fake_jira.shared_secret
    )
    configuration.save(
        other, other_key, [configuration.ProjectSelection("ws-checkout", "env-prod")]
    )
    assert client.get(ISSUES, headers=bearer(other_key)).json == []
    response = client.delete(f"{ISSUES}/ABC-1", headers=bearer(other_key))
    assert response.status_code == 404
    assert (
        client.post(ISSUES, headers=bearer(other_key), json={"issueKey": "ABC-2"}).status_code
        == 201
    )
    assert [i["key"] for i in client.get(ISSUES, headers=bearer()).json] == ["ABC-1"]
    assert {link.tenant_id for link in links()} == {fme_flag.id, other.id}


@pytest.mark.parametrize(
    "url,kwargs,status,code",
    [
        (ISSUES, {"data": "{", "content_type": "application/json"}, 400, "bad_request"),
        (
            ISSUES,
            {"data": "issueKey=ABC-1", "content_type": "application/x-www-form-urlencoded"},
            415,
            "unsupported_media_type",
        ),
        (ISSUES, {"json": {}}, 422, "unprocessable_entity"),
        (ISSUES, {"json": {"issueKey": "ABC-1", "extra": True}}, 422, "unprocessable_entity"),
        (ISSUES, {"json": {"issueKey": "not a key"}}, 422, "unprocessable_entity"),
        (
            ISSUES,
            {"json": {"issueKey": "ABC-1'; DROP TABLE links;--"}},
            422,
            "unprocessable_entity",
        ),
        (ISSUES, {"json": {"issueKey": "ABC-404"}}, 422, "unknown_issue"),
        (ISSUES, {"json": {"issueKey": "A" * 70_000 + "-1"}}, 413, "request_entity_too_large"),
        (
            "/api/v1/flags/ws-checkout/no-such-flag/issues",
            {"json": {"issueKey": "ABC-1"}},
            404,
            "unknown_flag",
        ),
        (
            "/api/v1/flags/ws-unknown/new-checkout/issues",
            {"json": {"issueKey": "ABC-1"}},
            404,
            "unknown_project",
        ),
        (
            "/api/v1/flags/ws-checkout/%C3%B1and%C3%BA/issues",
            {"json": {"issueKey": "ABC-1"}},
            400,
            "invalid_flag_name",
        ),
        (
            "/api/v1/flags/ws-checkout/a%22b/issues",
            {"json": {"issueKey": "ABC-1"}},
            400,
            "invalid_flag_name",
        ),
        (
            "/api/v1/flags/ws-checkout/..%2Fetc/issues",
            {"json": {"issueKey": "ABC-1"}},
            404,
            "not_found",
        ),  # the server decodes %2F before routing: no such route
    ],
)
def test_bad_input_is_a_clear_4xx_and_stores_nothing(client, fme_flag, url, kwargs, status, code):
    response = client.post(url, headers=bearer(), **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.json["error"]["code"] == code
    assert links() == []


def test_a_flag_of_a_project_that_is_not_configured(client, fme_flag, fake_fme):
    fake_fme.add_workspace("ws-billing", "Billing")
    fake_fme.add_key(FME_KEY, {"ws-checkout", "ws-billing"})
    fake_fme.add_flag("ws-billing", "invoice-v2")
    response = client.post(
        "/api/v1/flags/ws-billing/invoice-v2/issues", headers=bearer(), json={"issueKey": "ABC-1"}
    )
    assert response.status_code == 404
    assert response.json["error"]["code"] == "unknown_project"


def test_bad_issue_key_on_delete(client, fme_flag):
    response = client.delete(f"{ISSUES}/not%20a%20key", headers=bearer())
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_issue_key"


def test_rate_limited_per_key(app, client, fme_flag):
    app.config["API_RATE_LIMIT"] = "3/minute"
    statuses = [client.get(ISSUES, headers=bearer()).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get(ISSUES, headers=bearer())
    assert response.json["error"]["code"] == "too_many_requests"
    assert client.get(ISSUES, headers=bearer("another-key-0000000000")).status_code == 401


def test_openapi_document(client):
    spec = client.get("/api/openapi.json").json
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    assert set(paths) == {
        "/api/v1/flags/{workspace_id}/{flag_name}/issues",
        "/api/v1/flags/{workspace_id}/{flag_name}/issues/{issue_key}",
    }
    post = paths["/api/v1/flags/{workspace_id}/{flag_name}/issues"]["post"]
    assert {"200", "201", "400", "401", "404", "422", "429", "503"} <= set(post["responses"])
    assert "Error" in spec["components"]["schemas"]
