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
