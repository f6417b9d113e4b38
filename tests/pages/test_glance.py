"""The issue glance: an issue's flags from the store, and what it says around them."""

import html as html_lib

import sqlalchemy as sa

from fmejira.extensions import db
from fmejira.models import ConnectionStatus, FlagState, FmeConnection
from tests.conftest import ADMIN, FME_KEY, USER
from tests.pages.fixtures import changed_iso
from tests.pages.helpers import page_token, signed
from tests.support import auth_header, make_tenant

GLANCE = "/jira/glance?issueKey=ABC-1&issueId=10001"


def glance(client, site, account="account-7"):
    response = client.get(signed(site, GLANCE, account))
    assert response.status_code == 200, response.get_data(as_text=True)
    return html_lib.unescape(response.get_data(as_text=True))


def test_each_flag_with_its_state(client, configured_site, connect_flags):
    connect_flags("new-checkout", "dark-mode", "search-v2")
    html = glance(client, configured_site)
    assert html.count('class="flag"') == 3
    assert "3 flags · 2 on" in html
    assert "Checkout · Production" in html
    assert '<span class="rollout">50% on</span>' in html
    assert '<span class="rollout">3 rules</span>' in html
    assert "default <code>on</code>" in html
    assert '<span class="lozenge lozenge-off">Killed</span>' in html
    assert f'datetime="{changed_iso("new-checkout")}"' in html  # FME's lastUpdateTime


def test_hover_with_several_flags_lists_each_status(client, configured_site, connect_flags):
    connect_flags("new-checkout", "dark-mode")
    html = glance(client, configured_site)
    assert "<li>dark-mode: Killed</li><li>new-checkout: On</li>" in html


def test_hover_with_one_flag_shows_its_rollout_plan(client, configured_site, connect_flags):
    connect_flags("new-checkout")
    html = glance(client, configured_site)
    assert "1 flag · 1 on" in html
    plan = "Production: On, 50% on; default treatment on"
    assert f'id="summary-tip">\n      {plan}' in html
    assert f'id="tip-ws-checkout-new-checkout">{plan}</span>' in html


def test_the_page_token_works_for_the_page_s_own_calls(client, configured_site, connect_flags):
    connect_flags("new-checkout")
    token = page_token(glance(client, configured_site))
    response = client.get("/jira/api/issues/ABC-1/flags", headers=auth_header(token))
    assert response.status_code == 200
    assert [flag["name"] for flag in response.json["flags"]] == ["new-checkout"]


def test_no_secret_reaches_the_page(client, configured_site, connect_flags):
    connect_flags("new-checkout")
    html = glance(client, configured_site)
    assert configured_site.shared_secret not in html
    assert FME_KEY not in html
    assert "/webhooks/fme/" not in html


def test_no_flags_yet(client, configured_site, fme_flags):
    html = glance(client, configured_site)
    assert "No feature flags are connected to ABC-1 yet." in html
    assert "Connect flag" in html and "Create flag in FME" in html


def test_create_flag_opens_fme_with_the_issue(client, configured_site, app):
    app.config["FME_CREATE_FLAG_URL"] = "https://fme.example/new?jira={issue_key}"
    assert 'href="https://fme.example/new?jira=ABC-1"' in glance(client, configured_site)


def test_not_configured_tells_an_admin_where_to_go(client, site):
    html = glance(client, site, ADMIN)
    assert "Harness FME is not connected yet" in html
    assert f'href="{site.base_url}/plugins/servlet/ac/fme-jira-test/fme-configure"' in html
    assert "Connect flag" not in html


def test_not_configured_tells_anyone_else_to_ask_an_admin(client, site):
    html = glance(client, site, USER)
    assert "Ask a Jira administrator to connect Harness FME" in html
    assert "/fme-configure" not in html


def test_not_configured_while_jira_cannot_say_who_is_admin(client, site, fake_jira):
    fake_jira.fail_next(10, 503)
    html = glance(client, site, ADMIN)
    assert "Ask a Jira administrator to connect it. Administrators: open" in html


def test_fme_unreachable_shows_the_store_as_of_its_read_time(
    client, configured_site, connect_flags
):
    connect_flags("new-checkout", "dark-mode")
    states = db.session.scalars(sa.select(FlagState).order_by(FlagState.id)).all()
    states[0].read_at = states[0].read_at.replace(year=2026, month=1, day=2, hour=3, minute=4)
    db.session.scalar(sa.select(FmeConnection)).status = ConnectionStatus.INTERRUPTED
    db.session.commit()
    html = glance(client, configured_site)
    assert "FME can't be reached right now." in html
    assert html.count('datetime="2026-01-02T03:04') == 2  # the warning and the footer: the oldest
    assert "new-checkout" in html and "dark-mode" in html


def test_a_refused_key_says_an_admin_must_paste_a_new_one(client, configured_site, connect_flags):
    connect_flags("new-checkout")
    db.session.scalar(sa.select(FmeConnection)).status = ConnectionStatus.NOT_AUTHORIZED
    db.session.commit()
    assert "A Jira administrator needs to paste a new key." in glance(client, configured_site)


def test_stale_flags_are_being_checked(client, configured_site, connect_flags, app):
    connect_flags("new-checkout")
    app.config["STALE_SECONDS"] = -1
    html = glance(client, configured_site)
    assert 'data-refreshing="true"' in html and "Checking FME for changes" in html


def test_a_flag_deleted_in_fme_says_so(client, configured_site, connect_flags, fme_flags):
    from fmejira.sync import refresh

    connect_flags("dark-mode")
    fme_flags.remove_flag("ws-checkout", "dark-mode")
    refresh.refresh_project(configured_site.id, "ws-checkout")
    html = glance(client, configured_site)
    assert '<span class="lozenge lozenge-deleted">Deleted in FME</span>' in html
    assert "This flag was deleted in FME. Disconnect it to remove it from ABC-1." in html


def test_a_bad_issue_key_is_a_page_not_a_500(client, configured_site):
    response = client.get(signed(configured_site, "/jira/glance?issueKey=nope"))
    assert response.status_code == 400
    assert "not a Jira issue key" in response.get_data(as_text=True)


def test_another_tenant_sees_only_its_own_flags(client, configured_site, connect_flags):
    connect_flags("new-checkout")
    other = make_tenant("jira:other-site")
    assert "new-checkout" not in glance(client, other, account=None)
