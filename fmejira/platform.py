"""Which door a tenant came through decides how the app signs its calls to that tenant's Jira.

Everything above this module asks for a Jira client and never sees a signer or a token. A site
reachable through both doors is called through Forge while Forge's token is current (Connect
ends in December 2026), else with a Connect JWT; a Forge-only site without a current token
gets a client whose every call is reported unavailable, and so retried.
"""

from __future__ import annotations

from flask import current_app

from fmejira.connect.signer import ConnectSigner
from fmejira.forge.signer import ForgeJiraClient, ForgeSigner, has_live_token
from fmejira.jira.client import JiraClient
from fmejira.models import Tenant
from fmejira.outbound import RetryPolicy


def jira_for(tenant: Tenant, policy: RetryPolicy | None = None) -> JiraClient:
    policy = policy or current_app.config["RETRY_POLICY"]
    if has_live_token(tenant) or not tenant.came_through_connect:
        signer = ForgeSigner(tenant.forge_system_token, tenant.forge_system_token_expires_at)
        base_url = tenant.forge_api_base_url or tenant.base_url
        return ForgeJiraClient(tenant.id, base_url, signer, policy=policy)
    signer = ConnectSigner(current_app.config["APP_KEY"], tenant.base_url, tenant.shared_secret)
    return JiraClient(tenant.base_url, signer, policy=policy)
