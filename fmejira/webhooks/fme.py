"""FME's audit-log webhook: a hint that a flag changed, never the state itself.

FME signs nothing, so the URL carries an unguessable per-connection secret. The payload only
says which flag to re-read from the Admin API; duplicates and reordering are harmless because
the re-read takes whatever FME holds now. The answer is fast: the work is queued.

A body that is not an audit-log delivery is refused with a 4xx and queues nothing; a
well-formed delivery of another type (a segment change) or of an environment that is not a
primary one is answered 200 with nothing queued, so FME does not count it as a failure.
"""

from __future__ import annotations

import logging
import re

from flask import Blueprint, jsonify, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validates_schema

from fmejira.domain import configuration
from fmejira.domain.links import FLAG_NAME
from fmejira.errors import NotFoundError
from fmejira.extensions import db
from fmejira.payloads import load_body
from fmejira.sync import tasks

log = logging.getLogger(__name__)

bp = Blueprint("fme_webhooks", __name__, url_prefix="/webhooks/fme")

LINK_IDS = re.compile(r"/org/(?P<org>[A-Za-z0-9_-]+)(?:/ws/(?P<ws>[A-Za-z0-9_-]+))?")
# The payload carries the whole definition twice (now and ``previous``); a flag targeting
# thousands of keys outgrows the app's general request limit, and a refused delivery loses
# the hint. Only a holder of the secret gets this far.
MAX_BODY_BYTES = 2 * 1024 * 1024
FLAG_CHANGE = "split"


class AuditLogDeliverySchema(Schema):
    """The fields of FME's delivery the app reads (PROTOCOLS.md §2); the rest is ignored."""

    class Meta:
        unknown = EXCLUDE

    type = fields.String(required=True)
    name = fields.String(required=True)
    link = fields.String(load_default=None, allow_none=True)
    environmentName = fields.String(load_default=None, allow_none=True)

    @validates_schema
    def _names_a_flag_and_where(self, data, **kwargs):
        if data["type"] != FLAG_CHANGE:
            return
        if not FLAG_NAME.fullmatch(data["name"]):
            raise ValidationError("not an FME flag name", "name")
        if not data["link"] and not data["environmentName"]:
            raise ValidationError("a flag change names its link or its environmentName", "link")


@bp.post("/<secret>")
def audit_log(secret):
    connection = configuration.connection_for_webhook_secret(secret)
    if connection is None or not connection.tenant.is_active:
        raise NotFoundError("Unknown webhook URL.")
    request.max_content_length = MAX_BODY_BYTES
    delivery = load_body(AuditLogDeliverySchema())
    if delivery["type"] != FLAG_CHANGE:
        return jsonify(queued=0)
    match = LINK_IDS.search(delivery["link"] or "")
    if match and connection.fme_org_id != match["org"]:
        connection.fme_org_id = match["org"]
        db.session.commit()
    workspace = match["ws"] if match else None
    queued = 0
    for project in connection.projects:
        if workspace == project.workspace_id or (
            workspace is None and delivery["environmentName"] == project.environment_name
        ):
            tasks.refresh_flag(connection.tenant_id, project.workspace_id, delivery["name"])
            queued += 1
    return jsonify(queued=queued)
