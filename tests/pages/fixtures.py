"""Fixtures shared by the page tests and the browser tests: flags in FME, connected to ABC-1."""

import time
from datetime import UTC, datetime

import pytest

from fmejira.domain import links
from fmejira.models import LinkSource
from fmejira.sync import refresh

_NOW_S = int(time.time())
# When each flag was last saved in FME (whole seconds, as FME's lastUpdateTime in ms).
CHANGED_MS = {
    "new-checkout": (_NOW_S - 3 * 3600) * 1000,
    "dark-mode": (_NOW_S - 2 * 86400) * 1000,
    "search-v2": (_NOW_S - 20 * 60) * 1000,
}


def changed_iso(name: str) -> str:
    """The flag's last change as the pages write it."""
    return datetime.fromtimestamp(CHANGED_MS[name] / 1000, UTC).isoformat()


@pytest.fixture
def fme_flags(configured_site, fake_fme):
    """new-checkout (50% on), dark-mode (killed) and search-v2 (3 rules) exist in FME, read."""
    fake_fme.add_flag(
        "ws-checkout",
        "new-checkout",
        default_treatment="on",
        default_rule=[{"treatment": "on", "size": 50}, {"treatment": "off", "size": 50}],
        last_update_time=CHANGED_MS["new-checkout"],
    )
    fake_fme.add_flag(
        "ws-checkout", "dark-mode", killed=True, last_update_time=CHANGED_MS["dark-mode"]
    )
    rule = {
        "condition": {"combiner": "AND", "matchers": []},
        "buckets": [{"treatment": "on", "size": 100}],
    }
    fake_fme.add_flag(
        "ws-checkout",
        "search-v2",
        default_treatment="on",
        rules=[rule] * 3,
        last_update_time=CHANGED_MS["search-v2"],
    )
    refresh.refresh_project(configured_site.id, "ws-checkout")
    return fake_fme


@pytest.fixture
def connect_flags(configured_site, fme_flags):
    """Connects flags to ABC-1 (by name) and reads their state, as the sync would."""

    def connect(*names):
        for name in names:
            links.connect(configured_site, "ws-checkout", name, "ABC-1", source=LinkSource.JIRA)
        refresh.refresh_project(configured_site.id, "ws-checkout")

    return connect
