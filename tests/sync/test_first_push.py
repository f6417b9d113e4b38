"""The first record Jira receives for a newly connected flag carries the flag's real state.

Before, the link's push ran before anything had read the flag from FME, and Jira was told
``enabled: false, "No definition read from FME"`` for a flag that was on, until the next
periodic refresh (up to a minute for a new site, ``REFRESH_MINUTES`` after that)."""

import pytest

from fmejira.domain import configuration, links
from fmejira.models import LinkSource
from fmejira.queue import huey
from tests.conftest import FME_KEY, run_tasks
from tests.sync.conftest import bulk_bodies


@pytest.fixture
def flag_on(fake_fme):
    fake_fme.add_flag("ws-checkout", "checkout-redesign", default_treatment="on")


def first_record(fake_jira) -> dict:
    return bulk_bodies(fake_jira)[0]["flags"][0]


@pytest.mark.parametrize("source", [LinkSource.FME, LinkSource.JIRA])
def test_a_flag_connected_before_any_read_is_first_sent_with_its_state(
    configured_site, flag_on, fake_jira, source
):
    links.connect(configured_site, "ws-checkout", "checkout-redesign", "ABC-1", source=source)
    run_tasks()
    status = first_record(fake_jira)["summary"]["status"]
    assert status == {"enabled": True, "defaultValue": "on", "rollout": {"percentage": 100.0}}
    assert len(bulk_bodies(fake_jira)) == 1  # one record, not a wrong one and then the right


def test_the_first_record_waits_for_fme_when_fme_is_down(
    configured_site, flag_on, fake_fme, fake_jira, no_client_retries
):
    links.connect(configured_site, "ws-checkout", "checkout-redesign", "ABC-1", source="fme")
    fake_fme.fail_next(3, 500)
    run_tasks()
    assert bulk_bodies(fake_jira) == []  # nothing rather than a guess
    run_tasks(include_scheduled=True)  # the read's retry
    assert first_record(fake_jira)["summary"]["status"]["enabled"] is True


def test_configuring_a_site_reads_its_projects_at_once(site, fake_fme):
    configuration.save(site, FME_KEY, [configuration.ProjectSelection("ws-checkout", "env-prod")])
    assert [(t.name, t.args) for t in huey.pending()] == [
        ("refresh_project", (site.id, "ws-checkout"))
    ]


def test_a_read_that_finds_nothing_new_still_pushes_a_flag_waiting_for_its_record(
    configured_site, flag_on, fake_jira
):
    """A concurrent read stored the state but did not see the link, and the link's push ran
    before that read committed (so it sent nothing): the link's own read finds no change."""
    from fmejira.sync import refresh

    links.connect(configured_site, "ws-checkout", "checkout-redesign", "ABC-1", source="fme")
    huey.flush()  # the link's push and read: their work is played out below
    refresh.refresh_flag(configured_site.id, "ws-checkout", "checkout-redesign")
    huey.flush()  # that read's push is the one that did not happen
    refresh.refresh_flag(configured_site.id, "ws-checkout", "checkout-redesign")
    run_tasks()
    assert first_record(fake_jira)["summary"]["status"]["enabled"] is True
