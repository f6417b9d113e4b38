"""A tenant's connection to FME: the Admin API key, the chosen projects, and its health."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fmejira.crypto import EncryptedText
from fmejira.extensions import db
from fmejira.models.tenant import utcnow


class ConnectionStatus(enum.StrEnum):
    AUTHORIZED = "authorized"
    INTERRUPTED = "interrupted"  # FME unreachable or failing: the app keeps retrying
    NOT_AUTHORIZED = "not_authorized"  # FME refused the key: an admin must paste a new one


class AuthScheme(enum.StrEnum):
    BEARER = "bearer"  # legacy FME Admin API key
    X_API_KEY = "x-api-key"  # Harness token


def _enum(cls, length=16):
    return sa.Enum(
        cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e]
    )


class FmeConnection(db.Model):
    """One per tenant. The key is stored encrypted and found by its hash, never by decrypting."""

    __tablename__ = "fme_connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), unique=True
    )
    api_key: Mapped[str] = mapped_column(EncryptedText)
    api_key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    auth_scheme: Mapped[AuthScheme] = mapped_column(_enum(AuthScheme))
    status: Mapped[ConnectionStatus] = mapped_column(
        _enum(ConnectionStatus), default=ConnectionStatus.AUTHORIZED
    )
    checked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    webhook_secret: Mapped[str] = mapped_column(EncryptedText)
    webhook_secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # FME's web links name the organisation, which the Admin API does not return: it is learned
    # from the ``link`` of the first audit-log webhook.
    fme_org_id: Mapped[str | None] = mapped_column(sa.String(64))
    refreshed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    tenant = relationship("Tenant", lazy="joined")
    projects: Mapped[list[FmeProject]] = relationship(
        back_populates="connection",
        cascade="all, delete-orphan",
        order_by="FmeProject.workspace_name",
    )

    def __repr__(self) -> str:  # never include the key
        return f"<FmeConnection tenant={self.tenant_id} {self.status.value}>"


class FmeProject(db.Model):
    """An FME project (workspace) the admin chose, with its one primary environment."""

    __tablename__ = "fme_projects"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "workspace_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    connection_id: Mapped[int] = mapped_column(
        sa.ForeignKey("fme_connections.id", ondelete="CASCADE"), index=True
    )
    workspace_id: Mapped[str] = mapped_column(sa.String(64))
    workspace_name: Mapped[str] = mapped_column(sa.String(255))
    environment_id: Mapped[str] = mapped_column(sa.String(64))
    environment_name: Mapped[str] = mapped_column(sa.String(255))
    environment_production: Mapped[bool] = mapped_column(default=False)

    connection: Mapped[FmeConnection] = relationship(back_populates="projects")
