"""Reading state from FME: one call per 50 flags, and only real changes reach Jira."""

import math

import sqlalchemy as sa

from fmejira.extensions import db
from fmejira.models import ConnectionStatus, Flag, FlagState, FmeConnection
from fmejira.queue import huey
from fmejira.sync import refresh
from tests.conftest import run_tasks
from tests.sync.conftest import bulk_bodies


def test_a_whole_environment_costs_one_call_per_50_flags(configured_site, fake_fme):
    for n in range(120):
        fake_fme.add_flag("ws-checkout", f"flag-{n:03d}")
    before = fake_fme.calls("definitions")
    report = refresh.refresh_project(configured_site.id, "ws-checkout")
    assert fake_fme.calls("definitions") - before == math.ceil(120 / 50)
    assert report.flags_read == 120
    assert db.session.scalar(sa.select(sa.func.count(FlagState.id))) == 120
    assert fake_fme.calls("definition") == 0 and fake_fme.calls("flag") == 0


def test_a_changed_linked_flag_is_pushed_and_an_unchanged_one_is_not(
    linked, configured_site, fake_fme, fake_jira
):
    pushes = len(bulk_bodies(fake_jira))
    refresh.refresh_project(configured_site.id, "ws-checkout")
    assert huey.pending_count() == 0
    fake_fme.set_definition(
        "ws-checkout", "env-prod", "new-checkout", killed=True, last_update_time=1_800_000_000_000
    )
    report = refresh.refresh_project(configured_site.id, "ws-checkout")
    assert report.changed_flag_ids == {linked.id}
    run_tasks()
    assert len(bulk_bodies(fake_jira)) == pushes + 1
    assert fake_jira.flags["ws-checkout.new-checkout"].data["summary"]["status"]["enabled"] is False


def test_unlinked_flag_changes_do_not_reach_jira(configured_site, fake_fme, fake_jira):
    fake_fme.add_flag("ws-checkout", "lonely")
    refresh.refresh_project(configured_site.id, "ws-checkout")
    fake_fme.set_definition("ws-checkout", "env-prod", "lonely", killed=True)
    refresh.refresh_project(configured_site.id, "ws-checkout")
    run_tasks()
    assert bulk_bodies(fake_jira) == []


def test_a_flag_deleted_in_fme_is_marked_and_jira_follows(
    linked, configured_site, fake_fme, fake_jira
):
    fake_fme.remove_flag("ws-checkout", "new-checkout")
    report = refresh.refresh_project(configured_site.id, "ws-checkout")
    assert report.removed == 1
    db.session.refresh(linked)
    assert linked.deleted_in_fme is True
    fake_fme.add_flag("ws-checkout", "new-checkout")
    refresh.refresh_flag(configured_site.id, "ws-checkout", "new-checkout")
    db.session.refresh(linked)
    assert linked.deleted_in_fme is False


def test_refresh_of_one_flag_reads_one_definition(linked, configured_site, fake_fme):
    fake_fme.set_definition(
        "ws-checkout",
        "env-prod",
        "new-checkout",
        rules=[
            {
                "condition": {"combiner": "AND", "matchers": []},
                "buckets": [{"treatment": "on", "size": 100}],
            }
        ]
        * 3,
    )
    before = fake_fme.calls("definition")
    refresh.refresh_flag(configured_site.id, "ws-checkout", "new-checkout")
    assert fake_fme.calls("definition") - before == 1
    state = db.session.scalar(sa.select(FlagState).where(FlagState.flag_id == linked.id))
    assert state.rollout_rules == 3 and state.rollout_percentage is None


def test_fme_failures_set_the_connection_status(configured_site, fake_fme):
    import pytest

    from fmejira.outbound import Unauthorized, Unavailable

    fake_fme.fail_next(4, 500)  # every attempt of the (test) retry policy
    with pytest.raises(Unavailable):
        refresh.refresh_project(configured_site.id, "ws-checkout")
    assert db.session.scalar(sa.select(FmeConnection.status)) is ConnectionStatus.INTERRUPTED
    refresh.refresh_project(configured_site.id, "ws-checkout")
    assert db.session.scalar(sa.select(FmeConnection.status)) is ConnectionStatus.AUTHORIZED
    fake_fme.bearer_keys.clear()
    with pytest.raises(Unauthorized):
        refresh.refresh_project(configured_site.id, "ws-checkout")
    db.session.expire_all()
    assert db.session.scalar(sa.select(FmeConnection.status)) is ConnectionStatus.NOT_AUTHORIZED


def test_a_project_no_longer_configured_is_left_alone(configured_site, fake_fme):
    assert refresh.refresh_project(configured_site.id, "ws-elsewhere").flags_read == 0
    assert db.session.scalar(sa.select(sa.func.count(Flag.id))) == 0
