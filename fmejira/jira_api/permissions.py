"""Server-side checks of what the person behind a Jira JWT may do.

The descriptor's ``user_is_admin`` condition only hides a page; the app asks Jira itself, and
remembers the answer for a minute so a page's calls do not each cost a round trip.
"""

from __future__ import annotations

import functools
import threading

from cachetools import TTLCache

from fmejira.connect.auth import current_context
from fmejira.errors import Forbidden, ServiceUnavailable
from fmejira.outbound import INTERACTIVE, RemoteError
from fmejira.platform import jira_for

ADMIN_CACHE_SECONDS = 60
_admin_cache: TTLCache = TTLCache(maxsize=10_000, ttl=ADMIN_CACHE_SECONDS)
_lock = threading.Lock()


def is_admin(tenant, account_id: str) -> bool:
    key = (tenant.id, tenant.client_key, account_id)
    with _lock:
        if key in _admin_cache:
            return _admin_cache[key]
    try:
        answer = jira_for(tenant, INTERACTIVE).is_admin(account_id)
    except RemoteError as exc:
        raise ServiceUnavailable(
            "Jira could not confirm your permissions right now; try again in a moment."
        ) from exc
    with _lock:
        _admin_cache[key] = answer
    return answer


def require_admin(view):
    """Only Jira administrators; checked with Jira's permission API (after the JWT)."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        context = current_context()
        if not context.account_id or not is_admin(context.tenant, context.account_id):
            raise Forbidden("Only Jira administrators can change the FME configuration.")
        return view(*args, **kwargs)

    return wrapper


def clear_cache() -> None:
    with _lock:
        _admin_cache.clear()
