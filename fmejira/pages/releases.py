"""The Releases field's action URLs. Jira opens them in a browser tab without a JWT, so nothing
in them is trusted: they only redirect, into FME or into the app's own page inside Jira, where
the JWT flow applies."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

import sqlalchemy as sa
from flask import current_app, redirect, render_template, request

from fmejira.domain import links
from fmejira.errors import ApiError
from fmejira.extensions import db
from fmejira.models import Tenant, TenantState
from fmejira.pages import bp
from fmejira.pages.glance import create_flag_url

CONNECT_PAGE_KEY = "fme-connect-flag-page"


def _issue_key() -> str:
    return links.normalise_issue_key(request.args.get("issueKey", ""))


def _site_origin(url: str | None) -> str | None:
    parts = urlsplit(url or "")
    if parts.scheme != "https" or not parts.hostname:
        return None
    return f"https://{parts.netloc}".lower()


def _installed_site() -> Tenant | None:
    """The person's Jira site: named by a ``site`` parameter or the Referer, and installed."""
    origin = _site_origin(request.args.get("site")) or _site_origin(request.referrer)
    if origin is None:
        return None
    return db.session.scalar(
        sa.select(Tenant).where(
            Tenant.state == TenantState.INSTALLED,
            sa.or_(
                sa.func.lower(Tenant.base_url) == origin,
                sa.func.lower(Tenant.display_url) == origin,
            ),
        )
    )


@bp.get("/releases/create-flag")
def create_flag():
    return redirect(create_flag_url(_issue_key(), request.args.get("issueSummary", "")))


def _into_jira():
    issue_key = _issue_key()
    site = _installed_site()
    if site is None:
        return render_template("choose_site.html", issue_key=issue_key), 400
    query = urlencode({"ac.issueKey": issue_key})
    app_key = current_app.config["APP_KEY"]
    return redirect(f"{site.link_base_url}/plugins/servlet/ac/{app_key}/{CONNECT_PAGE_KEY}?{query}")


@bp.get("/releases/connect-flag")
def connect_flag():
    return _into_jira()


@bp.get("/releases/list-flags")
def list_flags():
    return _into_jira()


@bp.get("/releases/home")
def home():
    return redirect(current_app.config["FME_APP_URL"])


@bp.get("/releases/help")
def help_page():
    return render_template("help.html")


@bp.errorhandler(ApiError)
def page_error(exc: ApiError):
    """A page that cannot be shown gets a page saying why, not JSON: a person opened it."""
    return render_template("error.html", message=exc.message), exc.status
