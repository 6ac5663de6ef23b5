"""labels: background print jobs of label sheets (label_job)

Revision ID: f1e67c4f8b49
Revises: 730051e79bd6
Create Date: 2026-11-22 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import traceability.core.database


# revision identifiers, used by Alembic.
revision = 'f1e67c4f8b49'
down_revision = '730051e79bd6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "label_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("template", sa.String(length=20), nullable=False),
        sa.Column("error_correction", sa.String(length=1), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_item_id", sa.Integer(), nullable=True),
        sa.Column("last_item_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("file_name", sa.String(length=100), nullable=True),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("created_at", traceability.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", traceability.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", traceability.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", traceability.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name=op.f("ck_label_job_status")),
        sa.CheckConstraint(
            "template IN ('a4-3x8', 'a4-4x10', 'a4-5x13', 'roll-50x30')", name=op.f("ck_label_job_template")
        ),
        sa.CheckConstraint("error_correction IN ('M', 'H')", name=op.f("ck_label_job_error_correction")),
        sa.CheckConstraint("count > 0", name=op.f("ck_label_job_count")),
        sa.CheckConstraint("progress >= 0 AND progress <= count", name=op.f("ck_label_job_progress")),
        sa.CheckConstraint(
            "(first_item_id IS NULL) = (last_item_id IS NULL)", name=op.f("ck_label_job_item_range")
        ),
        sa.ForeignKeyConstraint(["batch_id"], ["batch.id"], name=op.f("fk_label_job_batch_id_batch")),
        sa.ForeignKeyConstraint(["requested_by_id"], ["user.id"], name=op.f("fk_label_job_requested_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_label_job")),
    )
    with op.batch_alter_table("label_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_label_job_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_label_job_status"), ["status"], unique=False)


def downgrade():
    with op.batch_alter_table("label_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_label_job_status"))
        batch_op.drop_index(batch_op.f("ix_label_job_batch_id"))

    op.drop_table("label_job")
