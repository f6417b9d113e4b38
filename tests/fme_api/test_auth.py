"""Who may call the FME-side API: the FME key of an installed, configured site, for its own
links only, at a bounded rate."""

import pytest

from fmejira.domain import configuration
from fmejira.extensions import db
from fmejira.models import TenantState
from tests.conftest import FME_KEY
from tests.fme_api.helpers import ISSUES, NOTHING, assert_error, bearer, stored
from tests.support import make_tenant

CALLS = [
    ("GET", ISSUES, None),
    ("POST", ISSUES, {"issueKey": "ABC-1"}),
    ("DELETE", f"{ISSUES}/ABC-1", None),
]


def call(client, method, url, body, headers):
    return client.open(url, method=method, headers=headers, json=body)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer    "},
        {"Authorization": f"Basic {FME_KEY}"},
        {"Authorization": f"JWT {FME_KEY}"},
        {"Authorization": FME_KEY},
        {"x-api-key": FME_KEY},
        bearer("not-a-known-key-000000"),
        bearer(FME_KEY + "x"),
        bearer(FME_KEY.upper()),
    ],
    ids=lambda headers: repr(headers)[:40],
)
def test_missing_garbage_or_unknown_keys_are_401(client, flag_site, headers):
    for method, url, body in CALLS:
        response = call(client, method, url, body, headers)
        assert_error(response, 401, "unauthenticated")
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert stored() == NOTHING


def test_the_key_is_checked_before_the_body(client, flag_site):
    for kwargs in ({"json": {"nope": 1}}, {"data": "issueKey=ABC-1"}, {"data": "{"}):
        assert client.post(ISSUES, **kwargs).status_code == 401


def test_the_scheme_word_is_case_insensitive(client, flag_site):
    response = client.get(ISSUES, headers={"Authorization": f"bearer  {FME_KEY} "})
    assert response.status_code == 200


def test_an_uninstalled_sites_key_is_401(client, flag_site):
    client.post(ISSUES, headers=bearer(), json={"issueKey": "ABC-1"})
    flag_site.state = TenantState.UNINSTALLED
    db.session.commit()
    for method, url, body in CALLS:
        assert_error(call(client, method, url, body, bearer()), 401, "unauthenticated")
    assert stored()["links"] == 1


def test_a_disabled_sites_key_is_401(client, flag_site):
    flag_site.enabled = False
    db.session.commit()
    assert_error(client.get(ISSUES, headers=bearer()), 401, "unauthenticated")


def test_a_deleted_configurations_key_is_401(client, flag_site):
    configuration.delete(flag_site)
    assert_error(client.get(ISSUES, headers=bearer()), 401, "unauthenticated")


def test_a_rotated_key_is_401_and_the_new_one_keeps_the_links(client, flag_site, fake_fme):
    client.post(ISSUES, headers=bearer(), json={"issueKey": "ABC-1"})
    new_key = "fme-admin-key-rotated-000000001"
    fake_fme.add_key(new_key, {"ws-checkout"})
    configuration.save(
        flag_site, new_key, [configuration.ProjectSelection("ws-checkout", "env-prod")]
    )
    assert_error(client.get(ISSUES, headers=bearer()), 401, "unauthenticated")
    assert [i["key"] for i in client.get(ISSUES, headers=bearer(new_key)).json] == ["ABC-1"]


OTHER_KEY = "other-site-fme-key-000000001"


@pytest.fixture
def other_site(flag_site, fake_fme, fake_jira):
    """A second Jira site connected with its own key to the same FME project and flag."""
    fake_fme.add_key(OTHER_KEY, {"ws-checkout"})
    other = make_tenant(
        "jira:other-site", base_url=fake_jira.url, shared_secret=fake_jira.shared_secret
    )
    configuration.save(
        other, OTHER_KEY, [configuration.ProjectSelection("ws-checkout", "env-prod")]
    )
    return other


def test_a_key_never_sees_or_changes_another_sites_links(client, flag_site, other_site):
    """Same workspace id, same flag name, same issue: still two sites' separate links."""
    client.post(ISSUES, headers=bearer(), json={"issueKey": "ABC-1"})
    assert client.get(ISSUES, headers=bearer(OTHER_KEY)).json == []
    assert_error(client.delete(f"{ISSUES}/ABC-1", headers=bearer(OTHER_KEY)), 404, "unknown_link")
    assert [i["key"] for i in client.get(ISSUES, headers=bearer()).json] == ["ABC-1"]

    posted = client.post(ISSUES, headers=bearer(OTHER_KEY), json={"issueKey": "ABC-1"})
    assert posted.status_code == 201  # its own link, not "already linked" by the other site
    assert client.delete(f"{ISSUES}/ABC-1", headers=bearer(OTHER_KEY)).status_code == 204
    assert [i["key"] for i in client.get(ISSUES, headers=bearer()).json] == ["ABC-1"]
    assert stored() == {"flags": 2, "issues": 2, "links": 1}


def test_one_keys_rate_limit_leaves_other_keys_alone(app, client, flag_site, other_site):
    app.config["API_RATE_LIMIT"] = "3/minute"
    statuses = [
        client.get(ISSUES, headers=bearer()).status_code,
        client.post(ISSUES, headers=bearer(), json={"issueKey": "ABC-1"}).status_code,
        client.delete(f"{ISSUES}/ABC-1", headers=bearer()).status_code,
    ]
    assert statuses == [200, 201, 204]  # one budget for the whole API
    limited = client.post(ISSUES, headers=bearer(), json={"issueKey": "ABC-2"})
    assert_error(limited, 429, "too_many_requests")
    assert int(limited.headers["Retry-After"]) > 0
    assert stored()["links"] == 0
    assert client.get(ISSUES, headers=bearer(OTHER_KEY)).status_code == 200
