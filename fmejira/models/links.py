"""Flags, issues and the many-to-many links between them, always within one tenant."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from fmejira.extensions import db
from fmejira.models.tenant import utcnow


class LinkSource(enum.StrEnum):
    JIRA = "jira"  # made from the issue (glance, Releases field)
    FME = "fme"  # made from the flag's Integrations tab in FME


class Flag(db.Model):
    """An FME feature flag the tenant linked to at least one issue (or once did)."""

    __tablename__ = "flags"
    __table_args__ = (sa.UniqueConstraint("tenant_id", "workspace_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    workspace_id: Mapped[str] = mapped_column(sa.String(64))
    name: Mapped[str] = mapped_column(sa.String(255))
    fme_id: Mapped[str | None] = mapped_column(sa.String(64))
    description: Mapped[str | None] = mapped_column(sa.Text)
    traffic_type: Mapped[str | None] = mapped_column(sa.String(255))
    deleted_in_fme: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    # Jira sync: a change sets ``sync_requested_at``; a push that saw the store at or after that
    # moment sets ``synced_at``. The reconcile finds flags where the first is newer.
    sync_requested_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    synced_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    sync_error: Mapped[str | None] = mapped_column(sa.String(500))
    jira_sequence: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    in_jira: Mapped[bool] = mapped_column(default=False)

    links: Mapped[list[Link]] = relationship(back_populates="flag", passive_deletes=True)
    states: Mapped[list[FlagState]] = relationship(
        back_populates="flag", passive_deletes=True, order_by="FlagState.environment_name"
    )

    def __repr__(self) -> str:
        return f"<Flag {self.workspace_id}/{self.name}>"


class FlagState(db.Model):
    """What FME said of a flag in one environment, and when the app read it.

    ``defined`` is false when FME has no definition of the flag there (a flag is often linked
    before it reaches production): a known state, unlike a missing row, which means "not read".
    """

    __tablename__ = "flag_states"
    __table_args__ = (sa.UniqueConstraint("flag_id", "environment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    flag_id: Mapped[int] = mapped_column(sa.ForeignKey("flags.id", ondelete="CASCADE"))
    environment_id: Mapped[str] = mapped_column(sa.String(64))
    environment_name: Mapped[str] = mapped_column(sa.String(255))
    defined: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    killed: Mapped[bool] = mapped_column(default=False)
    default_treatment: Mapped[str | None] = mapped_column(sa.String(255))
    rollout_percentage: Mapped[float | None]
    rollout_rules: Mapped[int | None]
    last_changed_at: Mapped[datetime | None] = mapped_column(sa.DateTime(timezone=True))
    read_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    flag: Mapped[Flag] = relationship(back_populates="states")

    @property
    def enabled(self) -> bool:
        return self.defined and not self.killed


class Issue(db.Model):
    """A Jira issue, known by its id so that a key change (a move) keeps its links."""

    __tablename__ = "issues"
    __table_args__ = (
        sa.UniqueConstraint("tenant_id", "jira_id"),
        sa.Index("ix_issues_tenant_id_key", "tenant_id", "key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(sa.ForeignKey("tenants.id", ondelete="CASCADE"))
    jira_id: Mapped[str] = mapped_column(sa.String(32))
    key: Mapped[str] = mapped_column(sa.String(255))
    summary: Mapped[str] = mapped_column(sa.String(1000), default="")
    status: Mapped[str | None] = mapped_column(sa.String(255))
    read_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)

    links: Mapped[list[Link]] = relationship(back_populates="issue", passive_deletes=True)

    def __repr__(self) -> str:
        return f"<Issue {self.key} ({self.jira_id})>"


class Link(db.Model):
    """A flag ships an issue. Unique per (flag, issue), enforced by the database."""

    __tablename__ = "links"
    __table_args__ = (sa.UniqueConstraint("flag_id", "issue_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    flag_id: Mapped[int] = mapped_column(sa.ForeignKey("flags.id", ondelete="CASCADE"))
    issue_id: Mapped[int] = mapped_column(
        sa.ForeignKey("issues.id", ondelete="CASCADE"), index=True
    )
    source: Mapped[LinkSource] = mapped_column(
        sa.Enum(
            LinkSource, native_enum=False, length=8, values_callable=lambda e: [m.value for m in e]
        )
    )
    created_by: Mapped[str | None] = mapped_column(sa.String(128))
    created_at: Mapped[datetime] = mapped_column(sa.DateTime(timezone=True), default=utcnow)
    unknown_in_jira: Mapped[bool] = mapped_column(default=False)

    flag: Mapped[Flag] = relationship(back_populates="links", lazy="joined")
    issue: Mapped[Issue] = relationship(back_populates="links", lazy="joined")
