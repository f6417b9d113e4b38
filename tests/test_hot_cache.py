"""The hot cache (fmejira.hot_cache): the hot read paths answered from Redis, and never an answer
that a committed change has made wrong.

Runs against a real Redis: TEST_REDIS_URL, else the local one if it answers; skipped otherwise.
"""

from __future__ import annotations

import secrets
import time
import tracemalloc
import zlib
from datetime import timedelta

import jwt
import pytest
import redis
import sqlalchemy as sa

from fmejira.domain import configuration
from fmejira.extensions import db
from fmejira.hot_cache import EXTENSION, PREFIX, HotCache, NearCopy, redis_client
from fmejira.jira_api.links import flags_entry
from fmejira.models import FlagState, FmeProject, Tenant, TenantState
from fmejira.models.tenant import utcnow
from fmejira.pages import glance
from fmejira.sync import tasks
from tests.conftest import ADMIN, FME_KEY, USER, run_tasks
from tests.pages.helpers import page_token as page_token_of
from tests.support import REDIS_URL, auth_header, context_jwt, jira_jwt, needs_redis

ISSUE, OTHER = "ABC-1", "ABC-2"
DATA = f"/jira/api/issues/{ISSUE}/flags"
FME_LIST = "/api/v1/flags/ws-checkout/new-checkout/issues"


pytestmark = needs_redis


@pytest.fixture
def cache(app) -> HotCache:
    """As in production: Redis, and this process's near copy, listening for bumps."""
    cache = HotCache(
        redis.Redis.from_url(REDIS_URL),
        app.config["HOT_CACHE_SECONDS"],
        app.config["HOT_CACHE_NEAR_BYTES"],
    )
    app.extensions[EXTENSION] = cache
    cache.clear()
    wait_until_live(cache)
    yield cache
    cache.clear()
    cache.close()


def wait_until_live(cache: HotCache) -> None:
    cache.near.start()
    deadline = time.monotonic() + 5
    while not cache.near.live:
        assert time.monotonic() < deadline, "the bump listener did not subscribe"
        time.sleep(0.01)


@pytest.fixture
def linked(client, configured_site, fake_fme, cache):
    """ABC-1 connected to new-checkout (read from FME just now)."""
    fake_fme.add_flag("ws-checkout", "new-checkout", default_treatment="on")
    fake_fme.add_flag("ws-checkout", "dark-mode", killed=True)
    response = client.post(
        DATA,
        headers=auth_header(context_jwt(configured_site)),
        json={"workspaceId": "ws-checkout", "flagName": "new-checkout"},
    )
    assert response.status_code == 201, response.json
    for flag in ("new-checkout", "dark-mode"):  # their states, as a refresh reads them
        tasks.refresh_flag(configured_site.id, "ws-checkout", flag)
    run_tasks()
    return configured_site


def page_token(site, issue=ISSUE, **claims):
    """The glance's page token: bound to the issue its page was rendered for."""
    return auth_header(context_jwt(site, lifetime=600, fmejira={"issueKey": issue}, **claims))


class Statements:
    """Counts the SQL statements sent while the block runs."""

    def __enter__(self):
        self.count = 0
        sa.event.listen(db.engine, "before_cursor_execute", self._record)
        return self

    def _record(self, *_):
        self.count += 1

    def __exit__(self, *_):
        sa.event.remove(db.engine, "before_cursor_execute", self._record)


def names(response) -> list[str]:
    return [flag["name"] for flag in response.get_json()["flags"]]


# -- served from Redis ---------------------------------------------------------------------------


def test_a_repeated_glance_read_sends_no_sql(client, linked):
    first = client.get(DATA, headers=page_token(linked))
    assert first.status_code == 200 and names(first) == ["new-checkout"]
    db.session.remove()
    with Statements() as sql:
        second = client.get(DATA, headers=page_token(linked))
    assert second.status_code == 200
    assert sql.count == 0
    assert second.get_data() == first.get_data()
    assert second.mimetype == "application/json"


def test_a_repeated_glance_page_sends_no_sql_and_binds_its_token(client, linked):
    url = f"/jira/glance?issueKey={ISSUE}"

    def page():
        return client.get(f"{url}&jwt={jira_jwt(linked, url)}")

    first = page()
    assert first.status_code == 200 and b"new-checkout" in first.data
    db.session.remove()
    with Statements() as sql:
        second = page()
    assert second.status_code == 200 and b"new-checkout" in second.data
    assert sql.count == 0
    token = page_token_of(second.get_data(as_text=True))
    claims = jwt.decode(token, linked.shared_secret, algorithms=["HS256"])
    assert claims["fmejira"] == {"issueKey": ISSUE} and claims["iss"] == linked.client_key


def glance_page(client, site, account="account-7"):
    url = f"/jira/glance?issueKey={ISSUE}"
    response = client.get(f"{url}&jwt={jira_jwt(site, url, sub=account)}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def without_token(html: str) -> str:
    return html.replace(page_token_of(html), "")


def test_a_cached_glance_page_is_the_page_rendered_anew_but_for_its_token(
    client, linked, cache, app
):
    glance_page(client, linked)
    cached = glance_page(client, linked)
    app.extensions[EXTENSION] = HotCache(None, app.config["HOT_CACHE_SECONDS"])
    rendered = glance_page(client, linked)
    assert without_token(cached) == without_token(rendered)


def test_each_reader_of_a_cached_glance_page_gets_their_own_token(client, linked):
    glance_page(client, linked, account="account-7")
    cached = glance_page(client, linked, account="account-8")
    claims = jwt.decode(page_token_of(cached), linked.shared_secret, algorithms=["HS256"])
    assert claims["sub"] == "account-8" and claims["fmejira"] == {"issueKey": ISSUE}


def test_a_cached_glance_page_shows_a_state_change_at_once(client, linked):
    assert '<span class="lozenge lozenge-on">On</span>' in glance_page(client, linked)
    state = db.session.scalar(sa.select(FlagState))
    state.killed = True
    db.session.commit()
    assert '<span class="lozenge lozenge-off">Killed</span>' in glance_page(client, linked)


def test_text_from_fme_cannot_take_the_page_token_s_place(client, linked):
    project = db.session.scalar(sa.select(FmeProject))
    project.workspace_name = '<fmejira-page-token>"><script>x()</script>'
    db.session.commit()
    for html in (glance_page(client, linked), glance_page(client, linked)):  # rendered, cached
        assert "&lt;fmejira-page-token&gt;&#34;&gt;&lt;script&gt;" in html
        claims = jwt.decode(page_token_of(html), linked.shared_secret, algorithms=["HS256"])
        assert claims["fmejira"] == {"issueKey": ISSUE}


def test_a_glance_page_of_a_site_without_fme_is_never_cached(client, site, fake_jira, cache):
    """What it says depends on whether the reader is a Jira administrator."""
    fake_jira.admin_account_ids.add(ADMIN)
    for _ in range(2):
        assert "/fme-configure" in glance_page(client, site, ADMIN)
        assert "Ask a Jira administrator to connect Harness FME" in glance_page(client, site, USER)


def entry_key(site, name: str) -> str:
    """Where Redis keeps a site's entry."""
    return HotCache._entry_key(site.client_key, name)


def page_in_redis(cache, site) -> tuple[bytes, bytes]:
    """The generation tag and the packed page of ISSUE's glance, as Redis holds them."""
    generation, _, packed_page = cache.client.get(
        entry_key(site, glance.page_entry(ISSUE))
    ).partition(b"|")
    return generation, packed_page


def test_a_cached_glance_page_is_packed_with_its_templates_as_dictionary(
    client, linked, cache, app
):
    html = glance_page(client, linked)
    _, packed_page = page_in_redis(cache, linked)
    with app.app_context():
        page = glance._unpacked(packed_page)
    assert str(glance.SLOT) in page.decode()
    assert without_token(page.decode()) == without_token(html)
    assert len(packed_page) < 0.6 * len(zlib.compress(page))
    with pytest.raises(zlib.error):  # it needs the dictionary
        zlib.decompress(packed_page)


def _packed_with(dictionary: bytes, page: bytes) -> bytes:
    compressor = zlib.compressobj(zdict=dictionary)
    return compressor.compress(page) + compressor.flush()


@pytest.mark.parametrize(
    "stored",
    [
        # a whole page of another version, token slot and all, but another dictionary
        lambda packed_page: _packed_with(
            b"<html>other templates", glance.SLOT.encode() + b"<p>another version</p></html>"
        ),
        lambda packed_page: packed_page[:-8],  # cut short
        lambda packed_page: b"not zlib at all",
        lambda packed_page: glance.packed(b"<p>another version, without a token slot</p>"),
    ],
    ids=["other dictionary", "truncated", "not zlib", "no token slot"],
)
def test_a_cached_page_that_does_not_unpack_whole_is_rendered_anew(
    client, linked, cache, app, stored
):
    glance_page(client, linked)
    generation, packed_page = page_in_redis(cache, linked)
    with app.app_context():
        cache.client.set(
            entry_key(linked, glance.page_entry(ISSUE)),
            generation + b"|" + stored(packed_page),
            ex=60,
        )
    cache.near.clear()
    html = glance_page(client, linked)
    assert "new-checkout" in html and html.rstrip().endswith("</html>")
    assert "another version" not in html


def test_a_repeated_fme_side_list_sends_no_sql(client, linked):
    bearer = {"Authorization": f"Bearer {FME_KEY}"}
    answers = [client.get(FME_LIST, headers=bearer) for _ in range(2)]  # the 2nd learns the site
    db.session.remove()
    with Statements() as sql:
        cached = client.get(FME_LIST, headers=bearer)
    assert cached.status_code == 200 and [i["key"] for i in cached.get_json()] == [ISSUE]
    assert sql.count == 0
    assert cached.get_data() == answers[0].get_data()


def test_a_cached_fme_side_list_is_packed(client, linked, cache):
    bearer = {"Authorization": f"Bearer {FME_KEY}"}
    answer = [client.get(FME_LIST, headers=bearer) for _ in range(2)][-1]
    [stored] = [k for k in cache.client.scan_iter(match=f"{PREFIX}e:*issues:*")]
    assert zlib.decompress(cache.client.get(stored).partition(b"|")[2]) == answer.get_data()


# -- what a change makes wrong is never served ---------------------------------------------------


def test_connect_and_disconnect_from_jira_show_at_once(client, linked):
    client.get(DATA, headers=page_token(linked))
    added = client.post(
        DATA,
        headers=auth_header(context_jwt(linked)),
        json={"workspaceId": "ws-checkout", "flagName": "dark-mode"},
    )
    assert added.status_code == 201
    assert names(client.get(DATA, headers=page_token(linked))) == ["dark-mode", "new-checkout"]
    removed = client.delete(f"{DATA}/ws-checkout/new-checkout", headers=page_token(linked))
    assert removed.status_code == 204
    assert names(client.get(DATA, headers=page_token(linked))) == ["dark-mode"]


def test_connect_and_disconnect_from_fme_show_at_once(client, linked):
    bearer = {"Authorization": f"Bearer {FME_KEY}"}
    for _ in range(3):
        assert client.get(FME_LIST, headers=bearer).status_code == 200
    client.get(DATA, headers=page_token(linked, issue=OTHER))
    added = client.post(FME_LIST, headers=bearer, json={"issueKey": OTHER})
    assert added.status_code == 201, added.json
    assert [i["key"] for i in client.get(FME_LIST, headers=bearer).get_json()] == [ISSUE, OTHER]
    other = f"/jira/api/issues/{OTHER}/flags"
    assert names(client.get(other, headers=page_token(linked, issue=OTHER))) == ["new-checkout"]
    assert client.delete(f"{FME_LIST}/{ISSUE}", headers=bearer).status_code == 204
    assert [i["key"] for i in client.get(FME_LIST, headers=bearer).get_json()] == [OTHER]
    assert names(client.get(DATA, headers=page_token(linked))) == []


def test_a_replaced_fme_key_no_longer_reads_the_cached_list(client, linked, fake_fme):
    """The list's entry is named by the key that proved itself: once the site's key is
    replaced, the old key's entry is stale with the site's generation, and the old key is 401."""
    old, new = {"Authorization": f"Bearer {FME_KEY}"}, "fme-admin-key-rotated-000000001"
    for _ in range(3):  # the 3rd from the cache
        assert client.get(FME_LIST, headers=old).status_code == 200
    fake_fme.add_key(new, {"ws-checkout"})
    configuration.save(linked, new, [configuration.ProjectSelection("ws-checkout", "env-prod")])
    assert client.get(FME_LIST, headers=old).status_code == 401
    fresh = client.get(FME_LIST, headers={"Authorization": f"Bearer {new}"})
    assert [i["key"] for i in fresh.get_json()] == [ISSUE]


def test_a_disabled_site_s_cached_fme_side_list_is_not_served(client, linked):
    bearer = {"Authorization": f"Bearer {FME_KEY}"}
    for _ in range(3):
        assert client.get(FME_LIST, headers=bearer).status_code == 200
    linked.enabled = False
    db.session.commit()
    assert client.get(FME_LIST, headers=bearer).status_code == 401


def test_a_flag_state_change_shows_at_once(client, linked):
    before = client.get(DATA, headers=page_token(linked)).get_json()["flags"][0]
    assert before["status"]["state"] == "on"
    state = db.session.scalar(sa.select(FlagState))
    state.killed = True
    db.session.commit()  # as a refresh or a webhook's task commits it
    after = client.get(DATA, headers=page_token(linked)).get_json()["flags"][0]
    assert after["status"]["state"] == "off"


def test_deleting_the_configuration_shows_at_once(client, linked):
    assert client.get(DATA, headers=page_token(linked)).get_json()["configured"] is True
    from fmejira.domain import configuration

    configuration.delete(linked)
    after = client.get(DATA, headers=page_token(linked)).get_json()
    assert after["configured"] is False and after["flags"] == []


def test_an_uninstalled_site_is_refused_though_its_answer_was_cached(client, linked):
    headers = page_token(linked)
    assert client.get(DATA, headers=headers).status_code == 200
    tenant = db.session.get(Tenant, linked.id)
    tenant.state = TenantState.UNINSTALLED
    db.session.commit()
    assert client.get(DATA, headers=headers).status_code == 401


def test_a_new_shared_secret_refuses_tokens_signed_with_the_old_one(client, linked):
    old_token = context_jwt(linked, lifetime=600, fmejira={"issueKey": ISSUE})
    assert client.get(DATA, headers=auth_header(old_token)).status_code == 200
    tenant = db.session.get(Tenant, linked.id)
    tenant.shared_secret = "a-new-secret-" + "y" * 40
    db.session.commit()
    assert client.get(DATA, headers=auth_header(old_token)).status_code == 401
    assert client.get(DATA, headers=page_token(tenant)).status_code == 200


def test_a_token_bound_to_another_issue_is_refused_though_both_are_cached(client, linked):
    assert client.get(DATA, headers=page_token(linked)).status_code == 200
    other = f"/jira/api/issues/{OTHER}/flags"
    assert client.get(other, headers=page_token(linked, issue=OTHER)).status_code == 200
    assert client.get(DATA, headers=page_token(linked, issue=OTHER)).status_code == 403


def test_unbound_tokens_are_still_checked_with_jira(client, linked, fake_jira):
    """The cache answers only tokens bound to the issue; any other token is asked about."""
    assert client.get(DATA, headers=page_token(linked)).status_code == 200
    fake_jira.hidden_issue_ids["account-9"] = {fake_jira.issue(ISSUE).id}
    unbound = auth_header(context_jwt(linked, sub="account-9"))
    assert client.get(DATA, headers=unbound).status_code == 404


def test_a_bad_signature_is_refused_from_the_cached_site(client, linked):
    assert client.get(DATA, headers=page_token(linked)).status_code == 200
    forged = context_jwt(linked, fmejira={"issueKey": ISSUE}, secret="not-the-secret-" + "z" * 30)
    assert client.get(DATA, headers=auth_header(forged)).status_code == 401


# -- the near copy in each process ----------------------------------------------------------------


class NoRedis:
    """Stands in for the Redis client: any command fails the test."""

    def __getattr__(self, name):
        raise AssertionError(f"Redis was asked ({name})")


def test_a_repeated_read_is_answered_in_process_without_redis(client, linked, cache):
    first = client.get(DATA, headers=page_token(linked))  # computed, written to Redis
    client.get(DATA, headers=page_token(linked))  # read from Redis, kept in the process
    shared, cache.client = cache.client, NoRedis()
    try:
        with Statements() as sql:
            again = client.get(DATA, headers=page_token(linked))
    finally:
        cache.client = shared
    assert again.status_code == 200 and sql.count == 0
    assert again.get_data() == first.get_data()


def _kill_state_behind_the_apps_back(site):
    """A change made by another process: its commit's bump is not seen here."""
    with db.engine.begin() as connection:
        connection.execute(sa.update(FlagState).values(killed=True))


def test_a_bump_published_by_another_process_reaches_this_one(client, linked, cache, app):
    for _ in range(2):
        client.get(DATA, headers=page_token(linked))
    _kill_state_behind_the_apps_back(linked)
    held = client.get(DATA, headers=page_token(linked)).get_json()["flags"][0]
    assert held["status"]["state"] == "on"  # nothing told this process yet
    other_process = HotCache(redis.Redis.from_url(REDIS_URL), app.config["HOT_CACHE_SECONDS"])
    other_process.bump([linked.client_key])
    deadline = time.monotonic() + 2
    while True:
        flag = client.get(DATA, headers=page_token(linked)).get_json()["flags"][0]
        if flag["status"]["state"] == "off":
            break
        assert time.monotonic() < deadline, "the published bump never arrived"
        time.sleep(0.005)


def test_without_a_live_subscription_the_near_copy_is_not_used(client, linked, cache):
    for _ in range(2):
        client.get(DATA, headers=page_token(linked))
    assert cache.near.get(linked.client_key, ("site", f"flags:{ISSUE}")) is not None
    cache.client.client_kill_filter(_type="pubsub")  # the listener's connection
    deadline = time.monotonic() + 2
    while cache.near.live:
        assert time.monotonic() < deadline
        time.sleep(0.005)
    assert cache.near.get(linked.client_key, ("site", f"flags:{ISSUE}")) is None
    # a bump published while it was away is not missed: the copy starts empty again
    _kill_state_behind_the_apps_back(linked)
    HotCache(redis.Redis.from_url(REDIS_URL), 300).bump([linked.client_key])
    wait_until_live(cache)
    flag = client.get(DATA, headers=page_token(linked)).get_json()["flags"][0]
    assert flag["status"]["state"] == "off"


@pytest.mark.parametrize("sites", [30, 3_000])
def test_the_near_copy_holds_no_more_memory_than_its_budget(sites):
    budget = 2 * 2**20

    def fill(near):
        near._go_live()  # as its listener does once subscribed
        for i in range(12_000):  # several budgets' worth, as the hot paths read them
            client_key = f"7a3ee0bd-{i % sites:06d}-41836ffed86e"
            generation = str(10**17 + i % sites).encode()
            entries = [(f"flags:HTB-{i}", secrets.token_bytes(300 + i % 900), 60_000)]
            near.put(near.epoch(), client_key, generation, entries)

    near = NearCopy(redis.Redis.from_url(REDIS_URL), budget)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        fill(near)
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert budget * 0.8 < held < budget * 1.05


def test_a_read_that_may_predate_a_bump_is_not_kept(linked, cache):
    epoch = cache.near.epoch()
    cache.near.invalidate([linked.client_key])  # a bump arrives while Redis is being read
    cache.near.put(epoch, linked.client_key, b"7", [("answer", b"old", 60_000)])
    assert cache.near.get(linked.client_key, ("answer",)) is None
    cache.near.put(cache.near.epoch(), linked.client_key, b"7", [("answer", b"new", 60_000)])
    assert cache.near.get(linked.client_key, ("answer",)).values == [b"new"]


def test_a_process_drops_its_own_copy_only_once_redis_has_the_new_generation(
    linked, cache, monkeypatch
):
    """Else a thread that read the old generation meanwhile could keep it."""
    key = f"{PREFIX}gen:{linked.client_key}"
    before = cache.read(linked.client_key).generation
    seen, invalidate = [], cache.near.invalidate

    def recording(client_keys):
        seen.append(cache.client.get(key))
        invalidate(client_keys)

    monkeypatch.setattr(cache.near, "invalidate", recording)
    cache.bump([linked.client_key])
    assert seen and all(generation != before for generation in seen)


def test_the_near_copy_keeps_an_entry_no_longer_than_redis(linked, cache):
    generation = cache.read(linked.client_key).generation
    cache.write(linked.client_key, generation, {"answer": (b"soon stale", 1)})
    assert cache.read(linked.client_key, "answer").values == [b"soon stale"]  # from Redis
    assert cache.near.get(linked.client_key, ("answer",)) is not None
    time.sleep(1.05)
    assert cache.near.get(linked.client_key, ("answer",)) is None
    assert cache.read(linked.client_key, "answer").values == [None]


# -- freshness and failure -----------------------------------------------------------------------


def test_an_answer_expires_when_its_first_flag_would_turn_stale(client, linked, cache, app):
    state = db.session.scalar(sa.select(FlagState))
    state.read_at = utcnow() - timedelta(seconds=app.config["STALE_SECONDS"] - 30)
    db.session.commit()
    assert client.get(DATA, headers=page_token(linked)).get_json()["refreshing"] is False
    ttl = cache.client.ttl(entry_key(linked, flags_entry(ISSUE)))
    assert 0 < ttl <= 30


def test_an_answer_with_a_refresh_under_way_is_not_cached(client, linked, cache):
    state = db.session.scalar(sa.select(FlagState))
    state.read_at = utcnow() - timedelta(days=1)
    db.session.commit()
    assert client.get(DATA, headers=page_token(linked)).get_json()["refreshing"] is True
    assert cache.client.exists(entry_key(linked, flags_entry(ISSUE))) == 0


def test_a_lost_generation_makes_every_entry_of_the_site_stale(client, linked, cache):
    client.get(DATA, headers=page_token(linked))
    cache.client.delete(f"{PREFIX}gen:{linked.client_key}")
    cache.near.clear()  # as a process that has not read the site yet
    generation, values = cache.read(linked.client_key, "site", f"flags:{ISSUE}")
    assert generation is not None and values == [None, None]


def test_without_redis_requests_read_the_database(client, linked, app):
    app.extensions[EXTENSION] = HotCache(
        redis_client("redis://127.0.0.1:9/0"),  # nothing listens there
        app.config["HOT_CACHE_SECONDS"],
    )
    for _ in range(2):
        response = client.get(DATA, headers=page_token(linked))
        assert response.status_code == 200 and names(response) == ["new-checkout"]
    state = db.session.scalar(sa.select(FlagState))
    state.killed = True
    db.session.commit()  # the bump fails (logged); nothing else does
    assert client.get(DATA, headers=page_token(linked)).status_code == 200


def test_commits_bump_only_the_sites_they_changed(linked, cache):
    from tests.support import make_tenant

    other = make_tenant("jira:other-site")
    before = {site.client_key: cache.read(site.client_key).generation for site in (linked, other)}
    state = db.session.scalar(sa.select(FlagState))
    state.killed = True
    db.session.commit()
    assert cache.read(linked.client_key).generation != before[linked.client_key]
    assert cache.read(other.client_key).generation == before[other.client_key]


def _filled(budget: int, sites: list[str], per_site: int) -> NearCopy:
    near = NearCopy(redis.Redis.from_url(REDIS_URL), budget)
    near._go_live()
    for client_key in sites:
        for i in range(per_site):
            near.put(near.epoch(), client_key, b"7", [(f"flags:HTB-{i}", b"x" * 1000, 60_000)])
    return near


def test_the_near_copy_lets_the_least_recently_read_entries_go_first():
    near = _filled(30_000, ["site-a", "site-b"], per_site=10)  # 13.5 KB a site
    assert near.get("site-a", ("flags:HTB-0",)) is not None  # read: the others are older
    for i in range(10):
        near.put(near.epoch(), "site-c", b"7", [(f"flags:HTB-{i}", b"x" * 1000, 60_000)])
    assert near.get("site-a", ("flags:HTB-0",)) is not None
    assert near.get("site-a", ("flags:HTB-1",)) is None
    assert near.get("site-c", ("flags:HTB-9",)) is not None


def test_the_near_copy_keeps_a_site_s_key_once():
    near = _filled(2**20, ["".join(["site-", "a"]) for _ in range(5)], per_site=2)
    keys = [client_key for client_key, _ in near._entries._items]
    assert len(keys) == 3 and all(key is keys[0] for key in keys)  # the generation and 2 entries


def test_a_newer_generation_makes_what_the_copy_held_of_the_site_stale():
    near = _filled(2**20, ["site-a"], per_site=2)
    near.put(near.epoch(), "site-a", b"8", [("flags:HTB-0", b"new", 60_000)])
    assert near.get("site-a", ("flags:HTB-0",)) == (b"8", [b"new"])
    assert near.get("site-a", ("flags:HTB-1",)) is None  # read under generation 7
