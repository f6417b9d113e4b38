"""The embedded queue end to end: the app enqueues into its SQLite queue file, and a separate
``flask fmejira worker`` process, started as an operator would, does the work."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fmejira import create_app
from fmejira.domain import configuration, links
from fmejira.extensions import db
from fmejira.models import LinkSource
from fmejira.queue import QUEUE_FILE_NAME, huey
from fmejira.schema import upgrade
from tests.conftest import BASE_URL, FME_KEY, SECRET_KEY, _settings
from tests.fakes.fme_server import FakeFme
from tests.fakes.jira_server import FakeJira
from tests.support import make_tenant
from tests.sync.conftest import GLANCE, RECORD

APP_KEY = "fme-jira-test"
REPO = Path(__file__).parents[2]


@pytest.fixture
def fme():
    server = FakeFme()
    server.add_workspace("ws-checkout", "Checkout")
    server.add_key(FME_KEY, {"ws-checkout"})
    server.add_flag("ws-checkout", "new-checkout", default_treatment="on")
    yield server
    server.stop()


@pytest.fixture
def jira():
    server = FakeJira(shared_secret="jira-site-shared-secret-" + "y" * 40, app_key=APP_KEY)
    server.add_issue("ABC-1", id="10001")
    yield server
    server.stop()


@pytest.fixture
def embedded(tmp_path, fme):
    """The embedded default: a SQLite database and a SQLite queue in the instance folder."""
    database_url = f"sqlite:///{tmp_path / 'fmejira.sqlite3'}"
    instance = tmp_path / "instance"
    app = create_app(
        _settings(database_url, QUEUE_URL=None, REDIS_URL=None, FME_API_URL=fme.url),
        instance_path=str(instance),
    )
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()
    huey.storage.close()  # the next app binds the queue to its own storage


PERIODIC = {"reconcile", "refresh_due"}


def run_worker(app, fme, log_path: Path) -> subprocess.Popen:
    environ = {
        **os.environ,
        "FMEJIRA_INSTANCE_PATH": app.instance_path,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "FMEJIRA_SECRET_KEY": SECRET_KEY,
        "FMEJIRA_APP_KEY": APP_KEY,
        "FMEJIRA_FME_API_URL": fme.url,
        "APP_BASE_URL": BASE_URL,
    }
    environ.pop("REDIS_URL", None)
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "app", "fmejira", "worker", "--workers", "1"],
            cwd=REPO,
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


@pytest.mark.slow
def test_a_worker_process_pushes_what_the_app_queued(embedded, fme, jira, tmp_path):
    assert huey.storage.filename == os.path.join(embedded.instance_path, QUEUE_FILE_NAME)
    site = make_tenant("jira:site-1", base_url=jira.url, shared_secret=jira.shared_secret)
    configuration.save(site, FME_KEY, [configuration.ProjectSelection("ws-checkout", "env-prod")])
    links.connect(site, "ws-checkout", "new-checkout", "ABC-1", source=LinkSource.FME)
    # in the queue file, for any process to take: the project's first read, the push, and
    # the new flag's read (the push sends nothing until its state is known)
    queued = sorted(task.name for task in huey.pending())
    assert queued == ["push_flags", "refresh_flag", "refresh_project"]

    worker = run_worker(embedded, fme, tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 30
        while GLANCE not in jira.issue("ABC-1").properties and time.monotonic() < deadline:
            assert worker.poll() is None, (tmp_path / "worker.log").read_text()
            time.sleep(0.05)
    finally:
        worker.terminate()
        worker.wait(timeout=10)
    assert RECORD in jira.flags, (tmp_path / "worker.log").read_text()
    assert jira.flags[RECORD].issue_ids == ["10001"]
    assert jira.issue("ABC-1").properties[GLANCE]["value"]["label"] == "new-checkout"
    # nothing of the app's work is left; the consumer queues its minute's periodic tasks itself
    # when the test spans a minute's start
    assert [task.name for task in huey.pending() if task.name not in PERIODIC] == []
