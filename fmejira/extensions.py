"""Flask extensions, created unbound here and bound to the app in the factory."""

import time

import sqlalchemy as sa
from flask import request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

from fmejira.crypto import fingerprint
from fmejira.fme_api.schemas import ErrorSchema

# Named constraints, so migrations can drop and alter them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()


@sa.event.listens_for(sa.Engine, "connect")
def _sqlite_foreign_keys(dbapi_connection, connection_record):
    """SQLite enforces foreign keys (and ON DELETE CASCADE) only when asked, per connection."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()


class JsonErrorApi(Api):
    """flask-smorest, documenting and answering errors in the app's one error shape."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        """The app's own handlers (fmejira.errors) answer every error already."""


api = JsonErrorApi()


def _api_key_or_address() -> str:
    """Rate-limit FME-side calls per API key (by fingerprint), else per client address."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return "key:" + fingerprint(token.strip())
    return "addr:" + get_remote_address()


class BlueprintLimiter(Limiter):
    """Flask-Limiter, checked only before the requests of the blueprints that have limits.

    Its check otherwise runs before every request of the app, limits or not, and cost the
    Jira side's hot paths more than the rest of Flask's dispatch (about 60 µs a request).
    """

    def init_app(self, app) -> None:
        super().init_app(app)
        app.before_request_funcs[None].remove(self._check_request_limit)

    def check_request(self) -> None:
        """A blueprint's ``before_request``: the check Flask-Limiter would have run."""
        self._check_request_limit()

    def retry_after(self) -> int:
        """Seconds until the limit this request broke lets requests through again."""
        limit = self.current_limit
        return max(1, int(limit.reset_at - time.time()) + 1) if limit else 60


limiter = BlueprintLimiter(key_func=_api_key_or_address, default_limits=[])
