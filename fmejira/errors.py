"""JSON errors for every failure, in the one shape clients rely on.

``{"error": {"code": "...", "message": "..."}}`` with the right status; never an HTML page and
never a traceback. Handlers raise :class:`ApiError` (or a subclass) and this module renders it.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answered to the caller as JSON."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        headers: dict | None = None,
    ):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if status:
            self.status = status
        self.headers = headers or {}


class Unauthenticated(ApiError):
    status = 401
    code = "unauthenticated"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class NotFoundError(ApiError):
    status = 404
    code = "not_found"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class ServiceUnavailable(ApiError):
    status = 503
    code = "unavailable"


def describe_messages(messages, prefix: str = "") -> str:
    """Validation messages (nested dicts of lists) as one readable line: ``field: reason``."""
    if isinstance(messages, dict):
        return "; ".join(
            describe_messages(value, f"{prefix}{key}.") for key, value in messages.items()
        )
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return f"{prefix.rstrip('.')}: {' '.join(messages)}"
    return f"{prefix.rstrip('.')}: {messages}"


def error_response(status: int, code: str, message: str, headers: dict | None = None):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _http_code(exc: HTTPException) -> str:
    return (exc.name or "error").lower().replace(" ", "_").replace("'", "")


def discard_unsaved_work() -> None:
    """A failed request leaves nothing half-written: whatever it added but did not commit goes."""
    from .extensions import db

    db.session.rollback()


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def handle_api_error(exc: ApiError):
        discard_unsaved_work()
        return error_response(exc.status, exc.code, exc.message, exc.headers)

    @app.errorhandler(HTTPException)
    def handle_http_exception(exc: HTTPException):
        data = getattr(exc, "data", None) or {}
        message = exc.description or exc.name
        messages = data.get("messages")
        if messages:  # flask-smorest / webargs validation details, without the location level
            if isinstance(messages, dict) and len(messages) == 1:
                messages = next(iter(messages.values()))
            message = f"Invalid request: {describe_messages(messages)}"
        headers = dict(exc.get_headers()) if exc.response is None else {}
        headers.pop("Content-Type", None)
        return error_response(exc.code or 500, _http_code(exc), str(message), headers)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        log.exception("unhandled error")
        discard_unsaved_work()
        return error_response(500, "internal_error", "An unexpected error occurred.")
