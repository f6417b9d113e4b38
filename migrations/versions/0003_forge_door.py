"""tenants: the Forge door (installation, cloud id, API base URL, system token)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 05:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.add_column(sa.Column("cloud_id", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("forge_installation_id", sa.String(length=255), nullable=True)
        )
        batch_op.add_column(sa.Column("forge_api_base_url", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("forge_system_token", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("forge_system_token_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(batch_op.f("ix_tenants_cloud_id"), ["cloud_id"], unique=False)
        batch_op.create_unique_constraint(
            batch_op.f("uq_tenants_forge_installation_id"), ["forge_installation_id"]
        )


def downgrade():
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_tenants_forge_installation_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_tenants_cloud_id"))
        batch_op.drop_column("forge_system_token_expires_at")
        batch_op.drop_column("forge_system_token")
        batch_op.drop_column("forge_api_base_url")
        batch_op.drop_column("forge_installation_id")
        batch_op.drop_column("cloud_id")
