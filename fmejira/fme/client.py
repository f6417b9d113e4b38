"""The FME Admin API calls the app makes, with one connection's key.

Every call goes through the shared outbound policy (timeouts, bounded retries with backoff).
FME's 429 carries no Retry-After but ``X-RateLimit-Reset-Seconds-Org``/``-IP``; the client waits
the larger one, capped by the policy's ``max_wait``. Lists are paged to the end.

Redirects are not followed: requests drops ``Authorization`` when a redirect leaves the host,
but not ``x-api-key``, so following one could hand a Harness token to another host.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import requests

from fmejira.fme import schemas
from fmejira.fme.schemas import UnexpectedResponse
from fmejira.outbound import NotFound, RetryPolicy, build_session, send

SERVICE = schemas.SERVICE
RESET_HEADERS = ("X-RateLimit-Reset-Seconds-Org", "X-RateLimit-Reset-Seconds-IP")
PAGE_SIZE = 50  # the list-definitions endpoint allows at most 50
MAX_PAGES = 1000  # 50,000 objects: past this the peer is not honouring offset
HARNESS_TOKEN_PREFIXES = ("pat.", "sat.")


def detect_auth_scheme(api_key: str) -> str:
    """Harness tokens (``pat.…``/``sat.…``) go in ``x-api-key``; legacy Admin API keys as Bearer."""
    return "x-api-key" if api_key.startswith(HARNESS_TOKEN_PREFIXES) else "bearer"


def _segment(value: str) -> str:
    """One path segment, encoded so that no id or name can change the path.

    Dot segments are refused rather than encoded: requests turns ``%2E`` back into ``.`` and
    urllib3 resolves ``..``, so ``flag("ws-1", "..")`` would otherwise call ``/splits/ws/``.
    No FME id or name is empty or dots only, so NotFound is the answer FME would give.
    """
    value = str(value)
    if value in ("", ".", ".."):
        raise NotFound(SERVICE, f"{value!r} cannot name anything in FME")
    return quote(value, safe="")


class FmeClient:
    """One FME account's Admin API, seen through one key.

    ``auth_scheme`` "bearer" sends ``Authorization: Bearer <key>`` (legacy Admin API key);
    "x-api-key" sends ``x-api-key: <key>`` (Harness token). Every failure is an
    :class:`~fmejira.outbound.RemoteError`; an answer the app cannot read is
    :class:`~fmejira.fme.schemas.UnexpectedResponse`.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        auth_scheme: str = "bearer",
        policy: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ):
        if auth_scheme == "bearer":
            auth_header = {"Authorization": f"Bearer {api_key}"}
        elif auth_scheme == "x-api-key":
            auth_header = {"x-api-key": api_key}
        else:
            raise ValueError(f"unknown FME auth scheme {auth_scheme!r}")
        self.base_url = base_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self._session = session or build_session(self.policy, RESET_HEADERS)
        self._headers = {**auth_header, "Accept": "application/json"}

    def __repr__(self) -> str:  # the key stays out of logs and tracebacks
        return f"<FmeClient {self.base_url}>"

    def workspaces(self) -> list[schemas.Workspace]:
        """The FME projects the key can see."""
        return schemas.load(schemas.WorkspaceSchema(), list(self._pages("/workspaces")), many=True)

    def environments(self, workspace_id: str) -> list[schemas.Environment]:
        data = self._get(f"/environments/ws/{_segment(workspace_id)}")
        if not isinstance(data, list):
            raise UnexpectedResponse(SERVICE, "FME answered environments without a list")
        return schemas.load(schemas.EnvironmentSchema(), data, many=True)

    def flags(self, workspace_id: str, tag: str | None = None) -> list[schemas.Flag]:
        """Every flag of the workspace, or only those tagged ``tag``."""
        params = {"tag": tag} if tag else None
        objects = list(self._pages(f"/splits/ws/{_segment(workspace_id)}", params))
        return schemas.load(schemas.FlagSchema(), objects, many=True)

    def flag(self, workspace_id: str, flag_name: str) -> schemas.Flag:
        data = self._get(f"/splits/ws/{_segment(workspace_id)}/{_segment(flag_name)}")
        return schemas.load(schemas.FlagSchema(), data)

    def definition(self, workspace_id: str, flag_name: str, environment: str) -> schemas.Definition:
        """The flag's definition in ``environment`` (its id or its name)."""
        path = (
            f"/splits/ws/{_segment(workspace_id)}/{_segment(flag_name)}"
            f"/environments/{_segment(environment)}"
        )
        return schemas.load(schemas.DefinitionSchema(), self._get(path))

    def definitions(self, workspace_id: str, environment: str) -> list[schemas.Definition]:
        """Every flag's definition in ``environment``: the cheap refresh, one call per 50 flags."""
        path = f"/splits/ws/{_segment(workspace_id)}/environments/{_segment(environment)}"
        return schemas.load(schemas.DefinitionSchema(), list(self._pages(path)), many=True)

    def _get(self, path: str, params: dict | None = None):
        response = send(
            self._session,
            SERVICE,
            "GET",
            self.base_url + path,
            policy=self.policy,
            reset_headers=RESET_HEADERS,
            headers=self._headers,
            params=params,
            allow_redirects=False,
        )
        if response.status_code != 200:  # a redirect or an empty 2xx: not the Admin API
            raise UnexpectedResponse(
                SERVICE,
                f"FME answered {response.status_code} instead of data",
                response.status_code,
            )
        try:
            return response.json()
        except ValueError as exc:
            raise UnexpectedResponse(SERVICE, "FME answered with invalid JSON") from exc

    def _pages(self, path: str, params: dict | None = None) -> Iterator:
        """Every object of a paged list, following offset/limit/totalCount to the end.

        The offset advances by what actually came back, so a peer that caps ``limit`` below
        ours skips nothing. An empty page ends the list whatever ``totalCount`` says, and
        ``MAX_PAGES`` bounds a peer that ignores ``offset``.
        """
        offset = 0
        for _ in range(MAX_PAGES):
            page = self._get(path, {**(params or {}), "limit": PAGE_SIZE, "offset": offset})
            objects = page.get("objects") if isinstance(page, dict) else None
            if not isinstance(objects, list):
                raise UnexpectedResponse(SERVICE, "FME answered a list without objects")
            yield from objects
            offset += len(objects)
            total = page.get("totalCount")
            if not objects or (isinstance(total, int) and offset >= total):
                return
        raise UnexpectedResponse(SERVICE, f"FME kept paging past {MAX_PAGES} pages")
