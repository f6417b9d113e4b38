"""The schema's migrations (Flask-Migrate, on Alembic), bound to the app when first used.

A web worker never migrates, and importing Flask-Migrate (with Alembic, Mako and Pygments) would
cost each one 12 MB of its memory (bench/README.md): ``flask db …``, :func:`upgrade` and
:func:`downgrade` import it when they run.
"""

from __future__ import annotations

import os

import click
from flask import Flask, current_app
from flask.cli import ScriptInfo

DIRECTORY = os.path.join(os.path.dirname(__file__), "..", "migrations")


def bind(app: Flask) -> None:
    """Flask-Migrate's extension on ``app``, as its ``flask db`` commands expect it."""
    if "migrate" not in app.extensions:
        from flask_migrate import Migrate

        from fmejira.extensions import db

        Migrate(app, db, directory=DIRECTORY)


def upgrade(revision: str = "head") -> None:
    """Migrate the app's database up to ``revision`` (in an app context)."""
    bind(current_app)
    from flask_migrate import upgrade as run

    run(revision=revision)


def downgrade(revision: str = "-1") -> None:
    """Migrate the app's database down to ``revision`` (in an app context)."""
    bind(current_app)
    from flask_migrate import downgrade as run

    run(revision=revision)


class MigrationCommands(click.Group):
    """``flask db …``: Flask-Migrate's own group (its options, and its commands), imported when
    a command line names it."""

    def _flask_migrate(self, ctx: click.Context) -> click.Group:
        bind(ctx.ensure_object(ScriptInfo).load_app())
        from flask_migrate.cli import db

        self.params, self.callback = db.params, db.callback
        return db

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        self._flask_migrate(ctx)
        return super().parse_args(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._flask_migrate(ctx).list_commands(ctx)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return self._flask_migrate(ctx).get_command(ctx, name)


def init_migration_commands(app: Flask) -> None:
    app.cli.add_command(MigrationCommands("db", help="Migrate the database (Flask-Migrate)."))
