"""Queue tasks under faults: rate limits honoured, retries bounded, nothing lost."""

import datetime
import os

import pytest
import sqlalchemy as sa

from fmejira.domain import configuration
from fmejira.extensions import db
from fmejira.models import ConnectionStatus, Flag, FmeConnection, Tenant
from fmejira.outbound import Unavailable
from fmejira.queue import huey
from fmejira.sync import scheduling, tasks
from tests.conftest import BASE_URL, run_tasks
from tests.fakes.connect_keys import install_token
from tests.support import auth_header
from tests.sync.conftest import GLANCE, RECORD, bulk_bodies, bulk_requests


def push_now(flag, site):
    scheduling.mark_changed([flag])
    db.session.commit()
    scheduling.push_soon([flag.id], site.id)


def utcnow():
    """Huey's clock: naive UTC."""
    return datetime.datetime.now(datetime.UTC).replace(tzinfo=None)


def release_scheduled(until: datetime.datetime) -> int:
    """Move the clock to ``until``: the tasks due by then are queued to run now."""
    due = huey.read_schedule(until)
    for task in due:
        task.eta = None
        huey.enqueue(task)
    return len(due)


def age(flag, minutes: int = 5) -> None:
    """Make the flag's pending change older than the reconcile's grace period."""
    flag.sync_requested_at -= datetime.timedelta(minutes=minutes)
    if flag.synced_at is not None:
        flag.synced_at = flag.sync_requested_at - datetime.timedelta(minutes=1)
    db.session.commit()


def test_jira_429_is_retried_no_earlier_than_retry_after(
    linked, configured_site, fake_jira, no_client_retries
):
    fake_jira.fail_next(1, 429, {"Retry-After": "2"})
    attempts = len(bulk_requests(fake_jira))
    push_now(linked, configured_site)
    started = utcnow()
    run_tasks()
    (retry,) = huey.scheduled()
    assert retry.eta >= started + datetime.timedelta(seconds=2)
    assert release_scheduled(retry.eta - datetime.timedelta(milliseconds=1)) == 0
    assert len(bulk_requests(fake_jira)) == attempts + 1  # the refused attempt, nothing since
    assert release_scheduled(retry.eta) == 1
    run_tasks()
    assert [r.status for r in bulk_requests(fake_jira)][attempts:] == [429, 202]
    assert retry.retries == tasks.RETRIES - 1  # a rate limit spends a retry too


def test_jira_down_for_a_while_the_update_arrives_with_backoff(
    linked, configured_site, fake_jira, no_client_retries
):
    fake_jira.fail_next(5, 503)
    attempts = len(bulk_requests(fake_jira))
    push_now(linked, configured_site)
    delays = []
    for _ in range(5):
        before = utcnow()
        run_tasks()
        (retry,) = huey.scheduled()
        delays.append((retry.eta - before).total_seconds())
        release_scheduled(retry.eta)
    run_tasks()
    assert [round(d) for d in delays] == [5, 10, 20, 40, 80]
    assert [r.status for r in bulk_requests(fake_jira)][attempts:] == [503] * 5 + [202]
    assert fake_jira.flags[RECORD].data == bulk_bodies(fake_jira)[-1]["flags"][0]
    db.session.refresh(linked)
    assert linked.synced_at >= linked.sync_requested_at


def test_retries_are_bounded(linked, configured_site, fake_jira, no_client_retries):
    fake_jira.fail_next(100, 503)
    attempts = len(bulk_requests(fake_jira))
    push_now(linked, configured_site)
    run_tasks(include_scheduled=True)
    assert len(bulk_requests(fake_jira)) - attempts == 1 + tasks.RETRIES
    assert huey.scheduled_count() == huey.pending_count() == 0


def test_jira_refusing_the_credentials_is_not_retried(
    linked, configured_site, fake_jira, no_client_retries
):
    fake_jira.fail_next(1, 401)
    push_now(linked, configured_site)
    before = len(fake_jira.requests)
    run_tasks(include_scheduled=True)
    assert len(fake_jira.requests) - before == 1
    assert huey.scheduled_count() == 0


def test_fme_refusing_the_key_gives_up_and_says_not_authorized(
    configured_site, fake_fme, no_client_retries
):
    fake_fme.bearer_keys.clear()  # the key was revoked in FME
    tasks.refresh_project(configured_site.id, "ws-checkout")
    assert run_tasks(include_scheduled=True) == 1
    assert fake_fme.calls("definitions") == 1
    connection = db.session.scalar(sa.select(FmeConnection))
    assert connection.status is ConnectionStatus.NOT_AUTHORIZED
    tasks.refresh_due.call_local()  # the periodic refresh leaves it alone until a new key
    assert huey.pending_count() == 0


def test_fme_429_waits_for_the_larger_reset(configured_site, fake_fme, no_client_retries):
    fake_fme.add_flag("ws-checkout", "new-checkout")
    fake_fme.fail_next(
        1, 429, {"X-RateLimit-Reset-Seconds-Org": "1", "X-RateLimit-Reset-Seconds-IP": "3"}
    )
    tasks.refresh_project(configured_site.id, "ws-checkout")
    started = utcnow()
    run_tasks()
    (retry,) = huey.scheduled()
    assert retry.eta >= started + datetime.timedelta(seconds=3)
    assert db.session.scalar(sa.select(FmeConnection.status)) is ConnectionStatus.INTERRUPTED
    release_scheduled(retry.eta)
    run_tasks()
    assert db.session.scalar(sa.select(sa.func.count(Flag.id))) == 1
    assert db.session.scalar(sa.select(FmeConnection.status)) is ConnectionStatus.AUTHORIZED


def test_fme_500_is_retried_until_it_works(configured_site, fake_fme, no_client_retries):
    fake_fme.add_flag("ws-checkout", "new-checkout")
    fake_fme.fail_next(2, 500)
    tasks.refresh_project(configured_site.id, "ws-checkout")
    assert run_tasks(include_scheduled=True) == 3
    assert fake_fme.calls("definitions") == 3
    assert db.session.scalar(sa.select(sa.func.count(Flag.id))) == 1


def test_a_push_lost_with_its_consumer_is_found_by_the_reconcile(
    linked, configured_site, fake_jira
):
    fake_jira.flags.clear()
    push_now(linked, configured_site)
    assert huey.dequeue() is not None  # a consumer took the task and died with it
    assert huey.pending_count() == huey.scheduled_count() == 0
    tasks.reconcile.call_local()
    assert huey.pending_count() == 0  # a change this fresh may still be on its way
    age(linked)
    tasks.reconcile.call_local()
    run_tasks()
    assert RECORD in fake_jira.flags
    db.session.refresh(linked)
    assert linked.synced_at >= linked.sync_requested_at


def test_the_reconcile_leaves_synced_flags_alone(linked, configured_site, fake_jira):
    pushes = len(bulk_bodies(fake_jira))
    tasks.reconcile.call_local()
    assert run_tasks() == 0
    assert len(bulk_bodies(fake_jira)) == pushes


def test_the_reconcile_adds_no_push_while_one_waits_for_its_retry(
    linked, configured_site, fake_jira, no_client_retries
):
    fake_jira.fail_next(1 + tasks.RETRIES, 503)
    push_now(linked, configured_site)
    run_tasks()
    age(linked)
    for _ in range(3):  # three minutes of Jira being down
        tasks.reconcile.call_local()
    assert (huey.pending_count(), huey.scheduled_count()) == (0, 1)
    run_tasks(include_scheduled=True)  # the push runs out of retries
    tasks.reconcile.call_local()  # so the reconcile takes over, once
    assert huey.pending_count() == 1
    run_tasks()
    assert RECORD in fake_jira.flags


def _lifecycle(client, key_server, event: str, fake_jira):
    path = f"/lifecycle/{event}"
    token = install_token(
        key_server.private_key, key_server.kid, client_key="jira:site-1", aud=[BASE_URL], path=path
    )
    body = {
        "key": "fme-jira-test",
        "clientKey": "jira:site-1",
        "sharedSecret": fake_jira.shared_secret,
        "baseUrl": fake_jira.url,
        "productType": "jira",
        "eventType": event,
    }
    assert client.post(path, json=body, headers=auth_header(token)).status_code == 204


def test_a_reinstall_sends_everything_again(
    connect_app, client, key_server, linked, configured_site, fake_jira
):
    _lifecycle(client, key_server, "uninstalled", fake_jira)
    fake_jira.flags.clear()  # Jira deletes what the app sent when it is uninstalled
    for key in ("ABC-1", "ABC-2"):
        fake_jira.issue(key).properties.clear()
    _lifecycle(client, key_server, "installed", fake_jira)
    run_tasks()
    assert fake_jira.flags[RECORD].issue_ids == ["10001", "10002"]
    for key in ("ABC-1", "ABC-2"):
        assert fake_jira.issue(key).properties[GLANCE]["value"]["label"] == "new-checkout"


def test_interrupted_connections_recover_by_themselves(configured_site, fake_fme):
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
def test_the_database_dropping_every_connection_loses_nothing(
    linked, configured_site, fake_jira, database_url
):
    """As after a restart of PostgreSQL: every pooled connection of the app is dead."""
    fake_jira.flags.clear()
    push_now(linked, configured_site)
    db.session.remove()  # its connection goes back to the pool, where the restart kills it
    assert db.engine.pool.checkedin() >= 1
    killer = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    with killer.connect() as connection:
        killed = connection.execute(
            sa.text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    killer.dispose()
    assert killed >= 1
    run_tasks()
    assert RECORD in fake_jira.flags
    db.session.remove()  # the test's own session lost its connection too; a new one works
    assert db.session.scalar(sa.select(sa.func.count(Tenant.id))) == 1
