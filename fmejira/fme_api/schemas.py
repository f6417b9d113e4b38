"""Request and response schemas of the FME-side API (they also generate its OpenAPI)."""

import re

from marshmallow import Schema, ValidationError, fields

ISSUE_KEY_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,99}-[1-9][0-9]{0,17}$"
_ISSUE_KEY = re.compile(ISSUE_KEY_PATTERN)


def _issue_key(value: str) -> None:
    """The documented pattern, matched as JSON Schema does: ``$`` is not satisfied by a
    trailing newline (Python's ``re.match`` would accept ``"ABC-1\\n"``)."""
    if not _ISSUE_KEY.fullmatch(value):
        raise ValidationError("Not a Jira issue key (like ABC-123).")


class ErrorDetailSchema(Schema):
    code = fields.String(required=True)
    message = fields.String(required=True)


class ErrorSchema(Schema):
    error = fields.Nested(ErrorDetailSchema, required=True)


class ConnectIssueSchema(Schema):
    issueKey = fields.String(
        required=True,
        validate=_issue_key,
        metadata={"pattern": ISSUE_KEY_PATTERN, "example": "ABC-123"},
    )


class IssueSchema(Schema):
    key = fields.String(required=True, metadata={"example": "ABC-123"})
    id = fields.String(required=True, metadata={"example": "10042"})
    summary = fields.String(required=True)
    status = fields.String(allow_none=True)
    url = fields.Url(required=True)
