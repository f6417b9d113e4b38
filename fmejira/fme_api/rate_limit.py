"""One request budget per FME API key for the whole FME-side API (``FMEJIRA_API_RATE_LIMIT``).

Budgets are counted in fixed windows, shared by every machine through Redis when ``REDIS_URL``
is set (else in this process, exactly). A process does not ask Redis about every request: while
a budget is far from spent (less than half of it, as this process last heard from Redis plus
what it counted since), it counts the request itself and adds its counts to Redis in one
pipelined round trip at most every ``FLUSH_SECONDS``. Nearer the limit every request is counted
in Redis before it is answered. So the limit holds exactly once counts have met in Redis; past
it, a budget can only be overdrawn by what other processes counted in their last flush
interval (at most half the budget each). A spent budget is refused without a round trip.

A counter that cannot be reached lets the request through, logged: a Redis outage costs the
limit for a while, never the API. What it failed to add is added at the next flush.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from dataclasses import dataclass

import redis
from flask import Flask, current_app, request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from redis.backoff import NoBackoff
from redis.retry import Retry

from fmejira.crypto import fingerprint
from fmejira.errors import ApiError

log = logging.getLogger(__name__)

EXTENSION = "fmejira_rate_limit"
PREFIX = "fmejira:rl:"
LOCAL_SHARE = 0.5  # of a budget a process may count on its own before asking Redis
FLUSH_SECONDS = 0.2
MAX_WINDOWS = 100_000  # budgets this process follows at once; past it, every request asks


class TooManyRequests(ApiError):
    status = 429
    code = "too_many_requests"


class RedisCounts:
    """The shared counters: one Redis key per budget and window, expiring with the window."""

    def __init__(self, url: str):
        # a slow Redis costs a request a quarter second once, not retries with backoff
        self._redis = redis.Redis.from_url(
            url, socket_timeout=0.25, socket_connect_timeout=0.25, retry=Retry(NoBackoff(), 0)
        )

    def add(self, counts: dict[str, tuple[int, int]]) -> dict[str, int]:
        """Add ``{counter: (amount, seconds to keep)}``; the counters' new totals."""
        pipe = self._redis.pipeline(transaction=False)
        for counter, (amount, seconds) in counts.items():
            pipe.incrby(counter, amount)
            pipe.expire(counter, seconds)
        totals = pipe.execute()[::2]
        return dict(zip(counts, totals, strict=True))

    def reset(self) -> None:
        for key in self._redis.scan_iter(match=PREFIX + "*", count=1000):
            self._redis.delete(key)


class MemoryCounts:
    """This process's counters (no Redis): exact, so never batched."""

    def __init__(self):
        self._storage = MemoryStorage()

    def add(self, counts: dict[str, tuple[int, int]]) -> dict[str, int]:
        return {
            counter: self._storage.incr(counter, seconds, amount)
            for counter, (amount, seconds) in counts.items()
        }

    def reset(self) -> None:
        self._storage.reset()


@dataclass(slots=True)  # one per budget a process follows: thousands
class _Window:
    ends_at: float
    seen: int = 0  # the budget's total when this process last heard it from Redis
    pending: int = 0  # this process's requests since, not yet added there


class RateLimiter:
    """Fixed-window budgets in ``storage_url`` (``redis://…`` or ``memory://``)."""

    def __init__(self, storage_url: str, clock=time.time):
        self._batched = storage_url.startswith(("redis://", "rediss://", "unix://"))
        self._counts = RedisCounts(storage_url) if self._batched else MemoryCounts()
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self._next_flush = 0.0

    def seconds_to_wait(self, limit: str, key: str) -> int | None:
        """Count one request of ``key`` against ``limit`` (say ``120/minute``): None when it is
        within the budget, else the seconds until the window lets requests through again."""
        item = _parsed(limit)
        now = self._clock()
        expiry = item.get_expiry()
        start = int(now // expiry * expiry)
        counter = f"{PREFIX}{item.amount}/{expiry}:{key}:{start}"
        wait = max(1, math.ceil(start + expiry - now))
        with self._lock:
            window = self._windows.get(counter)
            followed = window is not None or len(self._windows) < MAX_WINDOWS
            if window is None:
                window = _Window(ends_at=start + expiry)
                if followed:
                    self._windows[counter] = window
            if window.seen >= item.amount:
                return wait
            counted = window.seen + window.pending + 1
            local = self._batched and followed and counted <= item.amount * LOCAL_SHARE
            if local:
                window.pending += 1
                flush_due = now >= self._next_flush
                if flush_due:
                    self._next_flush = now + FLUSH_SECONDS
            else:
                amount, window.pending = window.pending + 1, 0
        if local:
            if flush_due:
                self.flush()
            return None
        total = self._add({counter: (amount, expiry + 1)}, {counter: window}).get(counter)
        return None if total is None or total <= item.amount else wait

    def flush(self) -> None:
        """Add this process's counts to the shared counters; forget windows that ended."""
        now = self._clock()
        with self._lock:
            for counter in [c for c, w in self._windows.items() if w.ends_at <= now]:
                del self._windows[counter]
            windows = {c: w for c, w in self._windows.items() if w.pending}
            counts = {c: (w.pending, math.ceil(w.ends_at - now) + 1) for c, w in windows.items()}
            for window in windows.values():
                window.pending = 0
        if counts:
            self._add(counts, windows)

    def _add(self, counts: dict[str, tuple[int, int]], windows: dict[str, _Window]) -> dict:
        try:
            totals = self._counts.add(counts)
        except redis.RedisError as exc:
            log.warning("rate limit not counted (%s); letting the request through", exc)
            with self._lock:  # counted at the next flush
                for counter, (amount, _seconds) in counts.items():
                    windows[counter].pending += amount
            return {}
        with self._lock:
            for counter, total in totals.items():
                windows[counter].seen = max(windows[counter].seen, total)
        return totals

    def reset(self) -> None:
        """Forget every count (tests)."""
        with self._lock:
            self._windows.clear()
        self._counts.reset()


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
