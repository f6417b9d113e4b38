"""Fill a database with realistic tenants, flags, issues and links for the benchmarks.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/fmejira_bench \\
    FMEJIRA_SECRET_KEY=... .venv/bin/python -m bench.generate --scale 1 --out bench/results

Default (scale 1): 1,000 tenants, 20,000 flags, 100,000 links. Each tenant gets an FME connection
(encrypted key), one project, 20 flags with their state, 50 issues and 100 links (each issue has
two flags). Writes ``<out>/tokens.tsv`` (one request per line for the load generator: method,
path, Authorization header) for the three hot paths.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from fmejira import create_app, crypto  # noqa: E402
from fmejira.connect.qsh import CONTEXT_QSH, query_string_hash  # noqa: E402
from fmejira.extensions import db  # noqa: E402
from fmejira.models import (  # noqa: E402
    AuthScheme,
    ConnectionStatus,
    Flag,
    FlagState,
    FmeConnection,
    FmeProject,
    Issue,
    Link,
    LinkSource,
    Tenant,
    TenantState,
)

FLAGS_PER_TENANT = 20
ISSUES_PER_TENANT = 50
LINKS_PER_TENANT = 100
CHUNK = 5_000


def _insert(model, rows: list[dict]) -> None:
    for start in range(0, len(rows), CHUNK):
        db.session.execute(sa.insert(model), rows[start : start + CHUNK])


def generate(tenants: int, seed: int = 7) -> list[dict]:
    """Insert everything; returns per-tenant facts the token writer needs."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    facts, tenant_rows, connection_rows = [], [], []
    for n in range(tenants):
        secret = secrets.token_urlsafe(32)
        api_key = f"bench-fme-key-{n:06d}-{secrets.token_hex(8)}"
        facts.append(
            {
                "client_key": f"jira:bench-{n:06d}",
                "secret": secret,
                "api_key": api_key,
                "workspace": f"ws-{n:06d}",
            }
        )
        tenant_rows.append(
            {
                "id": n + 1,
                "client_key": facts[-1]["client_key"],
                "base_url": f"https://bench-{n:06d}.atlassian.net",
                "product_type": "jira",
                "shared_secret": secret,
                "state": TenantState.INSTALLED,
                "enabled": True,
                "installed_at": now,
                "updated_at": now,
            }
        )
        connection_rows.append(
            {
                "id": n + 1,
                "tenant_id": n + 1,
                "api_key": api_key,
                "api_key_hash": crypto.fingerprint(api_key),
                "auth_scheme": AuthScheme.BEARER,
                "status": ConnectionStatus.AUTHORIZED,
                "checked_at": now,
                "webhook_secret": secrets.token_urlsafe(16),
                "webhook_secret_hash": secrets.token_hex(32),
                "created_at": now,
                "updated_at": now,
            }
        )
    _insert(Tenant, tenant_rows)  # the encrypted columns encrypt on the way in
    _insert(FmeConnection, connection_rows)
    _insert(
        FmeProject,
        [
            {
                "id": n + 1,
                "tenant_id": n + 1,
                "connection_id": n + 1,
                "workspace_id": f["workspace"],
                "workspace_name": f"Project {n}",
                "environment_id": "env-prod",
                "environment_name": "Production",
                "environment_production": True,
            }
            for n, f in enumerate(facts)
        ],
    )
    flags, states, issues, links = [], [], [], []
    for n, f in enumerate(facts):
        tenant_id = n + 1
        first_flag = n * FLAGS_PER_TENANT + 1
        first_issue = n * ISSUES_PER_TENANT + 1
        for i in range(FLAGS_PER_TENANT):
            flag_id = first_flag + i
            flags.append(
                {
                    "id": flag_id,
                    "tenant_id": tenant_id,
                    "workspace_id": f["workspace"],
                    "name": f"flag-{i:02d}",
                    "fme_id": f"id-{flag_id}",
                    "deleted_in_fme": False,
                    "created_at": now,
                    "jira_sequence": 0,
                    "in_jira": True,
                }
            )
            rules = rng.choice([None, None, 2, 3])
            states.append(
                {
                    "tenant_id": tenant_id,
                    "flag_id": flag_id,
                    "environment_id": "env-prod",
                    "environment_name": "Production",
                    "killed": rng.random() < 0.2,
                    "default_treatment": rng.choice(["on", "off"]),
                    "rollout_percentage": None if rules else rng.choice([0.0, 10.0, 50.0, 100.0]),
                    "rollout_rules": rules,
                    "last_changed_at": now - timedelta(days=rng.randint(0, 400)),
                    "read_at": now,
                }
            )
        for i in range(ISSUES_PER_TENANT):
            issues.append(
                {
                    "id": first_issue + i,
                    "tenant_id": tenant_id,
                    "jira_id": str(10000 + i),
                    "key": f"BEN-{i + 1}",
                    "summary": f"Issue {i + 1}",
                    "status": "In Progress",
                    "read_at": now,
                }
            )
        for i in range(LINKS_PER_TENANT):
            links.append(
                {
                    "tenant_id": tenant_id,
                    "flag_id": first_flag + (i % FLAGS_PER_TENANT),
                    "issue_id": first_issue + (i % ISSUES_PER_TENANT),
                    "source": LinkSource.JIRA,
                    "created_at": now,
                    "unknown_in_jira": False,
                }
            )
        f["issues"] = ISSUES_PER_TENANT
    _insert(Flag, flags)
    _insert(FlagState, states)
    _insert(Issue, issues)
    _insert(Link, links)
    if db.engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
        for table in ("tenants", "fme_connections", "fme_projects", "flags", "issues"):
            # Table names come from the tuple above, never from input.
            sequence_fix = (
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
            db.session.execute(sa.text(sequence_fix))
        db.session.execute(sa.text("ANALYZE"))
    db.session.commit()
    return facts


def write_requests(facts: list[dict], out: Path, count: int, seed: int = 11) -> None:
    """Requests with a different valid token each, for the three hot paths."""
    rng = random.Random(seed)
    now = int(time.time())
    out.mkdir(parents=True, exist_ok=True)
    files = {
        name: (out / f"{name}.tsv").open("w")
        for name in ("glance_data", "glance_page", "fme_issues")
    }
    for _ in range(count):
        f = rng.choice(facts)
        issue = f"BEN-{rng.randint(1, f['issues'])}"
        claims = {
            "iss": f["client_key"],
            "iat": now,
            "exp": now + 7200,
            "sub": f"acct-{rng.randint(1, 99)}",
        }
        token = jwt.encode({**claims, "qsh": CONTEXT_QSH}, f["secret"], algorithm="HS256")
        files["glance_data"].write(f"/jira/api/issues/{issue}/flags\tJWT {token}\n")
        path = f"/jira/glance?issueKey={issue}&issueId=1"
        qsh = query_string_hash("GET", "/jira/glance", [("issueKey", issue), ("issueId", "1")])
        page_token = jwt.encode({**claims, "qsh": qsh}, f["secret"], algorithm="HS256")
        files["glance_page"].write(f"{path}&jwt={page_token}\t\n")
        flag = f"flag-{rng.randint(0, FLAGS_PER_TENANT - 1):02d}"
        files["fme_issues"].write(
            f"/api/v1/flags/{f['workspace']}/{flag}/issues\tBearer {f['api_key']}\n"
        )
    for handle in files.values():
        handle.close()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="Fill the database for the benchmarks.")
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 1,000 tenants")
    parser.add_argument("--requests", type=int, default=10_000, help="distinct requests per path")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    tenants = max(1, int(1000 * args.scale))
    app = create_app()
    with app.app_context():
        from flask_migrate import downgrade, upgrade

        upgrade()
        downgrade(revision="base")  # start empty, through the real migrations
        upgrade()
        started = time.monotonic()
        facts = generate(tenants)
        counts = {
            m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (Tenant, Flag, Issue, Link)
        }
        print(
            f"generated {counts} in {time.monotonic() - started:.1f} s on {db.engine.dialect.name}"
        )
    write_requests(facts, args.out, args.requests)
    print(f"wrote {args.requests} requests per hot path to {args.out}")


if __name__ == "__main__":
    os.environ.setdefault("FMEJIRA_LOG_LEVEL", "WARNING")
    main()
