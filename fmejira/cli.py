"""Operator commands: ``flask --app app fmejira …``."""

from __future__ import annotations

import subprocess
import sys

import click
from flask import current_app
from flask.cli import AppGroup, ScriptInfo
from werkzeug.serving import run_simple

from fmejira import crypto, schema
from fmejira.extensions import db

fmejira_cli = AppGroup("fmejira", help="Operate Harness FME for Jira.")


@fmejira_cli.command("rotate-keys")
@click.option(
    "--generate",
    is_flag=True,
    help="Embedded default only: add a new key to the instance key file first, "
    "and drop the old ones once every secret is re-encrypted.",
)
def rotate_keys(generate: bool) -> None:
    """Re-encrypt every stored secret under the primary (first) encryption key.

    With FMEJIRA_SECRET_KEY: put the new key first ("new,old"), run this, then remove "old".
    """
    instance = current_app.instance_path
    if generate:
        if current_app.config["SECRET_KEY_MATERIAL"]:
            raise click.UsageError(
                "--generate is for the instance key file; FMEJIRA_SECRET_KEY is set."
            )
        crypto.prepend_key_file(instance)
        crypto.init_box(crypto.SecretBox(crypto.load_or_create_keys(None, instance)))
    count = crypto.rotate_all(db.session, db.metadata)
    db.session.commit()
    if generate:
        crypto.trim_key_file(instance)
    click.echo(f"Re-encrypted {count} secret(s) under the primary key.")


@fmejira_cli.command("worker")
@click.option(
    "--workers", default=4, show_default=True, help="Worker threads (the work waits on I/O)."
)
def worker(workers: int) -> None:
    """Run a queue consumer (any number of machines may run one when REDIS_URL is set)."""
    from fmejira.queue import huey
    from fmejira.sync import forget, tasks  # noqa: F401  (registers the tasks)

    # Idle polling (SQLite queue) backs off to at most 0.25 s, so a change waits at most that
    # long for a worker; Redis consumers block on the queue instead of polling.
    huey.create_consumer(
        workers=workers, worker_type="thread", initial_delay=0.05, backoff=1.5, max_delay=0.25
    ).run()


@fmejira_cli.command("resync")
@click.option("--tenant", "client_key", help="Only this Jira site (its clientKey).")
def resync(client_key: str | None) -> None:
    """Re-read every configured project from FME and push every linked flag to Jira, now."""
    from fmejira.sync import resync as resync_module

    summary = resync_module.run(client_key, progress=click.progressbar)
    click.echo(
        f"Tenants: {summary.tenants}  flags read: {summary.flags_read}  "
        f"records sent: {summary.records_sent}  deleted: {summary.records_deleted}  "
        f"Jira requests: {summary.jira_requests}  failures: {len(summary.failures)}"
    )
    for failure in summary.failures:
        click.echo(f"  failed: {failure}", err=True)
    if summary.failures:
        raise SystemExit(1)


@fmejira_cli.command("status")
def status() -> None:
    """Tenants, their FME connection, queue depth, last sync and failures; each site's
    door(s), its Forge system token's end and Forge's last call."""
    import sqlalchemy as sa

    from fmejira.forge.installations import doors_of
    from fmejira.models import Tenant
    from fmejira.sync import resync as resync_module

    report = resync_module.status_report()
    doors = {t.client_key: doors_of(t) for t in db.session.scalars(sa.select(Tenant))}
    click.echo(f"Queue depth: {report['queue_depth']}")
    for row in report["tenants"]:
        door = doors[row["client_key"]]
        click.echo(
            f"{row['client_key']}  {row['state']}  fme={row['connection']}  "
            f"projects={row['projects']}  links={row['links']}  "
            f"last_sync={row['last_sync'] or '-'}  pending={row['pending']}  "
            f"failures={row['failures']}  doors={door['doors']}  "
            f"token_until={door['token_until']}  forge_call={door['forge_call']}"
        )


@fmejira_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
def serve(host: str, port: int) -> None:
    """Run everything on one machine: migrate the schema, start a queue consumer, serve."""
    schema.upgrade()
    import_path = click.get_current_context().find_object(ScriptInfo).app_import_path or "app"
    consumer = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-m", "flask", "--app", import_path, "fmejira", "worker"]
    )
    try:
        run_simple(host, port, current_app._get_current_object(), threaded=True)
    finally:
        consumer.terminate()
        consumer.wait(timeout=10)
