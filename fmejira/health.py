"""Health endpoints for load balancers and orchestrators."""

import sqlalchemy as sa
from flask import Blueprint, jsonify

from fmejira.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up and serving."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """The database answers; a failing check takes the instance out of rotation."""
    try:
        db.session.execute(sa.text("SELECT 1"))
    except sa.exc.SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="unavailable", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
