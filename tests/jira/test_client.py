"""JiraClient against a real local HTTP server that checks every request's JWT like Jira."""

import time
from urllib.parse import urlsplit

import jwt
import pytest

from fmejira.jira.client import BulkResult, Issue, JiraClient, PayloadTooLarge
from fmejira.outbound import BadRequest, NotFound, RetryPolicy, Unauthorized, Unavailable
from tests.fakes.jira_server import FakeJira, canonical_request, query_string_hash

SECRET = "shared-secret-of-the-test-tenant-0123456789"
APP_KEY = "com.example.fme-for-jira"
FAST = RetryPolicy(total=3, backoff_factor=0.01, backoff_jitter=0, read_timeout=5)
LAST_UPDATED = "2025-01-02T03:04:05Z"


def connect_signer(base_url, secret=SECRET, app_key=APP_KEY, lifetime=180):
    """A correct Connect signer: HS256, qsh of the request relative to the site's base path."""
    base_path = urlsplit(base_url).path

    def sign(method, url):
        parts = urlsplit(url)
        now = int(time.time())
        claims = {
            "iss": app_key,
            "iat": now,
            "exp": now + lifetime,
            "qsh": query_string_hash(method, parts.path, parts.query, base_path),
        }
        return "JWT " + jwt.encode(claims, secret, algorithm="HS256")

    return sign


@pytest.fixture
def jira():
    site = FakeJira(shared_secret=SECRET, app_key=APP_KEY)
    site.add_issue("ABC-1", "10001", "Ship the new checkout", "In Progress", "Story")
    yield site
    site.stop()


@pytest.fixture
def client(jira):
    return JiraClient(jira.url, connect_signer(jira.url), policy=FAST)


def flag(flag_id, *issue_keys, sequence=1):
    status = {"enabled": True, "defaultValue": "on", "rollout": {"percentage": 50}}
    url = f"https://app.split.io/org/ws/splits/{flag_id}"
    return {
        "schemaVersion": "1.0",
        "id": flag_id,
        "key": flag_id,
        "updateSequenceId": sequence,
        "displayName": flag_id,
        "associations": [{"associationType": "issueIdOrKeys", "values": list(issue_keys)}],
        "summary": {"url": url, "status": status, "lastUpdated": LAST_UPDATED},
        "details": [
            {
                "url": url,
                "lastUpdated": LAST_UPDATED,
                "environment": {"name": "Production", "type": "production"},
                "status": status,
            }
        ],
    }


def bulk(*flags, properties=None):
    return {"properties": properties or {"workspace": "ws-1"}, "flags": list(flags)}


@pytest.mark.parametrize(
    ("method", "path", "query", "base_path", "expected"),
    [
        (
            "GET",
            "/path/to/service",
            "zee_last=param&repeated=parameter 1&first=param"
            "&repeated=parameter 2&repeated=Parameter 2",
            "",
            "GET&/path/to/service&first=param"
            "&repeated=Parameter%202,parameter%201,parameter%202&zee_last=param",
        ),
        (
            "POST",
            "/jira/rest/api/2/project/jira&a=b&c=d",
            "x=y",
            "/jira",
            "POST&/rest/api/2/project/jira%26a=b%26c=d&x=y",
        ),
    ],
)
def test_fake_canonical_request_follows_atlassian_vectors(method, path, query, base_path, expected):
    assert canonical_request(method, path, query, base_path) == expected


@pytest.mark.parametrize(
    ("method", "path", "query", "expected"),
    [
        ("GET", "/path", "", "799be84a7fa35570087163c0cd9af3abff7ac05c2c12ba0bb1d7eebc984b3ac2"),
        ("GET", "/", "", "c88caad15a1c1a900b8ac08aa9686f4e8184539bea1deda36e2f649430df3239"),
        (
            "GET",
            "/hello-world",
            "lic=none&tz=Australia%2FSydney&cp=%2Fjira&user_key=&loc=en-US&user_id=&jwt=abc"
            "&xdm_e=http%3A%2F%2Fstorm%3A2990&xdm_c=channel-servlet-hello-world&xdm_p=1",
            "8063ff4ca1e41df7bc90c8ab6d0f6207d491cf6dad7c66ea797b4614b71922e9",
        ),
    ],
)
def test_fake_qsh_follows_atlassian_vectors(method, path, query, expected):
    assert query_string_hash(method, path, query) == expected


def test_get_issue_reads_its_fields(client):
    assert client.get_issue("ABC-1") == Issue(
        id="10001",
        key="ABC-1",
        summary="Ship the new checkout",
        status="In Progress",
        issue_type="Story",
    )


def test_get_issue_follows_a_moved_issue_by_id_and_old_key(jira, client):
    jira.move_issue("ABC-1", "XYZ-7")

    assert client.get_issue("10001").key == "XYZ-7"
    assert client.get_issue("ABC-1").key == "XYZ-7"


def test_get_issue_raises_not_found_for_an_unknown_issue(client):
    with pytest.raises(NotFound):
        client.get_issue("ABC-404")


def test_broken_answer_raises_unavailable(jira, client):
    jira.fail_next(1, 200, body="<html>maintenance</html>")

    with pytest.raises(Unavailable):
        client.get_issue("ABC-1")


def test_set_issue_property_stores_the_value(jira, client):
    key = f"com.atlassian.jira.issue:{APP_KEY}:flags-glance:status"
    value = {"type": "lozenge", "value": {"label": "2 flags", "type": "success"}}

    client.set_issue_property("ABC-1", key, value)

    assert jira.issue("ABC-1").properties == {key: value}
    assert jira.requests[-1].path == f"/rest/api/3/issue/ABC-1/properties/{key}"


def test_path_segments_are_percent_encoded_and_signed_as_sent(jira, client):
    client.set_issue_property("ABC-1", "odd key/ü?#&", {"ok": True})

    assert jira.issue("ABC-1").properties == {"odd key/ü?#&": {"ok": True}}
    assert jira.requests[-1].path.endswith("/properties/odd%20key%2F%C3%BC%3F%23%26")


@pytest.mark.parametrize("segment", ["", ".", ".."])
def test_segments_that_would_change_the_path_are_refused(jira, client, segment):
    with pytest.raises(ValueError):
        client.get_issue(segment)

    assert jira.requests == []


def test_submit_stores_flags_and_reports_them_accepted(jira, client):
    result = client.submit_feature_flags(bulk(flag("flag-1", "ABC-1"), flag("flag-2", "10001")))

    assert result == BulkResult(
        accepted=["flag-1", "flag-2"], failed={}, unknown_issue_keys=[], unknown_associations=[]
    )
    assert jira.flags["flag-1"].issue_ids == ["10001"]
    assert jira.flags["flag-1"].properties == {"workspace": "ws-1"}


def test_submit_keeps_the_highest_update_sequence_id(jira, client):
    client.submit_feature_flags(bulk(flag("flag-1", "ABC-1", sequence=5)))
    older = flag("flag-1", "ABC-1", sequence=4)
    older["displayName"] = "stale"

    client.submit_feature_flags(bulk(older))

    assert jira.flags["flag-1"].data["updateSequenceId"] == 5


def test_submit_reports_failed_flags(jira, client):
    jira.reject_flag("flag-2", "too many details")

    result = client.submit_feature_flags(bulk(flag("flag-1", "ABC-1"), flag("flag-2", "ABC-1")))

    assert result.accepted == ["flag-1"]
    assert result.failed == {
        "flag-2": [{"message": "too many details", "errorTraceId": "trace-flag-2"}]
    }


def test_submit_reports_unknown_issues_and_skips_flags_with_none_known(jira, client):
    legacy = flag("flag-legacy", "ABC-1")
    del legacy["associations"]
    legacy["issueKeys"] = ["ABC-1", "OLD-9"]

    result = client.submit_feature_flags(
        bulk(flag("flag-1", "ABC-1", "GONE-1"), flag("flag-2", "GONE-2"), legacy)
    )

    assert result.accepted == ["flag-1", "flag-legacy"]
    assert result.unknown_issue_keys == ["OLD-9"]
    assert result.unknown_associations == [
        {"associationType": "issueIdOrKeys", "values": ["GONE-1"]},
        {"associationType": "issueIdOrKeys", "values": ["GONE-2"]},
    ]
    assert set(jira.flags) == {"flag-1", "flag-legacy"}


def test_invalid_payload_raises_bad_request_with_jiras_reason(jira, client):
    invalid = flag("flag-1", "ABC-1")
    invalid["summary"]["lastUpdated"] = "2025-01-02 03:04:05"

    with pytest.raises(BadRequest) as raised:
        client.submit_feature_flags(bulk(invalid))

    assert raised.value.status == 400
    assert not isinstance(raised.value, PayloadTooLarge)
    assert "date-time" in raised.value.message
    assert jira.flags == {}


def test_payload_too_large_is_its_own_error(jira, client):
    jira.fail_next(1, 413)

    with pytest.raises(PayloadTooLarge) as raised:
        client.submit_feature_flags(bulk(flag("flag-1", "ABC-1")))

    assert isinstance(raised.value, BadRequest)
    assert raised.value.status == 413


def test_rate_limit_waits_for_retry_after_then_succeeds(jira, client):
    jira.fail_next(1, 429, {"Retry-After": "1"})
    started = time.monotonic()

    assert client.get_issue("ABC-1").key == "ABC-1"

    assert time.monotonic() - started >= 1
    assert [r.status for r in jira.requests] == [429, 200]


def test_unavailable_twice_then_success(jira, client):
    jira.fail_next(2, 503)

    result = client.submit_feature_flags(bulk(flag("flag-1", "ABC-1")))

    assert result.accepted == ["flag-1"]
    assert [r.status for r in jira.requests] == [503, 503, 202]


def test_unavailable_after_the_retries(jira, client):
    jira.fail_next(10, 503)

    with pytest.raises(Unavailable):
        client.get_issue("ABC-1")

    assert len(jira.requests) == FAST.total + 1


def sign_as_post(url):
    """Signs every request as a POST: the qsh covers another request."""
    return lambda method, request_url: connect_signer(url)("POST", request_url)


def sign_without_query(url):
    """Signs the path alone: the qsh misses the query string."""
    return lambda method, request_url: connect_signer(url)(method, request_url.split("?")[0])


@pytest.mark.parametrize(
    "signer",
    [
        pytest.param(lambda url: connect_signer(url, secret="x" * 40), id="wrong-secret"),
        pytest.param(lambda url: connect_signer(url, app_key="another.app"), id="wrong-issuer"),
        pytest.param(lambda url: connect_signer(url, lifetime=-10), id="expired"),
        pytest.param(sign_as_post, id="qsh-of-another-method"),
        pytest.param(sign_without_query, id="qsh-without-query"),
        pytest.param(lambda url: lambda method, request_url: "", id="no-token"),
    ],
)
def test_refused_signature_raises_unauthorized(jira, signer):
    client = JiraClient(jira.url, signer(jira.url), policy=FAST)

    with pytest.raises(Unauthorized):
        client.get_issue("ABC-1")

    assert [r.status for r in jira.requests] == [401]


def test_delete_feature_flag_and_already_gone(jira, client):
    client.submit_feature_flags(bulk(flag("flag-1", "ABC-1")))

    client.delete_feature_flag("flag-1")
    client.delete_feature_flag("flag-1")

    assert jira.flags == {}
    assert [r.status for r in jira.requests[1:]] == [202, 404]


def test_delete_by_properties_deletes_only_matching_flags(jira, client):
    client.submit_feature_flags(bulk(flag("flag-1", "ABC-1"), properties={"workspace": "ws-1"}))
    client.submit_feature_flags(bulk(flag("flag-2", "ABC-1"), properties={"workspace": "ws-2"}))

    client.delete_feature_flags_by_properties(workspace="ws-1")

    assert set(jira.flags) == {"flag-2"}


def test_delete_by_properties_signs_encoded_values(jira, client):
    client.submit_feature_flags(bulk(flag("flag-1", "ABC-1"), properties={"team": "a b/ü*"}))

    client.delete_feature_flags_by_properties(team="a b/ü*")

    assert jira.flags == {}
    assert jira.requests[-1].query == {"team": "a b/ü*"}


def test_delete_by_properties_refuses_no_property(jira, client):
    with pytest.raises(ValueError):
        client.delete_feature_flags_by_properties()

    assert jira.requests == []


@pytest.mark.parametrize(("account_id", "expected"), [("admin-1", True), ("person-2", False)])
def test_is_admin(jira, client, account_id, expected):
    jira.admin_account_ids.add("admin-1")

    assert client.is_admin(account_id) is expected
    assert jira.requests[-1].body == {"accountId": account_id, "globalPermissions": ["ADMINISTER"]}


def test_site_under_a_path_prefix():
    site = FakeJira(shared_secret=SECRET, app_key=APP_KEY, context_path="/jira")
    try:
        site.add_issue("ABC-1", "10001")
        client = JiraClient(site.url + "/", connect_signer(site.url), policy=FAST)

        assert client.get_issue("ABC-1").id == "10001"
        assert client.submit_feature_flags(bulk(flag("flag-1", "ABC-1"))).accepted == ["flag-1"]
        assert [r.path for r in site.requests] == [
            "/rest/api/3/issue/ABC-1",
            "/rest/featureflags/0.1/bulk",
        ]
    finally:
        site.stop()


def test_unverified_fake_accepts_a_dummy_signer():
    site = FakeJira(verify_jwt=False)
    try:
        site.add_issue("ABC-1")
        client = JiraClient(site.url, lambda method, url: "JWT dummy", policy=FAST)

        assert client.get_issue("ABC-1").summary == "Issue ABC-1"
    finally:
        site.stop()
