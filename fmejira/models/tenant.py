"""A tenant is one Jira site that installed the app, through either door.

A site installed through Connect is known by its ``clientKey``; through Forge by its
``installationId`` and ``cloudId``. One site is one tenant whichever door it came through (or
both, while an app moves from Connect to Forge): see :mod:`fmejira.forge.installations`.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column

from fmejira.crypto import EncryptedText
from fmejira.extensions import db


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """A stored time with its zone: SQLite returns the app's UTC times without one."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


class TenantState(enum.StrEnum):
    INSTALLED = "installed"
    UNINSTALLED = "uninstalled"


class Tenant(db.Model):
    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_key: Mapped[str] = mapped_column(sa.String(255), unique=True)
    base_url: Mapped[str] = mapped_column(sa.String(255))
    display_url: Mapped[str | None] = mapped_column(sa.String(255))
    product_type: Mapped[str] = mapped_column(sa.String(32), default="jira")
    description: Mapped[str | None] = mapped_column(sa.String(255))
    shared_secret: Mapped[str] = mapped_column(EncryptedText)
    oauth_client_id: Mapped[str | None] = mapped_column(sa.String(255))
    state: Mapped[TenantState] = mapped_column(
        sa.Enum(
            TenantState,
            native_enum=False,
            length=16,
            values_callable=lambda e: [m.value for m in e],
        ),
        default=TenantState.INSTALLED,
    )
    enabled: Mapped[bool] = mapped_column(default=True)
    installed_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    uninstalled_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # The Forge door: the installation, the site it is on, and where and how to call its Jira.
    cloud_id: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    forge_installation_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    forge_api_base_url: Mapped[str | None] = mapped_column(sa.String(255))
    forge_system_token: Mapped[str | None] = mapped_column(EncryptedText)
    forge_system_token_expires_at: Mapped[datetime | None] = mapped_column(
        sa.DateTime(timezone=True)
    )
    # the last call Forge made for this site, to within a few minutes (for operators)
    forge_invoked_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))

    @hybrid_property
    def is_active(self) -> bool:
        """Installed and not disabled: only active tenants are served and worked for."""
        return self.state is TenantState.INSTALLED and self.enabled

    @is_active.inplace.expression
    @classmethod
    def _is_active_expression(cls):
        return sa.and_(cls.state == TenantState.INSTALLED, cls.enabled.is_(True))

    @property
    def link_base_url(self) -> str:
        """The URL to show people (a custom domain when the site has one)."""
        return self.display_url or self.base_url

    @property
    def came_through_connect(self) -> bool:
        """A Forge-only site's client key is its installation id (and its secret the app's own,
        for page tokens): only Connect sites can be called with a Connect JWT."""
        return self.client_key != self.forge_installation_id

    def __repr__(self) -> str:  # never include the secret
        return f"<Tenant {self.id} {self.client_key!r} {self.state.value}>"
