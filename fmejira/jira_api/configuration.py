"""``/jira/api/configuration``: the FME connection of a Jira site, for its administrators."""

from __future__ import annotations

from flask import jsonify
from marshmallow import Schema, fields, validate

from fmejira.connect.auth import jira_request
from fmejira.context import current_context
from fmejira.domain import configuration
from fmejira.errors import NotFoundError
from fmejira.jira_api import bp
from fmejira.jira_api.permissions import require_admin
from fmejira.outbound import INTERACTIVE
from fmejira.payloads import load_body

FME_ID = validate.Regexp(r"^[A-Za-z0-9_-]{1,64}$", error="Not an FME id.")
API_KEY = validate.Regexp(
    r"^[A-Za-z0-9._-]{16,512}$",
    error="An FME Admin API key is 16 to 512 letters, digits, '.', '_' or '-'.",
)


class ProjectSelectionSchema(Schema):
    workspaceId = fields.String(required=True, validate=FME_ID)
    primaryEnvironmentId = fields.String(required=True, validate=FME_ID)


class ConfigurationSchema(Schema):
    apiKey = fields.String(validate=API_KEY)
    projects = fields.List(
        fields.Nested(ProjectSelectionSchema),
        required=True,
        validate=validate.Length(min=1, max=50),
    )
    confirm = fields.Boolean(load_default=False)


class DiscoverSchema(Schema):
    apiKey = fields.String(validate=API_KEY)


def _iso(value):
    return value.isoformat() if value else None


def _describe(connection) -> dict:
    if connection is None:
        return {
            "status": "unconfigured",
            "checkedAt": None,
            "lastError": None,
            "projects": [],
            "webhookUrl": None,
        }
    return {
        "status": connection.status.value,
        "checkedAt": _iso(connection.checked_at),
        "lastError": connection.last_error,
        "authScheme": connection.auth_scheme.value,
        "projects": [
            {
                "workspaceId": project.workspace_id,
                "workspaceName": project.workspace_name,
                "primaryEnvironment": {
                    "id": project.environment_id,
                    "name": project.environment_name,
                    "production": project.environment_production,
                },
            }
            for project in connection.projects
        ],
        "webhookUrl": configuration.webhook_url(connection),
    }


def _connection_or_404():
    connection = configuration.connection_for(current_context().tenant)
    if connection is None:
        raise NotFoundError("FME is not configured for this Jira site yet.", code="unconfigured")
    return connection


@bp.get("/configuration")
@jira_request(context_qsh=True)
@require_admin
def get_configuration():
    return jsonify(_describe(configuration.connection_for(current_context().tenant)))


@bp.put("/configuration")
@jira_request(context_qsh=True)
@require_admin
def put_configuration():
    body = load_body(ConfigurationSchema())
    selection = [
        configuration.ProjectSelection(p["workspaceId"], p["primaryEnvironmentId"])
        for p in body["projects"]
    ]
    connection = configuration.save(
        current_context().tenant,
        body.get("apiKey"),
        selection,
        confirm_link_removal=body["confirm"],
    )
    return jsonify(_describe(connection))


@bp.delete("/configuration")
@jira_request(context_qsh=True)
@require_admin
def delete_configuration():
    configuration.delete(current_context().tenant)
    return "", 204


@bp.post("/configuration/discover")
@jira_request(context_qsh=True)
@require_admin
def discover_projects():
    """The projects (and their environments) a key can see: a pasted one, or the stored one."""
    body = load_body(DiscoverSchema())
    if body.get("apiKey"):
        client = configuration.fme_client(body["apiKey"], policy=INTERACTIVE)
    else:
        client = configuration.client_for(_connection_or_404(), INTERACTIVE)
    choices = configuration.discover(client)
    return jsonify(
        projects=[
            {
                "workspaceId": choice.workspace_id,
                "workspaceName": choice.workspace_name,
                "environments": [
                    {"id": env.id, "name": env.name, "production": env.production}
                    for env in choice.environments
                ],
            }
            for choice in choices
        ]
    )


@bp.post("/configuration/test")
@jira_request(context_qsh=True)
@require_admin
def test_configuration():
    return jsonify(_describe(configuration.check(_connection_or_404())))


@bp.post("/configuration/webhook-secret")
@jira_request(context_qsh=True)
@require_admin
def regenerate_webhook_secret():
    return jsonify(_describe(configuration.regenerate_webhook_secret(_connection_or_404())))
