"""Sync benchmark: what a full refresh and resync cost in remote calls, and how long a change in
FME takes to reach Jira through the embedded queue.

    .venv/bin/python -m bench.sync [--flags 500] [--linked 250] [--issues 500] [--runs 20]

Everything runs on this machine: the app on a SQLite file with the embedded (SQLite) queue, a
real ``flask fmejira worker`` subprocess, and the local FME and Jira fakes of the test suite.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fmejira import create_app  # noqa: E402
from fmejira.domain import configuration  # noqa: E402
from fmejira.extensions import db  # noqa: E402
from fmejira.models import Flag, Issue, Link, LinkSource, Tenant  # noqa: E402
from fmejira.sync import refresh, resync  # noqa: E402
from tests.fakes.fme_server import FakeFme  # noqa: E402
from tests.fakes.jira_server import FakeJira  # noqa: E402

APP_KEY = "fme-jira-bench"
FME_KEY = "fme-bench-key-0123456789abcdef"
WS = "ws-bench"
ENV = "env-prod"


def environment(workdir: str, fme: FakeFme) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir}/bench.sqlite3",
        "FMEJIRA_SECRET_KEY": Fernet.generate_key().decode(),
        "FMEJIRA_FME_API_URL": fme.url,
        "FMEJIRA_APP_KEY": APP_KEY,
        "APP_BASE_URL": "https://bench.example.com",
        "FMEJIRA_LOG_LEVEL": os.environ.get("FMEJIRA_LOG_LEVEL", "WARNING"),
        "FMEJIRA_INSTANCE_PATH": workdir,
    }


def build(args, env: dict, fme: FakeFme, jira: FakeJira, workdir: str):
    """Migrate, install a tenant, configure FME, and link flags to issues in the store."""
    from fmejira.schema import upgrade

    os.environ.update(env)
    app = create_app()
    with app.app_context():
        upgrade()
        tenant = Tenant(
            client_key="jira:bench", base_url=jira.url, shared_secret=jira.shared_secret
        )
        db.session.add(tenant)
        db.session.commit()
        fme.add_workspace(WS, "Bench", environments=((ENV, "Production", True),))
        fme.add_key(FME_KEY, {WS})
        for i in range(args.flags):
            fme.add_flag(WS, f"flag-{i:05d}")
        configuration.save(tenant, FME_KEY, [configuration.ProjectSelection(WS, ENV)])
        for i in range(args.issues):
            jira.add_issue(f"BEN-{i + 1}", id=str(20000 + i), summary=f"Issue {i + 1}")
        issues = [
            Issue(tenant_id=tenant.id, jira_id=str(20000 + i), key=f"BEN-{i + 1}")
            for i in range(args.issues)
        ]
        db.session.add_all(issues)
        refresh.refresh_project(tenant.id, WS)
        flags = db.session.scalars(sa.select(Flag).order_by(Flag.name)).all()
        for flag in flags:
            flag.fme_id = f"id-{flag.name}"
        db.session.flush()
        hot = flags[0]  # the flag linked to every issue; the others to one issue each
        links = [
            Link(tenant_id=tenant.id, flag_id=hot.id, issue_id=i.id, source=LinkSource.FME)
            for i in issues
        ]
        links += [
            Link(
                tenant_id=tenant.id,
                flag_id=f.id,
                issue_id=issues[n % len(issues)].id,
                source=LinkSource.FME,
            )
            for n, f in enumerate(flags[1 : args.linked])
        ]
        db.session.add_all(links)
        db.session.commit()
        secret = configuration.connection_for(tenant).webhook_secret
        return app, tenant.id, hot.name, secret


def call_counts(app, tenant_id: int, fme: FakeFme, jira: FakeJira, args) -> None:
    with app.app_context():
        before = fme.calls("definitions")
        refresh.refresh_project(tenant_id, WS)
        fme_calls = fme.calls("definitions") - before
        before = len(jira.requests)
        summary = resync.run()
        bulk = sum(1 for r in jira.requests[before:] if r.path.endswith("/bulk"))
    print(
        f"full refresh of {args.flags} flags: {fme_calls} FME calls "
        f"(ceil({args.flags}/50) = {math.ceil(args.flags / 50)})"
    )
    print(
        f"resync of {args.linked} linked flags: {bulk} bulk calls to Jira "
        f"(ceil({args.linked}/100) = {math.ceil(args.linked / 100)}); "
        f"records sent {summary.records_sent}, failures {len(summary.failures)}"
    )


def latency(app, tenant_id, flag_name, secret, fme: FakeFme, jira: FakeJira, env, workdir, runs):
    """Webhook in, worker re-reads FME and pushes: time until Jira holds the new state."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "app", "fmejira", "worker", "--workers", "2"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ.get("BENCH_WORKER_LOG", os.devnull), "w"),  # noqa: SIM115
    )
    record_id = f"{WS}.{flag_name}"
    client = app.test_client()
    samples = []
    try:
        for run in range(runs):
            killed = run % 2 == 0
            fme.set_definition(
                WS, ENV, flag_name, killed=killed, last_update_time=1_800_000_000_000 + run
            )
            started = time.monotonic()
            response = client.post(
                f"/webhooks/fme/{secret}",
                json={"name": flag_name, "type": "split", "environmentName": "Production"},
            )
            assert response.status_code == 200, response.get_data(as_text=True)
            deadline = started + 30
            while time.monotonic() < deadline:
                stored = jira.flags.get(record_id)
                if stored and stored.data["summary"]["status"]["enabled"] is (not killed):
                    break
                time.sleep(0.01)
            else:
                raise SystemExit(f"run {run}: Jira did not get the new state within 30 s")
            samples.append(time.monotonic() - started)
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    samples.sort()
    p95 = samples[max(0, math.ceil(0.95 * len(samples)) - 1)]
    print(
        f"webhook → Jira holds the new state, flag linked to every issue, {runs} runs: "
        f"median {statistics.median(samples):.3f} s, p95 {p95:.3f} s (target ≤ 2 s)"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--flags", type=int, default=500, help="flags in the FME project")
    parser.add_argument("--linked", type=int, default=250, help="flags with links")
    parser.add_argument("--issues", type=int, default=500, help="issues linked to the hot flag")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the fakes' access log
    fme, workdir = FakeFme(), tempfile.mkdtemp(prefix="fmejira-bench-")
    env = environment(workdir, fme)
    jira = FakeJira(shared_secret="bench-shared-secret-" + "s" * 40, app_key=APP_KEY)
    try:
        app, tenant_id, flag_name, secret = build(args, env, fme, jira, workdir)
        call_counts(app, tenant_id, fme, jira, args)
        latency(app, tenant_id, flag_name, secret, fme, jira, env, workdir, args.runs)
    finally:
        fme.stop()
        jira.stop()


if __name__ == "__main__":
    main()
