"""events: photo thumbnails and retractions

Revision ID: e7e5b05be58f
Revises: 80a1b8ba4b43
Create Date: 2026-11-22 04:28:57.366446

"""
from alembic import op
import sqlalchemy as sa

import traceability.core.database


# revision identifiers, used by Alembic.
revision = 'e7e5b05be58f'
down_revision = '80a1b8ba4b43'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('trace_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('photo_thumbnail_filename', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("is_retraction", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("trace_event", schema=None) as batch_op:
        batch_op.alter_column("is_retraction", server_default=None)
        batch_op.create_check_constraint(
            op.f("ck_trace_event_retraction_voids"), "NOT is_retraction OR voids_event_id IS NOT NULL"
        )

def downgrade():
    with op.batch_alter_table("trace_event", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_trace_event_retraction_voids"), type_="check")
        batch_op.drop_column('is_retraction')
        batch_op.drop_column('photo_thumbnail_filename')

