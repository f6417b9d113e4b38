"""A real HTTP server playing one Jira Cloud site, for tests.

It answers the REST calls the app makes (issues, issue properties, the Feature Flags API,
permission checks) and checks every request's Connect JWT as Jira does: HS256 with the shared
secret, ``iss`` the app key, ``exp``, and the ``qsh`` of the request as it arrived, relative to
the site's base path. That check is written here from the published rules, independently of the
app, so it catches the app's signer bugs.

Like Jira's servlet (``getRequestURI``), the qsh is computed over the path as sent, still
percent-encoded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import jwt
from jsonschema import Draft202012Validator, FormatChecker
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from tests.fakes import LocalServer

BULK_SCHEMA_PATH = Path(__file__).parent.parent / "data" / "jira-featureflags-bulk.schema.json"

_RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$", re.IGNORECASE)
_FORMATS = FormatChecker(formats=())


@_FORMATS.checks("date-time")
def _is_rfc3339(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value.upper())
    except ValueError:
        return False
    return True


@_FORMATS.checks("uri")
def _is_absolute_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlsplit(value)
    return bool(parts.scheme and parts.netloc) and not any(c.isspace() for c in value)


BULK_VALIDATOR = Draft202012Validator(
    json.loads(BULK_SCHEMA_PATH.read_text()), format_checker=_FORMATS
)


def canonical_request(method: str, path: str, query: str, context_path: str = "") -> str:
    """Atlassian's canonical request ``METHOD&path&query`` for a raw path and query string."""
    if context_path and path.startswith(context_path):
        path = path[len(context_path) :]
    path = path.replace("&", "%26") or "/"
    if not path.startswith("/"):
        path = "/" + path
    if len(path) > 1:
        path = path.rstrip("/")
    values_by_key: dict[str, list[str]] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key != "jwt":
            values_by_key.setdefault(key, []).append(value)
    canonical_query = "&".join(
        f"{_enc(key)}={','.join(_enc(v) for v in sorted(values))}"
        for key, values in sorted(values_by_key.items())
    )
    return f"{method.upper()}&{path}&{canonical_query}"


def query_string_hash(method: str, path: str, query: str, context_path: str = "") -> str:
    canonical = canonical_request(method, path, query, context_path)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _enc(text: str) -> str:
    return quote(text, safe="")


@dataclass
class FakeIssue:
    id: str
    key: str
    summary: str
    status: str
    issue_type: str
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class StoredFlag:
    """A flag as the site keeps it: the submitted data, its request's properties, its issues."""

    data: dict[str, Any]
    properties: dict[str, str]
    issue_ids: list[str]


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int
    door: str | None = None  # "connect" or "forge" when the site is served both ways


@dataclass(frozen=True)
class _Fault:
    status: int
    headers: dict[str, str]
    body: str | None


class _Refused(Exception):
    """Ends a request early with an error answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.response = _json_response({"errorMessages": [message]}, status)


class FakeJira:
    """A Jira Cloud site served at ``url`` until ``stop()``.

    ``context_path`` puts the site under a path (``https://x.atlassian.net/jira``, or
    ``/ex/jira/{cloudId}`` as Forge's ``apiBaseUrl``). With ``verify_jwt=False`` any
    Authorization header is accepted, for tests with a dummy signer. A Forge system token in
    ``bearer_tokens`` is accepted as ``Authorization: Bearer`` until its time in
    ``bearer_expiry`` (if it has one), then refused with 401.

    ``forge_cloud_id`` serves the same site a second way, as Forge's ``apiBaseUrl`` reaches it
    (``forge_url``, ``/ex/jira/{cloudId}``): there only bearer tokens are taken, and at the
    site's own URL only Connect JWTs (Atlassian's gateway takes OAuth tokens, a site takes JWTs).
    One store behind both, so a site moving from Connect to Forge keeps its records.
    """

    def __init__(
        self,
        *,
        shared_secret: str = "",
        app_key: str = "",
        context_path: str = "",
        verify_jwt: bool = True,
        forge_cloud_id: str | None = None,
    ):
        if verify_jwt and not (shared_secret and app_key):
            raise ValueError("verifying JWTs needs the shared secret and the app key")
        self.shared_secret = shared_secret
        self.app_key = app_key
        self.context_path = context_path.rstrip("/")
        self.verify_jwt = verify_jwt
        # Forge system tokens this site accepts as "Authorization: Bearer <token>"
        self.bearer_tokens: set[str] = set()
        self.bearer_expiry: dict[str, float] = {}  # token -> time.time() it stops working
        self.forge_path = f"/ex/jira/{forge_cloud_id}" if forge_cloud_id else None
        self.admin_account_ids: set[str] = set()
        # account id -> ids of issues that person cannot browse (everyone sees every issue else)
        self.hidden_issue_ids: dict[str, set[str]] = {}
        self.flags: dict[str, StoredFlag] = {}
        self.requests: list[LoggedRequest] = []
        self._issues_by_id: dict[str, FakeIssue] = {}
        self._issue_ids_by_key: dict[str, str] = {}
        self._rejected_flags: dict[str, str] = {}
        self._faults: deque[_Fault] = deque()
        self._lock = threading.RLock()
        self._routes = Map(
            [
                Rule("/rest/api/3/issue/<id_or_key>", endpoint="get_issue", methods=["GET"]),
                Rule(
                    "/rest/api/3/issue/<id_or_key>/properties/<path:property_key>",
                    endpoint="put_issue_property",
                    methods=["PUT"],
                ),
                Rule(
                    "/rest/api/3/permissions/check", endpoint="check_permissions", methods=["POST"]
                ),
                Rule("/rest/featureflags/0.1/bulk", endpoint="submit_flags", methods=["POST"]),
                Rule(
                    "/rest/featureflags/0.1/flag/<path:flag_id>",
                    endpoint="get_flag",
                    methods=["GET"],
                ),
                Rule(
                    "/rest/featureflags/0.1/flag/<path:flag_id>",
                    endpoint="delete_flag",
                    methods=["DELETE"],
                ),
                Rule(
                    "/rest/featureflags/0.1/bulkByProperties",
                    endpoint="delete_flags_by_properties",
                    methods=["DELETE"],
                ),
            ]
        )
        self._http = LocalServer(self._wsgi_app, "fake-jira")
        self.url = self._http.origin + self.context_path
        self.forge_url = self._http.origin + self.forge_path if self.forge_path else None

    def stop(self) -> None:
        self._http.stop()

    # Test controls

    def add_issue(
        self,
        key: str,
        id: str | None = None,
        summary: str = "",
        status: str = "To Do",
        issue_type: str = "Task",
    ) -> FakeIssue:
        with self._lock:
            issue = FakeIssue(
                id=id or str(10001 + len(self._issues_by_id)),
                key=key,
                summary=summary or f"Issue {key}",
                status=status,
                issue_type=issue_type,
            )
            self._issues_by_id[issue.id] = issue
            self._issue_ids_by_key[key.upper()] = issue.id
            return issue

    def move_issue(self, key: str, new_key: str) -> FakeIssue:
        """Give an issue a new key (a move to another project); the old key still finds it."""
        with self._lock:
            issue = self.issue(key)
            issue.key = new_key
            self._issue_ids_by_key[new_key.upper()] = issue.id
            return issue

    def issue(self, id_or_key: str) -> FakeIssue:
        """The issue with this id, key or former key; KeyError when there is none."""
        with self._lock:
            issue_id = self._issue_ids_by_key.get(id_or_key.upper(), id_or_key)
            return self._issues_by_id[issue_id]

    def reject_flag(self, flag_id: str, message: str = "rejected by the fake") -> None:
        """Answer every later submit of this flag with a per-flag failure."""
        with self._lock:
            self._rejected_flags[flag_id] = message

    def accept_bearer(self, token: str, expires_at: float | None = None) -> None:
        """Take ``token`` as ``Authorization: Bearer`` (until ``expires_at``, a time.time())."""
        with self._lock:
            self.bearer_tokens.add(token)
            if expires_at is not None:
                self.bearer_expiry[token] = expires_at

    def expire_bearer_tokens(self) -> None:
        """Every bearer token taken so far is refused from now on (its time ran out)."""
        with self._lock:
            now = time.time()
            for token in self.bearer_tokens:
                self.bearer_expiry[token] = now

    def forget_app_data(self) -> None:
        """What Jira does when the app is uninstalled: the app's feature flag records go."""
        with self._lock:
            self.flags.clear()

    def fail_next(
        self, n: int, status: int, headers: dict[str, str] | None = None, body: str | None = None
    ) -> None:
        """Answer the next ``n`` requests with ``status`` (before any authentication)."""
        with self._lock:
            self._faults.extend([_Fault(status, dict(headers or {}), body)] * n)

    # Serving

    def _wsgi_app(self, environ, start_response):
        request = Request(environ)
        raw_path = urlsplit(environ.get("RAW_URI") or request.path).path
        door = None  # either kind of credential, as when only one way in is served
        prefix = self.context_path
        if self.forge_path and raw_path.startswith(self.forge_path + "/"):
            door, prefix = "forge", self.forge_path
        elif self.forge_path:
            door = "connect"
        site_path = raw_path[len(prefix) :]
        if not raw_path.startswith(prefix + "/"):
            response = _json_response({"errorMessages": ["not on this site"]}, 404)
        elif fault := self._next_fault():
            response = Response(
                fault.body, fault.status, fault.headers, mimetype="application/json"
            )
        else:
            response = self._answer(request, raw_path, site_path, prefix, door)
        with self._lock:
            self.requests.append(
                LoggedRequest(
                    method=request.method,
                    path=site_path,
                    query=request.args.to_dict(),
                    body=request.get_json(silent=True),
                    status=response.status_code,
                    door=door,
                )
            )
        return response(environ, start_response)

    def _next_fault(self) -> _Fault | None:
        with self._lock:
            return self._faults.popleft() if self._faults else None

    def _answer(
        self, request: Request, raw_path: str, site_path: str, prefix: str, door: str | None
    ) -> Response:
        try:
            self._authenticate(request, raw_path, prefix, door)
            endpoint, args = self._routes.bind("jira").match(unquote(site_path), request.method)
            with self._lock:
                return getattr(self, f"_{endpoint}")(request, **args)
        except _Refused as refusal:
            return refusal.response
        except HTTPException as exc:
            return _json_response({"errorMessages": [exc.name]}, exc.code or 400)

    def _authenticate(self, request: Request, raw_path: str, prefix: str, door: str | None) -> None:
        if not self.verify_jwt:
            return
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        if scheme == "Bearer" and door != "connect":
            if token not in self.bearer_tokens:
                raise _Refused(401, "unknown bearer token")
            if self.bearer_expiry.get(token, float("inf")) <= time.time():
                raise _Refused(401, "the bearer token has expired")
            return
        if door == "forge":
            raise _Refused(401, "a bearer token is required")
        if scheme != "JWT" or not token:
            raise _Refused(401, "a JWT Authorization header is required")
        try:
            claims = jwt.decode(
                token,
                self.shared_secret,
                algorithms=["HS256"],
                issuer=self.app_key,
                options={"require": ["iss", "iat", "exp", "qsh"]},
            )
        except jwt.InvalidTokenError as exc:
            raise _Refused(401, f"invalid JWT: {exc}") from exc
        query = request.query_string.decode("latin-1")
        expected = query_string_hash(request.method, raw_path, query, prefix)
        if not hmac.compare_digest(str(claims["qsh"]), expected):
            raise _Refused(401, "the JWT's qsh does not match the request")

    def _find_issue(self, id_or_key: str) -> FakeIssue:
        try:
            return self.issue(id_or_key)
        except KeyError:
            raise _Refused(
                404, "Issue does not exist or you do not have permission to see it."
            ) from None

    def _get_issue(self, request: Request, id_or_key: str) -> Response:
        issue = self._find_issue(id_or_key)
        return _json_response(
            {
                "id": issue.id,
                "key": issue.key,
                "self": f"{self.url}/rest/api/3/issue/{issue.id}",
                "fields": {
                    "summary": issue.summary,
                    "status": {"name": issue.status},
                    "issuetype": {"name": issue.issue_type},
                },
            }
        )

    def _put_issue_property(self, request: Request, id_or_key: str, property_key: str) -> Response:
        issue = self._find_issue(id_or_key)
        if len(property_key) > 255:
            raise _Refused(400, "The property key cannot be longer than 255 characters.")
        value = _json_body(request)
        created = property_key not in issue.properties
        issue.properties[property_key] = value
        return Response(status=201 if created else 200)

    def _check_permissions(self, request: Request) -> Response:
        body = _json_body(request)
        if not isinstance(body, dict):
            raise _Refused(400, "the body must be a JSON object")
        account_id = body.get("accountId")
        is_admin = account_id in self.admin_account_ids
        requested = body.get("globalPermissions") or []
        granted = [p for p in requested if p == "ADMINISTER" and is_admin]
        project_permissions = []
        for check in body.get("projectPermissions") or []:
            hidden = self.hidden_issue_ids.get(account_id, set())
            for permission in check.get("permissions") or []:
                issues = [
                    issue_id
                    for issue_id in check.get("issues") or []
                    if str(issue_id) in self._issues_by_id and str(issue_id) not in hidden
                ]
                project_permissions.append(
                    {"permission": permission, "issues": issues, "projects": []}
                )
        return _json_response(
            {"globalPermissions": granted, "projectPermissions": project_permissions}
        )

    def _submit_flags(self, request: Request) -> Response:
        body = _json_body(request)
        errors = [
            {"message": error.message, "path": "/".join(map(str, error.absolute_path))}
            for error in BULK_VALIDATOR.iter_errors(body)
        ]
        if errors:
            return _json_response({"errors": errors}, 400)
        accepted: list[str] = []
        failed: dict[str, list[dict[str, str]]] = {}
        unknown_issue_keys: list[str] = []
        unknown_associations: list[dict[str, Any]] = []
        for flag in body["flags"]:
            flag_id = flag["id"]
            if flag_id in self._rejected_flags:
                message = self._rejected_flags[flag_id]
                failed[flag_id] = [{"message": message, "errorTraceId": f"trace-{flag_id}"}]
                continue
            issue_ids = []
            for value in flag.get("issueKeys", []):
                if (issue := self._known_issue(value)) is None:
                    unknown_issue_keys.append(value)
                else:
                    issue_ids.append(issue.id)
            for association in flag.get("associations", []):
                unknown = []
                for value in association["values"]:
                    if (issue := self._known_issue(value)) is None:
                        unknown.append(value)
                    else:
                        issue_ids.append(issue.id)
                if unknown:
                    kind = association["associationType"]
                    unknown_associations.append({"associationType": kind, "values": unknown})
            if not issue_ids:
                continue
            accepted.append(flag_id)
            stored = self.flags.get(flag_id)
            if stored and stored.data["updateSequenceId"] >= flag["updateSequenceId"]:
                continue
            self.flags[flag_id] = StoredFlag(
                data=flag,
                properties=dict(body.get("properties", {})),
                issue_ids=list(dict.fromkeys(issue_ids)),
            )
        return _json_response(
            {
                "acceptedFeatureFlags": accepted,
                "failedFeatureFlags": failed,
                "unknownIssueKeys": unknown_issue_keys,
                "unknownAssociations": unknown_associations,
            },
            202,
        )

    def _known_issue(self, id_or_key: str) -> FakeIssue | None:
        try:
            return self.issue(id_or_key)
        except KeyError:
            return None

    def _get_flag(self, request: Request, flag_id: str) -> Response:
        if flag_id not in self.flags:
            raise _Refused(404, "no such feature flag")
        return _json_response(self.flags[flag_id].data)

    def _delete_flag(self, request: Request, flag_id: str) -> Response:
        if self.flags.pop(flag_id, None) is None:
            raise _Refused(404, "no such feature flag")
        return Response(status=202)

    def _delete_flags_by_properties(self, request: Request) -> Response:
        wanted = request.args.to_dict()
        if not wanted:
            raise _Refused(400, "at least one property is required")
        for flag_id, stored in list(self.flags.items()):
            if all(stored.properties.get(k) == v for k, v in wanted.items()):
                del self.flags[flag_id]
        return Response(status=202)


def _json_body(request: Request) -> Any:
    if request.mimetype != "application/json":
        raise _Refused(415, "the body must be application/json")
    try:
        return json.loads(request.get_data())
    except ValueError:
        raise _Refused(400, "the body is not valid JSON") from None


def _json_response(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status, mimetype="application/json")
