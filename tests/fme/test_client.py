"""The FME Admin API client, over real HTTP against the local FME server."""

import logging
import time

import pytest

from fmejira.fme.client import FmeClient, detect_auth_scheme
from fmejira.fme.schemas import UnexpectedResponse
from fmejira.outbound import NotFound, RetryPolicy, Unauthorized, Unavailable
from tests.fakes.fme_server import FakeFme

KEY = "legacy-admin-key-0123456789"
FAST = RetryPolicy(total=2, backoff_factor=0.01, backoff_jitter=0.0, max_wait=5.0)


@pytest.fixture
def fme():
    server = FakeFme()
    server.add_workspace(
        "ws-1",
        "Checkout",
        environments=(("env-p", "Production", True), ("env-s", "Staging", False)),
    )
    server.add_key(KEY, {"ws-1"})
    yield server
    server.stop()


def client(fme, key=KEY, scheme="bearer", policy=FAST):
    return FmeClient(fme.url, key, scheme, policy=policy)


def test_workspaces_and_environments(fme):
    assert [(w.id, w.name) for w in client(fme).workspaces()] == [("ws-1", "Checkout")]
    environments = client(fme).environments("ws-1")
    assert [(e.name, e.production) for e in environments] == [
        ("Production", True),
        ("Staging", False),
    ]


def test_flags_are_paged_to_the_end(fme):
    for n in range(120):
        fme.add_flag("ws-1", f"flag-{n:03d}")
    flags = client(fme).flags("ws-1")
    assert len(flags) == 120 and flags[0].id == "id-ws-1-flag-000"
    assert fme.calls("flags") == 3


def test_definitions_are_paged_by_50(fme):
    for n in range(120):
        fme.add_flag("ws-1", f"flag-{n:03d}", killed=n % 2 == 0)
    definitions = client(fme).definitions("ws-1", "env-p")
    assert len(definitions) == 120
    assert {r.query["limit"] for r in fme.requests} == {"50"}
    assert fme.calls("definitions") == 3
    assert definitions[0].killed is True and definitions[1].killed is False


def test_an_empty_page_stops_even_if_the_total_lies(fme):
    fme.fail_next(1, 200, body='{"objects": [{"id": "w", "name": "W"}], "totalCount": 10000}')
    fme.fail_next(1, 200, body='{"objects": [], "totalCount": 10000}')
    assert [w.id for w in client(fme).workspaces()] == ["w"]
    assert len(fme.requests) == 2


def test_one_flag_and_one_definition(fme):
    fme.add_flag("ws-1", "new-checkout", default_treatment="on", traffic_allocation=80)
    flag = client(fme).flag("ws-1", "new-checkout")
    assert (flag.name, flag.traffic_type, flag.description) == (
        "new-checkout",
        "user",
        "new-checkout description",
    )
    definition = client(fme).definition("ws-1", "new-checkout", "env-p")
    assert definition.default_treatment == "on" and definition.traffic_allocation == 80
    assert definition.environment_name == "Production"


def test_legacy_keys_go_as_bearer_and_harness_tokens_as_x_api_key(fme):
    token = "pat.acct.tok.secret"
    fme.add_key(token, {"ws-1"}, scheme="x-api-key")
    assert detect_auth_scheme(KEY) == "bearer"
    assert detect_auth_scheme(token) == "x-api-key"
    assert detect_auth_scheme("sat.acct.tok.secret") == "x-api-key"
    client(fme).workspaces()
    assert fme.requests[-1].headers["Authorization"] == f"Bearer {KEY}"
    client(fme, token, "x-api-key").workspaces()
    assert fme.requests[-1].headers["X-Api-Key"] == token
    assert "Authorization" not in fme.requests[-1].headers


@pytest.mark.slow
def test_429_waits_the_larger_reset_then_succeeds(fme):
    fme.fail_next(
        1,
        429,
        {
            "X-RateLimit-Reset-Seconds-Org": "1",
            "X-RateLimit-Reset-Seconds-IP": "2",
            "X-RateLimit-Remaining-Org": "0",
        },
    )
    started = time.monotonic()
    assert len(client(fme).workspaces()) == 1
    assert time.monotonic() - started >= 2.0


def test_500_then_success(fme):
    fme.fail_next(1, 500)
    assert len(client(fme).workspaces()) == 1


def test_repeated_503_is_unavailable(fme):
    fme.fail_next(10, 503)
    with pytest.raises(Unavailable):
        client(fme).workspaces()


def test_401_and_403_are_unauthorized(fme):
    with pytest.raises(Unauthorized):
        client(fme, key="wrong-key-0000000000").workspaces()
    fme.add_workspace("ws-2", "Other")
    with pytest.raises(Unauthorized):
        client(fme).environments("ws-2")


def test_404_is_not_found(fme):
    with pytest.raises(NotFound):
        client(fme).flag("ws-1", "nope")


def test_a_slow_answer_is_unavailable(fme):
    fme.delay_next(1.0)
    with pytest.raises(Unavailable):
        client(fme, policy=RetryPolicy(total=0, read_timeout=0.2)).workspaces()


@pytest.mark.parametrize(
    "body", ["not json", "[1, 2]", '{"objects": "x"}', '{"objects": [{"nope": 1}]}']
)
def test_malformed_answers_are_typed_errors(fme, body):
    fme.fail_next(1, 200, body=body)
    with pytest.raises(UnexpectedResponse):
        client(fme).workspaces()


def test_a_definition_missing_required_fields_is_a_typed_error(fme):
    fme.fail_next(1, 200, body='{"name": "x"}')
    with pytest.raises(UnexpectedResponse):
        client(fme).definition("ws-1", "x", "env-p")


def test_names_cannot_change_the_path(fme):
    with pytest.raises(NotFound):
        client(fme).flag("ws-1", "a/b?c=d")
    (request,) = fme.requests
    assert request.query == {}  # "?" stayed inside the (encoded) name
    assert request.path.endswith("/splits/ws/ws-1/a/b?c=d")  # one decoded segment


def test_the_key_is_never_shown_or_logged(fme, caplog):
    caplog.set_level(logging.DEBUG)
    fme.fail_next(1, 500)
    c = client(fme)
    c.workspaces()
    assert KEY not in repr(c)
    assert KEY not in caplog.text
