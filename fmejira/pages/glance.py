"""The issue glance: an issue's flags with their state, and the actions on them."""

from __future__ import annotations

import zlib

from flask import current_app, g, render_template, request
from markupsafe import Markup

from fmejira.connect.auth import (
    issue_page_token,
    token_from_request,
    verify_from_cache,
    verify_tenant_jwt,
)
from fmejira.context import current_context
from fmejira.domain import links
from fmejira.hot_cache import hot_cache
from fmejira.jira_api.links import fresh_seconds, issue_flags_payload, remember_issue_flags
from fmejira.pages import bp
from fmejira.pages.issue_view import connection_status, view_of

# Where a cached page takes its reader's page token. Autoescaping turns every "<" that data
# brings into "&lt;", so only the template can have put this string in a page.
SLOT = Markup("<fmejira-page-token>")


def page_entry(issue_key: str) -> str:
    """The hot cache's name for an issue's rendered glance (``issue_key`` normalised), kept
    compressed (:func:`packed`)."""
    return "page:" + issue_key


# The templates a glance is rendered from, the most frequent markup last (zlib prefers near
# matches): a page is mostly their markup, so they are zlib's preset dictionary for it.
PAGE_TEMPLATES = ("base.html", "_connect.html", "glance.html", "_issue_flags.html", "_flag.html")
PAGE_DICTIONARY = "fmejira_page_dictionary"


def _page_dictionary() -> bytes:
    """Built once per app from the templates it renders with."""
    extensions = current_app.extensions
    if PAGE_DICTIONARY not in extensions:
        env = current_app.jinja_env
        sources = (env.loader.get_source(env, name)[0] for name in PAGE_TEMPLATES)
        extensions[PAGE_DICTIONARY] = "".join(sources).encode()
    return extensions[PAGE_DICTIONARY]


def packed(page: bytes) -> bytes:
    """A rendered page as the cache keeps it: 5.3 KB become 1.5 KB with plain zlib, 0.6 KB
    with the templates as dictionary, which lets a process's near copy hold 2.6 times as many
    pages. Another version's templates make another dictionary; :func:`_unpacked` then fails
    (zlib checks the dictionary's checksum) and the page is rendered anew."""
    compressor = zlib.compressobj(zdict=_page_dictionary())
    return compressor.compress(page) + compressor.flush()


def _unpacked(entry: bytes | None) -> bytes | None:
    if not entry:
        return None
    decompressor = zlib.decompressobj(zdict=_page_dictionary())
    try:
        page = decompressor.decompress(entry)
    except zlib.error:  # packed with another dictionary, or not zlib: render anew
        return None
    return page if decompressor.eof and SLOT.encode() in page else None  # whole, with a slot


@bp.get("/jira/glance")
def glance():
    """The glance. Jira fills issueKey in from the issue it shows this reader ({issue.key} in
    the descriptor) and signs the URL, so the page token may be bound to it without asking Jira.

    With the hot cache, the site and the rendered page come from one Redis round trip (or this
    process's near copy) when current, and only the reader's page token is new; else the page
    is rendered from the database and cached. A page for a site without FME is never cached:
    what it says depends on whether the reader is a Jira administrator."""
    token = token_from_request()
    cache = hot_cache()
    issue_key = links.issue_key_or_none(request.args.get("issueKey"))
    entry = page_entry(issue_key) if issue_key else None
    context, snapshot = verify_from_cache(token, cache, entry, allow_context_qsh=False)
    cached_page = _unpacked(snapshot.values[0])
    if context is not None and cached_page:
        g.jira_context = context
        return _with_page_token(cached_page, issue_key)
    g.jira_context = verify_tenant_jwt(token, allow_context_qsh=False)
    tenant = current_context().tenant
    issue_key = links.normalise_issue_key(request.args.get("issueKey", ""))
    data = issue_flags_payload(tenant, issue_key)
    page = render_template(
        "glance.html", token=SLOT, **view_of(data, connection_status(tenant))
    ).encode()
    also = {}
    if data["configured"]:
        also[page_entry(issue_key)] = (packed(page), fresh_seconds(data))
    remember_issue_flags(cache, snapshot.generation, tenant, data, also=also)
    return _with_page_token(page, issue_key)


def _with_page_token(page: bytes, issue_key: str):
    head, _, tail = page.partition(SLOT.encode())
    token = issue_page_token(current_context(), issue_key)
    return current_app.response_class(head + token.encode() + tail, mimetype="text/html")
