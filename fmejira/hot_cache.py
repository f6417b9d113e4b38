"""What the hot read paths answer, shared between processes in Redis and always current.

Every entry belongs to one Jira site and is tagged with that site's *generation*, a counter in
Redis that goes up after every commit that changed one of the site's rows (see
:func:`track_changes`). A reader fetches the generation and its entries in one round trip and
uses an entry only when its tag is the current generation, so a change is seen by the next
request in every process; a writer tags what it computed with the generation it read *before*
reading the database, so an answer computed from rows that changed meanwhile is never used.
Entries also expire (``HOT_CACHE_SECONDS``, or sooner when a flag state would turn stale), which
bounds the harm of a generation that could not be bumped because Redis was down.

Each process also keeps a copy of what it read (:class:`NearCopy`), so a repeated read costs
no round trip: every bump is also published on a Redis channel that each process listens to,
and a process drops its copy of a site when the site's bump arrives (at once when the process
made the change itself, within milliseconds otherwise). The copy is used only while the
subscription is live: a process that may have missed a message reads Redis.

Without a Redis URL nothing is cached and every request reads the database: the embedded default
may run its web and queue processes apart, and only a shared store can tell them about changes.
Redis trouble never fails a request: the cache then answers "nothing cached".
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import NamedTuple

import redis
import sqlalchemy as sa
from cachetools import LRUCache
from flask import Flask, current_app, has_app_context
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

log = logging.getLogger(__name__)

EXTENSION = "fmejira_hot_cache"
PREFIX = "fmejira:hot:"
BUMPS = f"{PREFIX}bumps"  # the channel: client keys of bumped sites, one per line
_CHANGED = "fmejira_changed_tenants"  # session.info key: tenant ids changed in this transaction
_CHANGED_KEYS = "fmejira_changed_sites"  # and the client keys of tenants seen changing


class Snapshot(NamedTuple):
    """A site's generation and the current entries asked for (None where missing or stale)."""

    generation: bytes | None
    values: list[bytes | None]


# What an entry of the near copy costs beside its value's bytes (its key tuple and name, its
# tuple and expiry, its slot in the LRU; the site's key string is kept once a site), measured
# with tracemalloc; tests/test_hot_cache.py holds the copy to its budget.
ENTRY_OVERHEAD = 350
GENERATION = ""  # the entry name under which a site's generation is kept (names are never empty)


def _entry_size(key: tuple[str, str], item: tuple) -> int:
    return len(key[1]) + len(item[1]) + ENTRY_OVERHEAD


class _EntryLru:
    """Entries by (client key, name), the least recently used going first once their bytes
    pass ``max_bytes``. One OrderedDict: cachetools' LRUCache keeps three tables per key,
    which cost 420 bytes an entry, more than most glances' data."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        # (generation, value, expiry); the generation's own entry holds the site's key as its value
        self._items: OrderedDict[tuple[str, str], tuple[bytes, bytes | str, float]] = OrderedDict()

    def get(self, key: tuple[str, str]) -> tuple[bytes, bytes | str, float] | None:
        item = self._items.get(key)
        if item is not None:
            self._items.move_to_end(key)
        return item

    def put(self, key: tuple[str, str], item: tuple[bytes, bytes | str, float]) -> None:
        self.pop(key)
        self._items[key] = item
        self.size += _entry_size(key, item)
        while self.size > self.max_bytes:
            self.size -= _entry_size(*self._items.popitem(last=False))

    def pop(self, key: tuple[str, str]) -> None:
        held = self._items.pop(key, None)
        if held is not None:
            self.size -= _entry_size(key, held)

    def clear(self) -> None:
        self._items.clear()
        self.size = 0

    def __len__(self) -> int:
        return len(self._items)


class NearCopy:
    """This process's copy of the entries it read from Redis, trusted only while its
    subscription to the bump channel is live.

    Entries are tagged with their site's generation, like in Redis; the site's generation is an
    entry too (used by every read of the site, so the last to go), and dropping it (a bump)
    makes all of them unusable. ``epoch`` counts drops, so a reader whose
    Redis read may predate a drop does not store what it read (:meth:`put`)."""

    def __init__(self, client: redis.Redis, max_bytes: int):
        pool = client.connection_pool
        kwargs = dict(pool.connection_kwargs)
        # the listener waits for messages as long as it takes; keepalive and pings find a
        # dead connection
        kwargs.update(socket_timeout=None, socket_keepalive=True, health_check_interval=5)
        self._listener_client = redis.Redis(
            connection_pool=redis.ConnectionPool(connection_class=pool.connection_class, **kwargs)
        )
        self._lock = threading.Lock()
        self._entries = _EntryLru(max_bytes)
        self._aliases: LRUCache = LRUCache(maxsize=10_000)
        self._epoch = 0
        self._live = False
        self._pid: int | None = None
        self._stop = threading.Event()

    # -- the listener ----------------------------------------------------------------------

    def start(self) -> None:
        """Listen for bumps (once per process: a forked worker starts its own listener)."""
        pid = os.getpid()
        if self._pid == pid:
            return
        with self._lock:
            if self._pid == pid:
                return
            self._pid = pid
            self._forget()
            self._live = False
        thread = threading.Thread(
            target=self._listen, args=(pid,), name="fmejira-hot-cache-bumps", daemon=True
        )
        thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            self._live = False
            self._forget()

    def _listen(self, pid: int) -> None:
        pause = 0.1
        while not self._stop.is_set() and os.getpid() == pid:
            pubsub = self._listener_client.pubsub()
            try:
                pubsub.subscribe(BUMPS)
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self._go_live()  # from here on no bump can be missed
                        pause = 0.1
                    elif message["type"] == "message":
                        self.invalidate(message["data"].decode().split("\n"))
            except (redis.RedisError, OSError, ValueError) as exc:
                log.warning("hot cache: bump listener lost (%s); reading Redis", type(exc).__name__)
            finally:
                self._go_dark()
                with contextlib.suppress(redis.RedisError, OSError):
                    pubsub.close()
            self._stop.wait(pause)
            pause = min(pause * 2, 5.0)

    def _go_live(self) -> None:
        with self._lock:
            self._forget()  # what was read before may have missed a bump
            self._live = True

    def _go_dark(self) -> None:
        with self._lock:
            self._live = False
            self._forget()

    def _forget(self) -> None:
        self._entries.clear()
        self._epoch += 1

    @property
    def live(self) -> bool:
        return self._live

    # -- the copy ------------------------------------------------------------------------------

    def clear(self) -> None:
        with self._lock:
            self._forget()
            self._aliases.clear()

    def invalidate(self, client_keys: Iterable[str]) -> None:
        with self._lock:
            for client_key in client_keys:
                self._entries.pop((client_key, GENERATION))
            self._epoch += 1

    def epoch(self) -> int | None:
        """Taken before a Redis read, for :meth:`put`; None when the copy is not to be used."""
        with self._lock:
            return self._epoch if self._live else None

    def get(self, client_key: str, names: tuple[str, ...]) -> Snapshot | None:
        """The site's generation and entries, when all are held and current."""
        if not self._live:
            return None
        now = time.monotonic()
        with self._lock:
            held = self._entries.get((client_key, GENERATION))  # none while not live
            if held is None:
                return None
            generation = held[0]
            values = []
            for name in names:
                item = self._entries.get((client_key, name))
                if item is None or item[0] != generation or item[2] <= now:
                    return None
                values.append(item[1])
        return Snapshot(generation, values)

    def put(
        self,
        epoch: int,
        client_key: str,
        generation: bytes,
        entries: Iterable[tuple[str, bytes | None, int]],
    ) -> None:
        """Keep what a Redis read returned (``(name, current value, milliseconds to live)``),
        unless a bump arrived since ``epoch`` was taken."""
        now = time.monotonic()
        with self._lock:
            if not self._live or self._epoch != epoch:
                return
            # one object for the site's generation and one for its key, however many entries
            # it has: the generation's entry holds both
            held = self._entries.get((client_key, GENERATION))
            if held is not None:
                client_key = held[1]
            if held is not None and held[0] == generation:
                generation = held[0]
            else:
                self._entries.put((client_key, GENERATION), (generation, client_key, float("inf")))
            for name, value, milliseconds in entries:
                if value is not None and milliseconds > 0:
                    item = (generation, value, now + milliseconds / 1000)
                    self._entries.put((client_key, name), item)

    def alias(self, alias: str) -> str | None:
        with self._lock:
            item = self._aliases.get(alias)
        return item[0] if item is not None and item[1] > time.monotonic() else None

    def remember_alias(self, alias: str, client_key: str, seconds: int) -> None:
        with self._lock:
            self._aliases[alias] = (client_key, time.monotonic() + seconds)


class HotCache:
    """Generation-tagged entries per Jira site (client key) in Redis, and a near copy of them
    in this process (``near_bytes`` large; 0: none)."""

    def __init__(self, client: redis.Redis | None, max_seconds: int, near_bytes: int = 0):
        self.client = client
        self.max_seconds = max_seconds
        self.near = NearCopy(client, near_bytes) if client is not None and near_bytes else None

    @property
    def enabled(self) -> bool:
        return self.client is not None

    @staticmethod
    def _generation_key(client_key: str) -> str:
        return f"{PREFIX}gen:{client_key}"

    @staticmethod
    def _entry_key(client_key: str, name: str) -> str:
        return f"{PREFIX}e:{client_key}:{name}"

    def read(self, client_key: str, *names: str) -> Snapshot:
        """The site's generation and each named entry: from the near copy, else in one round
        trip to Redis."""
        if self.client is None:
            return Snapshot(None, [None] * len(names))
        epoch = None
        if self.near is not None:
            self.near.start()
            held = self.near.get(client_key, names)
            if held is not None:
                return held
            epoch = self.near.epoch()
        keys = [self._generation_key(client_key)]
        keys += [self._entry_key(client_key, name) for name in names]
        try:
            if epoch is None:
                generation, *raw = self.client.mget(keys)
            else:  # the entries' time to live too, for the near copy
                with self.client.pipeline(transaction=False) as pipe:
                    pipe.mget(keys)
                    for key in keys[1:]:
                        pipe.pttl(key)
                    (generation, *raw), *lifetimes = pipe.execute()
            if generation is None:  # first use, or Redis lost it: start from a random value
                self.client.set(keys[0], secrets.randbits(62), nx=True)
                return Snapshot(self.client.get(keys[0]), [None] * len(names))
        except redis.RedisError as exc:
            log.warning("hot cache unavailable (%s); reading the database", type(exc).__name__)
            return Snapshot(None, [None] * len(names))
        values = [_current(value, generation) for value in raw]
        if epoch is not None:
            self.near.put(epoch, client_key, generation, zip(names, values, lifetimes, strict=True))
        return Snapshot(generation, values)

    def write(self, client_key: str, generation: bytes | None, entries: dict) -> None:
        """Store ``{name: (bytes, seconds)}`` tagged with ``generation`` (from :meth:`read`,
        before the database was read). Nothing happens without a generation."""
        if self.client is None or generation is None:
            return
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for name, (value, seconds) in entries.items():
                    seconds = min(int(seconds), self.max_seconds)
                    if seconds > 0:
                        pipe.set(
                            self._entry_key(client_key, name), generation + b"|" + value, ex=seconds
                        )
                pipe.execute()
        except redis.RedisError as exc:
            log.warning("hot cache write failed (%s)", type(exc).__name__)

    def site_of(self, alias: str) -> str | None:
        """The client key an alias (say, an API key's fingerprint) was last seen for; only a
        hint: entries read with it are still checked against that site's generation."""
        if self.client is None:
            return None
        if self.near is not None and (client_key := self.near.alias(alias)) is not None:
            return client_key
        try:
            value = self.client.get(f"{PREFIX}alias:{alias}")
        except redis.RedisError as exc:
            log.warning("hot cache unavailable (%s); reading the database", type(exc).__name__)
            return None
        if value is None:
            return None
        client_key = value.decode()
        if self.near is not None:
            self.near.remember_alias(alias, client_key, self.max_seconds)
        return client_key

    def alias(self, alias: str, client_key: str) -> None:
        if self.client is None:
            return
        if self.near is not None:
            self.near.remember_alias(alias, client_key, self.max_seconds)
        try:
            self.client.set(f"{PREFIX}alias:{alias}", client_key, ex=self.max_seconds)
        except redis.RedisError as exc:
            log.warning("hot cache write failed (%s)", type(exc).__name__)

    def bump(self, client_keys: Iterable[str]) -> None:
        """Make every entry of these sites stale (after their changes were committed), here at
        once and in every other process when the published bump reaches it."""
        client_keys = sorted(set(client_keys))
        if self.client is None or not client_keys:
            return
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for client_key in client_keys:
                    key = self._generation_key(client_key)
                    pipe.set(key, secrets.randbits(62), nx=True)
                    pipe.incr(key)
                pipe.publish(BUMPS, "\n".join(client_keys))  # after the new generations
                pipe.execute()
        except redis.RedisError:
            log.exception(
                "hot cache: could not mark %d site(s) changed; their cached answers may be up "
                "to %d s old",
                len(client_keys),
                self.max_seconds,
            )
        finally:
            if self.near is not None:
                # after the new generations are in Redis: a thread of this process that read
                # the old one before cannot keep it now
                self.near.invalidate(client_keys)

    def clear(self) -> None:
        """Forget everything (tests)."""
        _client_key_of.clear()
        if self.near is not None:
            self.near.clear()
        if self.client is not None:
            keys = list(self.client.scan_iter(match=PREFIX + "*", count=1000))
            if keys:
                self.client.delete(*keys)

    def close(self) -> None:
        """Stop listening (tests, and an app that is shut down)."""
        if self.near is not None:
            self.near.stop()


def _current(value: bytes | None, generation: bytes) -> bytes | None:
    if value is None:
        return None
    tag, _, body = value.partition(b"|")
    return body if tag == generation else None


def hot_cache() -> HotCache:
    return current_app.extensions[EXTENSION]


def redis_client(url: str) -> redis.Redis:
    """A slow or absent Redis costs a request a quarter second once, then the database: short
    timeouts and no retries (redis-py's default would retry three times with backoff)."""
    return redis.Redis.from_url(
        url, socket_timeout=0.25, socket_connect_timeout=0.25, retry=Retry(NoBackoff(), 0)
    )


def init_hot_cache(app: Flask) -> None:
    url = app.config.get("HOT_CACHE_URL", app.config.get("REDIS_URL"))
    app.extensions[EXTENSION] = HotCache(
        redis_client(url) if url else None,
        app.config["HOT_CACHE_SECONDS"],
        app.config["HOT_CACHE_NEAR_BYTES"],
    )


# -- knowing what changed ------------------------------------------------------------------------


def changed(session: Session, tenant_id: int) -> None:
    """Record that a bulk statement (which the ORM does not track) changed a tenant's rows."""
    session.info.setdefault(_CHANGED, set()).add(tenant_id)


# A tenant's client key never changes: remembered per process once seen.
_client_key_of: LRUCache = LRUCache(maxsize=100_000)


def _after_flush(session: Session, _flush_context) -> None:
    from fmejira.models import Tenant

    tenant_ids = session.info.setdefault(_CHANGED, set())
    client_keys = session.info.setdefault(_CHANGED_KEYS, set())
    for instance in (*session.new, *session.dirty, *session.deleted):
        if isinstance(instance, Tenant):
            client_keys.add(instance.client_key)
            _client_key_of[instance.id] = instance.client_key
        else:
            tenant_id = getattr(instance, "tenant_id", None)
            if tenant_id is not None:
                tenant_ids.add(tenant_id)
    for tenant_id in list(tenant_ids):
        tenant = session.identity_map.get(identity_key(Tenant, tenant_id))
        if tenant is not None and "client_key" in tenant.__dict__:
            _client_key_of[tenant_id] = tenant.client_key


def _after_commit(session: Session) -> None:
    tenant_ids = session.info.pop(_CHANGED, set())
    client_keys = session.info.pop(_CHANGED_KEYS, set())
    if not (tenant_ids or client_keys) or not has_app_context():
        return
    cache = current_app.extensions.get(EXTENSION)
    if cache is None or not cache.enabled:
        return
    cache.bump(client_keys | _client_keys(session, tenant_ids))


def _client_keys(session: Session, tenant_ids: set[int]) -> set[str]:
    """Tenant ids to client keys: remembered ones, else one query on a connection of its own
    (the session's transaction has just ended)."""
    from fmejira.models import Tenant

    keys = {_client_key_of[i] for i in tenant_ids if i in _client_key_of}
    missing = sorted(i for i in tenant_ids if i not in _client_key_of)
    if missing:
        with session.get_bind().connect() as connection:
            rows = connection.execute(
                sa.select(Tenant.id, Tenant.client_key).where(Tenant.id.in_(missing))
            )
            for tenant_id, client_key in rows:
                _client_key_of[tenant_id] = client_key
                keys.add(client_key)
    return keys


def _after_rollback(session: Session, _previous_transaction=None) -> None:
    session.info.pop(_CHANGED, None)
    session.info.pop(_CHANGED_KEYS, None)


def track_changes(scoped_session) -> None:
    """Bump the generation of every site whose rows a committed transaction changed."""
    for name, listener in (
        ("after_flush", _after_flush),
        ("after_commit", _after_commit),
        ("after_soft_rollback", _after_rollback),
    ):
        if not sa.event.contains(scoped_session, name, listener):
            sa.event.listen(scoped_session, name, listener)
