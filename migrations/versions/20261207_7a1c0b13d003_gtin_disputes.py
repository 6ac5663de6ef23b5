"""GTIN disputes: a producer claims a GTIN another producer's product holds; the centre decides

Revision ID: 7a1c0b13d003
Revises: 7a1c0b13d002
Create Date: 2026-12-07 16:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import traceability.core.database


# revision identifiers, used by Alembic.
revision = '7a1c0b13d003'
down_revision = '7a1c0b13d002'
branch_labels = None
depends_on = None

INDEXED = ("gtin", "claimant_producer_id", "claimant_product_id", "holder_producer_id", "holder_product_id")


def upgrade():
    op.create_table(
        "gtin_dispute",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=False),
        sa.Column("claimant_producer_id", sa.Integer(), nullable=False),
        sa.Column("claimant_product_id", sa.Integer(), nullable=False),
        sa.Column("holder_producer_id", sa.Integer(), nullable=False),
        sa.Column("holder_product_id", sa.Integer(), nullable=False),
        sa.Column("gs1_membership_no", sa.String(length=100), nullable=True),
        sa.Column("gs1_company_prefix", sa.String(length=12), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("document_filename", sa.String(length=100), nullable=True),
        sa.Column("document_sha256", sa.String(length=64), nullable=True),
        sa.Column("document_content_type", sa.String(length=50), nullable=True),
        sa.Column("document_size", sa.Integer(), nullable=True),
        sa.Column("document_original_name", sa.String(length=255), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", traceability.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", traceability.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("status IN ('open', 'decided')", name=op.f("ck_gtin_dispute_status")),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('claimant', 'holder')", name=op.f("ck_gtin_dispute_outcome")
        ),
        sa.CheckConstraint(
            "(status = 'open') = (outcome IS NULL)", name=op.f("ck_gtin_dispute_outcome_when_decided")
        ),
        sa.ForeignKeyConstraint(
            ["claimant_producer_id"], ["producer.id"], name=op.f("fk_gtin_dispute_claimant_producer_id_producer")
        ),
        sa.ForeignKeyConstraint(
            ["claimant_product_id"], ["product.id"], name=op.f("fk_gtin_dispute_claimant_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["holder_producer_id"], ["producer.id"], name=op.f("fk_gtin_dispute_holder_producer_id_producer")
        ),
        sa.ForeignKeyConstraint(
            ["holder_product_id"], ["product.id"], name=op.f("fk_gtin_dispute_holder_product_id_product")
        ),
        sa.ForeignKeyConstraint(["opened_by_id"], ["user.id"], name=op.f("fk_gtin_dispute_opened_by_id_user")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user.id"], name=op.f("fk_gtin_dispute_decided_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gtin_dispute")),
        sa.UniqueConstraint("document_filename", name=op.f("uq_gtin_dispute_document_filename")),
    )
    with op.batch_alter_table("gtin_dispute", schema=None) as batch_op:
        for column in INDEXED:
            batch_op.create_index(batch_op.f(f"ix_gtin_dispute_{column}"), [column], unique=False)


def downgrade():
    with op.batch_alter_table("gtin_dispute", schema=None) as batch_op:
        for column in reversed(INDEXED):
            batch_op.drop_index(batch_op.f(f"ix_gtin_dispute_{column}"))
    op.drop_table("gtin_dispute")
