"""FME's audit-log webhook: an unguessable URL, a hint to re-read, answered fast."""

import sqlalchemy as sa

from fmejira.domain import configuration
from fmejira.extensions import db
from fmejira.models import FmeConnection
from fmejira.queue import huey
from tests.conftest import run_tasks


def hook(site) -> str:
    return f"/webhooks/fme/{configuration.connection_for(site).webhook_secret}"


def change(name="new-checkout", **extra):
    return {
        "name": name,
        "type": "split",
        "changeNumber": 1,
        "time": 1,
        "environmentName": "Production",
        "definition": '{"killed": false}',
        "link": "https://app.split.io/org/org-42/ws/ws-checkout/splits/abc/env/env-prod/definition",
        **extra,
    }


def test_unknown_secret_is_404(client, configured_site):
    response = client.post("/webhooks/fme/not-the-secret", json=change())
    assert response.status_code == 404
    assert response.json["error"]["code"] == "not_found"


def test_the_state_comes_from_the_admin_api_not_the_payload(
    client, configured_site, fake_fme, fake_jira
):
    from tests.sync.conftest import linked  # noqa: F401  (documented fixture, used below)

    fake_fme.add_flag("ws-checkout", "new-checkout", killed=True)
    response = client.post(hook(configured_site), json=change(definition='{"killed": false}'))
    assert response.status_code == 200 and response.json == {"queued": 1}
    run_tasks()
    from fmejira.models import FlagState

    state = db.session.scalar(sa.select(FlagState))
    assert state.killed is True
    assert fake_fme.calls("definition") == 1


def test_duplicates_and_out_of_order_deliveries_are_harmless(client, configured_site, fake_fme):
    fake_fme.add_flag("ws-checkout", "new-checkout", killed=False)
    for number in (3, 1, 3, 2):
        client.post(hook(configured_site), json=change(changeNumber=number))
    run_tasks()
    from fmejira.models import FlagState

    states = db.session.scalars(sa.select(FlagState)).all()
    assert len(states) == 1 and states[0].killed is False


def test_the_org_id_is_learned_from_the_link(client, configured_site, fake_fme):
    client.post(hook(configured_site), json=change())
    assert db.session.scalar(sa.select(FmeConnection.fme_org_id)) == "org-42"


def test_work_is_queued_not_done_inline(client, configured_site, fake_fme):
    fake_fme.add_flag("ws-checkout", "new-checkout")
    client.post(hook(configured_site), json=change())
    assert fake_fme.calls("definition") == 0
    assert huey.pending_count() == 1


def test_without_a_link_the_environment_name_selects_the_project(client, configured_site):
    assert client.post(hook(configured_site), json=change(link=None)).json == {"queued": 1}
    assert client.post(
        hook(configured_site), json=change(link=None, environmentName="Staging")
    ).json == {"queued": 0}


def test_other_types_and_garbage_are_ignored(client, configured_site):
    url = hook(configured_site)
    for body in (change(type="segment"), {"name": "x; drop table"}, [], {"name": 5}):
        response = client.post(url, json=body)
        assert response.status_code == 200 and response.json == {"queued": 0}
    assert client.post(url, data="not json", content_type="text/plain").json == {"queued": 0}
    assert huey.pending_count() == 0


def test_an_uninstalled_sites_hook_is_404(client, configured_site):
    from fmejira.models import TenantState

    url = hook(configured_site)
    configured_site.state = TenantState.UNINSTALLED
    db.session.commit()
    assert client.post(url, json=change()).status_code == 404
