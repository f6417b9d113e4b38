"""The store: SQLAlchemy models, one module per area. Every row belongs to a tenant."""

from fmejira.models.connection import AuthScheme, ConnectionStatus, FmeConnection, FmeProject
from fmejira.models.links import Flag, FlagState, Issue, Link, LinkSource
from fmejira.models.tenant import Tenant, TenantState

__all__ = [
    "AuthScheme",
    "ConnectionStatus",
    "Flag",
    "FlagState",
    "FmeConnection",
    "FmeProject",
    "Issue",
    "Link",
    "LinkSource",
    "Tenant",
    "TenantState",
]
