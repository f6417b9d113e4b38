"""FME's audit-log webhook: an unguessable URL, a hint to re-read, answered fast."""

import json

import pytest
import sqlalchemy as sa

from fmejira.domain import configuration, links
from fmejira.extensions import db
from fmejira.models import FlagState, FmeConnection, LinkSource, TenantState
from fmejira.queue import huey
from tests.conftest import run_tasks


def hook(site) -> str:
    return f"/webhooks/fme/{configuration.connection_for(site).webhook_secret}"


def change(name="new-checkout", **extra):
    """An audit-log delivery as FME sends it (PROTOCOLS.md §2)."""
    return {
        "name": name,
        "type": "split",
        "changeNumber": 1,
        "time": 1_700_000_000_000,
        "environmentName": "Production",
        "definition": json.dumps({"name": name, "killed": False, "defaultTreatment": "on"}),
        "description": "edited",
        "link": "https://app.split.io/org/org-42/ws/ws-checkout/splits/abc/env/env-prod/definition",
        "editor": "someone@example.com",
        "schemaVersion": 1,
        "previous": None,
        **extra,
    }


def test_an_unknown_secret_is_404(client, configured_site):
    response = client.post("/webhooks/fme/not-the-secret", json=change())
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"
    assert huey.pending_count() == 0


def test_an_uninstalled_sites_hook_is_404(client, configured_site):
    url = hook(configured_site)
    configured_site.state = TenantState.UNINSTALLED
    db.session.commit()
    assert client.post(url, json=change()).status_code == 404


def test_the_answer_is_fast_and_the_work_queued(client, configured_site, fake_fme):
    fake_fme.add_flag("ws-checkout", "new-checkout")
    response = client.post(hook(configured_site), json=change())
    assert response.status_code == 200 and response.json == {"queued": 1}
    assert sum(fake_fme.counts.values()) == 2  # saving the configuration; none by the hook
    assert huey.pending_count() == 1
    run_tasks()
    assert fake_fme.calls("definition") == 1


def test_jira_gets_the_state_from_the_admin_api_not_the_payload(
    client, configured_site, fake_fme, fake_jira
):
    fake_fme.add_flag("ws-checkout", "new-checkout")
    links.connect(configured_site, "ws-checkout", "new-checkout", "ABC-1", source=LinkSource.FME)
    run_tasks()
    fake_fme.set_definition("ws-checkout", "env-prod", "new-checkout", killed=True)
    client.post(hook(configured_site), json=change())  # its definition says not killed
    run_tasks()
    assert db.session.scalar(sa.select(FlagState.killed)) is True
    status = fake_jira.flags["ws-checkout.new-checkout"].data["summary"]["status"]
    assert status["enabled"] is False


def test_duplicates_and_out_of_order_deliveries_are_harmless(client, configured_site, fake_fme):
    fake_fme.add_flag("ws-checkout", "new-checkout", killed=False)
    for number, killed in ((3, False), (1, True), (3, False), (2, True)):
        payload = change(changeNumber=number, definition=json.dumps({"killed": killed}))
        assert client.post(hook(configured_site), json=payload).status_code == 200
    run_tasks()
    (state,) = db.session.scalars(sa.select(FlagState)).all()
    assert state.killed is False  # what FME holds now, whatever the order of the hints


def test_the_org_id_is_learned_from_the_link(client, configured_site):
    client.post(hook(configured_site), json=change())
    assert db.session.scalar(sa.select(FmeConnection.fme_org_id)) == "org-42"
    client.post(hook(configured_site), json=change(link="https://app.split.io/somewhere"))
    assert db.session.scalar(sa.select(FmeConnection.fme_org_id)) == "org-42"


def test_the_link_picks_the_project_and_without_it_the_environment_does(client, configured_site):
    other_ws = change(link="https://app.split.io/org/org-42/ws/ws-other/splits/abc")
    assert client.post(hook(configured_site), json=other_ws).json == {"queued": 0}
    assert client.post(hook(configured_site), json=change(link=None)).json == {"queued": 1}
    staging = change(link=None, environmentName="Staging")
    assert client.post(hook(configured_site), json=staging).json == {"queued": 0}


def test_a_large_delivery_is_still_a_hint(client, configured_site):
    """A flag targeting thousands of keys: the definition and ``previous`` are large."""
    keys = [f"user-{n:06d}" for n in range(20_000)]
    definition = json.dumps({"treatments": [{"name": "on", "keys": keys}]})
    payload = change(definition=definition, previous={"definition": definition})
    assert len(json.dumps(payload)) > 10 * client.application.config["MAX_CONTENT_LENGTH"]
    response = client.post(hook(configured_site), json=payload)
    assert response.status_code == 200 and response.json == {"queued": 1}


def test_a_delivery_of_another_type_is_answered_and_ignored(client, configured_site):
    """A segment change is a well-formed delivery: a 4xx would count as a failure in FME."""
    response = client.post(hook(configured_site), json=change(type="segment", name="beta users"))
    assert response.status_code == 200 and response.json == {"queued": 0}
    assert huey.pending_count() == 0


def assert_refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.json["error"]["code"] == code
    assert response.json["error"]["message"]
    assert huey.pending_count() == 0


@pytest.mark.parametrize(
    "body",
    [
        change(type=None),
        change(name="x; drop table"),
        change(name="new-checkout\n"),
        change(name=5),
        change(name=None),
        change(link={"href": "x"}, environmentName=["Production"]),
        change(link=None, environmentName=None),  # names no project
        {"name": "new-checkout", "environmentName": "Production"},  # no type
        [],
        "split",
        None,
        12,
    ],
)
def test_json_of_the_wrong_shape_is_a_400(client, configured_site, body):
    data = json.dumps(body)
    response = client.post(hook(configured_site), data=data, content_type="application/json")
    assert_refused(response, 400, "invalid_body")


@pytest.mark.parametrize(
    "data",
    [
        "{not json",
        '{"name": "new-checkout", ',
        b"\xff\xfe\x00",
        "",
        "[" * 30_000 + "]" * 30_000,  # deeper than Python's decoder goes
        bytes(range(256)) * 4096,  # 1 MiB of junk
    ],
    ids=["unquoted", "truncated", "not-utf8", "empty", "deep", "1MiB-junk"],
)
def test_a_body_that_is_not_json_is_a_400(client, configured_site, data):
    response = client.post(hook(configured_site), data=data, content_type="application/json")
    assert_refused(response, 400, "invalid_json")


def test_a_body_that_is_not_sent_as_json_is_a_415(client, configured_site):
    response = client.post(hook(configured_site), data="not json", content_type="text/plain")
    assert_refused(response, 415, "unsupported_media_type")


def test_a_body_over_the_limit_is_a_413(client, configured_site):
    data = b'{"name": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    response = client.post(hook(configured_site), data=data, content_type="application/json")
    assert_refused(response, 413, "request_entity_too_large")
