"""Operator commands: resync with a summary, and status."""

import re

from fmejira.extensions import db
from fmejira.models import TenantState
from fmejira.queue import huey
from fmejira.sync import scheduling
from tests.conftest import run_tasks
from tests.support import make_tenant
from tests.sync.conftest import GLANCE, RECORD, bulk_bodies, bulk_requests, many_linked_flags


def invoke(app, *args):
    return app.test_cli_runner().invoke(args=["fmejira", *args])


def test_resync_reads_fme_and_sends_every_linked_flag(app, linked, fake_fme, fake_jira):
    fake_fme.add_flag("ws-checkout", "unlinked")
    fake_jira.flags.clear()
    fake_jira.issue("ABC-1").properties.clear()
    result = invoke(app, "resync")
    assert result.exit_code == 0, result.output
    assert (
        "Tenants: 1  flags read: 2  records sent: 1  deleted: 0  Jira requests: 1  failures: 0"
        in result.output
    )
    assert fake_jira.flags[RECORD].issue_ids == ["10001", "10002"]
    assert fake_jira.issue("ABC-1").properties[GLANCE]["value"]["label"] == "new-checkout"


def test_resync_costs_one_jira_call_per_100_linked_flags(app, configured_site, fake_jira):
    many_linked_flags(configured_site, 250)  # all on ABC-1
    result = invoke(app, "resync")
    assert "records sent: 250  deleted: 0  Jira requests: 3  failures: 0" in result.output
    assert len(bulk_requests(fake_jira)) == 3
    glances = [r for r in fake_jira.requests if r.method == "PUT"]
    assert len(glances) == 1  # one issue, one glance, however many batches


def test_resync_of_one_site_fails_loudly(app, linked, fake_jira):
    make_tenant("jira:other")
    fake_jira.reject_flag(RECORD, "nope")
    result = invoke(app, "resync", "--tenant", "jira:site-1")
    assert result.exit_code == 1
    assert "Tenants: 1 " in result.output and "failures: 1" in result.output
    assert re.search(r"failed: jira:site-1 flag \d+: nope", result.output)


def test_resync_reports_fme_being_down_and_still_pushes(app, linked, fake_fme, fake_jira):
    pushes = len(bulk_bodies(fake_jira))
    fake_fme.fail_next(4, 500)  # every attempt of the (test) retry policy
    result = invoke(app, "resync")
    assert result.exit_code == 1
    assert "flags read: 0  records sent: 1" in result.output and "failures: 1" in result.output
    assert "failed: jira:site-1 ws-checkout: FME: the service answered 500" in result.output
    assert len(bulk_bodies(fake_jira)) == pushes + 1


def test_status_lists_tenants_connections_queue_and_failures(app, linked, configured_site):
    make_tenant("jira:unconfigured")
    make_tenant("jira:gone", state=TenantState.UNINSTALLED)
    result = invoke(app, "status")
    assert result.exit_code == 0, result.output
    assert "Queue depth: 0" in result.output
    assert re.search(
        r"jira:site-1  installed  fme=authorized  projects=1  links=2  last_sync=\S+  "
        r"pending=0  failures=0",
        result.output,
    )
    assert "jira:unconfigured  installed  fme=unconfigured  projects=0  links=0  last_sync=-" in (
        result.output
    )
    assert "jira:gone  uninstalled" in result.output


def test_status_counts_pending_and_failed_flags(app, linked, configured_site, fake_jira):
    fake_jira.reject_flag(RECORD, "nope")
    scheduling.mark_changed([linked])
    db.session.commit()
    scheduling.push_soon([linked.id], configured_site.id)
    run_tasks()  # refused: a retry waits in the schedule
    assert huey.scheduled_count() == 1
    result = invoke(app, "status")
    assert "Queue depth: 1" in result.output
    assert "pending=1  failures=1" in result.output
