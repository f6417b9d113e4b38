"""What the hot read paths answer, shared between processes in Redis and always current.

Every entry belongs to one Jira site and is tagged with that site's *generation*, a counter in
Redis that goes up after every commit that changed one of the site's rows (see
:func:`track_changes`). A reader fetches the generation and its entries in one round trip and
uses an entry only when its tag is the current generation, so a change is seen by the next
request in every process; a writer tags what it computed with the generation it read *before*
reading the database, so an answer computed from rows that changed meanwhile is never used.
Entries also expire (``HOT_CACHE_SECONDS``, or sooner when a flag state would turn stale), which
bounds the harm of a generation that could not be bumped because Redis was down.

Without a Redis URL nothing is cached and every request reads the database: the embedded default
may run its web and queue processes apart, and only a shared store can tell them about changes.
Redis trouble never fails a request: the cache then answers "nothing cached".
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from typing import NamedTuple

import redis
import sqlalchemy as sa
from cachetools import LRUCache
from flask import Flask, current_app, has_app_context
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

log = logging.getLogger(__name__)

EXTENSION = "fmejira_hot_cache"
PREFIX = "fmejira:hot:"
_CHANGED = "fmejira_changed_tenants"  # session.info key: tenant ids changed in this transaction
_CHANGED_KEYS = "fmejira_changed_sites"  # and the client keys of tenants seen changing


class Snapshot(NamedTuple):
    """A site's generation and the current entries asked for (None where missing or stale)."""

    generation: bytes | None
    values: list[bytes | None]


class HotCache:
    """Generation-tagged entries per Jira site (client key) in Redis."""

    def __init__(self, client: redis.Redis | None, max_seconds: int):
        self.client = client
        self.max_seconds = max_seconds

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
        """The site's generation and each named entry, in one round trip."""
        if self.client is None:
            return Snapshot(None, [None] * len(names))
        keys = [self._generation_key(client_key)]
        keys += [self._entry_key(client_key, name) for name in names]
        try:
            generation, *raw = self.client.mget(keys)
            if generation is None:  # first use, or Redis lost it: start from a random value
                self.client.set(keys[0], secrets.randbits(62), nx=True)
                return Snapshot(self.client.get(keys[0]), [None] * len(names))
        except redis.RedisError as exc:
            log.warning("hot cache unavailable (%s); reading the database", type(exc).__name__)
            return Snapshot(None, [None] * len(names))
        return Snapshot(generation, [_current(value, generation) for value in raw])

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
        try:
            value = self.client.get(f"{PREFIX}alias:{alias}")
        except redis.RedisError as exc:
            log.warning("hot cache unavailable (%s); reading the database", type(exc).__name__)
            return None
        return value.decode() if value is not None else None

    def alias(self, alias: str, client_key: str) -> None:
        if self.client is None:
            return
        try:
            self.client.set(f"{PREFIX}alias:{alias}", client_key, ex=self.max_seconds)
        except redis.RedisError as exc:
            log.warning("hot cache write failed (%s)", type(exc).__name__)

    def bump(self, client_keys: Iterable[str]) -> None:
        """Make every entry of these sites stale (after their changes were committed)."""
        client_keys = sorted(set(client_keys))
        if self.client is None or not client_keys:
            return
        try:
            with self.client.pipeline(transaction=False) as pipe:
                for client_key in client_keys:
                    key = self._generation_key(client_key)
                    pipe.set(key, secrets.randbits(62), nx=True)
                    pipe.incr(key)
                pipe.execute()
        except redis.RedisError:
            log.exception(
                "hot cache: could not mark %d site(s) changed; their cached answers may be up "
                "to %d s old",
                len(client_keys),
                self.max_seconds,
            )

    def clear(self) -> None:
        """Forget everything (tests)."""
        _client_key_of.clear()
        if self.client is not None:
            keys = list(self.client.scan_iter(match=PREFIX + "*", count=1000))
            if keys:
                self.client.delete(*keys)


def _current(value: bytes | None, generation: bytes) -> bytes | None:
    if value is None:
        return None
    tag, _, body = value.partition(b"|")
    return body if tag == generation else None


def hot_cache() -> HotCache:
    return current_app.extensions[EXTENSION]


def init_hot_cache(app: Flask) -> None:
    url = app.config.get("HOT_CACHE_URL", app.config.get("REDIS_URL"))
    client = None
    if url:
        # Short timeouts: a slow Redis must cost a request milliseconds, then the database.
        client = redis.Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25)
    app.extensions[EXTENSION] = HotCache(client, app.config["HOT_CACHE_SECONDS"])


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
