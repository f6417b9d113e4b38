"""The store: SQLAlchemy models, one module per area. Every row belongs to a tenant."""

from fmejira.models.tenant import Tenant, TenantState

__all__ = ["Tenant", "TenantState"]
