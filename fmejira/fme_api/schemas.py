"""Request and response schemas of the FME-side API (they also generate its OpenAPI)."""

from marshmallow import Schema, fields, validate

ISSUE_KEY_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,99}-[1-9][0-9]{0,17}$"


class ErrorDetailSchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)


class ErrorSchema(Schema):
    error = fields.Nested(ErrorDetailSchema, required=True)


class ConnectIssueSchema(Schema):
    issueKey = fields.String(
        required=True,
        validate=validate.Regexp(ISSUE_KEY_PATTERN, error="Not a Jira issue key (like ABC-123)."),
        metadata={"example": "ABC-123"},
    )


class IssueSchema(Schema):
    key = fields.String(required=True, metadata={"example": "ABC-123"})
    id = fields.String(required=True, metadata={"example": "10042"})
    summary = fields.String(required=True)
    status = fields.String(allow_none=True)
    url = fields.Url(required=True)
