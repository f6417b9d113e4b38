"""Parts of the issue pages, rendered again after a change or a refresh.

A page inside Jira must not reload itself: its URL carries Jira's JWT, which expires within
minutes. The page's script fetches these with its page token instead (context tokens are
accepted here, as on the JSON API) and swaps the part in, so one Jinja template renders a part
whether it arrives with the page or later.
"""

from __future__ import annotations

from flask import render_template, request

from fmejira.connect.auth import jira_request
from fmejira.domain import links
from fmejira.errors import NotFoundError
from fmejira.jira_api.permissions import require_issue_access
from fmejira.pages import bp
from fmejira.pages.issue_view import issue_view

PARTS = {"flags": "_issue_flags.html", "details": "_flag_details.html"}


@bp.get("/jira/fragments/<part>")
@jira_request(context_qsh=True)
def issue_fragment(part):
    template = PARTS.get(part)
    if template is None:
        raise NotFoundError(f"There is no page part {part!r}.")
    issue_key = links.normalise_issue_key(request.args.get("issueKey", ""))
    require_issue_access(issue_key)
    return render_template(template, **issue_view(issue_key))
