"""Fixtures: an app on a migrated database (SQLite by default, PostgreSQL with
``TEST_DATABASE_URL``), emptied after every test, and local stand-ins for remote services."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask_migrate import upgrade

from fmejira import create_app
from fmejira.extensions import db
from tests.fakes.connect_keys import FakeKeyServer
from tests.support import register_probe_routes

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
BASE_URL = "https://fme-jira.example.com"


def _settings(database_url: str, **extra) -> dict:
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "APP_BASE_URL": BASE_URL,
        "APP_KEY": "fme-jira-test",
        "SECRET_KEY_MATERIAL": extra.pop("SECRET_KEY_MATERIAL", SECRET_KEY),
        "CONNECT_KEYS_URL": "http://127.0.0.1:9",  # nothing listens: tests start their own
        "FME_API_URL": "http://127.0.0.1:9",
        **extra,
    }


SECRET_KEY = Fernet.generate_key().decode()


def _normalise(url: str) -> str:
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    """A database migrated to head once per run, through the real Alembic migrations."""
    if TEST_DATABASE_URL:
        url = _normalise(TEST_DATABASE_URL)
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = "sqlite:///" + str(tmp_path_factory.mktemp("db") / "test.sqlite3")
    app = create_app(_settings(url), instance_path=str(tmp_path_factory.mktemp("instance")))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


@pytest.fixture
def app(database_url, tmp_path):
    app = create_app(_settings(database_url), instance_path=str(tmp_path / "instance"))
    register_probe_routes(app)
    with app.app_context():
        yield app
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.engine.dispose()


@pytest.fixture
def key_server():
    server = FakeKeyServer()
    yield server
    server.stop()


@pytest.fixture
def connect_app(app, key_server):
    """The app pointed at the local install-key server."""
    from fmejira.connect.install_keys import install_keys

    app.config["CONNECT_KEYS_URL"] = key_server.url
    install_keys.clear()
    yield app
    install_keys.clear()
