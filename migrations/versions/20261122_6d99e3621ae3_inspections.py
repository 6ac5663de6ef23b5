"""inspections: checklist answers, photos and the follow-up of nonconformities

Revision ID: 6d99e3621ae3
Revises: 3edb80aed581
Create Date: 2026-11-22 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import traceability.core.database


# revision identifiers, used by Alembic.
revision = '6d99e3621ae3'
down_revision = '3edb80aed581'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "inspection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("producer_id", sa.Integer(), nullable=False),
        sa.Column("subject_kind", sa.String(length=20), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("inspected_on", sa.Date(), nullable=False),
        sa.Column("inspector", sa.String(length=200), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("severity", sa.String(length=20), nullable=True),
        sa.Column("follow_up_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", traceability.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", traceability.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "subject_kind IN ('producer', 'location', 'batch')", name=op.f("ck_inspection_subject_kind")
        ),
        sa.CheckConstraint("outcome IN ('conforming', 'nonconformity')", name=op.f("ck_inspection_outcome")),
        sa.CheckConstraint(
            "severity IS NULL OR severity IN ('minor', 'major', 'critical')",
            name=op.f("ck_inspection_severity_value"),
        ),
        sa.CheckConstraint("status IN ('open', 'answered', 'closed')", name=op.f("ck_inspection_status")),
        sa.CheckConstraint(
            "(outcome = 'conforming' AND severity IS NULL) OR (outcome = 'nonconformity' AND severity IS NOT NULL)",
            name=op.f("ck_inspection_severity_for_nonconformity"),
        ),
        sa.CheckConstraint(
            "outcome != 'nonconformity' OR follow_up_on IS NOT NULL", name=op.f("ck_inspection_follow_up_required")
        ),
        sa.CheckConstraint(
            "follow_up_on IS NULL OR follow_up_on >= inspected_on", name=op.f("ck_inspection_follow_up_after")
        ),
        sa.CheckConstraint(
            "outcome = 'nonconformity' OR status = 'closed'", name=op.f("ck_inspection_conforming_closed")
        ),
        sa.CheckConstraint(
            "subject_kind != 'location' OR location_id IS NOT NULL", name=op.f("ck_inspection_location_subject")
        ),
        sa.CheckConstraint(
            "subject_kind != 'batch' OR batch_id IS NOT NULL", name=op.f("ck_inspection_batch_subject")
        ),
        sa.ForeignKeyConstraint(["batch_id"], ["batch.id"], name=op.f("fk_inspection_batch_id_batch")),
        sa.ForeignKeyConstraint(["centre_id"], ["centre.id"], name=op.f("fk_inspection_centre_id_centre")),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], name=op.f("fk_inspection_created_by_id_user")),
        sa.ForeignKeyConstraint(["location_id"], ["location.id"], name=op.f("fk_inspection_location_id_location")),
        sa.ForeignKeyConstraint(["producer_id"], ["producer.id"], name=op.f("fk_inspection_producer_id_producer")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection")),
    )
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        for column in ("batch_id", "centre_id", "location_id", "producer_id", "status"):
            batch_op.create_index(batch_op.f(f"ix_inspection_{column}"), [column], unique=False)

    op.create_table(
        "inspection_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("answer", sa.String(length=3), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.CheckConstraint("answer IN ('yes', 'no', 'na')", name=op.f("ck_inspection_check_answer")),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspection.id"],
            name=op.f("fk_inspection_check_inspection_id_inspection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_check")),
        sa.UniqueConstraint("inspection_id", "item", name=op.f("uq_inspection_check_inspection_id_item")),
    )
    with op.batch_alter_table("inspection_check", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inspection_check_inspection_id"), ["inspection_id"], unique=False)

    op.create_table(
        "inspection_follow_up",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", traceability.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('answer', 'close', 'reopen')", name=op.f("ck_inspection_follow_up_kind")),
        sa.ForeignKeyConstraint(["author_id"], ["user.id"], name=op.f("fk_inspection_follow_up_author_id_user")),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspection.id"],
            name=op.f("fk_inspection_follow_up_inspection_id_inspection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_follow_up")),
    )
    with op.batch_alter_table("inspection_follow_up", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspection_follow_up_inspection_id"), ["inspection_id"], unique=False
        )

    op.create_table(
        "inspection_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
        sa.Column("follow_up_id", sa.Integer(), nullable=True),
        sa.Column("filename", sa.String(length=100), nullable=False),
        sa.Column("thumbnail_filename", sa.String(length=100), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", traceability.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("width > 0 AND height > 0", name=op.f("ck_inspection_photo_size")),
        sa.ForeignKeyConstraint(
            ["follow_up_id"],
            ["inspection_follow_up.id"],
            name=op.f("fk_inspection_photo_follow_up_id_inspection_follow_up"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["inspection.id"],
            name=op.f("fk_inspection_photo_inspection_id_inspection"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["user.id"], name=op.f("fk_inspection_photo_uploaded_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_photo")),
        sa.UniqueConstraint("filename", name=op.f("uq_inspection_photo_filename")),
        sa.UniqueConstraint("thumbnail_filename", name=op.f("uq_inspection_photo_thumbnail_filename")),
    )
    with op.batch_alter_table("inspection_photo", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inspection_photo_follow_up_id"), ["follow_up_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_inspection_photo_inspection_id"), ["inspection_id"], unique=False)


def downgrade():
    with op.batch_alter_table("inspection_photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_photo_inspection_id"))
        batch_op.drop_index(batch_op.f("ix_inspection_photo_follow_up_id"))
    op.drop_table("inspection_photo")
    with op.batch_alter_table("inspection_follow_up", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_follow_up_inspection_id"))
    op.drop_table("inspection_follow_up")
    with op.batch_alter_table("inspection_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_check_inspection_id"))
    op.drop_table("inspection_check")
    with op.batch_alter_table("inspection", schema=None) as batch_op:
        for column in ("status", "producer_id", "location_id", "centre_id", "batch_id"):
            batch_op.drop_index(batch_op.f(f"ix_inspection_{column}"))
    op.drop_table("inspection")
