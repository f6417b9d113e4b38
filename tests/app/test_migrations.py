"""Migrations alone make the schema: they must match the models and reverse cleanly."""

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.fernet import Fernet

from fmejira import schema
from fmejira.extensions import db
from fmejira.schema import downgrade, upgrade

ROOT = Path(__file__).resolve().parents[2]


def _tables() -> set[str]:
    return set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}


def test_upgrade_downgrade_upgrade(app):
    db.session.remove()
    assert "tenants" in _tables()
    downgrade(revision="base")
    assert _tables() == set()
    upgrade()
    assert _tables() == set(db.metadata.tables)


def test_models_and_migrations_agree(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_migrating_in_the_app_keeps_its_logging(app, caplog):
    """``fmejira serve`` migrates in the serving process: its loggers must still speak after."""
    import logging

    logger = logging.getLogger("fmejira.some_module")
    upgrade()
    logger.warning("still heard")
    assert not logger.disabled
    assert "still heard" in caplog.text


def test_the_flask_db_commands_are_flask_migrate_s(app):
    """Bound when a command line asks for them, with the group's own options."""
    assert "migrate" not in app.extensions
    result = app.test_cli_runner().invoke(args=["db", "--directory", schema.DIRECTORY, "heads"])
    assert result.exit_code == 0, result.output  # Alembic prints to the real stdout
    assert "migrate" in app.extensions
    listing = app.test_cli_runner().invoke(args=["db", "--help"])
    assert "upgrade" in listing.output and "downgrade" in listing.output


def test_serving_the_app_does_not_import_the_migration_tools():
    """A web worker never migrates; Flask-Migrate and Alembic would cost each one 12 MB."""
    code = (
        "import sys, app; "
        "print(sorted(m for m in ('flask_migrate', 'alembic', 'mako') if m in sys.modules))"
    )
    env = {
        **os.environ,
        "DATABASE_URL": "sqlite://",
        "FMEJIRA_SECRET_KEY": Fernet.generate_key().decode(),
    }
    out = subprocess.run(  # noqa: S603 (our own interpreter)
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]", out.stderr
