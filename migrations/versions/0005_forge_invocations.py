"""tenants: the time of the last Forge call for the site (for operators)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06 13:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.add_column(
            sa.Column("forge_invoked_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.drop_column("forge_invoked_at")
