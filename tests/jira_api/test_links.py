"""Links from the Jira side: connect, list, disconnect and search, for one tenant only."""

import threading

import pytest
import sqlalchemy as sa

from fmejira.extensions import db
from fmejira.models import Flag, Issue, Link, LinkSource
from fmejira.queue import huey
from tests.conftest import run_tasks
from tests.support import auth_header, context_jwt, make_tenant

FLAGS = "/jira/api/issues/ABC-1/flags"


@pytest.fixture
def fme_flags(fake_fme):
    fake_fme.add_flag(
        "ws-checkout",
        "new-checkout",
        default_treatment="on",
        default_rule=[{"treatment": "on", "size": 50}, {"treatment": "off", "size": 50}],
    )
    fake_fme.add_flag("ws-checkout", "dark-mode", killed=True)
    return fake_fme


def headers(site, account="account-7"):
    return auth_header(context_jwt(site, sub=account))


def connect(client, site, flag="new-checkout", issue="ABC-1", workspace="ws-checkout"):
    return client.post(
        f"/jira/api/issues/{issue}/flags",
        headers=headers(site),
        json={"workspaceId": workspace, "flagName": flag},
    )


def links():
    return db.session.scalars(sa.select(Link)).all()


def test_connect_records_the_link_and_who_made_it(client, configured_site, fme_flags):
    response = connect(client, configured_site)
    assert response.status_code == 201, response.json
    assert response.json["name"] == "new-checkout"
    (link,) = links()
    assert link.source is LinkSource.JIRA
    assert link.created_by == "account-7"
    assert link.issue.jira_id == "10001" and link.issue.summary == "Checkout button"
    assert link.flag.fme_id == "id-ws-checkout-new-checkout"


def test_connecting_twice_is_idempotent(client, configured_site, fme_flags):
    assert connect(client, configured_site).status_code == 201
    assert connect(client, configured_site).status_code == 200
    assert len(links()) == 1


def test_many_to_many(client, configured_site, fme_flags):
    connect(client, configured_site, "new-checkout", "ABC-1")
    connect(client, configured_site, "dark-mode", "ABC-1")
    connect(client, configured_site, "new-checkout", "ABC-2")
    body = client.get(FLAGS, headers=headers(configured_site)).json
    assert [f["name"] for f in body["flags"]] == ["dark-mode", "new-checkout"]
    assert len(links()) == 3


def test_issue_flags_show_state_after_a_refresh(client, configured_site, fme_flags):
    connect(client, configured_site, "new-checkout")
    connect(client, configured_site, "dark-mode")
    first = client.get(FLAGS, headers=headers(configured_site)).json
    assert first["configured"] is True
    assert (
        first["refreshing"] is True
    )  # never read yet: a refresh is queued, the page does not wait
    assert {f["status"]["state"] for f in first["flags"]} == {"unknown"}
    run_tasks()
    body = client.get(FLAGS, headers=headers(configured_site)).json
    assert body["refreshing"] is False
    by_name = {f["name"]: f for f in body["flags"]}
    assert by_name["new-checkout"]["status"] == {
        "state": "on",
        "label": "On",
        "rollout": "50% on",
        "defaultTreatment": "on",
    }
    assert by_name["dark-mode"]["status"]["state"] == "off"
    assert by_name["new-checkout"]["workspaceName"] == "Checkout"
    assert by_name["new-checkout"]["environment"] == "Production"
    assert by_name["new-checkout"]["lastChangedAt"].startswith("2023-11-14")


def test_a_stale_flag_is_refreshed_once_for_many_views(client, configured_site, fme_flags):
    connect(client, configured_site)
    run_tasks()
    huey.flush()
    configured_site_app = client.application
    configured_site_app.config["STALE_SECONDS"] = -1
    for _ in range(5):
        client.get(FLAGS, headers=headers(configured_site))
    assert huey.pending_count() == 1


def test_disconnect(client, configured_site, fme_flags):
    connect(client, configured_site)
    url = "/jira/api/issues/ABC-1/flags/ws-checkout/new-checkout"
    assert client.delete(url, headers=headers(configured_site)).status_code == 204
    assert links() == []
    response = client.delete(url, headers=headers(configured_site))
    assert response.status_code == 404
    assert response.json["error"]["code"] == "unknown_link"


def test_link_changes_reach_jira(client, configured_site, fme_flags, fake_jira):
    connect(client, configured_site)
    run_tasks()
    record = fake_jira.flags["ws-checkout.new-checkout"].data
    assert record["associations"] == [{"associationType": "issueIdOrKeys", "values": ["10001"]}]
    client.delete(
        "/jira/api/issues/ABC-1/flags/ws-checkout/new-checkout", headers=headers(configured_site)
    )
    run_tasks()
    assert "ws-checkout.new-checkout" not in fake_jira.flags


def test_search_flags_of_configured_projects(client, configured_site, fme_flags):
    from fmejira.sync import refresh

    refresh.refresh_project(configured_site.id, "ws-checkout")
    body = client.get("/jira/api/flags?q=check", headers=headers(configured_site)).json
    assert [f["name"] for f in body["flags"]] == ["new-checkout"]
    body = client.get("/jira/api/flags?q=", headers=headers(configured_site)).json
    assert [f["name"] for f in body["flags"]] == ["dark-mode", "new-checkout"]
    body = client.get("/jira/api/flags?q=%25", headers=headers(configured_site)).json
    assert body["flags"] == []  # LIKE wildcards are literal


@pytest.mark.parametrize(
    "issue,body,status,code",
    [
        ("ABC-1", {"workspaceId": "ws-checkout", "flagName": "no-such-flag"}, 404, "unknown_flag"),
        ("ABC-1", {"workspaceId": "ws-other", "flagName": "new-checkout"}, 404, "unknown_project"),
        (
            "ABC-999",
            {"workspaceId": "ws-checkout", "flagName": "new-checkout"},
            422,
            "unknown_issue",
        ),
        (
            "not-a-key",
            {"workspaceId": "ws-checkout", "flagName": "new-checkout"},
            400,
            "invalid_issue_key",
        ),
        (
            "ABC-1",
            {"workspaceId": "ws-checkout", "flagName": "bad name'; drop"},
            400,
            "invalid_flag_name",
        ),
        ("ABC-1", {"workspaceId": "ws-checkout", "flagName": "ñandú"}, 400, "invalid_flag_name"),
        ("ABC-1", {"workspaceId": "ws-checkout", "flagName": "../etc"}, 400, "invalid_flag_name"),
        ("ABC-1", {"workspaceId": "ws/../x", "flagName": "new-checkout"}, 400, "invalid_body"),
        ("ABC-1", {"workspaceId": "ws-checkout"}, 400, "invalid_body"),
        (
            "ABC-1",
            {"workspaceId": "ws-checkout", "flagName": "new-checkout", "x": 1},
            400,
            "invalid_body",
        ),
        ("ABC-1", ["ws-checkout"], 400, "invalid_body"),
    ],
)
def test_bad_connects_store_nothing(client, configured_site, fme_flags, issue, body, status, code):
    response = client.post(
        f"/jira/api/issues/{issue}/flags", headers=headers(configured_site), json=body
    )
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code
    assert links() == []
    assert db.session.scalar(sa.select(sa.func.count(Issue.id))) == 0


def test_not_configured_is_a_clear_409(client, site, fake_fme):
    response = connect(client, site)
    assert response.status_code == 409
    assert response.json["error"]["code"] == "unconfigured"


def test_fme_down_during_connect_is_503_and_stores_nothing(client, configured_site, fme_flags):
    fme_flags.fail_next(5, 503)
    response = connect(client, configured_site)
    assert response.status_code == 503
    assert links() == [] and db.session.scalar(sa.select(sa.func.count(Flag.id))) == 0


def test_jira_down_during_connect_is_503_and_stores_nothing(
    client, configured_site, fme_flags, fake_jira
):
    fake_jira.fail_next(5, 503)
    response = connect(client, configured_site)
    assert response.status_code == 503
    assert response.json["error"]["code"] == "jira_unavailable"
    assert links() == []


def test_wrong_content_type_and_huge_body(client, configured_site, fme_flags):
    response = client.post(
        FLAGS, headers=headers(configured_site), data="x", content_type="text/plain"
    )
    assert response.status_code == 415
    response = client.post(
        FLAGS,
        headers=headers(configured_site),
        json={"workspaceId": "ws-checkout", "flagName": "a" * 70_000},
    )
    assert response.status_code == 413
    assert links() == []


def test_tenants_never_see_each_other(client, configured_site, fme_flags):
    connect(client, configured_site)
    other = make_tenant("jira:other", base_url=configured_site.base_url)
    response = client.get(FLAGS, headers=headers(other))
    assert response.json["flags"] == [] and response.json["configured"] is False
    response = client.delete(
        "/jira/api/issues/ABC-1/flags/ws-checkout/new-checkout", headers=headers(other)
    )
    assert response.status_code == 404
    assert len(links()) == 1


def test_key_change_keeps_the_link(client, configured_site, fme_flags, fake_jira):
    connect(client, configured_site)
    fake_jira.move_issue("ABC-1", "XYZ-7")
    assert connect(client, configured_site, issue="XYZ-7").status_code == 200  # same issue id
    assert len(links()) == 1
    assert links()[0].issue.key == "XYZ-7"


def test_concurrent_connects_of_one_pair_make_one_link(app, configured_site, fme_flags):
    """Real concurrent requests: the unique constraint decides, nobody gets a 500."""
    site_id = configured_site.id
    db.session.commit()
    barrier = threading.Barrier(6)
    statuses = []

    def attempt():
        with app.test_client() as client:
            tenant = db.session.get(type(configured_site), site_id)
            token = headers(tenant)
            barrier.wait()
            response = client.post(
                FLAGS,
                headers=token,
                json={"workspaceId": "ws-checkout", "flagName": "new-checkout"},
            )
            statuses.append(response.status_code)

    def run():
        with app.app_context():
            attempt()

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses).count(201) == 1, statuses
    assert set(statuses) <= {200, 201}, statuses
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Link.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Issue.id))) == 1
