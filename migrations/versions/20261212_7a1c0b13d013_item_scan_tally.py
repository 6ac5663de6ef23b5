"""Serialised items keep a running tally of their scans

``item_scan``: one row per scanned item, updated by one atomic UPDATE per
scan, so an item's page reads its scan count, first scan and the
copied-code rule's facts from one row instead of counting ``scan`` rows.
Items scanned before get their row from their ``scan`` rows at their next
scan (``public.item_scans``); nothing to copy here.

Revision ID: 7a1c0b13d013
Revises: 7a1c0b13d012
Create Date: 2026-12-12 12:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7a1c0b13d013"
down_revision = "7a1c0b13d012"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "item_scan",
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("scan_count", sa.BigInteger(), nullable=False),
        sa.Column("first_ms", sa.BigInteger(), nullable=True),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("last_day", sa.Integer(), nullable=True),
        sa.Column("mobile_ms", sa.BigInteger(), nullable=True),
        sa.Column("tablet_ms", sa.BigInteger(), nullable=True),
        sa.Column("desktop_ms", sa.BigInteger(), nullable=True),
        sa.Column("devices_at_once", sa.Boolean(), nullable=False),
        sa.Column("latest_ms", sa.BigInteger(), nullable=False),
        sa.Column("latest_day", sa.Integer(), nullable=False),
        sa.Column("latest_device", sa.String(length=10), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batch.id"], name=op.f("fk_item_scan_batch_id_batch")),
        sa.ForeignKeyConstraint(["item_id"], ["item.id"], name=op.f("fk_item_scan_item_id_item")),
        sa.PrimaryKeyConstraint("item_id", name=op.f("pk_item_scan")),
    )
    with op.batch_alter_table("item_scan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_item_scan_batch_id"), ["batch_id"], unique=False)


def downgrade():
    with op.batch_alter_table("item_scan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_scan_batch_id"))
    op.drop_table("item_scan")
