"""Pushing to Jira's Feature Flags API and the issue glance, recomputed from the store."""

import datetime

import pytest
import sqlalchemy as sa

from fmejira.domain import configuration, links
from fmejira.extensions import db
from fmejira.models import Flag, FlagState, Issue, Link, LinkSource
from fmejira.queue import huey
from fmejira.sync import push, scheduling, tasks
from tests.conftest import run_tasks
from tests.sync.conftest import (
    GLANCE,
    RECORD,
    assert_valid_bulk,
    bulk_bodies,
    bulk_requests,
    many_linked_flags,
)


def push_now(flag, site):
    """Mark the flag changed and queue its push, as every change to links or state does."""
    scheduling.mark_changed([flag])
    db.session.commit()
    scheduling.push_soon([flag.id], site.id)


def test_a_linked_flag_reaches_jira_as_a_valid_record(linked, fake_jira):
    body = bulk_bodies(fake_jira)[-1]
    assert_valid_bulk(body)
    assert body["properties"] == {"source": "fmejira", "workspaceId": "ws-checkout"}
    assert body["providerMetadata"] == {"product": "Harness FME"}
    stored = fake_jira.flags[RECORD]
    assert stored.issue_ids == ["10001", "10002"]
    record = stored.data
    assert record["id"] == RECORD and record["schemaVersion"] == "1.0"
    assert record["key"] == record["displayName"] == "new-checkout"
    assert record["associations"] == [
        {"associationType": "issueIdOrKeys", "values": ["10001", "10002"]}
    ]
    status = {"enabled": True, "defaultValue": "on", "rollout": {"percentage": 50.0}}
    assert record["summary"]["status"] == status
    assert record["summary"]["lastUpdated"] == "2023-11-14T22:13:20Z"  # FME's lastUpdateTime
    (detail,) = record["details"]
    assert detail["environment"] == {"name": "Production", "type": "production"}
    assert detail["status"] == status
    assert detail["url"] == record["summary"]["url"]
    assert detail["url"].endswith(
        "/ws/ws-checkout/splits/id-ws-checkout-new-checkout/env/env-prod/definition"
    )


def test_the_detail_names_the_primary_environment_and_its_type(
    linked, configured_site, fake_fme, fake_jira
):
    fake_fme.set_definition("ws-checkout", "env-stg", "new-checkout", killed=True)
    configuration.save(
        configured_site, None, [configuration.ProjectSelection("ws-checkout", "env-stg")]
    )
    tasks.resync_tenant(configured_site.id)
    run_tasks()
    record = fake_jira.flags[RECORD].data
    assert record["details"][0]["environment"] == {"name": "Staging", "type": "staging"}
    assert record["summary"]["status"]["enabled"] is False


def test_update_sequence_ids_rise_strictly(linked, configured_site, fake_jira):
    before = len(bulk_bodies(fake_jira))
    for _ in range(3):
        push_now(linked, configured_site)
        run_tasks()
    ids = [b["flags"][0]["updateSequenceId"] for b in bulk_bodies(fake_jira)]
    assert len(ids) == before + 3 and ids == sorted(set(ids))  # strictly rising
    assert fake_jira.flags[RECORD].data["updateSequenceId"] == ids[-1]


def test_every_affected_issue_gets_its_glance(linked, configured_site, fake_fme, fake_jira):
    for key in ("ABC-1", "ABC-2"):
        assert fake_jira.issue(key).properties[GLANCE] == {
            "type": "lozenge",
            "value": {"label": "new-checkout", "type": "success"},
        }
    fake_fme.set_definition("ws-checkout", "env-prod", "new-checkout", killed=True)
    tasks.refresh_project(configured_site.id, "ws-checkout")
    run_tasks()
    for key in ("ABC-1", "ABC-2"):
        assert fake_jira.issue(key).properties[GLANCE]["value"]["type"] == "removed"


def test_an_unlinked_issue_loses_the_flag_from_its_glance_and_the_record(
    linked, configured_site, fake_jira
):
    links.disconnect(configured_site, "ws-checkout", "new-checkout", "ABC-1")
    run_tasks()
    assert fake_jira.issue("ABC-1").properties[GLANCE]["value"] == {
        "label": "No flags",
        "type": "default",
    }
    assert fake_jira.issue("ABC-2").properties[GLANCE]["value"]["label"] == "new-checkout"
    assert fake_jira.flags[RECORD].data["associations"][0]["values"] == ["10002"]


def test_the_last_link_removed_deletes_the_record(linked, configured_site, fake_jira):
    for key in ("ABC-1", "ABC-2"):
        links.disconnect(configured_site, "ws-checkout", "new-checkout", key)
    run_tasks()
    assert RECORD not in fake_jira.flags
    assert [r.status for r in fake_jira.requests if r.method == "DELETE"] == [202]
    for key in ("ABC-1", "ABC-2"):
        assert fake_jira.issue(key).properties[GLANCE]["value"]["label"] == "No flags"
    db.session.refresh(linked)
    assert linked.in_jira is False and linked.synced_at >= linked.sync_requested_at


def _link_unknown_issue(site, flag) -> Issue:
    """A link to an issue Jira no longer has (deleted while the app was not listening)."""
    issue = Issue(tenant_id=site.id, jira_id="99999", key="GONE-1")
    db.session.add(issue)
    db.session.flush()
    db.session.add(
        Link(tenant_id=site.id, flag_id=flag.id, issue_id=issue.id, source=LinkSource.FME)
    )
    db.session.commit()
    return issue


def test_an_issue_unknown_to_jira_marks_its_link_and_blocks_nothing(
    linked, configured_site, fake_jira
):
    gone = _link_unknown_issue(configured_site, linked)
    fake_jira.issue("ABC-1").properties.clear()
    push_now(linked, configured_site)
    run_tasks()
    unknown = dict(db.session.execute(sa.select(Link.issue_id, Link.unknown_in_jira)).all())
    assert unknown.pop(gone.id) is True
    assert len(unknown) == 2 and not any(unknown.values())
    assert fake_jira.flags[RECORD].issue_ids == ["10001", "10002"]
    # The glance of the unknown issue fails alone, once: the others are set, nothing retries.
    assert fake_jira.issue("ABC-1").properties[GLANCE]["value"]["label"] == "new-checkout"
    assert huey.scheduled_count() == 0
    db.session.refresh(linked)
    assert linked.sync_error is None and linked.synced_at >= linked.sync_requested_at


def test_a_rejected_record_is_kept_and_retried_a_bounded_number_of_times(
    linked, configured_site, fake_jira
):
    fake_jira.reject_flag(RECORD, "nope")
    attempts = len(bulk_requests(fake_jira))
    push_now(linked, configured_site)
    started = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    run_tasks()
    db.session.refresh(linked)
    assert linked.sync_error == "nope"
    assert linked.synced_at < linked.sync_requested_at  # the reconcile will find it too
    (retry,) = huey.scheduled()
    assert retry.eta >= started + datetime.timedelta(seconds=tasks.RETRY_DELAY)
    run_tasks(include_scheduled=True)
    assert len(bulk_requests(fake_jira)) - attempts == 1 + tasks.RETRIES
    assert huey.scheduled_count() == 0


@pytest.fixture
def statements(app):
    """Every SQL statement the app's engine runs during the test."""
    seen = []

    def record(connection, cursor, statement, *args):
        seen.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(db.engine, "before_cursor_execute", record)


def test_batches_hold_at_most_100_flags(configured_site, fake_jira, statements):
    ids = many_linked_flags(configured_site, 250)
    statements.clear()
    report = push.push_flags(configured_site.id, ids)
    assert len(statements) < 20  # a handful whatever the number of flags, not some per flag
    assert [len(b["flags"]) for b in bulk_bodies(fake_jira)] == [100, 100, 50]
    assert report.sent == 250 and report.requests == 3
    assert len(fake_jira.flags) == 250
    for body in bulk_bodies(fake_jira):
        assert_valid_bulk(body)


def test_payload_too_large_splits_the_batch(configured_site, fake_jira):
    ids = many_linked_flags(configured_site, 4)
    fake_jira.fail_next(1, 413)
    report = push.push_flags(configured_site.id, ids)
    sent = [(r.status, len(r.body["flags"])) for r in bulk_requests(fake_jira)]
    assert sent == [(413, 4), (202, 2), (202, 2)]
    assert report.sent == 4 and len(fake_jira.flags) == 4


def test_a_flag_never_read_from_fme_is_not_sent_and_stays_marked(configured_site, fake_jira):
    """Jira is never told a state the app does not know (it would show the flag off)."""
    ids = many_linked_flags(configured_site, 1)
    db.session.execute(sa.delete(FlagState))
    scheduling.mark_changed(db.session.scalars(sa.select(Flag)))
    db.session.commit()
    report = push.push_flags(configured_site.id, ids)
    assert report.unread == ids and report.sent == 0 and report.issue_ids == set()
    assert bulk_bodies(fake_jira) == []
    flag = db.session.get(Flag, ids[0])
    assert flag.synced_at is None and flag.sync_requested_at is not None  # the read pushes it


def test_a_flag_not_in_the_primary_environment_is_reported_off_and_why(configured_site, fake_jira):
    ids = many_linked_flags(configured_site, 1)
    db.session.execute(sa.update(FlagState).values(defined=False))
    db.session.commit()
    push.push_flags(configured_site.id, ids)
    body = bulk_bodies(fake_jira)[-1]
    assert_valid_bulk(body)
    assert body["flags"][0]["summary"]["status"] == {
        "enabled": False,
        "rollout": {"text": "Not in Production"},
    }


def test_inactive_tenants_get_no_work(linked, configured_site, fake_jira):
    configured_site.enabled = False
    db.session.commit()
    before = len(fake_jira.requests)
    push_now(linked, configured_site)
    run_tasks()
    assert len(fake_jira.requests) == before
