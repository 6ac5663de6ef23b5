"""Idempotency keys of writes, and where the phone was when an event was recorded in the field

``idempotent_request`` keeps, per user and ``Idempotency-Key``, the first
answer of a write (the API's and the field app's), so a repeat answers it
again instead of writing twice; the worker purges rows older than
IDEMPOTENCY_KEEP_HOURS. ``trace_event`` gains the phone's position (WGS 84)
and its accuracy in metres, all empty for the events recorded so far.

Revision ID: 7a1c0b13d009
Revises: 7a1c0b13d008
Create Date: 2026-12-09 12:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

import traceability.core.database

# revision identifiers, used by Alembic.
revision = "7a1c0b13d009"
down_revision = "7a1c0b13d008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "idempotent_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.LargeBinary(), nullable=True),
        sa.Column("response_headers", sa.JSON(), nullable=True),
        sa.Column("created_at", traceability.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("length(key) BETWEEN 1 AND 128", name=op.f("ck_idempotent_request_key_length")),
        sa.CheckConstraint(
            "status_code IS NULL OR status_code BETWEEN 100 AND 399",
            name=op.f("ck_idempotent_request_status_code"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_idempotent_request_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_idempotent_request")),
        sa.UniqueConstraint("user_id", "key", name=op.f("uq_idempotent_request_user_id_key")),
    )
    with op.batch_alter_table("idempotent_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotent_request_created_at"), ["created_at"], unique=False)

    with op.batch_alter_table("trace_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("latitude", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Double(), nullable=True))
        batch_op.add_column(sa.Column("position_accuracy", sa.Double(), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_trace_event_latitude"), "latitude IS NULL OR (latitude BETWEEN -90 AND 90)"
        )
        batch_op.create_check_constraint(
            op.f("ck_trace_event_longitude"), "longitude IS NULL OR (longitude BETWEEN -180 AND 180)"
        )
        batch_op.create_check_constraint(
            op.f("ck_trace_event_position_whole"), "(latitude IS NULL) = (longitude IS NULL)"
        )
        batch_op.create_check_constraint(
            op.f("ck_trace_event_position_accuracy"), "position_accuracy IS NULL OR position_accuracy >= 0"
        )


def downgrade():
    with op.batch_alter_table("trace_event", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_trace_event_position_accuracy"), type_="check")
        batch_op.drop_constraint(op.f("ck_trace_event_position_whole"), type_="check")
        batch_op.drop_constraint(op.f("ck_trace_event_longitude"), type_="check")
        batch_op.drop_constraint(op.f("ck_trace_event_latitude"), type_="check")
        batch_op.drop_column("position_accuracy")
        batch_op.drop_column("longitude")
        batch_op.drop_column("latitude")

    with op.batch_alter_table("idempotent_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotent_request_created_at"))
    op.drop_table("idempotent_request")
