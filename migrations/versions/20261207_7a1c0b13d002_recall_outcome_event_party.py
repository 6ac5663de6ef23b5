"""recalls: closing one says how it ended (returned to sale, or withdrawn)

A closed recall used to leave its lots recalled for good, and their pages kept
saying "do not use". Closing now takes an outcome. The recalls closed before
this revision did exactly what ``withdrawn`` means (the lots stay recalled),
so they get that outcome: nothing public changes for them, and nothing is
declared safe that a centre did not declare safe.

Who did an event's work is read from the records (the batch's producer, or the
operator of the event's location), so events need no new column. Their photo
names are indexed: /media/ looks each name up to refuse a withdrawn event's photo.

Revision ID: 7a1c0b13d002
Revises: 7a1c0b13d001
Create Date: 2026-12-07 14:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a1c0b13d002'
down_revision = '7a1c0b13d001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("recall", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outcome", sa.String(length=20), nullable=True))
    op.execute("UPDATE recall SET outcome = 'withdrawn' WHERE status = 'closed'")
    with op.batch_alter_table("recall", schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f("ck_recall_outcome"), "outcome IS NULL OR outcome IN ('returned_to_sale', 'withdrawn')"
        )
        batch_op.create_check_constraint(
            op.f("ck_recall_outcome_when_closed"), "(status = 'open') = (outcome IS NULL)"
        )
    with op.batch_alter_table("trace_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_trace_event_photo_filename"), ["photo_filename"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_trace_event_photo_thumbnail_filename"), ["photo_thumbnail_filename"], unique=False
        )


def downgrade():
    with op.batch_alter_table("trace_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_trace_event_photo_thumbnail_filename"))
        batch_op.drop_index(batch_op.f("ix_trace_event_photo_filename"))
    with op.batch_alter_table("recall", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_recall_outcome_when_closed"), type_="check")
        batch_op.drop_constraint(op.f("ck_recall_outcome"), type_="check")
        batch_op.drop_column("outcome")
