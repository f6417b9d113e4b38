"""A local HTTP server playing the FME (Split) Admin API, with state and fault injection.

Shapes follow PROTOCOLS.md §2. Keys are accepted per auth scheme and see a set of workspaces;
a key that cannot see a workspace gets 403 for it, like a key of another FME account.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

PREFIX = "/internal/api/v2"


@dataclass
class LoggedRequest:
    method: str
    path: str
    query: dict
    headers: dict


@dataclass
class Fault:
    status: int
    headers: dict = field(default_factory=dict)
    body: str = '{"message": "injected failure"}'


def definition(
    name: str,
    environment: dict,
    *,
    killed=False,
    default_treatment="off",
    treatments=("on", "off"),
    default_rule=None,
    rules=(),
    traffic_allocation=100,
    last_update_time=1_700_000_000_000,
) -> dict:
    """A definition in FME's shape; by default 100% of the default rule serves ``off``."""
    return {
        "name": name,
        "environment": environment,
        "trafficType": {"id": "tt1", "name": "user"},
        "killed": killed,
        "treatments": [{"name": t} for t in treatments],
        "defaultTreatment": default_treatment,
        "trafficAllocation": traffic_allocation,
        "rules": list(rules),
        "defaultRule": default_rule or [{"treatment": default_treatment, "size": 100}],
        "creationTime": 1_600_000_000_000,
        "lastUpdateTime": last_update_time,
    }


class FakeFme:
    def __init__(self):
        self.workspaces: dict[str, str] = {}  # id -> name
        self.environments: dict[str, list[dict]] = {}  # ws id -> [{id, name, production}]
        self.flags: dict[str, dict[str, dict]] = {}  # ws id -> name -> flag
        self.definitions: dict[tuple[str, str], dict[str, dict]] = {}  # (ws, env id) -> name -> def
        self.bearer_keys: dict[str, set[str]] = {}  # key -> visible workspace ids
        self.x_api_keys: dict[str, set[str]] = {}
        self.requests: list[LoggedRequest] = []
        self.counts: Counter = Counter()
        self._faults: list[Fault] = []
        self._delay = 0.0
        self._lock = threading.Lock()
        self._routes = Map(
            [
                Rule(f"{PREFIX}/workspaces", endpoint="workspaces"),
                Rule(f"{PREFIX}/environments/ws/<ws>", endpoint="environments"),
                Rule(f"{PREFIX}/splits/ws/<ws>/environments/<env>", endpoint="definitions"),
                Rule(f"{PREFIX}/splits/ws/<ws>/<name>/environments/<env>", endpoint="definition"),
                Rule(f"{PREFIX}/splits/ws/<ws>/<name>", endpoint="flag"),
                Rule(f"{PREFIX}/splits/ws/<ws>", endpoint="flags"),
            ]
        )
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}{PREFIX}"
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()

    # -- state ---------------------------------------------------------------------------------

    def add_workspace(
        self, ws_id: str, name: str, environments=(("env-prod", "Production", True),)
    ):
        self.workspaces[ws_id] = name
        self.environments[ws_id] = [
            {"id": env_id, "name": env_name, "production": production}
            for env_id, env_name, production in environments
        ]
        self.flags.setdefault(ws_id, {})

    def add_key(self, key: str, workspaces, scheme: str = "bearer"):
        keys = self.bearer_keys if scheme == "bearer" else self.x_api_keys
        keys[key] = set(workspaces)

    def environment(self, ws_id: str, env_id: str) -> dict:
        env = next(e for e in self.environments[ws_id] if e["id"] == env_id)
        return {"id": env["id"], "name": env["name"]}

    def add_flag(self, ws_id: str, name: str, env_id: str | None = None, **definition_fields):
        """A flag with a definition in ``env_id`` (default: the workspace's first environment)."""
        flag_id = f"id-{ws_id}-{name}"
        self.flags[ws_id][name] = {
            "id": flag_id,
            "name": name,
            "description": f"{name} description",
            "trafficType": {"id": "tt1", "name": "user"},
            "creationTime": 1_600_000_000_000,
            "tags": [],
            "rolloutStatus": None,
        }
        env_id = env_id or self.environments[ws_id][0]["id"]
        self.set_definition(ws_id, env_id, name, **definition_fields)
        return flag_id

    def set_definition(self, ws_id: str, env_id: str, name: str, **fields):
        self.definitions.setdefault((ws_id, env_id), {})[name] = definition(
            name, self.environment(ws_id, env_id), **fields
        )

    def remove_flag(self, ws_id: str, name: str):
        self.flags[ws_id].pop(name, None)
        for (ws, _), defs in self.definitions.items():
            if ws == ws_id:
                defs.pop(name, None)

    # -- faults --------------------------------------------------------------------------------

    def fail_next(self, n: int, status: int, headers: dict | None = None, body: str | None = None):
        with self._lock:
            for _ in range(n):
                fault = Fault(status, headers or {})
                if body is not None:
                    fault.body = body
                self._faults.append(fault)

    def delay_next(self, seconds: float):
        self._delay = seconds

    def calls(self, endpoint: str) -> int:
        return self.counts[endpoint]

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    # -- serving -------------------------------------------------------------------------------

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        return self._handle(request)(environ, start_response)

    def _visible(self, request: Request) -> set[str] | None:
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer ") and auth[7:] in self.bearer_keys:
            return self.bearer_keys[auth[7:]]
        key = request.headers.get("x-api-key")
        if key and key in self.x_api_keys:
            return self.x_api_keys[key]
        return None

    def _handle(self, request: Request) -> Response:
        self.requests.append(
            LoggedRequest(request.method, request.path, dict(request.args), dict(request.headers))
        )
        if self._delay:
            delay, self._delay = self._delay, 0.0
            time.sleep(delay)
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault:
            return Response(
                fault.body, status=fault.status, headers=fault.headers, mimetype="application/json"
            )
        try:
            endpoint, args = self._routes.bind_to_environ(request.environ).match()
        except Exception:
            return _json({"message": "not found"}, 404)
        self.counts[endpoint] += 1
        visible = self._visible(request)
        if visible is None:
            return _json({"code": 401, "message": "Unauthorized"}, 401)
        ws = args.get("ws")
        if ws is not None:
            if ws not in self.workspaces:
                return _json({"message": "workspace not found"}, 404)
            if ws not in visible:
                return _json({"message": "forbidden"}, 403)
        return getattr(self, f"_{endpoint}")(request, visible, **args)

    def _workspaces(self, request, visible):
        items = [
            {"id": i, "name": n, "requiresTitleAndComments": False}
            for i, n in sorted(self.workspaces.items())
            if i in visible
        ]
        return _page(request, items)

    def _environments(self, request, visible, ws):
        return _json(self.environments[ws])

    def _flags(self, request, visible, ws):
        return _page(request, list(self.flags[ws].values()))

    def _flag(self, request, visible, ws, name):
        flag = self.flags[ws].get(name)
        return _json(flag) if flag else _json({"message": "flag not found"}, 404)

    def _env_id(self, ws, env):
        for candidate in self.environments[ws]:
            if env in (candidate["id"], candidate["name"]):
                return candidate["id"]
        return None

    def _definitions(self, request, visible, ws, env):
        env_id = self._env_id(ws, env)
        if env_id is None:
            return _json({"message": "environment not found"}, 404)
        if int(request.args.get("limit", 20)) > 50:
            return _json({"message": "limit must be at most 50"}, 400)
        return _page(request, list(self.definitions.get((ws, env_id), {}).values()))

    def _definition(self, request, visible, ws, name, env):
        env_id = self._env_id(ws, env)
        found = self.definitions.get((ws, env_id), {}).get(name) if env_id else None
        return _json(found) if found else _json({"message": "definition not found"}, 404)


def _json(data, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, mimetype="application/json")


def _page(request: Request, items: list) -> Response:
    limit = int(request.args.get("limit", 20))
    offset = int(request.args.get("offset", 0))
    return _json(
        {
            "objects": items[offset : offset + limit],
            "offset": offset,
            "limit": limit,
            "totalCount": len(items),
        }
    )
