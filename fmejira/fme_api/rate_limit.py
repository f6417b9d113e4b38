"""One request budget per FME API key for the whole FME-side API (``FMEJIRA_API_RATE_LIMIT``).

The `limits` library counts in fixed windows: in Redis when ``REDIS_URL`` is set, so every
machine draws on the same budget, else in this process. A request costs one counter update
(one Redis round trip). Flask-Limiter, which this replaces, spent as long again on its own
bookkeeping (scopes, exemptions, per-route filters) for the API's one shared limit.

A counter that cannot be reached lets the request through, logged: a Redis outage costs the
limit for a while, never the API.
"""

from __future__ import annotations

import functools
import logging
import math
import time

from flask import Flask, current_app, request
from limits import RateLimitItem, parse
from limits.errors import StorageError
from limits.storage import Storage, storage_from_string
from limits.strategies import FixedWindowRateLimiter
from redis.backoff import NoBackoff
from redis.retry import Retry

from fmejira.crypto import fingerprint
from fmejira.errors import ApiError

log = logging.getLogger(__name__)

EXTENSION = "fmejira_rate_limit"
SCOPE = "fme_api"


class TooManyRequests(ApiError):
    status = 429
    code = "too_many_requests"


class RateLimiter:
    """Fixed-window counters per key in ``storage_url`` (``redis://…`` or ``memory://``)."""

    def __init__(self, storage_url: str):
        options = {"wrap_exceptions": True}
        if storage_url.startswith(("redis://", "rediss://")):
            # a slow Redis costs a request a quarter second once, not retries with backoff
            options.update(
                socket_timeout=0.25, socket_connect_timeout=0.25, retry=Retry(NoBackoff(), 0)
            )
        self.storage: Storage = storage_from_string(storage_url, **options)
        self._strategy = FixedWindowRateLimiter(self.storage)

    def seconds_to_wait(self, limit: str, key: str) -> int | None:
        """Count one request of ``key`` against ``limit`` (say ``120/minute``): None when it is
        within the budget, else the seconds until the window lets requests through again."""
        item = _parsed(limit)
        try:
            if self._strategy.hit(item, SCOPE, key):
                return None
            reset_at = self._strategy.get_window_stats(item, SCOPE, key).reset_time
        except StorageError as exc:
            log.warning("rate limit not counted (%s); letting the request through", exc)
            return None
        return max(1, math.ceil(reset_at - time.time()))

    def reset(self) -> None:
        """Forget every count (tests)."""
        self.storage.reset()


@functools.lru_cache(maxsize=16)
def _parsed(limit: str) -> RateLimitItem:
    return parse(limit)


def init_rate_limit(app: Flask) -> None:
    app.extensions[EXTENSION] = RateLimiter(app.config["RATE_LIMIT_STORAGE_URL"])


def rate_limiter() -> RateLimiter:
    return current_app.extensions[EXTENSION]


def caller_key() -> str:
    """Whose budget a request draws on: its API key's (by fingerprint), else its address's."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "key:" + fingerprint(token.strip())
    return "addr:" + (request.remote_addr or "unknown")


def within_budget() -> None:
    """A ``before_request`` of the FME-side API: 429 with ``Retry-After`` past the budget."""
    wait = rate_limiter().seconds_to_wait(current_app.config["API_RATE_LIMIT"], caller_key())
    if wait is not None:
        raise TooManyRequests(
            f"Too many requests for this API key; try again in {wait} s.",
            headers={"Retry-After": str(wait)},
        )
