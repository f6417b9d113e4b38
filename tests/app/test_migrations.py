"""Migrations alone make the schema: they must match the models and reverse cleanly."""

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from fmejira.extensions import db


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
