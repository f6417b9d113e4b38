"""The task queue (Huey): embedded on SQLite by default, shared through Redis with ``REDIS_URL``.

Tasks are declared against the module-level ``huey`` at import; the factory binds its storage
to the configured backend. Every task runs inside an app context and recomputes what it does
from the store, so running one twice, late or out of order is harmless.
"""

from __future__ import annotations

import functools
import logging
import os

from flask import Flask
from huey import Huey
from huey.storage import MemoryStorage, PriorityRedisStorage, SqliteStorage

log = logging.getLogger(__name__)

huey = Huey("fmejira", results=False, utc=True, storage_class=MemoryStorage)
_app: Flask | None = None

QUEUE_FILE_NAME = "queue.sqlite3"


def init_queue(app: Flask) -> None:
    """Bind the queue to this app's backend and remember the app for task contexts."""
    global _app
    _app = app
    url = app.config.get("QUEUE_URL") or app.config["REDIS_URL"]
    if url == "memory://":
        storage_class, kwargs = MemoryStorage, {}
    elif url:
        storage_class, kwargs = PriorityRedisStorage, {"url": url, "blocking": True}
    else:
        path = os.path.join(app.instance_path, QUEUE_FILE_NAME)
        storage_class, kwargs = SqliteStorage, {"filename": path}
    if huey.storage_class is not storage_class or huey.storage_kwargs != kwargs:
        huey.storage_class = storage_class
        huey.storage_kwargs = kwargs
        huey.storage = huey.create_storage()


def in_app_context(fn):
    """Run a task inside the app's context (worker threads start without one)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if _app is None:
            raise RuntimeError("the queue is not bound to an app; call create_app() first")
        with _app.app_context():
            return fn(*args, **kwargs)

    return wrapper


def depth() -> int:
    """Tasks waiting to run now, plus those scheduled for later (retries and delays)."""
    return huey.pending_count() + huey.scheduled_count()
