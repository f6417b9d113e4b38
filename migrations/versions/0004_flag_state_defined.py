"""flag_states: remember that FME has no definition of a flag in an environment

A missing row now means only "not read yet", which the app never reports to Jira as a state.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 12:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("flag_states") as batch_op:
        batch_op.add_column(
            sa.Column("defined", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade():
    with op.batch_alter_table("flag_states") as batch_op:
        batch_op.drop_column("defined")
