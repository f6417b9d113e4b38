"""Operator commands: ``flask --app app fmejira …``."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from fmejira import crypto
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
