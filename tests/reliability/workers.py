"""Real ``flask fmejira worker`` processes on the app's queue, started as an operator would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import BASE_URL, SECRET_KEY

REPO = Path(__file__).parents[2]


def start_worker(app, log_path: Path, *, workers: int = 4) -> subprocess.Popen:
    """A consumer of ``app``'s queue: its SQLite queue file, or Redis when the app uses one."""
    environ = {
        **os.environ,
        "FMEJIRA_INSTANCE_PATH": app.instance_path,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "FMEJIRA_SECRET_KEY": SECRET_KEY,
        "FMEJIRA_APP_KEY": app.config["APP_KEY"],
        "FMEJIRA_FME_API_URL": app.config["FME_API_URL"],
        "APP_BASE_URL": BASE_URL,
    }
    environ.pop("REDIS_URL", None)
    if app.config.get("QUEUE_URL"):
        environ["REDIS_URL"] = app.config["QUEUE_URL"]
    command = [sys.executable, "-m", "flask", "--app", "app", "fmejira", "worker"]
    with log_path.open("ab") as log:
        return subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [*command, "--workers", str(workers)],
            cwd=REPO,
            env=environ,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
