"""The Jira-side JSON API, used by the app's own pages inside Jira (and later the Forge UI).

Every route is authenticated by a Jira JWT: a real qsh, Jira's context token, or the page token
the app gave the page it rendered.
"""

from flask import Blueprint

bp = Blueprint("jira_api", __name__, url_prefix="/jira/api")

from fmejira.jira_api import configuration, links  # noqa: E402, F401  (registers the routes)
