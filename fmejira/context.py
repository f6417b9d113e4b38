"""Who is asking, whichever door the request came through (a Connect JWT or a Forge call).

The platform layer (``fmejira.connect.auth``, ``fmejira.forge.auth``) verifies the request and
puts a :class:`JiraContext` in ``g``; everything above it reads :func:`current_context`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

from flask import g

if TYPE_CHECKING:
    from fmejira.connect.auth import Site
    from fmejira.models import Tenant

FORGE_ISSUER = "forge/invocation-token"


@dataclass(frozen=True)
class JiraContext:
    """Who is asking: the tenant (Jira site), the person (None for app-level calls), the claims.

    ``tenant`` is a :class:`Site` only on a hot read path answered from the cache."""

    tenant: Tenant | Site
    account_id: str | None
    claims: dict = field(repr=False)

    @property
    def from_forge(self) -> bool:
        return self.claims.get("iss") == FORGE_ISSUER

    @property
    def bound_issue(self) -> BoundIssue:
        """The issue this token is for, if it names one: the app's page tokens by key
        (``fmejira.issueKey``), Jira's context tokens by ``context.jira.issue`` (key and/or id),
        a Forge call from an issue's module by ``context.extension.issue``."""
        own = _mapping(self.claims.get("fmejira"))
        context = _mapping(self.claims.get("context"))
        where = "extension" if self.from_forge else "jira"
        jira = _mapping(_mapping(context.get(where)).get("issue"))
        key = own.get("issueKey") or jira.get("key")
        issue_id = jira.get("id")
        return BoundIssue(
            key=key if isinstance(key, str) and key else None,
            id=str(issue_id) if isinstance(issue_id, (str, int)) and issue_id != "" else None,
        )


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


class BoundIssue(NamedTuple):
    key: str | None
    id: str | None


def current_context() -> JiraContext:
    return g.jira_context
