"""The FME Admin API calls the app makes, with one connection's key.

Every call goes through the shared outbound policy (timeouts, bounded retries with backoff);
FME's 429 carries no Retry-After but ``X-RateLimit-Reset-Seconds-Org``/``-IP``, and the client
waits the larger one. Lists are paged to the end.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import quote

import requests

from fmejira.fme import schemas
from fmejira.outbound import RetryPolicy, build_session, send

SERVICE = "FME"
RESET_HEADERS = ("X-RateLimit-Reset-Seconds-Org", "X-RateLimit-Reset-Seconds-IP")
PAGE_SIZE = 50  # the list-definitions endpoint allows at most 50
HARNESS_TOKEN_PREFIXES = ("pat.", "sat.")


def detect_auth_scheme(api_key: str) -> str:
    """Harness tokens (``pat.…``/``sat.…``) go in ``x-api-key``; legacy Admin API keys as Bearer."""
    return "x-api-key" if api_key.startswith(HARNESS_TOKEN_PREFIXES) else "bearer"


def _segment(value: str) -> str:
    """One path segment, encoded so that a name cannot change the path."""
    return quote(str(value), safe="")


class FmeClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        auth_scheme: str = "bearer",
        policy: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ):
        if auth_scheme not in ("bearer", "x-api-key"):
            raise ValueError(f"unknown FME auth scheme {auth_scheme!r}")
        self.base_url = base_url.rstrip("/")
        self.policy = policy or RetryPolicy()
        self._session = session or build_session(self.policy, RESET_HEADERS)
        self._headers = (
            {"Authorization": f"Bearer {api_key}"}
            if auth_scheme == "bearer"
            else {"x-api-key": api_key}
        )
        self._headers["Accept"] = "application/json"

    def __repr__(self) -> str:  # never show the key
        return f"<FmeClient {self.base_url}>"

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
        )
        try:
            return response.json()
        except ValueError as exc:
            raise schemas.UnexpectedResponse(SERVICE, "FME answered with invalid JSON") from exc

    def _pages(self, path: str, params: dict | None = None) -> Iterator:
        """Every object of a paged list, following offset/limit/totalCount to the end."""
        offset = 0
        while True:
            page = self._get(path, {**(params or {}), "limit": PAGE_SIZE, "offset": offset})
            if not isinstance(page, dict) or not isinstance(page.get("objects"), list):
                raise schemas.UnexpectedResponse(SERVICE, "FME answered a list without objects")
            objects = page["objects"]
            yield from objects
            total = page.get("totalCount")
            offset += len(objects)
            if not objects or not isinstance(total, int) or offset >= total:
                return

    def workspaces(self) -> list[schemas.Workspace]:
        return schemas.load(schemas.WorkspaceSchema(), list(self._pages("/workspaces")), many=True)

    def environments(self, workspace_id: str) -> list[schemas.Environment]:
        data = self._get(f"/environments/ws/{_segment(workspace_id)}")
        if not isinstance(data, list):
            raise schemas.UnexpectedResponse(SERVICE, "FME answered environments without a list")
        return schemas.load(schemas.EnvironmentSchema(), data, many=True)

    def flags(self, workspace_id: str, tag: str | None = None) -> list[schemas.Flag]:
        params = {"tag": tag} if tag else None
        objects = list(self._pages(f"/splits/ws/{_segment(workspace_id)}", params))
        return schemas.load(schemas.FlagSchema(), objects, many=True)

    def flag(self, workspace_id: str, flag_name: str) -> schemas.Flag:
        data = self._get(f"/splits/ws/{_segment(workspace_id)}/{_segment(flag_name)}")
        return schemas.load(schemas.FlagSchema(), data)

    def definition(self, workspace_id: str, flag_name: str, environment: str) -> schemas.Definition:
        path = (
            f"/splits/ws/{_segment(workspace_id)}/{_segment(flag_name)}"
            f"/environments/{_segment(environment)}"
        )
        return schemas.load(schemas.DefinitionSchema(), self._get(path))

    def definitions(self, workspace_id: str, environment: str) -> list[schemas.Definition]:
        """Every flag's definition in one environment: one call per 50 flags."""
        path = f"/splits/ws/{_segment(workspace_id)}/environments/{_segment(environment)}"
        return schemas.load(schemas.DefinitionSchema(), list(self._pages(path)), many=True)
