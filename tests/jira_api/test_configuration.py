"""The configuration API: admins only, validated against FME before anything is stored."""

import pytest
import sqlalchemy as sa

from fmejira import crypto
from fmejira.extensions import db
from fmejira.models import ConnectionStatus, Flag, FmeConnection, FmeProject, Link, LinkSource
from tests.conftest import ADMIN, FME_KEY, USER
from tests.support import auth_header, context_jwt

URL = "/jira/api/configuration"
CHECKOUT = {"workspaceId": "ws-checkout", "primaryEnvironmentId": "env-prod"}


def call(client, site, method, url=URL, account=ADMIN, **kwargs):
    headers = auth_header(context_jwt(site, sub=account))
    return getattr(client, method)(url, headers=headers, **kwargs)


def stored():
    return db.session.scalar(sa.select(FmeConnection))


def snapshot():
    db.session.expire_all()
    connection = stored()
    if connection is None:
        return None
    return (
        connection.api_key_hash,
        connection.status,
        [(p.workspace_id, p.environment_id) for p in connection.projects],
    )


def test_unconfigured(client, site, fake_fme):
    response = call(client, site, "get")
    assert response.status_code == 200
    assert response.json["status"] == "unconfigured"


def test_discover_lists_projects_and_environments(client, site, fake_fme):
    response = call(client, site, "post", f"{URL}/discover", json={"apiKey": FME_KEY})
    assert response.status_code == 200
    (project,) = response.json["projects"]
    assert project["workspaceName"] == "Checkout"
    assert [e["name"] for e in project["environments"]] == ["Production", "Staging"]


def test_save_and_read_back(client, site, fake_fme):
    response = call(client, site, "put", json={"apiKey": FME_KEY, "projects": [CHECKOUT]})
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "authorized"
    assert body["projects"] == [
        {
            "workspaceId": "ws-checkout",
            "workspaceName": "Checkout",
            "primaryEnvironment": {"id": "env-prod", "name": "Production", "production": True},
        }
    ]
    assert body["webhookUrl"].startswith("https://fme-jira.example.com/webhooks/fme/")
    assert FME_KEY not in response.get_data(as_text=True)
    assert FME_KEY not in call(client, site, "get").get_data(as_text=True)
    connection = stored()
    assert connection.api_key == FME_KEY
    assert connection.api_key_hash == crypto.fingerprint(FME_KEY)
    raw = db.session.execute(
        sa.select(sa.type_coerce(FmeConnection.__table__.c.api_key, sa.Text))
    ).scalar_one()
    assert FME_KEY not in raw


def test_harness_tokens_use_x_api_key(client, site, fake_fme):
    token = "pat.account123.token456.secretvalue789"
    fake_fme.add_key(token, {"ws-checkout"}, scheme="x-api-key")
    response = call(client, site, "put", json={"apiKey": token, "projects": [CHECKOUT]})
    assert response.status_code == 200
    assert response.json["authScheme"] == "x-api-key"
    assert "x-api-key" in {k.lower() for k in fake_fme.requests[-1].headers}


@pytest.mark.parametrize(
    "method,url",
    [
        ("get", URL),
        ("put", URL),
        ("delete", URL),
        ("post", f"{URL}/test"),
        ("post", f"{URL}/discover"),
        ("post", f"{URL}/webhook-secret"),
    ],
)
def test_non_admins_are_refused(client, site, fake_fme, method, url):
    response = call(client, site, method, url, account=USER, json={})
    assert response.status_code == 403
    assert response.json["error"]["code"] == "forbidden"


def test_app_level_tokens_are_refused(client, site, fake_fme):
    headers = auth_header(context_jwt(site, sub=None))
    assert client.get(URL, headers=headers).status_code == 403


def test_admin_answer_is_cached_briefly(client, site, fake_fme, fake_jira):
    call(client, site, "get")
    call(client, site, "get")
    checks = [r for r in fake_jira.requests if r.path.endswith("/permissions/check")]
    assert len(checks) == 1


def test_jira_down_during_the_admin_check_is_503(client, site, fake_fme, fake_jira):
    fake_jira.fail_next(10, 503)
    response = call(client, site, "get")
    assert response.status_code == 503


@pytest.mark.parametrize(
    "body,status,code",
    [
        ({"apiKey": "", "projects": [CHECKOUT]}, 400, "invalid_body"),
        ({"apiKey": "has spaces in it 1234567", "projects": [CHECKOUT]}, 400, "invalid_body"),
        ({"apiKey": "short", "projects": [CHECKOUT]}, 400, "invalid_body"),
        ({"apiKey": FME_KEY, "projects": []}, 400, "invalid_body"),
        ({"apiKey": FME_KEY}, 400, "invalid_body"),
        ({"apiKey": FME_KEY, "projects": [CHECKOUT], "extra": 1}, 400, "invalid_body"),
        ({"apiKey": FME_KEY, "projects": [{"workspaceId": "ws-checkout"}]}, 400, "invalid_body"),
        ({"apiKey": FME_KEY, "projects": "ws-checkout"}, 400, "invalid_body"),
        (
            {"apiKey": "unknown-key-0123456789abcdef", "projects": [CHECKOUT]},
            400,
            "invalid_api_key",
        ),
        (
            {
                "apiKey": FME_KEY,
                "projects": [{"workspaceId": "ws-other", "primaryEnvironmentId": "e1"}],
            },
            400,
            "unknown_project",
        ),
        (
            {
                "apiKey": FME_KEY,
                "projects": [CHECKOUT, {**CHECKOUT, "primaryEnvironmentId": "env-stg"}],
            },
            400,
            "duplicate_project",
        ),
        (
            {
                "apiKey": FME_KEY,
                "projects": [{**CHECKOUT, "primaryEnvironmentId": "env-of-billing"}],
            },
            400,
            "unknown_environment",
        ),
    ],
)
def test_bad_configurations_change_nothing(client, site, fake_fme, body, status, code):
    fake_fme.add_workspace(
        "ws-billing", "Billing", environments=(("env-of-billing", "Prod", True),)
    )
    call(client, site, "put", json={"apiKey": FME_KEY, "projects": [CHECKOUT]})
    before = snapshot()
    response = call(client, site, "put", json=body)
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code
    assert snapshot() == before


def test_bad_first_configuration_stores_nothing(client, site, fake_fme):
    response = call(
        client, site, "put", json={"apiKey": "unknown-key-0123456789abcdef", "projects": [CHECKOUT]}
    )
    assert response.status_code == 400
    assert stored() is None


def test_non_json_and_huge_bodies(client, site, fake_fme):
    response = call(
        client, site, "put", data="apiKey=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    response = call(client, site, "put", data="{not json", content_type="application/json")
    assert response.status_code == 400
    huge = {"apiKey": FME_KEY, "projects": [CHECKOUT] * 3000}
    response = call(client, site, "put", json=huge)
    assert response.status_code == 413
    assert response.json["error"]["code"] == "request_entity_too_large"
    assert stored() is None


def test_fme_down_during_save_is_503_and_changes_nothing(client, site, fake_fme):
    call(client, site, "put", json={"apiKey": FME_KEY, "projects": [CHECKOUT]})
    before = snapshot()
    fake_fme.fail_next(10, 500)
    response = call(
        client,
        site,
        "put",
        json={"apiKey": FME_KEY, "projects": [{**CHECKOUT, "primaryEnvironmentId": "env-stg"}]},
    )
    assert response.status_code == 503
    assert response.json["error"]["code"] == "fme_unavailable"
    assert snapshot() == before


def _link_something(site):
    project = db.session.scalar(sa.select(FmeProject))
    flag = Flag(
        tenant_id=site.id, workspace_id=project.workspace_id, name="new-checkout", fme_id="f1"
    )
    from fmejira.models import Issue

    issue = Issue(tenant_id=site.id, jira_id="10001", key="ABC-1", summary="s")
    db.session.add_all([flag, issue])
    db.session.flush()
    db.session.add(
        Link(tenant_id=site.id, flag_id=flag.id, issue_id=issue.id, source=LinkSource.JIRA)
    )
    db.session.commit()


def test_rotating_to_a_new_key_of_the_same_account_keeps_links(client, site, fake_fme):
    call(client, site, "put", json={"apiKey": FME_KEY, "projects": [CHECKOUT]})
    _link_something(site)
    new_key = "fme-admin-key-rotated-000000001"
    fake_fme.add_key(new_key, {"ws-checkout"})
    response = call(client, site, "put", json={"apiKey": new_key, "projects": [CHECKOUT]})
    assert response.status_code == 200
    assert stored().api_key == new_key
    assert db.session.scalar(sa.select(sa.func.count(Link.id))) == 1


def test_a_key_of_another_account_needs_confirmation_and_then_removes_links(client, site, fake_fme):
    call(client, site, "put", json={"apiKey": FME_KEY, "projects": [CHECKOUT]})
    _link_something(site)
    other_key = "fme-key-of-another-account-0001"
    fake_fme.add_workspace("ws-other", "Other account project")
    fake_fme.add_key(other_key, {"ws-other"})
    body = {
        "apiKey": other_key,
        "projects": [{"workspaceId": "ws-other", "primaryEnvironmentId": "env-prod"}],
    }
    response = call(client, site, "put", json=body)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "links_would_be_removed"
    assert stored().api_key == FME_KEY
    assert db.session.scalar(sa.select(sa.func.count(Link.id))) == 1
    response = call(client, site, "put", json={**body, "confirm": True})
    assert response.status_code == 200
    assert db.session.scalar(sa.select(sa.func.count(Link.id))) == 0
    assert [p["workspaceId"] for p in response.json["projects"]] == ["ws-other"]


def test_a_key_connected_to_another_site_is_refused(client, site, fake_fme):
    from tests.support import make_tenant

    other = make_tenant("jira:other-site", base_url=site.base_url, shared_secret=site.shared_secret)
    from fmejira.domain import configuration

    configuration.save(other, FME_KEY, [configuration.ProjectSelection("ws-checkout", "env-prod")])
    response = call(client, site, "put", json={"apiKey": FME_KEY, "projects": [CHECKOUT]})
    assert response.status_code == 409
    assert response.json["error"]["code"] == "api_key_in_use"


def test_connection_status_follows_fme(client, site, fake_fme):
    call(client, site, "put", json={"apiKey": FME_KEY, "projects": [CHECKOUT]})
    fake_fme.fail_next(2, 502)  # both attempts of the interactive policy
    body = call(client, site, "post", f"{URL}/test").json
    assert body["status"] == "interrupted"
    assert "Retrying" in body["lastError"] and body["checkedAt"]
    body = call(client, site, "post", f"{URL}/test").json
    assert body["status"] == "authorized" and body["lastError"] is None
    fake_fme.bearer_keys.pop(FME_KEY)
    body = call(client, site, "post", f"{URL}/test").json
    assert body["status"] == "not_authorized"
    assert "new key" in body["lastError"]
    assert stored().status is ConnectionStatus.NOT_AUTHORIZED


def test_test_without_configuration_is_404(client, site, fake_fme):
    response = call(client, site, "post", f"{URL}/test")
    assert response.status_code == 404
    assert response.json["error"]["code"] == "unconfigured"


def test_regenerating_the_webhook_secret_invalidates_the_old_url(client, site, fake_fme):
    old = call(client, site, "put", json={"apiKey": FME_KEY, "projects": [CHECKOUT]}).json[
        "webhookUrl"
    ]
    new = call(client, site, "post", f"{URL}/webhook-secret").json["webhookUrl"]
    assert new != old
    path = lambda url: url.removeprefix("https://fme-jira.example.com")  # noqa: E731
    delivery = {"name": "x", "type": "split", "environmentName": "Production"}
    assert client.post(path(old), json=delivery).status_code == 404
    assert client.post(path(new), json=delivery).status_code == 200


def test_delete_removes_the_key_projects_and_links(client, site, fake_fme):
    call(client, site, "put", json={"apiKey": FME_KEY, "projects": [CHECKOUT]})
    _link_something(site)
    assert call(client, site, "delete").status_code == 204
    assert stored() is None
    assert db.session.scalar(sa.select(sa.func.count(FmeProject.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(Link.id))) == 0
    assert call(client, site, "get").json["status"] == "unconfigured"


def _pushed_link(client, site, fake_fme, fake_jira):
    from tests.conftest import run_tasks

    call(client, site, "put", json={"apiKey": FME_KEY, "projects": [CHECKOUT]})
    fake_fme.add_flag("ws-checkout", "new-checkout")
    response = client.post(
        "/jira/api/issues/ABC-1/flags",
        headers=auth_header(context_jwt(site)),
        json={"workspaceId": "ws-checkout", "flagName": "new-checkout"},
    )
    assert response.status_code == 201
    run_tasks()
    assert "ws-checkout.new-checkout" in fake_jira.flags


def test_delete_removes_the_apps_records_from_jira(client, site, fake_fme, fake_jira):
    from tests.conftest import run_tasks

    _pushed_link(client, site, fake_fme, fake_jira)
    assert call(client, site, "delete").status_code == 204
    run_tasks()
    assert fake_jira.flags == {}
    glance = fake_jira.issue("ABC-1").properties
    (value,) = glance.values()
    assert value["value"]["label"] == "No flags"


def test_dropping_a_project_removes_its_records_from_jira(client, site, fake_fme, fake_jira):
    from tests.conftest import run_tasks

    _pushed_link(client, site, fake_fme, fake_jira)
    fake_fme.add_workspace("ws-billing", "Billing")
    fake_fme.add_key(FME_KEY, {"ws-checkout", "ws-billing"})
    body = {
        "apiKey": FME_KEY,
        "projects": [{"workspaceId": "ws-billing", "primaryEnvironmentId": "env-prod"}],
        "confirm": True,
    }
    assert call(client, site, "put", json=body).status_code == 200
    run_tasks()
    assert fake_jira.flags == {}
    deletes = [r for r in fake_jira.requests if r.path.endswith("/bulkByProperties")]
    assert deletes and deletes[-1].query == {"source": "fmejira", "workspaceId": "ws-checkout"}
