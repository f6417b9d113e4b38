"""The bad-input catalogue of the FME-side API: each a clear 4xx in the one error shape,
documented for its route, with nothing stored and never a 500."""

import pytest

from fmejira.domain import configuration
from tests.fme_api.helpers import (
    ISSUES,
    NOTHING,
    assert_error,
    bearer,
    documented_statuses,
    stored,
)

JSON = "application/json"
FLAGS = "/api/v1/flags"


def flag_url(flag_name: str, workspace_id: str = "ws-checkout") -> str:
    return f"{FLAGS}/{workspace_id}/{flag_name}/issues"


BODIES = [
    # (body, content type, status, code)
    ("{", JSON, 400, "invalid_json"),
    ('{"issueKey": "ABC-1"', JSON, 400, "invalid_json"),
    (b'{"issueKey": "\xff"}', JSON, 400, "invalid_json"),
    ("[" * 30_000 + "]" * 30_000, JSON, 400, "invalid_json"),  # deeper than Python's decoder
    ("issueKey=ABC-1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ('{"issueKey": "ABC-1"}', "text/plain", 415, "unsupported_media_type"),
    ('{"issueKey": "ABC-1"}', None, 415, "unsupported_media_type"),
    ("", JSON, 422, "unprocessable_entity"),
    ("null", JSON, 422, "unprocessable_entity"),
    ("[]", JSON, 422, "unprocessable_entity"),
    ('"ABC-1"', JSON, 422, "unprocessable_entity"),
    ("{}", JSON, 422, "unprocessable_entity"),
    ('{"issueKey": "ABC-1", "flagName": "x"}', JSON, 422, "unprocessable_entity"),
    ('{"issuekey": "ABC-1"}', JSON, 422, "unprocessable_entity"),
    ('{"issueKey": null}', JSON, 422, "unprocessable_entity"),
    ('{"issueKey": 10001}', JSON, 422, "unprocessable_entity"),
    ('{"issueKey": ["ABC-1"]}', JSON, 422, "unprocessable_entity"),
    ('{"issueKey": {"key": "ABC-1"}}', JSON, 422, "unprocessable_entity"),
]
ISSUE_KEYS = [
    "",
    "not a key",
    "ABC",
    "ABC-",
    "ABC-0",
    "ABC-01",
    "1BC-1",
    "-1",
    "ABC-1\n",
    " ABC-1",
    "ABC--1",
    "ÅBC-1",
    "ABC-１",  # noqa: RUF001 (a full-width digit)
    "ABC-1'; DROP TABLE links;--",
    'ABC-1" OR "1"="1',
    "../ABC-1",
    "ABC-1/../ABC-2",
    "A" * 101 + "-1",
    "ABC-" + "9" * 19,
]
FLAG_NAMES = [  # percent-encoded as FME would send them
    "%C3%B1and%C3%BA",  # ñandú
    "new%22checkout",  # "
    "new'checkout",
    "x'%20OR%20'1'%3D'1",
    "new%20checkout",
    "new%5Ccheckout",  # backslash
    "%2E%2E",  # ..
    ".hidden",
    "-leading-dash",
    "new%00checkout",
    "a" * 251,
]
WORKSPACES = [
    "ws%00checkout",
    "ws'checkout",
    "ws%22%20OR%201%3D1",
    "%C3%B1",
    "%2E%2E",
    "w" * 65,
]


def check(app, openapi, response, method, url, status, code, sent=None):
    """The error is the expected one, documented for its operation, and nothing was stored."""
    case = f"{method} {url[:120]}" + ("" if sent is None else f" <- {sent!r:.60}")
    assert_error(response, status, code, case)
    assert status in documented_statuses(app, openapi, method, url), f"{case}: undocumented"
    assert stored() == NOTHING, case


def test_bad_bodies(app, client, flag_site, openapi):
    for data, content_type, status, code in BODIES:
        headers = {**bearer(), "Content-Type": content_type} if content_type else bearer()
        response = client.post(ISSUES, headers=headers, data=data)
        check(app, openapi, response, "POST", ISSUES, status, code, data)


def test_a_body_over_64_kib_is_413(app, client, flag_site, openapi):
    data = '{"issueKey": "ABC-1", "padding": "' + "x" * 64 * 1024 + '"}'
    response = client.post(ISSUES, headers=bearer(), data=data, content_type=JSON)
    check(app, openapi, response, "POST", ISSUES, 413, "request_entity_too_large")


def test_json_with_a_charset_is_json(client, flag_site):
    response = client.post(
        ISSUES,
        headers=bearer(),
        data='{"issueKey": "ABC-1"}',
        content_type=f"{JSON}; charset=utf-8",
    )
    assert response.status_code == 201


def test_not_an_issue_key(app, client, flag_site, openapi):
    for issue_key in ISSUE_KEYS:
        response = client.post(ISSUES, headers=bearer(), json={"issueKey": issue_key})
        check(app, openapi, response, "POST", ISSUES, 422, "unprocessable_entity", issue_key)


def test_not_an_issue_key_on_delete(app, client, flag_site, openapi):
    for issue_key in ("not%20a%20key", "ABC-0", "%C3%85BC-1", "ABC-1'--", "A%00-1"):
        url = f"{ISSUES}/{issue_key}"
        response = client.delete(url, headers=bearer())
        check(app, openapi, response, "DELETE", url, 400, "invalid_issue_key")


def test_an_issue_jira_does_not_know_is_422(app, client, flag_site, openapi):
    response = client.post(ISSUES, headers=bearer(), json={"issueKey": "ABC-404"})
    check(app, openapi, response, "POST", ISSUES, 422, "unknown_issue")


def test_not_a_flag_name(app, client, flag_site, openapi):
    for flag_name in FLAG_NAMES:
        for method in ("GET", "POST", "DELETE"):
            url = flag_url(flag_name) + ("/ABC-1" if method == "DELETE" else "")
            response = client.open(url, method=method, headers=bearer(), json={"issueKey": "ABC-1"})
            check(app, openapi, response, method, url, 400, "invalid_flag_name")


def test_not_a_workspace_id(app, client, flag_site, openapi):
    for workspace_id in WORKSPACES:
        for method in ("GET", "POST", "DELETE"):
            url = flag_url("new-checkout", workspace_id) + ("/ABC-1" if method == "DELETE" else "")
            response = client.open(url, method=method, headers=bearer(), json={"issueKey": "ABC-1"})
            check(app, openapi, response, method, url, 404, "unknown_project")


def test_a_slash_in_a_name_finds_no_route(client, flag_site):
    response = client.post(flag_url("new%2Fcheckout"), headers=bearer(), json={"issueKey": "ABC-1"})
    assert_error(response, 404, "not_found")


def test_an_unknown_flag_is_404(app, client, flag_site, openapi):
    url = flag_url("no-such-flag")
    response = client.post(url, headers=bearer(), json={"issueKey": "ABC-1"})
    check(app, openapi, response, "POST", url, 404, "unknown_flag")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_an_unknown_workspace_is_404(app, client, flag_site, openapi, method):
    url = flag_url("new-checkout", "ws-unknown")
    response = client.open(url, method=method, headers=bearer(), json={"issueKey": "ABC-1"})
    check(app, openapi, response, method, url, 404, "unknown_project")


def test_a_flag_of_a_project_that_is_not_configured_is_404(app, client, flag_site, fake_fme):
    """The key can see the project in FME, but the Jira admin did not choose it."""
    fake_fme.add_workspace("ws-billing", "Billing")
    fake_fme.add_key("fme-admin-key-0123456789abcdef", {"ws-checkout", "ws-billing"})
    fake_fme.add_flag("ws-billing", "invoice-v2")
    assert [p.workspace_id for p in configuration.connection_for(flag_site).projects] == [
        "ws-checkout"
    ]
    url = flag_url("invoice-v2", "ws-billing")
    response = client.post(url, headers=bearer(), json={"issueKey": "ABC-1"})
    assert_error(response, 404, "unknown_project")
    assert stored() == NOTHING


def test_fme_down_is_503_and_nothing_is_stored(app, client, flag_site, fake_fme, openapi):
    fake_fme.fail_next(10, 503)
    response = client.post(ISSUES, headers=bearer(), json={"issueKey": "ABC-1"})
    check(app, openapi, response, "POST", ISSUES, 503, "fme_unavailable")


def test_jira_down_is_503_and_nothing_is_stored(app, client, flag_site, fake_jira, openapi):
    fake_jira.fail_next(10, 503)
    response = client.post(ISSUES, headers=bearer(), json={"issueKey": "ABC-1"})
    check(app, openapi, response, "POST", ISSUES, 503, "jira_unavailable")
