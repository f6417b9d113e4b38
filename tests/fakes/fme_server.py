"""A real local HTTP server playing the Harness FME (Split) Admin API, for tests.

Shapes follow PROTOCOLS.md §2: workspaces and flags ("splits") as paged objects with
``offset``/``limit``/``totalCount``, environments as a bare array, definitions paged with a
``limit`` of at most 50.

Keys are accepted per auth scheme: ``bearer_keys`` as ``Authorization: Bearer <key>``,
``x_api_keys`` as ``x-api-key: <key>``, each mapped to the workspace ids it can see. A missing
or unknown key gets 401; an unknown workspace, flag or environment 404. What FME answers a key
asking for an existing workspace it cannot see is unconfirmed (403 or 404); the fake answers 403
so that a test can tell "not yours" from "not there".

Routing reads the path as sent and percent-decodes it one segment at a time, as a server does,
so a flag named ``a/b?c`` is found only when the client encoded it.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from requests.structures import CaseInsensitiveDict
from werkzeug.wrappers import Request, Response

from tests.fakes import LocalServer

PREFIX = "/internal/api/v2"
DEFINITIONS_PAGE_LIMIT = 50
DEFAULT_PAGE_LIMIT = 20


@dataclass
class LoggedRequest:
    """One request as it arrived: ``path`` still percent-encoded, headers case-insensitive."""

    method: str
    path: str
    query: dict[str, str]
    headers: CaseInsensitiveDict
    status: int = 0


@dataclass
class _Fault:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: str = '{"message": "injected failure"}'


class _Refused(Exception):
    def __init__(self, status: int, message: str):
        self.response = _json({"code": status, "message": message}, status)


def definition(
    name: str,
    environment: dict,
    *,
    killed: bool = False,
    default_treatment: str = "off",
    treatments=("on", "off"),
    default_rule: list[dict] | None = None,
    rules=(),
    traffic_allocation: int = 100,
    last_update_time: int = 1_700_000_000_000,
) -> dict:
    """A definition in FME's shape; by default the default rule serves ``off`` to everyone."""
    return {
        "name": name,
        "environment": environment,
        "trafficType": {"id": "tt-user", "name": "user"},
        "killed": killed,
        "treatments": [
            {"name": t, "configurations": None, "description": None} for t in treatments
        ],
        "defaultTreatment": default_treatment,
        "baselineTreatment": default_treatment,
        "trafficAllocation": traffic_allocation,
        "rules": list(rules),
        "defaultRule": default_rule or [{"treatment": default_treatment, "size": 100}],
        "creationTime": 1_600_000_000_000,
        "lastUpdateTime": last_update_time,
    }


class FakeFme:
    """The FME Admin API on ``127.0.0.1`` (``url`` ends with ``/internal/api/v2``).

    Started on construction; ``stop()`` it, or use it as a context manager. State is plain
    dicts a test may also read; change it through the methods, which hold the server's lock.
    ``counts``/``calls(route)`` count the requests each route received (faulted ones included);
    routes are ``workspaces``, ``environments``, ``flags``, ``flag``, ``definitions`` and
    ``definition``.
    """

    def __init__(self):
        self.workspaces: dict[str, str] = {}  # id -> name
        self.environments: dict[str, list[dict]] = {}  # ws id -> [{id, name, production}]
        self.flags: dict[str, dict[str, dict]] = {}  # ws id -> flag name -> flag
        self.definitions: dict[tuple[str, str], dict[str, dict]] = {}  # (ws, env id) -> name -> def
        self.bearer_keys: dict[str, set[str]] = {}  # key -> workspace ids it can see
        self.x_api_keys: dict[str, set[str]] = {}
        self.requests: list[LoggedRequest] = []
        self.counts: Counter[str] = Counter()
        self._faults: deque[_Fault | None] = deque()  # None: cut the answer short
        self._delays: deque[float] = deque()
        self._lock = threading.RLock()
        self._http = LocalServer(self._wsgi_app, "fake-fme")
        self.url = self._http.origin + PREFIX

    def __enter__(self) -> FakeFme:
        return self

    def __exit__(self, *_) -> None:
        self.stop()

    def stop(self) -> None:
        self._http.stop()

    # State

    def add_workspace(
        self, ws_id: str, name: str, environments=(("env-prod", "Production", True),)
    ) -> None:
        """A workspace with ``environments`` given as ``(id, name, production)``."""
        with self._lock:
            self.workspaces[ws_id] = name
            self.environments[ws_id] = []
            self.flags.setdefault(ws_id, {})
            for env_id, env_name, production in environments:
                self.add_environment(ws_id, env_id, env_name, production)

    def add_environment(self, ws_id: str, env_id: str, name: str, production: bool = False) -> None:
        with self._lock:
            self.environments[ws_id].append({"id": env_id, "name": name, "production": production})

    def add_key(self, key: str, workspaces, scheme: str = "bearer") -> None:
        """Accept ``key`` sent per ``scheme`` ("bearer" or "x-api-key"), seeing ``workspaces``."""
        keys = {"bearer": self.bearer_keys, "x-api-key": self.x_api_keys}[scheme]
        with self._lock:
            keys[key] = set(workspaces)

    def add_flag(
        self,
        ws_id: str,
        name: str,
        env_id: str | None = None,
        *,
        tags=(),
        rollout_status: str | None = None,
        **definition_fields,
    ) -> str:
        """A flag, defined in ``env_id`` (default: the workspace's first environment).

        ``definition_fields`` are :func:`definition`'s keywords. Returns the flag's id.
        """
        flag_id = f"id-{ws_id}-{name}"
        status = {"id": f"rs-{rollout_status}", "name": rollout_status} if rollout_status else None
        with self._lock:
            self.flags[ws_id][name] = {
                "id": flag_id,
                "name": name,
                "description": f"{name} description",
                "trafficType": {"id": "tt-user", "name": "user"},
                "creationTime": 1_600_000_000_000,
                "tags": [{"name": tag} for tag in tags],
                "rolloutStatus": status,
                "rolloutStatusTimestamp": None,
                "owners": [],
            }
            self.set_definition(
                ws_id, env_id or self.environments[ws_id][0]["id"], name, **definition_fields
            )
        return flag_id

    def set_definition(self, ws_id: str, env_id: str, name: str, **definition_fields) -> None:
        """Define (or redefine) ``name`` in one environment; see :func:`definition`."""
        with self._lock:
            env = next(e for e in self.environments[ws_id] if e["id"] == env_id)
            reference = {"id": env["id"], "name": env["name"]}
            self.definitions.setdefault((ws_id, env_id), {})[name] = definition(
                name, reference, **definition_fields
            )

    def remove_flag(self, ws_id: str, name: str) -> None:
        """Delete the flag and its definitions in every environment."""
        with self._lock:
            self.flags[ws_id].pop(name, None)
            for (ws, _env), by_name in self.definitions.items():
                if ws == ws_id:
                    by_name.pop(name, None)

    # Faults

    def fail_next(
        self, n: int, status: int, headers: dict[str, str] | None = None, body: str | None = None
    ) -> None:
        """Answer the next ``n`` requests with ``status`` (and ``body``), before authentication.

        A 200 with a ``body`` serves any payload, e.g. malformed JSON or a lying page.
        """
        fault = _Fault(status, dict(headers or {}))
        if body is not None:
            fault.body = body
        with self._lock:
            self._faults.extend([fault] * n)

    def truncate_next(self) -> None:
        """Answer the next request with fewer bytes than its Content-Length, then hang up."""
        with self._lock:
            self._faults.append(None)

    def delay_next(self, seconds: float) -> None:
        """Hold the next request ``seconds`` before answering it."""
        with self._lock:
            self._delays.append(seconds)

    def calls(self, route: str) -> int:
        with self._lock:
            return self.counts[route]

    # Serving

    def _wsgi_app(self, environ, start_response):
        request = Request(environ)
        raw_path = urlsplit(environ.get("RAW_URI") or request.path).path
        logged = LoggedRequest(
            request.method, raw_path, request.args.to_dict(), CaseInsensitiveDict(request.headers)
        )
        with self._lock:
            self.requests.append(logged)
            delay = self._delays.popleft() if self._delays else 0.0
        if delay:
            time.sleep(delay)
        route, args = _route(raw_path)
        with self._lock:
            if route:
                self.counts[route] += 1
            faulted = bool(self._faults)
            fault = self._faults.popleft() if faulted else None
        if faulted and fault is None:
            logged.status = 200
            return _truncated(start_response)
        if fault is not None:
            response = Response(
                fault.body, fault.status, fault.headers, mimetype="application/json"
            )
        else:
            response = self._answer(request, route, args)
        logged.status = response.status_code
        return response(environ, start_response)

    def _answer(self, request: Request, route: str | None, args: dict[str, str]) -> Response:
        try:
            if route is None:
                raise _Refused(404, "no such endpoint")
            if request.method != "GET":
                raise _Refused(405, "method not allowed")
            with self._lock:
                visible = self._authenticate(request)
                ws = args.get("ws")
                if ws is not None:
                    if ws not in self.workspaces:
                        raise _Refused(404, "workspace not found")
                    if ws not in visible:
                        raise _Refused(403, "forbidden")
                return getattr(self, f"_{route}")(request, visible, **args)
        except _Refused as refusal:
            return refusal.response

    def _authenticate(self, request: Request) -> set[str]:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme == "Bearer" and token in self.bearer_keys:
            return self.bearer_keys[token]
        api_key = request.headers.get("x-api-key")
        if api_key is not None and api_key in self.x_api_keys:
            return self.x_api_keys[api_key]
        raise _Refused(401, "Unauthorized")

    def _workspaces(self, request, visible):
        items = [
            {"id": ws_id, "name": name, "requiresTitleAndComments": False}
            for ws_id, name in self.workspaces.items()
            if ws_id in visible
        ]
        return _page(request, items)

    def _environments(self, request, visible, ws):
        return _json(self.environments[ws])

    def _flags(self, request, visible, ws):
        wanted = set(request.args.getlist("tag"))
        items = [
            flag
            for flag in self.flags[ws].values()
            if not wanted or wanted & {tag["name"] for tag in flag["tags"]}
        ]
        return _page(request, items)

    def _flag(self, request, visible, ws, name):
        if name not in self.flags[ws]:
            raise _Refused(404, "split not found")
        return _json(self.flags[ws][name])

    def _definitions(self, request, visible, ws, env):
        env_id = self._environment_id(ws, env)
        return _page(
            request,
            list(self.definitions.get((ws, env_id), {}).values()),
            max_limit=DEFINITIONS_PAGE_LIMIT,
        )

    def _definition(self, request, visible, ws, name, env):
        env_id = self._environment_id(ws, env)
        found = self.definitions.get((ws, env_id), {}).get(name)
        if found is None:
            raise _Refused(404, "split definition not found")
        return _json(found)

    def _environment_id(self, ws: str, id_or_name: str) -> str:
        for env in self.environments[ws]:
            if id_or_name in (env["id"], env["name"]):
                return env["id"]
        raise _Refused(404, "environment not found")


def _route(raw_path: str) -> tuple[str | None, dict[str, str]]:
    """The route and its decoded arguments for a path as sent; ``(None, {})`` when none fits."""
    if not raw_path.startswith(PREFIX + "/"):
        return None, {}
    segments = [unquote(s) for s in raw_path[len(PREFIX) + 1 :].split("/")]
    match segments:
        case ["workspaces"]:
            return "workspaces", {}
        case ["environments", "ws", ws]:
            return "environments", {"ws": ws}
        case ["splits", "ws", ws]:
            return "flags", {"ws": ws}
        case ["splits", "ws", ws, "environments", env]:
            return "definitions", {"ws": ws, "env": env}
        case ["splits", "ws", ws, name]:
            return "flag", {"ws": ws, "name": name}
        case ["splits", "ws", ws, name, "environments", env]:
            return "definition", {"ws": ws, "name": name, "env": env}
    return None, {}


def _json(data, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


def _page(request: Request, items: list, max_limit: int | None = None) -> Response:
    try:
        limit = int(request.args.get("limit", DEFAULT_PAGE_LIMIT))
        offset = int(request.args.get("offset", 0))
    except ValueError:
        raise _Refused(400, "limit and offset must be integers") from None
    if limit < 1 or offset < 0:
        raise _Refused(400, "limit must be positive and offset not negative")
    if max_limit is not None and limit > max_limit:
        raise _Refused(400, f"limit must be at most {max_limit}")
    return _json(
        {
            "objects": items[offset : offset + limit],
            "offset": offset,
            "limit": limit,
            "totalCount": len(items),
        }
    )


def _truncated(start_response):
    body = b'{"objects": ['
    start_response(
        "200 OK",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body) + 100)),
            ("Connection", "close"),
        ],
    )
    return [body]
