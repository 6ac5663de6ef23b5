"""problem reports: the scanned item, and who closed a report when and why

Revision ID: 5c2d7e91a4b0
Revises: f1e67c4f8b49
Create Date: 2026-11-23 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import traceability.core.database


# revision identifiers, used by Alembic.
revision = '5c2d7e91a4b0'
down_revision = 'f1e67c4f8b49'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("item_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("closed_at", traceability.core.database.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("closed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("close_note", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_report_item_id"), ["item_id"], unique=False)
        batch_op.create_foreign_key(batch_op.f("fk_report_item_id_item"), "item", ["item_id"], ["id"])
        batch_op.create_foreign_key(batch_op.f("fk_report_closed_by_id_user"), "user", ["closed_by_id"], ["id"])


def downgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_report_closed_by_id_user"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_report_item_id_item"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_report_item_id"))
        batch_op.drop_column("close_note")
        batch_op.drop_column("closed_by_id")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("item_id")
