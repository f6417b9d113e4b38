"""Forty-two Jira sites on one FME account connect flags at the same moment, through the FME-side
API and from Jira, with real queue consumers (the embedded SQLite queue; two consumers on Redis
with PostgreSQL). Every record each site's Jira receives tells FME's truth: the first (no record
before the flag's state is known) and the last (after FME kills a flag)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from fmejira import create_app
from fmejira.domain import configuration
from fmejira.extensions import db
from fmejira.models import Link
from fmejira.queue import huey
from tests.conftest import TEST_REDIS_URL, _settings, empty_the_store
from tests.fakes.fme_server import FakeFme
from tests.fakes.jira_server import FakeJira
from tests.reliability.workers import start_worker, stop
from tests.support import auth_header, context_jwt, make_tenant

pytestmark = pytest.mark.slow

SITES = 42
WORKSPACE = "ws-shop"
APP_KEY = "fme-jira-test"
# flag -> (enabled in Production, what the record's rollout says)
TRUTH = {
    "checkout-redesign": (True, {"percentage": 100.0}),
    "guest-saved-carts": (True, {"percentage": 50.0}),
    "promo-engine-v3": (False, {"percentage": 100.0}),
    "staging-only": (False, {"text": "Not in Production"}),
}
# (flag, issue, door): what every site connects
LINKS = [
    ("checkout-redesign", "SHOP-1", "fme"),
    ("guest-saved-carts", "SHOP-1", "fme"),
    ("promo-engine-v3", "SHOP-2", "fme"),
    ("staging-only", "SHOP-3", "fme"),
    ("checkout-redesign", "SHOP-2", "jira"),
]
ISSUE_IDS = {"SHOP-1": "20001", "SHOP-2": "20002", "SHOP-3": "20003"}
DEADLINE = 90


@pytest.fixture
def fme():
    server = FakeFme()
    server.add_workspace(
        WORKSPACE,
        "Shop",
        environments=(("env-prod", "Production", True), ("env-stg", "Staging", False)),
    )
    on = [{"treatment": "on", "size": 100}]
    half = [{"treatment": "on", "size": 50}, {"treatment": "off", "size": 50}]
    server.add_flag(WORKSPACE, "checkout-redesign", default_treatment="on", default_rule=on)
    server.add_flag(WORKSPACE, "guest-saved-carts", default_treatment="on", default_rule=half)
    server.add_flag(WORKSPACE, "promo-engine-v3", killed=True)
    server.add_flag(WORKSPACE, "staging-only", "env-stg", default_treatment="on")
    for n in range(20):  # the account's other flags, read by every refresh
        server.add_flag(WORKSPACE, f"other-flag-{n:02d}")
    yield server
    server.stop()


@pytest.fixture
def jiras():
    servers = []
    for n in range(SITES):
        server = FakeJira(shared_secret=f"site-{n:02d}-secret-" + "s" * 40, app_key=APP_KEY)
        for key, jira_id in ISSUE_IDS.items():
            server.add_issue(key, id=jira_id)
        servers.append(server)
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def app(database_url, tmp_path, fme):
    """The app as an operator runs it: its queue shared with worker processes."""
    queue_url = TEST_REDIS_URL or None
    settings = _settings(database_url, QUEUE_URL=queue_url, REDIS_URL=None, FME_API_URL=fme.url)
    app = create_app(settings, instance_path=str(tmp_path / "instance"))
    with app.app_context():
        huey.flush()
        yield app
        huey.flush()
        empty_the_store()
    if queue_url is None:
        huey.storage.close()  # the next app binds the queue to its own storage


def _connect(app, jira_auth: dict, key: str, flag: str, issue: str, door: str) -> int:
    """One connect as a person makes it: from FME with the site's key, or from Jira."""
    client = app.test_client()
    if door == "fme":
        response = client.post(
            f"/api/v1/flags/{WORKSPACE}/{flag}/issues",
            headers={"Authorization": f"Bearer {key}"},
            json={"issueKey": issue},
        )
    else:
        response = client.post(
            f"/jira/api/issues/{issue}/flags",
            headers=jira_auth,
            json={"workspaceId": WORKSPACE, "flagName": flag},
        )
    return response.status_code


def _records(jira: FakeJira) -> dict[str, list[dict]]:
    """Every flag record the site received, per flag, in the order Jira took them."""
    received: dict[str, list[dict]] = {}
    for request in list(jira.requests):
        if request.path.endswith("/featureflags/0.1/bulk") and request.status == 202:
            for record in request.body["flags"]:
                received.setdefault(record["key"], []).append(record)
    return received


def _untrue(record: dict, enabled: bool) -> str | None:
    status = record["summary"]["status"]
    expected = (enabled, TRUTH[record["key"]][1])
    if (status["enabled"], status["rollout"]) != expected:
        return f"{record['key']}: {status} (seq {record['updateSequenceId']})"
    return None


def _untold(jiras, expected_enabled) -> list[str]:
    """What some site's Jira does not hold yet (or holds wrongly), at most a few lines."""
    problems = []
    for jira in jiras:
        for flag, enabled in expected_enabled.items():
            stored = jira.flags.get(f"{WORKSPACE}.{flag}")
            issues = sorted(ISSUE_IDS[issue] for name, issue, _ in LINKS if name == flag)
            if stored is None:
                problem = "no record"
            elif stored.issue_ids != issues:
                problem = f"issues {stored.issue_ids}, not {issues}"
            else:
                problem = _untrue(stored.data, enabled)
            if problem:
                problems.append(f"{jira.url} {flag}: {problem}")
    return problems[:5]


def _wait_until_told(jiras, expected_enabled, workers, log_path) -> float:
    started = time.monotonic()
    while problems := _untold(jiras, expected_enabled):
        for worker in workers:
            assert worker.poll() is None, log_path.read_text()[-4000:]
        assert time.monotonic() - started < DEADLINE, problems
        time.sleep(0.2)
    return time.monotonic() - started


def test_every_site_is_told_only_the_truth(app, fme, jiras, tmp_path):
    sites = []
    for n, jira in enumerate(jiras):
        site = make_tenant(
            f"jira:site-{n:02d}", base_url=jira.url, shared_secret=jira.shared_secret
        )
        key = f"fme-admin-key-site-{n:02d}-" + "k" * 20
        fme.add_key(key, {WORKSPACE})
        configuration.save(site, key, [configuration.ProjectSelection(WORKSPACE, "env-prod")])
        sites.append((site, key))
    signed = [(auth_header(context_jwt(site, sub="account-7")), key) for site, key in sites]
    log_path = tmp_path / "workers.log"
    workers = [start_worker(app, log_path) for _ in range(2 if TEST_REDIS_URL else 1)]
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:  # every site at once, links interleaved
            calls = [
                pool.submit(_connect, app, jira_auth, key, flag, issue, door)
                for flag, issue, door in LINKS
                for jira_auth, key in signed
            ]
            assert {call.result() for call in calls} == {201}
        truth = {flag: enabled for flag, (enabled, _) in TRUTH.items()}
        _wait_until_told(jiras, truth, workers, log_path)

        for jira in jiras:
            received = _records(jira)
            assert sorted(received) == sorted(TRUTH)  # nothing for flags nobody linked
            for flag, records in received.items():
                untrue = [_untrue(record, truth[flag]) for record in records]
                assert [u for u in untrue if u] == [], f"{jira.url} was told an untruth"
            assert jira.flags[f"{WORKSPACE}.checkout-redesign"].issue_ids == ["20001", "20002"]
            assert len(jira.flags) == len(TRUTH)
        assert db.session.scalar(sa.select(sa.func.count(Link.id))) == SITES * len(LINKS)

        # FME kills a flag; its webhook reaches every site: each site's last record says so
        fme.set_definition(WORKSPACE, "env-prod", "checkout-redesign", killed=True)
        client = app.test_client()
        for site, _ in sites:
            secret = configuration.connection_for(site).webhook_secret
            delivery = {
                "name": "checkout-redesign",
                "type": "split",
                "environmentName": "Production",
            }
            assert client.post(f"/webhooks/fme/{secret}", json=delivery).json == {"queued": 1}
        killed = {**truth, "checkout-redesign": False}
        _wait_until_told(jiras, killed, workers, log_path)
        for jira in jiras:
            last = _records(jira)["checkout-redesign"][-1]
            assert _untrue(last, False) is None
    finally:
        for worker in workers:
            stop(worker)
