"""Operator commands: resync with a summary, and status."""

from tests.sync.conftest import bulk_bodies


def test_resync_prints_a_summary(app, linked, fake_jira):
    pushes = len(bulk_bodies(fake_jira))
    result = app.test_cli_runner().invoke(args=["fmejira", "resync"])
    assert result.exit_code == 0, result.output
    assert "flags read: 1" in result.output and "records sent: 1" in result.output
    assert "failures: 0" in result.output
    assert len(bulk_bodies(fake_jira)) == pushes + 1


def test_resync_fails_loudly(app, linked, fake_jira):
    fake_jira.reject_flag("ws-checkout.new-checkout", "nope")
    result = app.test_cli_runner().invoke(args=["fmejira", "resync", "--tenant", "jira:site-1"])
    assert result.exit_code == 1
    assert "failures: 1" in result.output


def test_status_lists_tenants_and_the_queue(app, linked):
    result = app.test_cli_runner().invoke(args=["fmejira", "status"])
    assert result.exit_code == 0, result.output
    assert "Queue depth: 0" in result.output
    assert "jira:site-1  installed  fme=authorized  projects=1  links=2" in result.output
    assert "pending=0  failures=0" in result.output
