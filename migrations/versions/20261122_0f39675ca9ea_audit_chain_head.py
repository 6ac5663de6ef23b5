"""audit: the chain's head, so a removed tail is noticed

Revision ID: 0f39675ca9ea
Revises: e7e5b05be58f
Create Date: 2026-11-22 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import traceability.core.database


# revision identifiers, used by Alembic.
revision = '0f39675ca9ea'
down_revision = 'e7e5b05be58f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("last_entry_id", sa.Integer(), nullable=False),
        sa.Column("last_entry_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", traceability.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_head_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    # An existing log: the head starts at its newest entry.
    op.execute(
        "INSERT INTO audit_head (id, last_entry_id, last_entry_hash, updated_at) "
        "SELECT 1, id, entry_hash, occurred_at FROM audit_entry "
        "WHERE id = (SELECT max(id) FROM audit_entry)"
    )


def downgrade():
    op.drop_table("audit_head")
