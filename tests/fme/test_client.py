"""The FME Admin API client, over real HTTP against the local FME server."""

import json
import logging
import time

import pytest

from fmejira.fme import client as client_module
from fmejira.fme.client import FmeClient, detect_auth_scheme
from fmejira.fme.schemas import UnexpectedResponse
from fmejira.outbound import (
    NotFound,
    RateLimited,
    RetryPolicy,
    Unauthorized,
    Unavailable,
)
from tests.fakes.fme_server import FakeFme

KEY = "legacy-admin-key-0123456789"
TOKEN = "pat.account-1.token-1.secret-0123456789"
FAST = RetryPolicy(total=2, backoff_factor=0.01, backoff_jitter=0.0, max_wait=5.0)


@pytest.fixture
def fme():
    with FakeFme() as server:
        server.add_workspace(
            "ws-1",
            "Checkout",
            environments=(("env-p", "Production", True), ("env-s", "Staging", False)),
        )
        server.add_key(KEY, {"ws-1"})
        yield server


def client(fme, key=KEY, scheme="bearer", policy=FAST):
    return FmeClient(fme.url, key, scheme, policy=policy)


def page(objects: list, total: int) -> str:
    """A page body that may disagree with the request (served through ``fail_next``)."""
    return json.dumps({"objects": objects, "offset": 0, "limit": 50, "totalCount": total})


# Reading


def test_workspaces_and_environments(fme):
    fme.add_environment("ws-1", "env-q", "QA")
    assert [(w.id, w.name) for w in client(fme).workspaces()] == [("ws-1", "Checkout")]
    environments = client(fme).environments("ws-1")
    assert [(e.id, e.name, e.production) for e in environments] == [
        ("env-p", "Production", True),
        ("env-s", "Staging", False),
        ("env-q", "QA", False),
    ]


def test_workspaces_are_paged_to_the_end(fme):
    for n in range(60):
        fme.add_workspace(f"ws-x{n:02d}", f"Project {n}")
    fme.add_key(KEY, set(fme.workspaces))
    assert len(client(fme).workspaces()) == 61
    assert [r.query["offset"] for r in fme.requests] == ["0", "50"]


def test_flags_are_paged_to_the_end(fme):
    for n in range(120):
        fme.add_flag("ws-1", f"flag-{n:03d}")
    flags = client(fme).flags("ws-1")
    assert [f.name for f in flags] == [f"flag-{n:03d}" for n in range(120)]
    assert fme.calls("flags") == 3


def test_flags_by_tag(fme):
    fme.add_flag("ws-1", "tagged", tags=("checkout", "q3"))
    fme.add_flag("ws-1", "untagged")
    (flag,) = client(fme).flags("ws-1", tag="checkout")
    assert (flag.name, flag.tags) == ("tagged", ("checkout", "q3"))
    assert fme.requests[-1].query["tag"] == "checkout"


def test_definitions_are_paged_by_50(fme):
    for n in range(120):
        fme.add_flag("ws-1", f"flag-{n:03d}", killed=n % 2 == 0)
    definitions = client(fme).definitions("ws-1", "env-p")
    assert len(definitions) == 120
    assert [r.query for r in fme.requests] == [
        {"limit": "50", "offset": "0"},
        {"limit": "50", "offset": "50"},
        {"limit": "50", "offset": "100"},
    ]
    assert [d.killed for d in definitions[:2]] == [True, False]


def test_an_empty_page_ends_the_list_whatever_the_total_says(fme):
    fme.fail_next(1, 200, body=page([{"id": "w", "name": "W"}], 10_000))
    fme.fail_next(1, 200, body=page([], 10_000))
    assert [w.id for w in client(fme).workspaces()] == ["w"]
    assert len(fme.requests) == 2


def test_a_short_page_skips_nothing(fme):
    """A peer that caps the limit below 50 is paged by what it actually returned."""
    fme.fail_next(1, 200, body=page([{"id": "a", "name": "A"}, {"id": "b", "name": "B"}], 3))
    fme.fail_next(1, 200, body=page([{"id": "c", "name": "C"}], 3))
    assert [w.id for w in client(fme).workspaces()] == ["a", "b", "c"]
    assert [r.query["offset"] for r in fme.requests] == ["0", "2"]


def test_a_peer_ignoring_the_offset_cannot_page_forever(fme, monkeypatch):
    monkeypatch.setattr(client_module, "MAX_PAGES", 3)
    fme.fail_next(10, 200, body=page([{"id": "w", "name": "W"}], 10_000))
    with pytest.raises(UnexpectedResponse, match="paging"):
        client(fme).workspaces()
    assert len(fme.requests) == 3


def test_one_flag(fme):
    fme.add_flag("ws-1", "new-checkout", tags=("web",), rollout_status="Ramping")
    flag = client(fme).flag("ws-1", "new-checkout")
    assert flag.id == "id-ws-1-new-checkout"
    assert (flag.name, flag.description, flag.traffic_type) == (
        "new-checkout",
        "new-checkout description",
        "user",
    )
    assert (flag.tags, flag.rollout_status, flag.creation_time) == (
        ("web",),
        "Ramping",
        1_600_000_000_000,
    )


def test_one_definition_by_environment_id_or_name(fme):
    fme.add_flag(
        "ws-1",
        "new-checkout",
        default_treatment="on",
        traffic_allocation=80,
        default_rule=[{"treatment": "on", "size": 30}, {"treatment": "off", "size": 70}],
        rules=[{"condition": {"combiner": "AND", "matchers": []}, "buckets": []}],
    )
    by_id = client(fme).definition("ws-1", "new-checkout", "env-p")
    assert client(fme).definition("ws-1", "new-checkout", "Production") == by_id
    assert (by_id.default_treatment, by_id.traffic_allocation, by_id.killed) == ("on", 80, False)
    assert (by_id.environment_id, by_id.environment_name) == ("env-p", "Production")
    assert [t.name for t in by_id.treatments] == ["on", "off"]
    assert [(b.treatment, b.size) for b in by_id.default_rule] == [("on", 30), ("off", 70)]
    assert len(by_id.rules) == 1 and by_id.rules[0].buckets == ()
    assert by_id.last_update_time == 1_700_000_000_000


def test_optional_fields_may_be_missing_or_null(fme):
    fme.fail_next(
        1,
        200,
        body='{"name": "bare", "treatments": [{"name": "off"}], "defaultTreatment": "off",'
        ' "defaultRule": [], "environment": null, "killed": null, "trafficAllocation": null,'
        ' "rules": null, "lastUpdateTime": null, "somethingNew": {"x": 1}}',
    )
    definition = client(fme).definition("ws-1", "bare", "env-p")
    assert (definition.killed, definition.traffic_allocation, definition.rules) == (False, 100, ())
    assert (definition.environment_id, definition.last_update_time) == (None, None)


# Authentication


@pytest.mark.parametrize(
    ("key", "scheme"),
    [
        (KEY, "bearer"),
        (TOKEN, "x-api-key"),
        ("sat.account-1.token-2.secret", "x-api-key"),
        ("patient-key", "bearer"),
        ("PAT.upper.case.key", "bearer"),
    ],
)
def test_detect_auth_scheme(key, scheme):
    assert detect_auth_scheme(key) == scheme


def test_legacy_keys_go_as_bearer_and_harness_tokens_as_x_api_key(fme):
    fme.add_key(TOKEN, {"ws-1"}, scheme="x-api-key")
    client(fme).workspaces()
    assert fme.requests[-1].headers["Authorization"] == f"Bearer {KEY}"
    assert "x-api-key" not in fme.requests[-1].headers
    client(fme, TOKEN, "x-api-key").workspaces()
    assert fme.requests[-1].headers["x-api-key"] == TOKEN
    assert "Authorization" not in fme.requests[-1].headers


def test_a_key_is_only_accepted_in_its_own_scheme(fme):
    with pytest.raises(Unauthorized):
        client(fme, KEY, "x-api-key").workspaces()


def test_an_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="scheme"):
        FmeClient("http://127.0.0.1:9", KEY, "basic")


def test_401_and_403_are_unauthorized(fme):
    with pytest.raises(Unauthorized) as refused:
        client(fme, key="wrong-key-0000000000").workspaces()
    assert refused.value.status == 401
    fme.add_workspace("ws-2", "Another team's project")
    with pytest.raises(Unauthorized) as forbidden:
        client(fme).environments("ws-2")
    assert forbidden.value.status == 403


def test_404_is_not_found(fme):
    with pytest.raises(NotFound):
        client(fme).flag("ws-1", "nope")
    with pytest.raises(NotFound):
        client(fme).flags("ws-unknown")
    with pytest.raises(NotFound):
        client(fme).definitions("ws-1", "env-unknown")


# Failures and retries


@pytest.mark.slow
def test_429_waits_the_larger_reset_then_succeeds(fme):
    fme.fail_next(
        1,
        429,
        {
            "X-RateLimit-Reset-Seconds-Org": "1",
            "X-RateLimit-Reset-Seconds-IP": "2",
            "X-RateLimit-Remaining-Org": "0",
            "X-RateLimit-Remaining-IP": "10",
        },
    )
    started = time.monotonic()
    assert len(client(fme).workspaces()) == 1
    assert time.monotonic() - started >= 2.0
    assert fme.calls("workspaces") == 2


def test_a_long_reset_is_waited_no_longer_than_max_wait(fme):
    fme.fail_next(2, 429, {"X-RateLimit-Reset-Seconds-Org": "60"})
    policy = RetryPolicy(total=1, backoff_factor=0.01, backoff_jitter=0.0, max_wait=0.2)
    started = time.monotonic()
    with pytest.raises(RateLimited) as limited:
        client(fme, policy=policy).workspaces()
    assert 0.2 <= time.monotonic() - started < 1.5
    assert limited.value.retry_after == 0.2


def test_500_then_success(fme):
    fme.fail_next(1, 500)
    assert len(client(fme).workspaces()) == 1
    assert fme.calls("workspaces") == 2


def test_repeated_503_is_unavailable_after_the_retries(fme):
    fme.fail_next(10, 503)
    with pytest.raises(Unavailable) as failed:
        client(fme).workspaces()
    assert failed.value.status == 503
    assert fme.calls("workspaces") == FAST.total + 1


def test_a_slow_answer_is_unavailable(fme):
    fme.delay_next(1.0)
    started = time.monotonic()
    with pytest.raises(Unavailable):
        client(fme, policy=RetryPolicy(total=0, read_timeout=0.3)).workspaces()
    assert time.monotonic() - started < 0.9  # gave up at the read timeout


def test_a_truncated_answer_is_unavailable(fme):
    fme.truncate_next()
    with pytest.raises(Unavailable, match="cut off"):
        client(fme).workspaces()


def test_an_unreachable_server_is_unavailable(fme):
    fme.stop()
    with pytest.raises(Unavailable):
        client(fme, policy=RetryPolicy(total=0)).workspaces()


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "<html>maintenance</html>",
        "[1, 2]",
        '{"objects": "x"}',
        '{"objects": [{"nope": 1}]}',
        '{"objects": [{"id": 1, "name": "W"}]}',
        '{"objects": [null]}',
    ],
)
def test_malformed_answers_are_typed_errors(fme, body):
    fme.fail_next(1, 200, body=body)
    with pytest.raises(UnexpectedResponse):
        client(fme).workspaces()


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ('{"name": "x"}', "treatments"),
        ("[]", "the whole answer"),
        ('{"name": "x", "treatments": [], "defaultTreatment": "on", "defaultRule": {}}', "default"),
        (
            '{"name": "x", "treatments": [{"name": "on"}], "defaultTreatment": "on",'
            ' "defaultRule": [{"size": 100}]}',
            "defaultRule.0.treatment",
        ),
        (
            '{"name": "x", "treatments": [], "defaultTreatment": "on", "defaultRule": [],'
            ' "rules": [{"buckets": [{"treatment": "on", "size": "big"}]}]}',
            "rules.0.buckets.0.size",
        ),
    ],
)
def test_a_malformed_definition_says_where(fme, body, where):
    fme.fail_next(1, 200, body=body)
    with pytest.raises(UnexpectedResponse, match=where):
        client(fme).definition("ws-1", "x", "env-p")


def test_environments_must_be_a_list(fme):
    fme.fail_next(1, 200, body='{"objects": []}')
    with pytest.raises(UnexpectedResponse):
        client(fme).environments("ws-1")


# Safety


@pytest.mark.parametrize("name", ["a/b?c=d", "50%#off", "../../workspaces"])
def test_names_are_one_encoded_path_segment(fme, name):
    fme.add_flag("ws-1", name)
    assert client(fme).flag("ws-1", name).name == name
    assert client(fme).definition("ws-1", name, "env-p").name == name
    assert fme.requests[-1].query == {}
    assert fme.calls("flag") == fme.calls("definition") == 1


@pytest.mark.parametrize("name", ["", ".", ".."])
def test_dot_segments_are_not_found_without_a_call(fme, name):
    """requests and urllib3 would resolve ``..`` (even encoded) and call another endpoint."""
    with pytest.raises(NotFound):
        client(fme).flag("ws-1", name)
    with pytest.raises(NotFound):
        client(fme).flags(name)
    assert fme.requests == []


def test_redirects_are_not_followed_so_the_key_stays_home(fme):
    fme.add_key(TOKEN, {"ws-1"}, scheme="x-api-key")
    with FakeFme() as elsewhere:
        fme.fail_next(1, 302, {"Location": elsewhere.url + "/workspaces"})
        with pytest.raises(UnexpectedResponse, match="302"):
            client(fme, TOKEN, "x-api-key").workspaces()
        assert elsewhere.requests == []


def test_the_key_is_never_shown_or_logged(fme, caplog):
    caplog.set_level(logging.DEBUG)
    fme.fail_next(1, 500)
    fme_client = client(fme)
    fme_client.workspaces()
    with pytest.raises(Unauthorized) as refused:
        client(fme, key=KEY + "-revoked").workspaces()
    assert KEY not in repr(fme_client)
    assert KEY not in str(refused.value)
    assert KEY not in caplog.text
