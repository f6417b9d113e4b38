"""Fill a database with realistic tenants, flags, issues and links for the benchmarks.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/fmejira_bench FMEJIRA_SECRET_KEY=... \\
      .venv/bin/python -m bench.generate [--scale 1] [--out bench/results]

Scale 1 is 1,000 tenants, 20,000 flags and 100,000 links; ``--scale`` multiplies all three.
The schema comes from the app's migrations (the database is emptied through them first) and the
rows go in through the models' tables in bulk (COPY on PostgreSQL), so secrets are encrypted by
the app's own column type.

Shapes: site sizes are skewed (a few big sites hold a large share of the flags and links, most
are small); each site has 1 to 3 FME projects; within a site some flags ship many issues and
most ship a few, and most issues have one or two flags; about 1 flag in 10 still has the state of
a former primary environment, 1 in 50 is deleted in FME; a few sites are uninstalled or not
configured (nobody calls the app for them: they only make the tables bigger).

Writes ``<out>/{glance_data,glance_page,fme_issues}.tsv``: one request per line (path, tab,
Authorization header), each with its own freshly signed token, for ``bench/rotate.lua``. Busy
sites get more requests than quiet ones, and 1 glance in 5 is of an issue without flags.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import logging
import math
import os
import random
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

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

TENANTS, FLAGS_PER_TENANT, LINKS_PER_TENANT = 1000, 20, 100  # at scale 1
PATHS = ("glance_data", "glance_page", "fme_issues")
ENVIRONMENTS = (("env-prod", "Production"), ("env-stg", "Staging"))
STATUSES = ("To Do", "In Progress", "In Review", "Done")
CHUNK = 10_000


def _sizes(total: int, count: int, rng: random.Random, minimum: int) -> list[int]:
    """``count`` skewed sizes (Pareto, shape 1.2) of at least ``minimum`` adding up to about
    ``total``."""
    weights = [min(rng.paretovariate(1.2), 500.0) for _ in range(count)]
    spare = max(0, total - minimum * count)
    shares = [w * spare / sum(weights) for w in weights]
    sizes = [minimum + int(share) for share in shares]
    by_remainder = sorted(range(count), key=lambda i: shares[i] - int(shares[i]), reverse=True)
    for i in by_remainder[: max(0, total - sum(sizes))]:
        sizes[i] += 1
    return sizes


def _insert(model, rows: list[dict]) -> None:
    """Bulk insert: COPY on PostgreSQL (tables without encrypted columns), else executemany."""
    if not rows:
        return
    table = model.__table__
    encrypted = any(isinstance(c.type, crypto.EncryptedText) for c in table.columns)
    if db.engine.dialect.name != "postgresql" or encrypted:
        for start in range(0, len(rows), CHUNK):
            db.session.execute(sa.insert(model), rows[start : start + CHUNK])
        return
    columns = list(rows[0])
    raw = db.session.connection().connection.dbapi_connection
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    with raw.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([_plain(row[c]) for c in columns])


def _plain(value):
    return value.value if hasattr(value, "value") and not isinstance(value, bool) else value


def _summary(rng: random.Random) -> str:
    verbs = ("Add", "Fix", "Remove", "Migrate", "Speed up", "Redesign", "Localise", "Test")
    things = (
        "checkout button",
        "payment retries",
        "search ranking",
        "onboarding emails",
        "dark mode",
        "invoice export",
        "mobile login",
        "rate limiter",
    )
    return f"{rng.choice(verbs)} {rng.choice(things)} for {rng.choice(('EU', 'US', 'APAC', 'all'))}"


def generate(scale: float, seed: int = 7) -> list[dict]:
    """Insert everything; returns per-site facts the request writer needs."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    tenants = max(1, round(TENANTS * scale))
    configured = [n == 0 or rng.random() > 0.05 for n in range(tenants)]
    flag_counts = iter(
        _sizes(round(FLAGS_PER_TENANT * TENANTS * scale), sum(configured), rng, minimum=2)
    )
    facts, tenant_rows, connection_rows, project_rows = [], [], [], []
    for n in range(tenants):
        site = f"bench-{n:06d}"
        fact = {
            "n": n,
            "id": n + 1,
            "client_key": f"{secrets.token_hex(4)}-{n:06d}-{secrets.token_hex(6)}",
            "secret": secrets.token_urlsafe(48),
            "api_key": secrets.token_hex(18),
            # Jira calls (tasks only, never the hot path) go nowhere: nothing listens on port 9.
            "base_url": f"http://127.0.0.1:9/{site}",
            "display_url": f"https://{site}.atlassian.net",
            "active": n == 0 or rng.random() > 0.03,
            "configured": configured[n],
            # deleting a configuration deletes its flags and links
            "flags": next(flag_counts) if configured[n] else 0,
        }
        fact["workspaces"] = [f"ws-{n:06d}-{w}" for w in range(rng.choice((1, 1, 1, 2, 2, 3)))]
        facts.append(fact)
        tenant_rows.append(
            {
                "id": fact["id"],
                "client_key": fact["client_key"],
                "base_url": fact["base_url"],
                "display_url": fact["display_url"],
                "product_type": "jira",
                "description": "Atlassian JIRA at " + fact["display_url"],
                "shared_secret": fact["secret"],
                "state": TenantState.INSTALLED if fact["active"] else TenantState.UNINSTALLED,
                "enabled": True,
                "installed_at": now - timedelta(days=rng.randint(1, 900)),
                "updated_at": now,
                "uninstalled_at": None if fact["active"] else now,
            }
        )
        if not fact["configured"]:
            continue
        webhook_secret = secrets.token_urlsafe(24)
        connection_rows.append(
            {
                "id": fact["id"],
                "tenant_id": fact["id"],
                "api_key": fact["api_key"],
                "api_key_hash": crypto.fingerprint(fact["api_key"]),
                "auth_scheme": AuthScheme.BEARER,
                "status": ConnectionStatus.AUTHORIZED,
                "checked_at": now,
                "webhook_secret": webhook_secret,
                "webhook_secret_hash": crypto.fingerprint(webhook_secret),
                "fme_org_id": f"org-{n:06d}" if rng.random() < 0.7 else None,
                "refreshed_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
        for ws in fact["workspaces"]:
            project_rows.append(
                {
                    "tenant_id": fact["id"],
                    "connection_id": fact["id"],
                    "workspace_id": ws,
                    "workspace_name": ws.replace("ws-", "Project "),
                    "environment_id": ENVIRONMENTS[0][0],
                    "environment_name": ENVIRONMENTS[0][1],
                    "environment_production": True,
                }
            )
    _insert(Tenant, tenant_rows)  # the encrypted columns encrypt on the way in
    _insert(FmeConnection, connection_rows)
    _insert(FmeProject, project_rows)

    flags, states, issues, links = [], [], [], []
    flag_id = issue_id = 0
    for fact in facts:
        tenant_id, f_count = fact["id"], fact["flags"]
        fact["links"] = 0
        if not f_count:
            continue
        l_count = f_count * LINKS_PER_TENANT // FLAGS_PER_TENANT
        i_count = max(1, math.ceil(l_count / 1.6))
        first_flag, first_issue = flag_id + 1, issue_id + 1
        fact["flag_names"], fact["issue_keys"] = [], []
        project_key = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3))
        for i in range(f_count):
            flag_id += 1
            workspace = fact["workspaces"][i % len(fact["workspaces"])]
            name = f"{rng.choice(('release', 'exp', 'ops', 'kill'))}_{project_key.lower()}_{i}"
            fact["flag_names"].append((workspace, name))
            flags.append(
                {
                    "id": flag_id,
                    "tenant_id": tenant_id,
                    "workspace_id": workspace,
                    "name": name,
                    "fme_id": f"{secrets.token_hex(4)}-{flag_id}",
                    "description": "Rollout of " + _summary(rng),
                    "traffic_type": rng.choice(("user", "account", "anonymous")),
                    "deleted_in_fme": rng.random() < 0.02,
                    "created_at": now - timedelta(days=rng.randint(1, 700)),
                    "synced_at": now,
                    "jira_sequence": rng.randint(1, 50),
                    "in_jira": True,
                }
            )
            for env, env_name in ENVIRONMENTS[: 2 if rng.random() < 0.1 else 1]:
                rules = rng.choice((None, None, 1, 2, 3))
                states.append(
                    {
                        "tenant_id": tenant_id,
                        "flag_id": flag_id,
                        "environment_id": env,
                        "environment_name": env_name,
                        "killed": rng.random() < 0.15,
                        "default_treatment": rng.choice(("on", "off", "v2")),
                        "rollout_percentage": None if rules else rng.choice((0, 5, 25, 50, 100)),
                        "rollout_rules": rules,
                        "last_changed_at": now - timedelta(minutes=rng.randint(1, 600_000)),
                        "read_at": now,
                    }
                )
        for i in range(i_count):
            issue_id += 1
            key = f"{project_key}-{i + 1}"
            fact["issue_keys"].append(key)
            issues.append(
                {
                    "id": issue_id,
                    "tenant_id": tenant_id,
                    "jira_id": str(10000 + i),
                    "key": key,
                    "summary": _summary(rng),
                    "status": rng.choice(STATUSES),
                    "read_at": now,
                }
            )
        # Flag popularity is skewed (a release flag ships many issues); each issue gets at
        # least one flag, the rest of the links go where popularity says.
        popularity = list(itertools.accumulate(1.0 / (r + 1) ** 0.8 for r in range(f_count)))
        pairs = set(
            zip(
                rng.choices(range(f_count), cum_weights=popularity, k=i_count),
                range(i_count),
                strict=True,
            )
        )
        for _ in range(20):  # duplicates are dropped: top up a few times
            need = l_count - len(pairs)
            if need <= 0:
                break
            flags_drawn = rng.choices(range(f_count), cum_weights=popularity, k=need)
            pairs.update((f, rng.randrange(i_count)) for f in flags_drawn)
        for f, i in sorted(pairs, key=lambda pair: (pair[1], pair[0])):
            links.append(
                {
                    "tenant_id": tenant_id,
                    "flag_id": first_flag + f,
                    "issue_id": first_issue + i,
                    "source": rng.choice((LinkSource.JIRA, LinkSource.JIRA, LinkSource.FME)),
                    "created_by": f"acct-{rng.randint(1, 500)}",
                    "created_at": now - timedelta(days=rng.randint(0, 300)),
                    "unknown_in_jira": False,
                }
            )
        fact["flag_weights"], fact["links"] = popularity, len(pairs)
    _insert(Flag, flags)
    _insert(FlagState, states)
    _insert(Issue, issues)
    _insert(Link, links)
    if db.engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
        for table in ("tenants", "fme_connections", "flags", "issues"):
            # Table names come from the tuple above, never from input.
            sequence_fix = (
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT max(id) FROM {table}))"
            )
            db.session.execute(sa.text(sequence_fix))
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    return facts


def jira_iframe_params(fact: dict, issue_key: str, issue_id: str) -> list[tuple[str, str]]:
    """The query Jira puts on a glance iframe URL: the module's own parameters and its context."""
    return [
        ("issueKey", issue_key),
        ("issueId", issue_id),
        ("xdm_e", fact["display_url"]),
        ("xdm_c", "channel-harness-fme-for-jira__fme-flags-glance"),
        ("cp", ""),
        ("xdm_deprecated_addon_key_do_not_use", "harness-fme-for-jira"),
        ("lic", "active"),
        ("cv", "1001.0.0-SNAPSHOT"),
        ("tz", "Europe/Berlin"),
        ("loc", "en-US"),
    ]


def write_requests(facts: list[dict], out: Path, count: int, seed: int = 11) -> None:
    """``count`` requests per hot path, each with its own token, busy sites more often."""
    rng = random.Random(seed)
    now = int(time.time())
    served = [f for f in facts if f["active"] and f["configured"]]
    weights = list(itertools.accumulate(f["flags"] for f in served))
    out.mkdir(parents=True, exist_ok=True)
    files = {name: (out / f"{name}.tsv").open("w") for name in PATHS}
    for n in range(count):
        f = rng.choices(served, cum_weights=weights)[0]
        if rng.random() < 0.8:
            index = rng.randrange(len(f["issue_keys"]))
            issue_key, issue_id = f["issue_keys"][index], str(10000 + index)
        else:  # an issue nobody connected a flag to
            issue_key, issue_id = f"{f['issue_keys'][0].split('-')[0]}-{900000 + n}", "99"
        claims = {
            "iss": f["client_key"],
            "iat": now,
            "exp": now + 6 * 3600,
            "sub": f"557058:{secrets.token_hex(16)}",
            "context": {},
        }
        # the glance's script calls with the page token it was handed, bound to its issue
        bound = {**claims, "qsh": CONTEXT_QSH, "fmejira": {"issueKey": issue_key}}
        token = jwt.encode(bound, f["secret"], algorithm="HS256")
        files["glance_data"].write(f"/jira/api/issues/{issue_key}/flags\tJWT {token}\n")
        params = jira_iframe_params(f, issue_key, issue_id)
        qsh = query_string_hash("GET", "/jira/glance", params)
        page_token = jwt.encode({**claims, "qsh": qsh}, f["secret"], algorithm="HS256")
        query = urlencode([*params, ("jwt", page_token)])
        files["glance_page"].write(f"/jira/glance?{query}\t\n")
        workspace, flag = rng.choices(f["flag_names"], cum_weights=f["flag_weights"])[0]
        files["fme_issues"].write(
            f"/api/v1/flags/{workspace}/{flag}/issues\tBearer {f['api_key']}\n"
        )
    for handle in files.values():
        handle.close()


@contextlib.contextmanager
def _quiet():
    """Alembic logs every migration step at INFO; the figures are what matter here."""
    logging.disable(logging.INFO)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1 = 1,000 tenants")
    parser.add_argument("--requests", type=int, default=10_000, help="requests per hot path")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    os.environ.setdefault("FMEJIRA_LOG_LEVEL", "WARNING")
    # Without FMEJIRA_SECRET_KEY the key file is made here; bench.run finds it in the same place.
    os.environ.setdefault("FMEJIRA_INSTANCE_PATH", str(args.out.resolve() / "instance"))
    app = create_app()
    with app.app_context():
        from fmejira.schema import downgrade, upgrade

        started = time.monotonic()
        with _quiet():
            upgrade()
            downgrade(revision="base")  # start empty, through the real migrations
            upgrade()
        facts = generate(args.scale, args.seed)
        counts = {
            m.__tablename__: db.session.scalar(sa.select(sa.func.count()).select_from(m))
            for m in (Tenant, FmeProject, Flag, FlagState, Issue, Link)
        }
        sizes = sorted(f["links"] for f in facts)
        print(
            f"generated {counts} in {time.monotonic() - started:.1f} s on "
            f"{db.engine.dialect.name}; links per site: median {sizes[len(sizes) // 2]}, "
            f"90th percentile {sizes[len(sizes) * 9 // 10]}, biggest {sizes[-1]}"
        )
    write_requests(facts, args.out, args.requests)
    print(f"wrote {args.requests} requests per hot path to {args.out}")


if __name__ == "__main__":
    main()
