"""Which door a tenant came through decides how the app signs its calls to that tenant's Jira.

Everything above this module asks for a Jira client and never sees a signer or a JWT.
"""

from __future__ import annotations

from flask import current_app

from fmejira.connect.signer import ConnectSigner
from fmejira.jira.client import JiraClient
from fmejira.models import Tenant
from fmejira.outbound import RetryPolicy


def jira_for(tenant: Tenant, policy: RetryPolicy | None = None) -> JiraClient:
    signer = ConnectSigner(current_app.config["APP_KEY"], tenant.base_url, tenant.shared_secret)
    return JiraClient(tenant.base_url, signer, policy=policy or current_app.config["RETRY_POLICY"])
