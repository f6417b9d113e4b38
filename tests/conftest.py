"""Fixtures: an app on a migrated database (SQLite by default, PostgreSQL with
``TEST_DATABASE_URL``), emptied after every test, and local stand-ins for remote services."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet

from fmejira import create_app
from fmejira.extensions import db
from fmejira.fme_api.rate_limit import rate_limiter
from fmejira.hot_cache import hot_cache
from fmejira.jira_api.links import clear_refresh_cache
from fmejira.jira_api.permissions import clear_cache as clear_admin_cache
from fmejira.outbound import RetryPolicy
from fmejira.queue import huey
from fmejira.schema import upgrade
from tests.fakes.connect_keys import FakeKeyServer
from tests.fakes.fme_server import FakeFme
from tests.fakes.jira_server import FakeJira
from tests.support import make_tenant, register_probe_routes

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")
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
        "QUEUE_URL": TEST_REDIS_URL or "memory://",
        "RETRY_POLICY": RetryPolicy(total=3, backoff_factor=0.01, backoff_jitter=0.0, max_wait=5.0),
        "RATE_LIMIT_STORAGE_URL": TEST_REDIS_URL or "memory://",
        "HOT_CACHE_URL": TEST_REDIS_URL,
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
    huey.flush()
    clear_admin_cache()
    clear_refresh_cache()
    with app.app_context():
        rate_limiter().reset()
        hot_cache().clear()
    with app.app_context():
        yield app
        hot_cache().close()
        huey.flush()
        empty_the_store()


def empty_the_store() -> None:
    """Delete every row the test wrote (the schema stays, migrated once per run)."""
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


@pytest.fixture
def fake_fme(app):
    """A local FME Admin API the app talks to, with one project ("Checkout")."""
    server = FakeFme()
    server.add_workspace(
        "ws-checkout",
        "Checkout",
        environments=(("env-prod", "Production", True), ("env-stg", "Staging", False)),
    )
    server.add_key(FME_KEY, {"ws-checkout"})
    app.config["FME_API_URL"] = server.url
    yield server
    server.stop()


FME_KEY = "fme-admin-key-0123456789abcdef"
ADMIN = "account-admin"
USER = "account-user"


@pytest.fixture
def fake_jira(app):
    """A local Jira site that verifies the app's JWTs with the site's shared secret."""
    server = FakeJira(
        shared_secret="jira-site-shared-secret-" + "x" * 40, app_key=app.config["APP_KEY"]
    )
    server.admin_account_ids.add(ADMIN)
    server.add_issue("ABC-1", id="10001", summary="Checkout button")
    server.add_issue("ABC-2", id="10002", summary="Pay with card")
    yield server
    server.stop()


@pytest.fixture
def site(app, fake_jira):
    """An installed tenant whose Jira is ``fake_jira``."""
    return make_tenant("jira:site-1", base_url=fake_jira.url, shared_secret=fake_jira.shared_secret)


@pytest.fixture
def configured_site(site, fake_fme):
    """The site connected to FME with the Checkout project (primary: Production)."""
    from fmejira.domain import configuration

    configuration.save(site, FME_KEY, [configuration.ProjectSelection("ws-checkout", "env-prod")])
    huey.flush()
    return site


def run_tasks(limit: int = 200, include_scheduled: bool = False) -> int:
    """Run queued tasks in this thread until the queue is empty; returns how many ran."""
    ran = 0
    while ran < limit:
        if include_scheduled:  # fast-forward: retries and delays run now
            for task in huey.read_schedule(huey._get_timestamp() + _far_future()):
                task.eta = None
                huey.enqueue(task)
        task = huey.dequeue()
        if task is None:
            # Tasks ran in their own app context; requests in tests share the fixture's session.
            db.session.expire_all()
            return ran
        huey.execute(task)
        ran += 1
    raise AssertionError(f"more than {limit} tasks: a task keeps requeueing itself")


def _far_future():
    import datetime

    return datetime.timedelta(days=1)
