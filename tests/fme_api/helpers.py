"""Calling the FME-side API as FME does, and reading what it documents and what it stored."""

from __future__ import annotations

import re
from urllib.parse import unquote

import sqlalchemy as sa
from flask import Flask

from fmejira.extensions import db
from fmejira.models import Flag, Issue, Link
from tests.conftest import FME_KEY

ISSUES = "/api/v1/flags/ws-checkout/new-checkout/issues"


def bearer(key: str = FME_KEY) -> dict:
    return {"Authorization": f"Bearer {key}"}


def stored() -> dict[str, int]:
    """Flags, issues and links as another connection sees them: what requests committed.

    The test client shares the fixture's session, so a failed request's uncommitted rows are
    visible to it; production removes the session after every request.
    """
    with db.engine.connect() as conn:
        return {
            model.__tablename__: conn.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Flag, Issue, Link)
        }


NOTHING = {"flags": 0, "issues": 0, "links": 0}


def documented_statuses(app: Flask, spec: dict, method: str, path: str) -> set[int]:
    """The statuses the OpenAPI document lists for the operation that serves ``path``."""
    rule, _ = app.url_map.bind("localhost").match(unquote(path), method, return_rule=True)
    template = re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule)
    responses = spec["paths"][template][method.lower()]["responses"]
    return {int(status) for status in responses if status != "default"}


def assert_error(response, status: int, code: str, case: str = "") -> None:
    """A 4xx/5xx in the one error shape, with a message a person can read."""
    about = f"{case}: {response.status_code} {response.get_data(as_text=True)[:300]}"
    assert response.status_code == status, about
    assert response.mimetype == "application/json", about
    assert set(response.json) == {"error"}, about
    assert set(response.json["error"]) == {"code", "message"}, about
    assert response.json["error"]["code"] == code, about
    assert response.json["error"]["message"].strip(), about
