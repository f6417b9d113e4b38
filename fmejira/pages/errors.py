"""A page that cannot be shown gets a page saying why, not JSON: a person opened it."""

from __future__ import annotations

from flask import render_template

from fmejira.errors import ApiError, discard_unsaved_work
from fmejira.pages import bp


@bp.errorhandler(ApiError)
def page_error(exc: ApiError):
    discard_unsaved_work()
    return render_template("error.html", message=exc.message, status=exc.status), exc.status
