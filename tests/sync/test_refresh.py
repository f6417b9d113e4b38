"""Reading state from FME: one call per 50 flags, and only real changes reach Jira."""

import datetime
import math

import pytest
import sqlalchemy as sa

from fmejira.domain import links
from fmejira.extensions import db
from fmejira.models import ConnectionStatus, Flag, FlagState, FmeConnection, LinkSource
from fmejira.outbound import Unauthorized, Unavailable
from fmejira.queue import huey
from fmejira.sync import refresh
from tests.conftest import run_tasks
from tests.sync.conftest import GLANCE, RECORD, bulk_bodies


def state_of(name: str) -> FlagState:
    return db.session.scalar(sa.select(FlagState).join(Flag).where(Flag.name == name))


@pytest.mark.parametrize("count", [0, 49, 50, 51, 120])
def test_a_whole_environment_costs_one_call_per_50_flags(configured_site, fake_fme, count):
    for n in range(count):
        fake_fme.add_flag("ws-checkout", f"flag-{n:03d}")
    before = fake_fme.counts.copy()
    report = refresh.refresh_project(configured_site.id, "ws-checkout")
    assert fake_fme.counts - before == {"definitions": max(1, math.ceil(count / 50))}
    assert report.flags_read == count
    assert db.session.scalar(sa.select(sa.func.count(FlagState.id))) == count


def test_the_summary_of_each_definition_is_stored(configured_site, fake_fme):
    fake_fme.add_flag(
        "ws-checkout",
        "split-test",
        default_treatment="on",
        default_rule=[{"treatment": "on", "size": 30}, {"treatment": "off", "size": 70}],
        last_update_time=1_800_000_000_000,
    )
    fake_fme.add_flag("ws-checkout", "targeted", killed=True, rules=[{"buckets": []}] * 2)
    refresh.refresh_project(configured_site.id, "ws-checkout")
    split = state_of("split-test")
    assert (split.environment_id, split.environment_name) == ("env-prod", "Production")
    assert split.killed is False and split.default_treatment == "on"
    assert (split.rollout_percentage, split.rollout_rules) == (30.0, None)
    changed = split.last_changed_at.replace(tzinfo=datetime.UTC)
    assert changed == datetime.datetime.fromtimestamp(1_800_000_000, datetime.UTC)
    targeted = state_of("targeted")
    assert targeted.killed is True
    assert (targeted.rollout_percentage, targeted.rollout_rules) == (None, 2)


def test_a_changed_linked_flag_is_pushed_and_an_unchanged_one_is_not(
    linked, configured_site, fake_fme, fake_jira
):
    pushes = len(bulk_bodies(fake_jira))
    refresh.refresh_project(configured_site.id, "ws-checkout")
    refresh.refresh_flag(configured_site.id, "ws-checkout", "new-checkout")
    assert huey.pending_count() == 0
    fake_fme.set_definition(
        "ws-checkout", "env-prod", "new-checkout", killed=True, last_update_time=1_800_000_000_000
    )
    report = refresh.refresh_project(configured_site.id, "ws-checkout")
    assert report.changed_flag_ids == {linked.id}
    run_tasks()
    assert len(bulk_bodies(fake_jira)) == pushes + 1
    record = fake_jira.flags[RECORD].data
    assert record["summary"]["status"]["enabled"] is False
    assert record["summary"]["lastUpdated"] == "2027-01-15T08:00:00Z"


def test_unlinked_flag_changes_do_not_reach_jira(configured_site, fake_fme, fake_jira):
    fake_fme.add_flag("ws-checkout", "lonely")
    refresh.refresh_project(configured_site.id, "ws-checkout")
    fake_fme.set_definition("ws-checkout", "env-prod", "lonely", killed=True)
    refresh.refresh_project(configured_site.id, "ws-checkout")
    run_tasks()
    assert state_of("lonely").killed is True
    assert bulk_bodies(fake_jira) == []


def test_a_flag_deleted_in_fme_is_marked_and_jira_says_so(
    linked, configured_site, fake_fme, fake_jira
):
    fake_fme.remove_flag("ws-checkout", "new-checkout")
    report = refresh.refresh_project(configured_site.id, "ws-checkout")
    assert report.removed == 1
    db.session.refresh(linked)
    assert linked.deleted_in_fme is True
    run_tasks()
    assert fake_jira.flags[RECORD].data["summary"]["status"] == {
        "enabled": False,
        "rollout": {"text": "Deleted in FME"},
    }
    assert fake_jira.issue("ABC-1").properties[GLANCE]["value"]["type"] == "removed"

    fake_fme.add_flag("ws-checkout", "new-checkout")  # created again
    refresh.refresh_flag(configured_site.id, "ws-checkout", "new-checkout")
    run_tasks()
    db.session.refresh(linked)
    assert linked.deleted_in_fme is False
    assert fake_jira.flags[RECORD].data["summary"]["status"]["defaultValue"] == "off"


def test_a_linked_flag_not_yet_defined_in_the_primary_environment_is_not_deleted(
    configured_site, fake_fme, fake_jira
):
    fake_fme.add_flag("ws-checkout", "brand-new", env_id="env-stg")  # not in Production yet
    links.connect(configured_site, "ws-checkout", "brand-new", "ABC-1", source=LinkSource.FME)
    refresh.refresh_project(configured_site.id, "ws-checkout")
    refresh.refresh_flag(configured_site.id, "ws-checkout", "brand-new")
    run_tasks()
    assert db.session.scalar(sa.select(Flag.deleted_in_fme)) is False
    assert fake_jira.flags["ws-checkout.brand-new"].data["summary"]["status"]["rollout"] == {
        "text": "Not in Production"
    }
    calls = fake_fme.calls("flag")
    refresh.refresh_project(configured_site.id, "ws-checkout")
    assert fake_fme.calls("flag") == calls  # known not to be there: no call per refresh

    fake_fme.set_definition("ws-checkout", "env-prod", "brand-new", default_treatment="on")
    refresh.refresh_project(configured_site.id, "ws-checkout")
    run_tasks()
    status = fake_jira.flags["ws-checkout.brand-new"].data["summary"]["status"]
    assert status == {"enabled": True, "defaultValue": "on", "rollout": {"percentage": 100.0}}


def test_a_definition_removed_from_the_primary_environment_is_recorded_as_not_there(
    linked, configured_site, fake_fme, fake_jira
):
    del fake_fme.definitions[("ws-checkout", "env-prod")]["new-checkout"]
    report = refresh.refresh_project(configured_site.id, "ws-checkout")
    assert report.removed == 0 and report.changed_flag_ids == {linked.id}
    assert fake_fme.calls("flag") == 2  # one when linking, one to tell removal from deletion
    run_tasks()
    db.session.refresh(linked)
    assert linked.deleted_in_fme is False
    assert [(s.environment_id, s.defined) for s in linked.states] == [("env-prod", False)]
    assert fake_jira.flags[RECORD].data["summary"]["status"] == {
        "enabled": False,
        "rollout": {"text": "Not in Production"},
    }


def test_refresh_of_one_flag_reads_one_definition(linked, configured_site, fake_fme, fake_jira):
    fake_fme.set_definition(
        "ws-checkout",
        "env-prod",
        "new-checkout",
        rules=[{"condition": {"combiner": "AND", "matchers": []}, "buckets": []}] * 3,
    )
    before = fake_fme.counts.copy()
    report = refresh.refresh_flag(configured_site.id, "ws-checkout", "new-checkout")
    assert fake_fme.counts - before == {"definition": 1}
    assert report.flags_read == 1 and report.changed_flag_ids == {linked.id}
    state = state_of("new-checkout")
    assert state.rollout_rules == 3 and state.rollout_percentage is None
    run_tasks()
    assert fake_jira.flags[RECORD].data["summary"]["status"]["rollout"] == {"rules": 3}


def test_fme_failures_set_the_connection_status(configured_site, fake_fme):
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
    assert fake_fme.calls("definitions") == 0
