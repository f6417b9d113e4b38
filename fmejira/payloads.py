"""Reading JSON request bodies: one place that turns every malformed body into a clear 4xx."""

from __future__ import annotations

from flask import json, request
from marshmallow import Schema, ValidationError

from fmejira.errors import ApiError, describe_messages


def load_body(schema: Schema) -> dict:
    """The request's JSON body loaded through ``schema``; 415 or 400 with the reasons otherwise."""
    if not request.is_json:
        raise ApiError(
            "Send the body as application/json.", code="unsupported_media_type", status=415
        )
    try:
        body = json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError) as exc:  # nesting a few thousand deep is a RecursionError
        raise ApiError("The body is not valid JSON.", code="invalid_json") from exc
    try:
        return schema.load(body)
    except ValidationError as exc:
        raise ApiError(
            f"Invalid request body: {describe_messages(exc.messages)}", code="invalid_body"
        ) from exc
