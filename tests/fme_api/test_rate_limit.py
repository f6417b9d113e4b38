"""The FME-side API's budget: one per API key for the whole API, shared by every machine through
Redis, and never the reason the API fails when Redis does."""

from fmejira.fme_api.rate_limit import EXTENSION, RateLimiter
from tests.fme_api.helpers import ISSUES, assert_error, bearer
from tests.support import REDIS_URL, needs_redis


@needs_redis
def test_machines_sharing_redis_share_one_budget():
    here, there = RateLimiter(REDIS_URL), RateLimiter(REDIS_URL)
    here.reset()
    waits = [limiter.seconds_to_wait("3/minute", "key:k") for limiter in (here, there, here)]
    assert waits == [None, None, None]
    wait = there.seconds_to_wait("3/minute", "key:k")
    assert wait is not None and 1 <= wait <= 60
    assert here.seconds_to_wait("3/minute", "key:other") is None
    here.reset()


def test_past_the_budget_the_answer_says_when_to_come_back(app, client, flag_site):
    app.config["API_RATE_LIMIT"] = "2/hour"
    assert [client.get(ISSUES, headers=bearer()).status_code for _ in range(2)] == [200, 200]
    limited = client.get(ISSUES, headers=bearer())
    assert_error(limited, 429, "too_many_requests")
    assert 1 <= int(limited.headers["Retry-After"]) <= 3600
    assert limited.headers["Retry-After"] in limited.json["error"]["message"]


def test_callers_without_a_key_draw_on_their_address(app, client, flag_site):
    app.config["API_RATE_LIMIT"] = "2/minute"
    for _ in range(2):
        assert_error(client.get(ISSUES), 401, "unauthenticated")
    assert_error(client.get(ISSUES), 429, "too_many_requests")
    other_address = client.get(ISSUES, environ_overrides={"REMOTE_ADDR": "192.0.2.7"})
    assert_error(other_address, 401, "unauthenticated")
    assert client.get(ISSUES, headers=bearer()).status_code == 200  # a key has its own


def test_an_unreachable_counter_lets_requests_through(app, client, flag_site, caplog):
    app.extensions[EXTENSION] = RateLimiter("redis://127.0.0.1:9/0")  # nothing listens
    app.config["API_RATE_LIMIT"] = "1/minute"
    statuses = [client.get(ISSUES, headers=bearer()).status_code for _ in range(3)]
    assert statuses == [200, 200, 200]
    assert "rate limit not counted" in caplog.text


def test_behind_a_trusted_proxy_keyless_callers_are_told_apart_by_their_address(
    database_url, tmp_path
):
    from fmejira import create_app
    from tests.conftest import _settings

    app = create_app(
        _settings(database_url, TRUST_PROXY=True, API_RATE_LIMIT="1/minute"),
        instance_path=str(tmp_path),
    )
    client = app.test_client()
    statuses = [
        client.get(ISSUES, headers={"X-Forwarded-For": address}).status_code
        for address in ("192.0.2.1", "192.0.2.2", "192.0.2.1")
    ]
    assert statuses == [401, 401, 429]


class _Clock:
    def __init__(self):
        self.now = 1_000_040.0  # 20 s into a minute's window (they start at 1_000_020)

    def __call__(self):
        return self.now


class _CountedCalls:
    """The limiter's shared counters, with each round trip counted (and one made to fail)."""

    def __init__(self, counts):
        self.counts, self.calls, self.fail_next = counts, 0, False

    def add(self, counts):
        self.calls += 1
        if self.fail_next:
            self.fail_next = False
            import redis

            raise redis.ConnectionError("down for a moment")
        return self.counts.add(counts)

    def reset(self):
        self.counts.reset()


def _limiter(clock) -> tuple[RateLimiter, _CountedCalls]:
    limiter = RateLimiter(REDIS_URL, clock=clock)
    limiter._counts = counted = _CountedCalls(limiter._counts)
    limiter.reset()
    return limiter, counted


@needs_redis
def test_far_from_its_limit_a_budget_costs_one_round_trip_per_flush_interval():
    from fmejira.fme_api.rate_limit import FLUSH_SECONDS

    clock = _Clock()
    limiter, counted = _limiter(clock)
    assert all(limiter.seconds_to_wait("1000/minute", "key:k") is None for _ in range(100))
    assert counted.calls == 1  # the first request's flush; the other 99 counted here
    clock.now += FLUSH_SECONDS
    assert limiter.seconds_to_wait("1000/minute", "key:k") is None
    assert counted.calls == 2
    window_total = max(w.seen for w in limiter._windows.values())
    assert window_total == 101  # every request reached Redis
    limiter.reset()


@needs_redis
def test_near_its_limit_every_request_is_counted_in_redis_and_the_limit_holds():
    from fmejira.fme_api.rate_limit import FLUSH_SECONDS

    clock = _Clock()
    here, _ = _limiter(clock)
    there = RateLimiter(REDIS_URL, clock=clock)
    allowed = 0
    for n in range(40):
        clock.now += FLUSH_SECONDS  # counts meet in Redis before each decision
        if (here, there)[n % 2].seconds_to_wait("10/minute", "key:k") is None:
            allowed += 1
    assert allowed == 10
    here.reset()


@needs_redis
def test_an_overdraft_between_flushes_is_bounded_by_half_a_budget_per_process():
    clock = _Clock()  # frozen: no flush is ever due after the first
    here, _ = _limiter(clock)
    there = RateLimiter(REDIS_URL, clock=clock)
    allowed = sum(
        (here, there)[n % 2].seconds_to_wait("100/minute", "key:k") is None for n in range(400)
    )
    assert 100 <= allowed <= 150
    here.reset()


@needs_redis
def test_a_spent_budget_is_refused_without_a_round_trip():
    clock = _Clock()
    limiter, counted = _limiter(clock)
    waits = [limiter.seconds_to_wait("2/minute", "key:k") for _ in range(3)]
    assert waits[:2] == [None, None] and waits[2] == 40
    calls = counted.calls
    assert all(limiter.seconds_to_wait("2/minute", "key:k") == 40 for _ in range(10))
    assert counted.calls == calls
    clock.now += 40  # the next window
    assert limiter.seconds_to_wait("2/minute", "key:k") is None
    limiter.reset()


@needs_redis
def test_counts_a_failed_flush_could_not_add_are_added_at_the_next(caplog):
    from fmejira.fme_api.rate_limit import FLUSH_SECONDS

    clock = _Clock()
    limiter, counted = _limiter(clock)
    counted.fail_next = True
    assert all(limiter.seconds_to_wait("1000/minute", "key:k") is None for _ in range(5))
    assert "rate limit not counted" in caplog.text
    clock.now += FLUSH_SECONDS
    assert limiter.seconds_to_wait("1000/minute", "key:k") is None
    assert max(w.seen for w in limiter._windows.values()) == 6
    limiter.reset()


@needs_redis
def test_past_the_budgets_a_process_follows_every_request_is_counted_in_redis(monkeypatch):
    from fmejira.fme_api import rate_limit

    monkeypatch.setattr(rate_limit, "MAX_WINDOWS", 1)
    clock = _Clock()
    limiter, counted = _limiter(clock)
    assert limiter.seconds_to_wait("1000/minute", "key:followed") is None
    calls = counted.calls
    waits = [limiter.seconds_to_wait("3/minute", "key:unfollowed") for _ in range(4)]
    assert waits[:3] == [None, None, None] and waits[3] is not None
    assert counted.calls == calls + 4
    limiter.reset()
