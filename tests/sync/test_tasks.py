"""Queue tasks under faults: rate limits honoured, retries bounded, nothing lost."""

import datetime
import os
import time

import pytest
import sqlalchemy as sa

from fmejira.extensions import db
from fmejira.models import Flag, Tenant
from fmejira.outbound import RetryPolicy
from fmejira.queue import huey
from fmejira.sync import scheduling, tasks
from tests.conftest import run_tasks
from tests.sync.conftest import bulk_bodies

RECORD = "ws-checkout.new-checkout"


@pytest.fixture
def no_client_retries(app):
    """Let the queue, not the HTTP client, handle each failure."""
    app.config["RETRY_POLICY"] = RetryPolicy(total=0, max_wait=5.0)


def change(flag, site):
    scheduling.mark_changed([flag])
    db.session.commit()
    scheduling.push_soon([flag.id], site.id)


def scheduled_etas():
    return [task.eta for task in huey.scheduled()]


def test_jira_429_waits_what_retry_after_says(
    linked, configured_site, fake_jira, no_client_retries
):
    fake_jira.fail_next(1, 429, {"Retry-After": "1"})
    pushes = len(bulk_bodies(fake_jira))
    change(linked, configured_site)
    started = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    run_tasks()
    (eta,) = scheduled_etas()
    assert eta >= started + datetime.timedelta(seconds=0.9)
    assert len(bulk_bodies(fake_jira)) == pushes  # not earlier than told
    time.sleep(1.05)
    for task in huey.read_schedule(datetime.datetime.now(datetime.UTC).replace(tzinfo=None)):
        huey.enqueue(task)
    run_tasks()
    assert len(bulk_bodies(fake_jira)) == pushes + 1


def test_jira_down_for_a_while_then_the_update_arrives(
    linked, configured_site, fake_jira, no_client_retries
):
    fake_jira.fail_next(5, 503)
    change(linked, configured_site)
    ran = run_tasks(include_scheduled=True)
    assert RECORD in fake_jira.flags
    assert ran <= 5 + 1 + 10  # five failures, the push, its glance tasks
    db.session.refresh(linked)
    assert linked.synced_at >= linked.sync_requested_at


def test_retries_are_bounded(linked, configured_site, fake_jira, no_client_retries):
    fake_jira.fail_next(100, 503)
    before = len(fake_jira.requests)
    change(linked, configured_site)
    run_tasks(include_scheduled=True)
    attempts = len(fake_jira.requests) - before
    assert attempts == 1 + tasks.RETRIES
    assert huey.scheduled_count() == 0


def test_refused_credentials_are_not_retried(linked, configured_site, fake_jira, no_client_retries):
    fake_jira.fail_next(1, 401)
    change(linked, configured_site)
    before = len(fake_jira.requests)
    run_tasks(include_scheduled=True)
    assert len(fake_jira.requests) - before == 1
    assert huey.scheduled_count() == 0


def test_fme_rate_limit_is_honoured_by_refresh_tasks(configured_site, fake_fme, no_client_retries):
    fake_fme.fail_next(
        1, 429, {"X-RateLimit-Reset-Seconds-Org": "1", "X-RateLimit-Reset-Seconds-IP": "3"}
    )
    tasks.refresh_project(configured_site.id, "ws-checkout")
    started = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
    run_tasks()
    (eta,) = scheduled_etas()
    assert eta >= started + datetime.timedelta(seconds=2.9)


def test_fme_500_is_retried_until_it_works(configured_site, fake_fme, no_client_retries):
    fake_fme.add_flag("ws-checkout", "new-checkout")
    fake_fme.fail_next(2, 500)
    tasks.refresh_project(configured_site.id, "ws-checkout")
    run_tasks(include_scheduled=True)
    assert db.session.scalar(sa.select(sa.func.count(Flag.id))) == 1


def test_a_push_lost_with_its_consumer_is_found_by_the_reconcile(
    linked, configured_site, fake_jira
):
    fake_jira.flags.clear()
    change(linked, configured_site)
    assert huey.dequeue() is not None  # the consumer took the task and died with it
    assert huey.pending_count() == 0
    linked.sync_requested_at -= datetime.timedelta(minutes=5)  # changed a while ago,
    linked.synced_at = linked.sync_requested_at - datetime.timedelta(minutes=1)  # synced before
    db.session.commit()
    tasks.reconcile.call_local()
    run_tasks()
    assert RECORD in fake_jira.flags


def test_the_reconcile_leaves_synced_flags_alone(linked, configured_site, fake_jira):
    pushes = len(bulk_bodies(fake_jira))
    tasks.reconcile.call_local()
    run_tasks()
    assert len(bulk_bodies(fake_jira)) == pushes


def test_resync_after_reinstall_sends_everything_again(linked, configured_site, fake_jira):
    fake_jira.flags.clear()  # Jira deleted the app's data on uninstall
    tasks.resync_tenant(configured_site.id, jira_was_emptied=True)
    run_tasks()
    assert RECORD in fake_jira.flags


def test_interrupted_connections_recover_by_themselves(configured_site, fake_fme):
    from fmejira.domain import configuration
    from fmejira.models import ConnectionStatus
    from fmejira.outbound import Unavailable

    connection = configuration.connection_for(configured_site)
    configuration.record_outcome(connection, Unavailable("FME", "down"))
    db.session.commit()
    tasks.reconcile.call_local()
    db.session.refresh(connection)
    assert connection.status is ConnectionStatus.AUTHORIZED


def test_refresh_due_queues_each_configured_project_once_per_interval(configured_site):
    tasks.refresh_due.call_local()
    assert huey.pending_count() == 1
    tasks.refresh_due.call_local()
    assert huey.pending_count() == 1


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL only")
def test_a_database_restart_loses_nothing(linked, configured_site, fake_jira):
    fake_jira.flags.clear()
    change(linked, configured_site)
    with db.engine.connect() as connection:
        connection.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    run_tasks()
    assert RECORD in fake_jira.flags
    db.session().invalidate()  # this test's own session lost its connection too; a new one works
    assert db.session.scalar(sa.select(sa.func.count(Tenant.id))) == 1
