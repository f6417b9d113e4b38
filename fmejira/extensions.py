"""Flask extensions, created unbound here and bound to the app in the factory."""

import sqlalchemy as sa
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import DeclarativeBase

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
