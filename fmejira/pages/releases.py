"""The Releases field's action URLs. Jira opens them in a browser tab without a JWT, so nothing
in them is trusted: they only redirect, into FME or into the app's own page inside Jira, where
the JWT flow applies."""

from __future__ import annotations

from urllib.parse import quote, urlencode, urlsplit

import sqlalchemy as sa
from flask import current_app, redirect, render_template, request

from fmejira.domain import links
from fmejira.extensions import db
from fmejira.models import Tenant, TenantState
from fmejira.pages import bp
from fmejira.pages.issue_view import create_flag_url
from fmejira.pages.security import FORM_TO_JIRA_POLICY

CONNECT_PAGE_KEY = "fme-connect-flag-page"


def _issue_key() -> str:
    return links.normalise_issue_key(request.args.get("issueKey", ""))


def _site_origin(url: str | None, assume_https: bool = False) -> str | None:
    """The https origin of a URL; a bare host name (typed by a person) when ``assume_https``."""
    url = (url or "").strip()
    if assume_https and url and "://" not in url:
        url = f"https://{url}"
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return None
    return f"https://{parts.netloc}".lower()


def _installed_site(typed: str) -> Tenant | None:
    """The person's Jira site: the one they typed, else the Referer's, if the app is installed
    there. The redirect goes to the stored URL, never to the given one: no open redirect."""
    origin = _site_origin(typed, assume_https=True) or _site_origin(request.referrer)
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
    typed = request.args.get("site", "").strip()
    site = _installed_site(typed)
    if site is None:
        page = render_template(
            "choose_site.html", issue_key=issue_key, site=typed, action=request.path
        )
        return page, 400, {"Content-Security-Policy": FORM_TO_JIRA_POLICY}
    if site.forge_api_base_url:  # Forge has called for this site: the Forge issue panel
        return redirect(f"{site.link_base_url}/browse/{quote(issue_key)}")
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
