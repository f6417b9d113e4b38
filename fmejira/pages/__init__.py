"""Pages Jira shows inside its iframes (glance, dialogs, configuration) and the Releases field's
action URLs. Each page is rendered from the store and gets a short-lived token for its own
calls to the Jira-side JSON API."""

from flask import Blueprint

bp = Blueprint("pages", __name__)

from fmejira.pages import (  # noqa: E402, F401  (registers the routes)
    configure,
    dialogs,
    errors,
    fragments,
    glance,
    releases,
    security,
)
