"""events: EPCIS AssociationEvents (sensors and devices attached to a lot) are kept in the chain

A captured AssociationEvent becomes a trace event of type ``association`` on
each lot it names; its action, parentID and children stay in a JSON column so
the lot's EPCIS document gives the AssociationEvent back. Existing events are
untouched.

Revision ID: 7a1c0b13d006
Revises: 7a1c0b13d005
Create Date: 2026-12-07 18:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a1c0b13d006'
down_revision = '7a1c0b13d005'
branch_labels = None
depends_on = None

OLD_TYPES = "'growing', 'harvesting', 'processing', 'packing', 'storing', 'shipping', 'receiving', 'inspecting', 'selling', 'other'"
NEW_TYPES = OLD_TYPES + ", 'association'"


def upgrade():
    with op.batch_alter_table("trace_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("association", sa.JSON(), nullable=True))
        batch_op.drop_constraint(op.f("ck_trace_event_type"), type_="check")
        batch_op.create_check_constraint(op.f("ck_trace_event_type"), f"type IN ({NEW_TYPES})")


def downgrade():
    # Associations cannot be told in the old schema: they go, with the corrections that void them.
    op.execute(
        "DELETE FROM trace_event WHERE voids_event_id IN (SELECT id FROM trace_event WHERE type = 'association')"
    )
    op.execute("DELETE FROM trace_event WHERE type = 'association'")
    with op.batch_alter_table("trace_event", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_trace_event_type"), type_="check")
        batch_op.create_check_constraint(op.f("ck_trace_event_type"), f"type IN ({OLD_TYPES})")
        batch_op.drop_column("association")
