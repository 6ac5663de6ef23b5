"""Notifications: each message to a user (in-app) with its email outbox, and users' email settings

``notification`` holds one message to one recipient (a user, or a consumer's
email address for a reply to a problem report); its ``email_*`` columns are
the outbox the worker delivers from. ``notification_preference`` holds which
kinds a user does not want by email (no row: emailed). Both start empty.

Revision ID: 7a1c0b13d008
Revises: 7a1c0b13d007
Create Date: 2026-12-09 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

import traceability.core.database

# revision identifiers, used by Alembic.
revision = "7a1c0b13d008"
down_revision = "7a1c0b13d007"
branch_labels = None
depends_on = None

KINDS = (
    "kind IN ('producer_signed_up', 'producer_decided', 'certification_decided', 'claim_decided', "
    "'certification_expiring', 'recall', 'problem_report', 'report_reply')"
)
EMAIL_STATUSES = "email_status IN ('none', 'queued', 'sending', 'retrying', 'sent', 'failed')"


def upgrade():
    op.create_table(
        "notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("link", sa.String(length=500), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", traceability.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("read_at", traceability.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("email_to", sa.String(length=254), nullable=True),
        sa.Column("email_locale", sa.String(length=5), nullable=False),
        sa.Column("email_status", sa.String(length=10), nullable=False),
        sa.Column("email_attempts", sa.Integer(), nullable=False),
        sa.Column("email_next_at", traceability.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("email_claim", sa.String(length=32), nullable=True),
        sa.Column("email_claimed_at", traceability.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("email_sent_at", traceability.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("email_error", sa.String(length=300), nullable=True),
        sa.CheckConstraint(KINDS, name=op.f("ck_notification_kind")),
        sa.CheckConstraint(EMAIL_STATUSES, name=op.f("ck_notification_email_status")),
        sa.CheckConstraint(
            "user_id IS NOT NULL OR email_to IS NOT NULL", name=op.f("ck_notification_has_recipient")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_notification_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification")),
        sa.UniqueConstraint("user_id", "dedupe_key", name=op.f("uq_notification_user_id_dedupe_key")),
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_user_list", ["user_id", "id"], unique=False)
        batch_op.create_index("ix_notification_user_unread", ["user_id", "read_at"], unique=False)
        batch_op.create_index("ix_notification_outbox", ["email_status", "email_next_at"], unique=False)

    op.create_table(
        "notification_preference",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("email", sa.Boolean(), nullable=False),
        sa.CheckConstraint(KINDS, name=op.f("ck_notification_preference_kind")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_notification_preference_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_preference")),
        sa.UniqueConstraint("user_id", "kind", name=op.f("uq_notification_preference_user_id_kind")),
    )


def downgrade():
    op.drop_table("notification_preference")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_outbox")
        batch_op.drop_index("ix_notification_user_unread")
        batch_op.drop_index("ix_notification_user_list")
    op.drop_table("notification")
