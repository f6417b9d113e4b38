"""The Jira Cloud REST calls the app makes, for one Jira site.

Each request is signed by the ``signer`` the client was given (a Connect JWT today, a Forge token
later), so the client knows nothing of how a tenant authenticates. Every call goes through the
shared outbound policy: timeouts, retries that honour Retry-After, typed errors.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import requests

from fmejira.outbound import (
    BadRequest,
    NotFound,
    RetryPolicy,
    Unavailable,
    build_session,
    send,
)

SERVICE = "Jira"

Signer = Callable[[str, str], str]
"""``signer(method, url)`` gives the Authorization header value for exactly that URL."""

# RFC 3986 allows ":" unescaped in a path segment. Keeping it (glance property keys are full of
# colons) makes the path Jira hashes for the JWT's qsh the same whether it decodes it or not.
_SEGMENT_SAFE = ":"


@dataclass(frozen=True)
class Issue:
    id: str
    key: str
    summary: str
    status: str
    issue_type: str


@dataclass(frozen=True)
class BulkResult:
    """Jira's answer to a bulk submit.

    A flag whose associations are all unknown to Jira is not stored: the caller finds those
    issues in ``unknown_issue_keys`` (deprecated ``issueKeys`` form) or
    ``unknown_associations`` (``associations`` form, items ``{associationType, values}``).
    """

    accepted: list[str]
    failed: dict[str, list[dict]]
    unknown_issue_keys: list[str]
    unknown_associations: list[dict]


class PayloadTooLarge(BadRequest):
    """413: Jira refused the bulk body as too large; submit fewer flags per call."""


class JiraClient:
    """One Jira site, reached at ``base_url`` (the tenant's baseUrl, which may carry a path)."""

    def __init__(
        self,
        base_url: str,
        signer: Signer,
        policy: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self._signer = signer
        self._policy = policy or RetryPolicy()
        self._session = session or build_session(self._policy)

    def get_issue(self, issue_id_or_key: str) -> Issue:
        """The issue as Jira has it now; a moved issue also answers to its old key.

        Raises NotFound when the issue does not exist or the app may not see it.
        """
        response = self._call(
            "GET",
            "/rest/api/3/issue/{}",
            issue_id_or_key,
            query={"fields": "summary,status,issuetype"},
        )
        data = _json(response)
        try:
            fields = data["fields"]
            return Issue(
                id=str(data["id"]),
                key=data["key"],
                summary=fields["summary"],
                status=fields["status"]["name"],
                issue_type=fields["issuetype"]["name"],
            )
        except (KeyError, TypeError) as exc:
            raise Unavailable(SERVICE, "the issue in Jira's answer could not be read") from exc

    def set_issue_property(
        self, issue_id_or_key: str, property_key: str, value: Mapping[str, Any]
    ) -> None:
        self._call(
            "PUT",
            "/rest/api/3/issue/{}/properties/{}",
            issue_id_or_key,
            property_key,
            json=value,
        )

    def submit_feature_flags(self, payload: Mapping[str, Any]) -> BulkResult:
        """Send a Feature Flags API bulk body; Jira keeps a flag's highest updateSequenceId."""
        try:
            response = self._call("POST", "/rest/featureflags/0.1/bulk", json=payload)
        except BadRequest as exc:
            if exc.status == 413:
                raise PayloadTooLarge(
                    SERVICE, "the bulk body is too large; submit fewer flags", 413
                ) from exc
            raise
        data = _json(response)
        return BulkResult(
            accepted=list(data.get("acceptedFeatureFlags") or []),
            failed=dict(data.get("failedFeatureFlags") or {}),
            unknown_issue_keys=list(data.get("unknownIssueKeys") or []),
            unknown_associations=list(data.get("unknownAssociations") or []),
        )

    def delete_feature_flag(self, flag_id: str) -> None:
        """Delete the app's record of a flag in Jira; a flag already gone counts as deleted."""
        try:
            self._call("DELETE", "/rest/featureflags/0.1/flag/{}", flag_id)
        except NotFound:
            return

    def delete_feature_flags_by_properties(self, **properties: str) -> None:
        """Delete every flag the app submitted with all of these ``properties``."""
        if not properties:
            raise ValueError("deleting by properties needs at least one property")
        self._call("DELETE", "/rest/featureflags/0.1/bulkByProperties", query=properties)

    def is_admin(self, account_id: str) -> bool:
        """Whether the person holds Jira's global Administer permission.

        A Connect app may ask this about anyone from its server, without being an admin itself.
        """
        response = self._call(
            "POST",
            "/rest/api/3/permissions/check",
            json={"accountId": account_id, "globalPermissions": ["ADMINISTER"]},
        )
        return "ADMINISTER" in (_json(response).get("globalPermissions") or [])

    def can_browse_issue(self, account_id: str, issue_id: str) -> bool:
        """Whether the person may see the issue (Browse projects on the issue's project)."""
        response = self._call(
            "POST",
            "/rest/api/3/permissions/check",
            json={
                "accountId": account_id,
                "projectPermissions": [
                    {"permissions": ["BROWSE_PROJECTS"], "issues": [int(issue_id)]}
                ],
            },
        )
        return any(
            grant.get("permission") == "BROWSE_PROJECTS"
            and int(issue_id) in [int(i) for i in grant.get("issues") or []]
            for grant in _json(response).get("projectPermissions") or []
        )

    def _call(
        self,
        method: str,
        path_template: str,
        *segments: str,
        query: Mapping[str, str] | None = None,
        json: Mapping[str, Any] | None = None,
    ) -> requests.Response:
        """Sign and send one request; ``segments`` fill the template's ``{}``, percent-encoded."""
        url = self.base_url + path_template.format(*map(_path_segment, segments))
        if query:
            url += "?" + urlencode(query, quote_via=quote)
        headers = {"Authorization": self._signer(method, url), "Accept": "application/json"}
        return send(
            self._session, SERVICE, method, url, policy=self._policy, headers=headers, json=json
        )


def _path_segment(value: str) -> str:
    """One percent-encoded path segment; refuses values that would change the path's shape."""
    text = str(value)
    if text in ("", ".", ".."):
        raise ValueError(f"{text!r} cannot be used as a path segment")
    return quote(text, safe=_SEGMENT_SAFE)


def _json(response: requests.Response) -> dict[str, Any]:
    """The JSON object Jira answered; anything else is a broken answer, worth retrying later."""
    try:
        data = response.json()
    except ValueError as exc:
        raise Unavailable(SERVICE, "Jira's answer was not JSON") from exc
    if not isinstance(data, dict):
        raise Unavailable(SERVICE, "Jira's answer was not a JSON object")
    return data
