"""Pushing to Jira's Feature Flags API and the issue glance, recomputed from the store."""

import sqlalchemy as sa

from fmejira.domain import links
from fmejira.extensions import db
from fmejira.models import Flag, Issue, Link, LinkSource
from fmejira.sync import push, scheduling
from tests.conftest import run_tasks
from tests.sync.conftest import assert_valid_bulk, bulk_bodies

RECORD = "ws-checkout.new-checkout"


def test_a_linked_flag_reaches_jira_as_a_valid_record(linked, fake_jira):
    body = bulk_bodies(fake_jira)[-1]
    assert_valid_bulk(body)
    assert body["properties"] == {"source": "fmejira", "workspaceId": "ws-checkout"}
    record = fake_jira.flags[RECORD].data
    assert record["key"] == record["displayName"] == "new-checkout"
    assert record["associations"] == [
        {"associationType": "issueIdOrKeys", "values": ["10001", "10002"]}
    ]
    assert record["summary"]["status"] == {
        "enabled": True,
        "defaultValue": "on",
        "rollout": {"percentage": 50.0},
    }
    (detail,) = record["details"]
    assert detail["environment"] == {"name": "Production", "type": "production"}
    assert detail["url"].endswith(
        "/ws/ws-checkout/splits/id-ws-checkout-new-checkout/env/env-prod/definition"
    )
    assert record["summary"]["lastUpdated"] == "2023-11-14T22:13:20Z"


def test_update_sequence_ids_rise_strictly(linked, configured_site, fake_jira):
    for _ in range(3):
        scheduling.mark_changed([linked])
        db.session.commit()
        push.push_flags(configured_site.id, [linked.id])
    ids = [b["flags"][0]["updateSequenceId"] for b in bulk_bodies(fake_jira)]
    assert ids == sorted(set(ids)) and len(ids) >= 4


def test_glances_follow_links(linked, configured_site, fake_jira):
    key = "com.atlassian.jira.issue:fme-jira-test:fme-flags-glance:status"
    assert fake_jira.issue("ABC-1").properties[key] == {
        "type": "lozenge",
        "value": {"label": "new-checkout", "type": "success"},
    }
    links.disconnect(configured_site, "ws-checkout", "new-checkout", "ABC-1")
    run_tasks()
    assert fake_jira.issue("ABC-1").properties[key]["value"] == {
        "label": "No flags",
        "type": "default",
    }
    assert fake_jira.flags[RECORD].data["associations"][0]["values"] == ["10002"]


def test_the_last_link_removed_deletes_the_record(linked, configured_site, fake_jira):
    for key in ("ABC-1", "ABC-2"):
        links.disconnect(configured_site, "ws-checkout", "new-checkout", key)
    run_tasks()
    assert RECORD not in fake_jira.flags
    db.session.refresh(linked)
    assert linked.in_jira is False and linked.synced_at >= linked.sync_requested_at


def test_an_issue_unknown_to_jira_marks_its_link(linked, configured_site, fake_jira):
    issue = Issue(tenant_id=configured_site.id, jira_id="99999", key="GONE-1")
    db.session.add(issue)
    db.session.flush()
    db.session.add(
        Link(
            tenant_id=configured_site.id,
            flag_id=linked.id,
            issue_id=issue.id,
            source=LinkSource.FME,
        )
    )
    scheduling.mark_changed([linked])
    db.session.commit()
    report = push.push_flags(configured_site.id, [linked.id])
    assert "99999" in report.unknown_issues
    flags_by_issue = dict(db.session.execute(sa.select(Link.issue_id, Link.unknown_in_jira)).all())
    assert flags_by_issue[issue.id] is True
    assert sum(flags_by_issue.values()) == 1


def test_a_rejected_record_is_kept_for_a_retry(linked, configured_site, fake_jira):
    fake_jira.reject_flag(RECORD, "nope")
    scheduling.mark_changed([linked])
    db.session.commit()
    report = push.push_flags(configured_site.id, [linked.id])
    assert report.failed == {linked.id: "nope"}
    db.session.refresh(linked)
    assert linked.sync_error == "nope"
    assert linked.synced_at < linked.sync_requested_at  # the reconcile will find it


def _many_linked_flags(site, count):
    issue = db.session.scalar(sa.select(Issue)) or Issue(
        tenant_id=site.id, jira_id="10001", key="ABC-1"
    )
    db.session.add(issue)
    flags = [
        Flag(tenant_id=site.id, workspace_id="ws-checkout", name=f"flag-{n:03d}", fme_id=str(n))
        for n in range(count)
    ]
    db.session.add_all(flags)
    db.session.flush()
    db.session.add_all(
        Link(tenant_id=site.id, flag_id=f.id, issue_id=issue.id, source=LinkSource.FME)
        for f in flags
    )
    db.session.commit()
    return [f.id for f in flags]


def test_batches_hold_at_most_100_flags(configured_site, fake_jira):
    ids = _many_linked_flags(configured_site, 250)
    report = push.push_flags(configured_site.id, ids)
    sizes = [len(b["flags"]) for b in bulk_bodies(fake_jira)]
    assert sizes == [100, 100, 50]
    assert report.sent == 250 and report.requests == 3
    for body in bulk_bodies(fake_jira):
        assert_valid_bulk(body)


def test_payload_too_large_splits_the_batch(configured_site, fake_jira):
    ids = _many_linked_flags(configured_site, 4)
    fake_jira.fail_next(1, 413)
    report = push.push_flags(configured_site.id, ids)
    assert report.sent == 4
    assert [len(b["flags"]) for b in bulk_bodies(fake_jira)][-2:] == [2, 2]


def test_a_flag_never_read_from_fme_still_gets_a_valid_record(configured_site, fake_jira):
    ids = _many_linked_flags(configured_site, 1)
    push.push_flags(configured_site.id, ids)
    body = bulk_bodies(fake_jira)[-1]
    assert_valid_bulk(body)
    assert body["flags"][0]["summary"]["status"]["rollout"] == {"text": "Not read from FME yet"}


def test_inactive_tenants_get_no_work(linked, configured_site, fake_jira):
    configured_site.enabled = False
    scheduling.mark_changed([linked])
    db.session.commit()
    before = len(fake_jira.requests)
    assert push.push_flags(configured_site.id, [linked.id]).requests == 0
    assert len(fake_jira.requests) == before
