"""The FME-side API's three routes as FME's Integrations tab uses them, exactly as DESIGN.md."""

import sqlalchemy as sa

from fmejira.extensions import db
from fmejira.models import Link, LinkSource
from tests.conftest import run_tasks
from tests.fme_api.helpers import ISSUES, assert_error, bearer


def issue(site, key, id, summary, status="To Do"):
    return {
        "key": key,
        "id": id,
        "summary": summary,
        "status": status,
        "url": f"{site.base_url}/browse/{key}",
    }


def test_connect_is_201_then_200_when_already_linked(client, flag_site):
    created = client.post(ISSUES, headers=bearer(), json={"issueKey": "ABC-1"})
    assert created.status_code == 201
    assert created.json == issue(flag_site, "ABC-1", "10001", "Checkout button")
    again = client.post(ISSUES, headers=bearer(), json={"issueKey": "abc-1"})
    assert again.status_code == 200
    assert again.json == created.json
    (link,) = db.session.scalars(sa.select(Link))
    assert (link.source, link.created_by, link.tenant_id) == (LinkSource.FME, None, flag_site.id)


def test_list_gives_key_id_summary_status_and_url(client, flag_site, fake_jira):
    fake_jira.issue("ABC-2").status = "In Progress"
    for key in ("ABC-2", "ABC-1"):
        client.post(ISSUES, headers=bearer(), json={"issueKey": key})
    listed = client.get(ISSUES, headers=bearer())
    assert listed.status_code == 200
    assert listed.json == [
        issue(flag_site, "ABC-1", "10001", "Checkout button"),
        issue(flag_site, "ABC-2", "10002", "Pay with card", "In Progress"),
    ]


def test_issue_urls_use_the_sites_display_url(client, flag_site):
    flag_site.display_url = "https://jira.shop.example"
    db.session.commit()
    created = client.post(ISSUES, headers=bearer(), json={"issueKey": "ABC-1"})
    assert created.json["url"] == "https://jira.shop.example/browse/ABC-1"


def test_an_unlinked_flag_has_no_issues(client, flag_site):
    listed = client.get(ISSUES, headers=bearer())
    assert (listed.status_code, listed.json) == (200, [])


def test_disconnect_is_204_then_404(client, flag_site):
    for key in ("ABC-1", "ABC-2"):
        client.post(ISSUES, headers=bearer(), json={"issueKey": key})
    deleted = client.delete(f"{ISSUES}/abc-1", headers=bearer())
    assert (deleted.status_code, deleted.get_data()) == (204, b"")
    assert [i["key"] for i in client.get(ISSUES, headers=bearer()).json] == ["ABC-2"]
    assert_error(client.delete(f"{ISSUES}/ABC-1", headers=bearer()), 404, "unknown_link")


def test_many_flags_per_issue_and_many_issues_per_flag(client, flag_site, fake_fme):
    fake_fme.add_flag("ws-checkout", "fast-pay")
    other = "/api/v1/flags/ws-checkout/fast-pay/issues"
    for url in (ISSUES, other):
        assert client.post(url, headers=bearer(), json={"issueKey": "ABC-1"}).status_code == 201
    assert client.delete(f"{other}/ABC-1", headers=bearer()).status_code == 204
    assert [i["key"] for i in client.get(ISSUES, headers=bearer()).json] == ["ABC-1"]
    assert client.get(other, headers=bearer()).json == []


def test_a_link_made_in_fme_ends_in_jira_and_so_does_its_removal(client, flag_site, fake_jira):
    client.post(ISSUES, headers=bearer(), json={"issueKey": "ABC-1"})
    run_tasks()
    (stored,) = fake_jira.flags.values()
    assert (stored.data["key"], stored.issue_ids) == ("new-checkout", ["10001"])
    client.delete(f"{ISSUES}/ABC-1", headers=bearer())
    run_tasks()
    assert fake_jira.flags == {}
