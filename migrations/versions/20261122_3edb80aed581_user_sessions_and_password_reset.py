"""user: session version, forced password change, password changed time

Revision ID: 3edb80aed581
Revises: 0f39675ca9ea
Create Date: 2026-11-22 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import traceability.core.database


# revision identifiers, used by Alembic.
revision = '3edb80aed581'
down_revision = '0f39675ca9ea'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_version", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(
            sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("password_changed_at", traceability.core.database.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.alter_column("session_version", server_default=None)
        batch_op.alter_column("must_change_password", server_default=None)


def downgrade():
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("password_changed_at")
        batch_op.drop_column("must_change_password")
        batch_op.drop_column("session_version")
