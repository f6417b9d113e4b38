"""Server-side checks of what the person behind a Jira JWT may do.

The descriptor's ``user_is_admin`` condition only hides a page; the app asks Jira itself, and
remembers the answer for a minute so a page's calls do not each cost a round trip.
"""

from __future__ import annotations

import functools
import threading

import sqlalchemy as sa
from cachetools import TTLCache

from fmejira.context import current_context
from fmejira.domain import links
from fmejira.errors import ApiError, Forbidden, ServiceUnavailable
from fmejira.extensions import db
from fmejira.models import Issue
from fmejira.outbound import INTERACTIVE, NotFound, RemoteError
from fmejira.platform import jira_for

ADMIN_CACHE_SECONDS = 60
_admin_cache: TTLCache = TTLCache(maxsize=10_000, ttl=ADMIN_CACHE_SECONDS)
_browse_cache: TTLCache = TTLCache(maxsize=50_000, ttl=ADMIN_CACHE_SECONDS)
_lock = threading.Lock()


def _ask_jira(cache: TTLCache, tenant, key: tuple, question) -> bool:
    """Jira's answer to ``question(jira)`` for the tenant, remembered in ``cache`` under
    ``(tenant id, client key, *key)``."""
    key = (tenant.id, tenant.client_key, *key)
    with _lock:
        if key in cache:
            return cache[key]
    try:
        answer = question(jira_for(tenant, INTERACTIVE))
    except RemoteError as exc:
        raise ServiceUnavailable(
            "Jira could not confirm your permissions right now; try again in a moment.",
            code="jira_unavailable",
        ) from exc
    with _lock:
        cache[key] = answer
    return answer


def is_admin(tenant, account_id: str) -> bool:
    return _ask_jira(_admin_cache, tenant, (account_id,), lambda jira: jira.is_admin(account_id))


def require_admin(view):
    """Only Jira administrators; checked with Jira's permission API (after the JWT)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        context = current_context()
        if not context.account_id or not is_admin(context.tenant, context.account_id):
            raise Forbidden("Only Jira administrators can change the FME configuration.")
        return view(*args, **kwargs)

    return wrapper


def _unknown_issue(issue_key: str, status: int) -> ApiError:
    """Alike whether Jira lacks the issue or the person may not see it: the answer must not
    tell which."""
    return ApiError(
        f"Jira has no issue {issue_key} (or you cannot see it).",
        code="unknown_issue",
        status=status,
    )


def _stored_issue_id(tenant, issue_key: str) -> str | None:
    return db.session.scalar(
        sa.select(Issue.jira_id).where(Issue.tenant_id == tenant.id, Issue.key == issue_key)
    )


def _remote_issue_id(tenant, issue_key: str) -> str:
    try:
        return str(jira_for(tenant, INTERACTIVE).get_issue(issue_key).id)
    except NotFound as exc:
        raise _unknown_issue(issue_key, 422) from exc
    except RemoteError as exc:
        raise ServiceUnavailable(
            "Jira could not be reached to check the issue; try again in a moment.",
            code="jira_unavailable",
        ) from exc


def _can_browse(tenant, account_id: str, issue_id: str) -> bool:
    return _ask_jira(
        _browse_cache,
        tenant,
        (account_id, issue_id),
        lambda jira: jira.can_browse_issue(account_id, issue_id),
    )


def require_issue_access(issue_key: str, *, connecting: bool = False) -> str:
    """The person behind the JWT may see this issue; returns its normalised key.

    A token bound to an issue answers without a remote call: the app's page token names the
    issue its page was rendered for (from a URL that Jira signed), and Jira's context tokens
    carry the issue of their page. Such a token works for that issue only. Any other token is
    checked with Jira's permission API, as the person, and the answer kept for a minute. An
    issue the site has never linked holds nothing to protect, so reading it needs no check;
    connecting it does (``connecting``), and Jira is asked for its id.

    A Forge call from an issue's module is bound to that issue too, but is still checked: the
    app answers it with the app's own token (Forge's system token), so under Forge's shared
    responsibility model it is the app that must ask whether the person may see the issue.
    """
    context = current_context()
    issue_key = links.normalise_issue_key(issue_key)
    bound = context.bound_issue
    if bound.key is not None:
        if links.normalise_issue_key(bound.key) != issue_key:
            raise Forbidden("This page's token was issued for another issue.")
        if not context.from_forge:
            return issue_key
    if not context.account_id:
        raise Forbidden("Only a signed-in person can see an issue's flags.")
    issue_id = _stored_issue_id(context.tenant, issue_key)
    if issue_id is None:
        if not connecting:
            return issue_key
        issue_id = _remote_issue_id(context.tenant, issue_key)
    if bound.id is not None:
        if bound.id != issue_id:
            raise Forbidden("This page's token was issued for another issue.")
        if not context.from_forge:
            return issue_key
    if not _can_browse(context.tenant, context.account_id, issue_id):
        raise _unknown_issue(issue_key, 422 if connecting else 404)
    return issue_key


def clear_cache() -> None:
    with _lock:
        _admin_cache.clear()
        _browse_cache.clear()
