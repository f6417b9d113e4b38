"""Inserting rows that a concurrent transaction may insert too, without an error."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite

from fmejira import hot_cache
from fmejira.extensions import db

_DIALECTS = {"postgresql": postgresql, "sqlite": sqlite}


def insert_missing(model, rows: list[dict], unique: list[str]) -> int:
    """``INSERT … ON CONFLICT (unique) DO NOTHING``: the unique constraint settles a racing
    insert of the same row without an error or a savepoint (a first SAVEPOINT on SQLite's
    driver would become the transaction, and releasing it would commit half-done work).
    Returns how many rows were new; the ORM does not see them until it reads them."""
    if not rows:
        return 0
    dialect = _DIALECTS[db.session.get_bind().dialect.name]
    statement = dialect.insert(model).values(rows).on_conflict_do_nothing(index_elements=unique)
    # counted by RETURNING: a multi-row insert's rowcount is -1 on psycopg
    created = len(db.session.execute(statement.returning(model.id)).all())
    if created:
        for tenant_id in {row["tenant_id"] for row in rows}:
            hot_cache.changed(db.session, tenant_id)
    return created
