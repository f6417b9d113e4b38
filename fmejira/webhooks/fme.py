"""FME's audit-log webhook: a hint that a flag changed, never the state itself.

FME signs nothing, so the URL carries an unguessable per-connection secret. The payload only
says which flag to re-read from the Admin API; duplicates and reordering are harmless because
the re-read takes whatever FME holds now. The answer is fast: the work is queued.
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, jsonify, request

from fmejira.domain import configuration
from fmejira.domain.links import FLAG_NAME
from fmejira.errors import NotFoundError
from fmejira.extensions import db
from fmejira.sync import tasks

log = logging.getLogger(__name__)

bp = Blueprint("fme_webhooks", __name__, url_prefix="/webhooks/fme")

LINK_IDS = re.compile(r"/org/(?P<org>[A-Za-z0-9_-]+)(?:/ws/(?P<ws>[A-Za-z0-9_-]+))?")
# The payload carries the whole definition twice (now and ``previous``); a flag targeting
# thousands of keys outgrows the app's general request limit, and a refused delivery loses
# the hint. Only a holder of the secret gets this far.
MAX_BODY_BYTES = 2 * 1024 * 1024


@bp.post("/<secret>")
def audit_log(secret):
    connection = configuration.connection_for_webhook_secret(secret)
    if connection is None or not connection.tenant.is_active:
        raise NotFoundError("Unknown webhook URL.")
    request.max_content_length = MAX_BODY_BYTES
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or body.get("type", "split") != "split":
        return jsonify(queued=0)
    name = body.get("name")
    if not isinstance(name, str) or not FLAG_NAME.fullmatch(name):
        return jsonify(queued=0)
    match = LINK_IDS.search(body.get("link") or "") if isinstance(body.get("link"), str) else None
    if match and connection.fme_org_id != match["org"]:
        connection.fme_org_id = match["org"]
        db.session.commit()
    workspace = match["ws"] if match else None
    environment = body.get("environmentName")
    queued = 0
    for project in connection.projects:
        if workspace == project.workspace_id or (
            workspace is None and environment == project.environment_name
        ):
            tasks.refresh_flag(connection.tenant_id, project.workspace_id, name)
            queued += 1
    return jsonify(queued=queued)
