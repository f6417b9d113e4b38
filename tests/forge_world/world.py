"""A Forge world: what Atlassian plays for a Forge Remote, as local servers and one driver.

Written from Atlassian's Forge Remote pages (forge/DOC-CLAIMS.md holds each claim and its URL):

- Forge's JWKS (``tests.fakes.forge.FakeForgeKeys``), whose keys can rotate, and Forge
  Invocation Tokens minted as Forge mints them: RS256, ``iss`` ``forge/invocation-token``,
  ``aud`` the app id, ``app.installationId``, ``app.apiBaseUrl``, ``context.cloudId``,
  ``context.localId``, ``context.extension`` (the issue, for issue modules), ``principal``.
- A Jira behind ``apiBaseUrl`` (``tests.fakes.jira_server.FakeJira`` with ``forge_cloud_id``)
  that takes only the system tokens this world issued, as ``Authorization: Bearer``, and
  refuses them with 401 once their time is up.
- Forge's calls to the remote, read off ``forge/manifest.yml``: which module calls which
  endpoint, and whether the call carries ``x-forge-oauth-system`` (only when the endpoint
  declares ``auth.appSystemToken.enabled``).

Where the docs are silent, the choice is said beside it.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import jwt
import yaml

from tests.fakes.forge import (
    APP_ID,
    CLOUD_ID,
    INSTALLATION_ID,
    FakeForgeKeys,
    invocation_claims,
    invocation_token,
)
from tests.fakes.jira_server import FakeJira

MANIFEST = yaml.safe_load((Path(__file__).parents[2] / "forge" / "manifest.yml").read_text())
SITE_URL = "https://acme.atlassian.net"
ENVIRONMENT_ID = "ari:cloud:ecosystem::environment/5e1c5c4c-0000-4000-8000-0000000000e1"
# Forge: a system token is valid for at least 55 minutes (PROTOCOLS.md 1b). The world gives
# exactly that, the least the app may count on.
SYSTEM_TOKEN_SECONDS = 55 * 60
# Forge's published tokens live about 25 seconds.
FIT_SECONDS = 25


def _endpoints() -> dict[str, dict]:
    return {e["key"]: e for e in MANIFEST["modules"]["endpoint"]}


def _ui_modules() -> dict[str, tuple[str, dict]]:
    """module key -> (module type, module) for every UI module that calls a remote."""
    found = {}
    for module_type, modules in MANIFEST["modules"].items():
        for module in modules:
            if "resolver" in module and "endpoint" in module["resolver"]:
                found[module["key"]] = (module_type, module)
    return found


class ForgeWorld:
    """One Jira site with the Forge app installed, and Forge calling the app's remote.

    ``client`` is the app's test client: Forge's calls reach the app through it, and the app's
    calls reach this world's Jira over HTTP.
    """

    def __init__(self, client, *, jira: FakeJira | None = None, cloud_id: str = CLOUD_ID):
        self.client = client
        self.keys = FakeForgeKeys()
        self.cloud_id = cloud_id
        self.jira = jira or FakeJira(shared_secret="-", app_key="-", forge_cloud_id=cloud_id)
        self.installation_id = INSTALLATION_ID
        self.site_url = SITE_URL
        self.issued: list[str] = []  # every system token handed to the remote, oldest first
        self.installed = False

    def stop(self) -> None:
        self.keys.stop()
        self.jira.stop()

    @property
    def api_base_url(self) -> str:
        return self.jira.forge_url

    # Tokens

    def system_token(self) -> str:
        """A new system token, taken by this world's Jira until its time runs out. The docs
        call it a JWT whose ``exp`` is its end; the app treats it as opaque (PROTOCOLS.md)."""
        now = time.time()
        token = jwt.encode(
            {"sub": "app-system-user", "iat": int(now), "exp": int(now + SYSTEM_TOKEN_SECONDS)},
            "Forge's own signing key, which no app holds: " + uuid.uuid4().hex,
        )
        self.jira.accept_bearer(token, now + SYSTEM_TOKEN_SECONDS)
        self.issued.append(token)
        return token

    def expire_system_tokens(self) -> None:
        """An hour goes by with no call: every token issued so far is refused by Jira."""
        self.jira.expire_bearer_tokens()

    def _claims(self, module_type: str, module_key: str, context: dict, principal) -> dict:
        claims = invocation_claims(
            self.api_base_url,
            installation_id=self.installation_id,
            module_type=module_type,
            module_key=module_key,
            principal=principal,
            site_url=None,
            lifetime=FIT_SECONDS,
        )
        claims["app"]["appVersion"] = "2.1.0"
        claims["app"]["environment"]["id"] = ENVIRONMENT_ID
        claims["app"]["installation"] = {
            "id": self.installation_id,
            "contexts": [
                {"name": f"ari:cloud:jira::site/{self.cloud_id}", "apiBaseUrl": self.api_base_url}
            ],
        }
        claims["context"].update(context)
        return claims

    def _headers(self, endpoint_key: str, claims: dict) -> dict:
        endpoint = _endpoints()[endpoint_key]
        headers = {
            "Authorization": "Bearer " + invocation_token(self.keys, claims),
            "x-b3-traceid": uuid.uuid4().hex[:16],
            "x-b3-spanid": uuid.uuid4().hex[:16],
        }
        if endpoint.get("auth", {}).get("appSystemToken", {}).get("enabled"):
            headers["x-forge-oauth-system"] = self.system_token()  # no "Bearer " prefix
        return headers

    # Forge's events

    def _event(self, module_kind: str, body: dict, *, module_type: str, principal=None):
        (module,) = MANIFEST["modules"][module_kind]
        endpoint = _endpoints()[module["endpoint"]]
        # The docs' table says core:endpoint for events; a token captured from a live trigger
        # carried core:trigger (PROTOCOLS.md 1b). ``module_type`` lets a test send either.
        claims = self._claims(
            module_type, module["key"], {"userAccess": {"enabled": False}}, principal
        )
        return self.client.post(
            endpoint["route"]["path"], json=body, headers=self._headers(endpoint["key"], claims)
        )

    def _event_body(self, event_type: str, account_key: str, account_id: str) -> dict:
        # The documented event payload; how Forge wraps it for a remote is not documented.
        return {
            "eventType": event_type,
            "id": str(uuid.uuid4()),
            account_key: account_id,
            "app": {"id": APP_ID, "version": "2.1.0", "name": "Harness FME"},
            "environment": {"id": ENVIRONMENT_ID},
            "context": f"ari:cloud:jira::site/{self.cloud_id}",
        }

    def install(self, installer: str = "account-admin", module_type: str = "core:trigger"):
        """``avi:forge:installed:app`` through the manifest's lifecycle trigger."""
        self.installed = True
        body = self._event_body("avi:forge:installed:app", "installerAccountId", installer)
        return self._event("trigger", body, module_type=module_type)

    def scheduled(self, module_type: str = "core:endpoint"):
        """The manifest's hourly ``scheduledTrigger``. What its body holds is not documented."""
        return self._event("scheduledTrigger", {}, module_type=module_type)

    def uninstall(self, by: str | None = "account-admin"):
        """``preUninstall``, then what Atlassian does: the installation goes, Jira deletes the
        app's feature flag records, and no token issued to it works any more. Its principal
        "does not represent a user" (docs): it is sent here, and the app must not mind."""
        response = self._event("preUninstall", {}, module_type="core:endpoint", principal=by)
        self.installed = False
        self.jira.forget_app_data()
        self.expire_system_tokens()
        return response

    # A person's calls from the app's UI (invokeRemote)

    def invoke(
        self,
        module_key: str,
        method: str,
        path: str,
        *,
        principal: str,
        issue: dict | None = None,
        json=None,
    ):
        """``invokeRemote`` from the Custom UI of ``module_key``: the method and path are the
        UI's; Forge adds the FIT (and the system token when the endpoint asks for it)."""
        module_type, module = _ui_modules()[module_key]
        context = {"localId": f"{module_key}-{uuid.uuid4()}", "siteUrl": self.site_url}
        if issue is not None:
            # The docs do not spell out ``extension`` for a Jira issue module; this is the
            # shape the Custom UI bridge's context has (issue key, id, type; the project).
            context["extension"] = {
                "type": module_type,
                "issue": {"key": issue["key"], "id": issue["id"], "type": "Task", "typeId": "1"},
                "project": {"id": "10000", "key": issue["key"].split("-")[0], "type": "software"},
            }
        claims = self._claims(module_type, module_key, context, principal)
        headers = self._headers(module["resolver"]["endpoint"], claims)
        return self.client.open(path, method=method, headers=headers, json=json)
