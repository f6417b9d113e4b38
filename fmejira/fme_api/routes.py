"""``/api/v1/flags/{workspaceId}/{flagName}/issues``: the issues of a flag, from FME."""

from __future__ import annotations

from flask import current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint

from fmejira.domain import links
from fmejira.errors import ApiError
from fmejira.extensions import limiter
from fmejira.fme_api.auth import current_fme_context, fme_request
from fmejira.fme_api.schemas import ConnectIssueSchema, ErrorSchema, IssueSchema
from fmejira.models import LinkSource

blp = Blueprint(
    "fme_api",
    __name__,
    url_prefix="/api/v1",
    description="Connect Jira issues to an FME feature flag (called from FME).",
)

# Per FME key (see extensions._api_key_or_address); the limit is read per request, so one
# declaration serves every app instance.
limiter.limit(lambda: current_app.config["API_RATE_LIMIT"])(blp)


@blp.before_request
def require_json_body():
    """A body that is not JSON is refused before validation, with 415 rather than 422."""
    if request.method == "POST" and not request.is_json:
        raise ApiError(
            "Send the body as application/json.", code="unsupported_media_type", status=415
        )


ERRORS = {
    400: "Malformed request (bad issue key, flag name or body).",
    401: "Missing or unknown FME Admin API key.",
    404: "Unknown project, flag or link.",
    409: "FME is not configured for the Jira site.",
    413: "Body larger than 64 KiB.",
    415: "Body is not application/json.",
    422: "Body failed validation, or Jira has no such issue.",
    429: "Too many requests for this key.",
    503: "FME or Jira could not be reached; nothing was changed.",
}


def _document_errors(*codes):
    def decorator(fn):
        for code in codes:
            fn = blp.alt_response(code, schema=ErrorSchema, description=ERRORS[code])(fn)
        return fn

    return decorator


def _issue(issue, tenant) -> dict:
    return {
        "key": issue.key,
        "id": issue.jira_id,
        "summary": issue.summary,
        "status": issue.status,
        "url": f"{tenant.link_base_url}/browse/{issue.key}",
    }


@blp.route("/flags/<workspace_id>/<flag_name>/issues")
class FlagIssues(MethodView):
    decorators = (fme_request,)

    @blp.response(200, IssueSchema(many=True), description="The issues linked to the flag.")
    @_document_errors(400, 401, 404, 429)
    def get(self, workspace_id, flag_name):
        context = current_fme_context()
        links.configured_project(context.tenant, workspace_id)
        issues = links.issues_of_flag(context.tenant, workspace_id, flag_name)
        return [_issue(issue, context.tenant) for issue in issues]

    @blp.arguments(ConnectIssueSchema)
    @blp.response(201, IssueSchema, description="Linked.")
    @blp.alt_response(200, schema=IssueSchema, description="Already linked.")
    @_document_errors(400, 401, 404, 409, 413, 415, 422, 429, 503)
    def post(self, body, workspace_id, flag_name):
        context = current_fme_context()
        result = links.connect(
            context.tenant, workspace_id, flag_name, body["issueKey"], source=LinkSource.FME
        )
        return _issue(result.link.issue, context.tenant), 201 if result.created else 200


@blp.route("/flags/<workspace_id>/<flag_name>/issues/<issue_key>")
class FlagIssue(MethodView):
    decorators = (fme_request,)

    @blp.response(204, description="Disconnected.")
    @_document_errors(400, 401, 404, 429)
    def delete(self, workspace_id, flag_name, issue_key):
        context = current_fme_context()
        links.disconnect(context.tenant, workspace_id, flag_name, issue_key)
