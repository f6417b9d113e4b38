"""The one policy for every HTTP call the app makes to FME or Jira.

Both clients build their session here, so timeouts, retries with backoff and jitter, the
handling of rate-limit headers and the mapping of failures to typed errors live in one place.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class RemoteError(Exception):
    """A call to FME or Jira did not succeed. ``service`` names the peer."""

    def __init__(self, service: str, message: str, status: int | None = None):
        super().__init__(f"{service}: {message}")
        self.service = service
        self.message = message
        self.status = status


class Unauthorized(RemoteError):
    """401/403: the credentials are wrong or revoked; retrying will not help."""


class NotFound(RemoteError):
    """404: the thing asked for does not exist (for these credentials)."""


class BadRequest(RemoteError):
    """Another 4xx: the request itself was refused."""


class Unavailable(RemoteError):
    """5xx, timeout or connection failure after the retries: try again later."""


class RateLimited(Unavailable):
    """429 after the retries; ``retry_after`` says how long the peer asked us to wait."""

    def __init__(self, service: str, message: str, retry_after: float | None):
        super().__init__(service, message, 429)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    """How hard one client tries before giving up.

    ``max_wait`` bounds any single wait asked for by the peer, so a worker or a person is never
    held for longer than that by one rate-limit answer.
    """

    total: int = 4
    backoff_factor: float = 0.5
    backoff_max: float = 8.0
    backoff_jitter: float = 0.5
    max_wait: float = 30.0
    connect_timeout: float = 3.05
    read_timeout: float = 10.0


# A person is waiting: try once more, briefly, then say so.
INTERACTIVE = RetryPolicy(total=1, backoff_factor=0.2, max_wait=3.0, read_timeout=8.0)


class RateLimitAwareRetry(Retry):
    """urllib3 Retry that also honours vendor reset headers (in seconds) and caps every wait.

    ``reset_headers`` names headers holding seconds to wait; the largest one present wins, next
    to a standard ``Retry-After``. FME sends no Retry-After but ``X-RateLimit-Reset-Seconds-*``.
    """

    reset_headers: tuple[str, ...] = ()
    max_wait: float = 30.0

    def new(self, **kw):
        retry = super().new(**kw)
        retry.reset_headers = self.reset_headers
        retry.max_wait = self.max_wait
        return retry

    def get_retry_after(self, response) -> float | None:
        return retry_after_seconds(response.headers, self.reset_headers, self.max_wait)


def retry_after_seconds(headers, reset_headers=(), max_wait: float = 30.0) -> float | None:
    """Seconds the peer asked us to wait, capped at ``max_wait``; None when it did not say."""
    waits = []
    value = headers.get("Retry-After")
    if value is not None:
        try:
            waits.append(Retry.parse_retry_after(Retry(), value))
        except Exception:  # an unparseable header is ignored, backoff applies instead
            log.debug("ignoring unparseable Retry-After %r", value)
    for name in reset_headers:
        try:
            waits.append(float(headers[name]))
        except (KeyError, TypeError, ValueError):
            continue
    if not waits:
        return None
    return max(0.0, min(max(waits), max_wait))


def build_session(policy: RetryPolicy, reset_headers: tuple[str, ...] = ()) -> requests.Session:
    """A requests session whose adapter retries idempotent calls per ``policy``.

    Every method is retried: the app only sends calls that are safe to repeat (GET, PUT of a
    property, DELETE, and bulk submits guarded by Jira's ``updateSequenceId``).
    """
    retry = RateLimitAwareRetry(
        total=policy.total,
        connect=policy.total,
        read=1,
        status=policy.total,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=None,
        backoff_factor=policy.backoff_factor,
        backoff_max=policy.backoff_max,
        backoff_jitter=policy.backoff_jitter,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    retry.reset_headers = reset_headers
    retry.max_wait = policy.max_wait
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry, pool_maxsize=20)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def send(
    session: requests.Session,
    service: str,
    method: str,
    url: str,
    *,
    policy: RetryPolicy,
    reset_headers: tuple[str, ...] = (),
    **kwargs,
) -> requests.Response:
    """Send one request through the session and turn every failure into a typed error."""
    try:
        response = session.request(
            method, url, timeout=(policy.connect_timeout, policy.read_timeout), **kwargs
        )
    except requests.exceptions.RetryError as exc:
        raise Unavailable(service, "the service kept failing; retries exhausted") from exc
    except requests.Timeout as exc:
        raise Unavailable(service, "the service did not answer in time") from exc
    except requests.ConnectionError as exc:
        raise Unavailable(service, "the service could not be reached") from exc
    except (
        requests.exceptions.ChunkedEncodingError,
        requests.exceptions.ContentDecodingError,
    ) as exc:
        raise Unavailable(service, "the answer was cut off or garbled") from exc
    raise_for_status(service, response, reset_headers, policy.max_wait)
    return response


def raise_for_status(service: str, response, reset_headers=(), max_wait: float = 30.0) -> None:
    """Map an HTTP answer to the typed errors above; 2xx and 3xx pass."""
    status = response.status_code
    if status < 400:
        return
    if status in (401, 403):
        raise Unauthorized(service, "the credentials were refused", status)
    if status == 404:
        raise NotFound(service, "not found", status)
    if status == 429:
        wait = retry_after_seconds(response.headers, reset_headers, max_wait)
        raise RateLimited(service, "rate limited", wait)
    if status >= 500:
        raise Unavailable(service, f"the service answered {status}", status)
    raise BadRequest(
        service, _short_body(response) or f"the request was refused ({status})", status
    )


def _short_body(response) -> str:
    try:
        text = response.text
    except Exception:
        return ""
    return text[:300]
