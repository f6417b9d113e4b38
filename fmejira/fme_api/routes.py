"""``/api/v1/flags/{workspaceId}/{flagName}/issues``: the issues of a flag, from FME."""

from __future__ import annotations

import functools
import re
import zlib

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from webargs.flaskparser import FlaskParser

from fmejira.crypto import fingerprint
from fmejira.domain import links
from fmejira.errors import ApiError, NotFoundError
from fmejira.fme_api.auth import bearer_token, current_fme_context, fme_request
from fmejira.fme_api.rate_limit import within_budget
from fmejira.fme_api.schemas import (
    ISSUE_KEY_PATTERN,
    ConnectIssueSchema,
    ErrorSchema,
    IssueSchema,
)
from fmejira.hot_cache import hot_cache
from fmejira.models import LinkSource

WORKSPACE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # as the Jira side's ConnectFlagSchema


class _JsonParser(FlaskParser):
    """webargs' parser, answering every unreadable body alike, in words a caller understands.

    Python's decoder raises RecursionError (not a ValueError) for JSON nested a few thousand
    levels deep, which fits well within 64 KiB: without this that body is a 500.
    """

    def _raw_load_json(self, req):
        try:
            return super()._raw_load_json(req)
        except RecursionError as exc:
            return self._handle_invalid_json_error(exc, req)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise ApiError("The body is not valid JSON.", code="invalid_json")


class _Blueprint(Blueprint):
    ARGUMENTS_PARSER = _JsonParser()


blp = _Blueprint(
    "fme_api",
    __name__,
    url_prefix="/api/v1",
    description="Connect Jira issues to an FME feature flag (called from FME).",
)

# One budget per FME key for the whole API, not one per route (fmejira.fme_api.rate_limit).
blp.before_request(within_budget)

PATH_PARAMETERS = {
    "workspace_id": ("The FME project (workspace) id.", WORKSPACE_ID.pattern),
    "flag_name": ("The feature flag's name.", links.FLAG_NAME.pattern),
    "issue_key": ("A Jira issue key; case does not matter.", ISSUE_KEY_PATTERN),
}


def _path_parameters(*names) -> list[dict]:
    return [
        {
            "in": "path",
            "name": name,
            "description": PATH_PARAMETERS[name][0],
            "schema": {"type": "string", "pattern": PATH_PARAMETERS[name][1]},
        }
        for name in names
    ]


def well_formed(view):
    """Refuse, once the caller is known, what no lookup can answer.

    A POST body that is not JSON is a 415 (webargs would call it a 422). A workspace id that no
    FME project can have is unknown before it reaches the database: PostgreSQL refuses text
    holding a NUL byte with an error, not with an empty result.
    """

    @functools.wraps(view)
    def wrapper(*args, workspace_id, **kwargs):
        if request.method == "POST" and not request.is_json:
            raise ApiError(
                "Send the body as application/json.", code="unsupported_media_type", status=415
            )
        if not WORKSPACE_ID.fullmatch(workspace_id):
            raise NotFoundError(
                "No FME project connected to this Jira site has this id.", code="unknown_project"
            )
        return view(*args, workspace_id=workspace_id, **kwargs)

    return wrapper


ERRORS = {
    400: "Malformed request: a bad flag name or issue key, or a body that is not JSON.",
    401: "Missing or unknown FME Admin API key, or its Jira site uninstalled the app.",
    404: "Unknown or unconnected project, unknown flag, or no such link.",
    413: "Body larger than 64 KiB.",
    415: "Body is not application/json.",
    422: "Body failed validation, or Jira has no such issue.",
    429: "Too many requests for this key; Retry-After says when to try again.",
    503: "FME or Jira could not be reached; nothing was changed.",
}


def _documented(*codes):
    """The key this API requires, and the errors (in the one error shape) a route answers."""

    def decorator(fn):
        for code in codes:
            fn = blp.alt_response(code, schema=ErrorSchema, description=ERRORS[code])(fn)
        return blp.doc(security=[{"fmeApiKey": []}])(fn)

    return decorator


def _issue(issue, tenant) -> dict:
    return {
        "key": issue.key,
        "id": issue.jira_id,
        "summary": issue.summary,
        "status": issue.status,
        "url": f"{tenant.link_base_url}/browse/{issue.key}",
    }


def _issues_from_cache(view):
    """GET: the list from the hot cache when it is current for the API key's site (two Redis
    round trips, or none from the near copy: the key's site, then that site's generation and
    the list); else the view runs, and a 200 is cached under the generation read before it ran.

    The list's entry is named by the key's fingerprint: it is written only after the view
    verified that key for that site, so a current entry proves the key as well (a changed or
    removed key bumps the site's generation). Lists are packed: a near copy holds 3-4x more."""

    @functools.wraps(view)
    def wrapper(*args, workspace_id, flag_name, **kwargs):
        cache, token = hot_cache(), bearer_token()
        if request.method != "GET" or token is None or not cache.enabled:
            return view(*args, workspace_id=workspace_id, flag_name=flag_name, **kwargs)
        key = fingerprint(token)
        alias, list_entry = "fmekey:" + key, f"issues:{key}:{workspace_id}/{flag_name}"
        client_key = cache.site_of(alias)
        generation, (cached,) = cache.read(client_key, list_entry) if client_key else (None, [None])
        body = _unpacked(cached)
        if body is not None:
            return current_app.response_class(body, mimetype="application/json")
        response = view(*args, workspace_id=workspace_id, flag_name=flag_name, **kwargs)
        tenant = current_fme_context().tenant
        if response.status_code == 200 and tenant.client_key == client_key:
            entry = (zlib.compress(response.get_data(), 1), cache.max_seconds)
            cache.write(client_key, generation, {list_entry: entry})
        elif response.status_code == 200:
            cache.alias(alias, tenant.client_key)
        return response

    return wrapper


def _unpacked(entry: bytes | None) -> bytes | None:
    if not entry:
        return None
    try:
        return zlib.decompress(entry)
    except zlib.error:  # not what this release packs: read anew
        return None


@blp.route(
    "/flags/<workspace_id>/<flag_name>/issues",
    parameters=_path_parameters("workspace_id", "flag_name"),
)
class FlagIssues(MethodView):
    decorators = (well_formed, fme_request, _issues_from_cache)  # the last one runs first

    @blp.response(200, IssueSchema(many=True), description="The issues linked to the flag.")
    @_documented(400, 401, 404, 429)
    def get(self, workspace_id, flag_name):
        """List the Jira issues connected to a flag."""
        context = current_fme_context()
        links.configured_project(context.tenant, workspace_id)
        issues = links.issues_of_flag(context.tenant, workspace_id, flag_name)
        return [_issue(issue, context.tenant) for issue in issues]

    @blp.arguments(ConnectIssueSchema)
    @blp.response(201, IssueSchema, description="Linked.")
    @blp.alt_response(200, schema=IssueSchema, description="Already linked.", success=True)
    @_documented(400, 401, 404, 413, 415, 422, 429, 503)
    def post(self, body, workspace_id, flag_name):
        """Connect a Jira issue to a flag (idempotent).

        The flag must exist in FME in a project connected to the Jira site, and the issue in
        Jira; the issue is remembered by id, so a later key change keeps the link.
        """
        context = current_fme_context()
        result = links.connect(
            context.tenant, workspace_id, flag_name, body["issueKey"], source=LinkSource.FME
        )
        return _issue(result.link.issue, context.tenant), 201 if result.created else 200


@blp.route(
    "/flags/<workspace_id>/<flag_name>/issues/<issue_key>",
    parameters=_path_parameters("workspace_id", "flag_name", "issue_key"),
)
class FlagIssue(MethodView):
    decorators = (well_formed, fme_request)

    @blp.response(204, description="Disconnected.")
    @_documented(400, 401, 404, 429)
    def delete(self, workspace_id, flag_name, issue_key):
        """Disconnect a Jira issue from a flag."""
        context = current_fme_context()
        links.disconnect(context.tenant, workspace_id, flag_name, issue_key)
