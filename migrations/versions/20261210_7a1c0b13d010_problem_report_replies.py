"""Problem reports answered: a reference, a status page token, the consumer's language, and replies

``report`` gains ``reference`` (what the consumer reads out over the phone,
``PR-YYMM-XXXX``), ``status_token`` (the secret of the status page
``/report/status/{token}``) and ``language`` (the replies are emailed in
it). Reports sent so far get a reference of their month, a token and
Vietnamese. ``report_reply`` holds the answers of the centre's staff and
the producer's users, with the report's lot (its owner).

Revision ID: 7a1c0b13d010
Revises: 7a1c0b13d009
Create Date: 2026-12-10 12:00:00.000000

"""

import secrets

import sqlalchemy as sa
from alembic import op

import traceability.core.database

# revision identifiers, used by Alembic.
revision = "7a1c0b13d010"
down_revision = "7a1c0b13d009"
branch_labels = None
depends_on = None

# The same alphabet as traceability.public.problem_reports: no 0/O, 1/I/L, U.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def upgrade():
    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reference", sa.String(length=12), nullable=True))
        batch_op.add_column(sa.Column("status_token", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("language", sa.String(length=5), nullable=False, server_default="vi"))

    connection = op.get_bind()
    report = sa.table(
        "report",
        sa.column("id", sa.Integer),
        sa.column("created_at", traceability.core.database.UTCDateTime(timezone=True)),
        sa.column("reference", sa.String),
        sa.column("status_token", sa.String),
    )
    used: set[str] = set()
    for row in connection.execute(sa.select(report.c.id, report.c.created_at)).all():
        month = row.created_at.strftime("%y%m") if row.created_at else "0000"
        while True:
            reference = f"PR-{month}-{''.join(secrets.choice(_ALPHABET) for _ in range(4))}"
            if reference not in used:
                used.add(reference)
                break
        connection.execute(
            report.update()
            .where(report.c.id == row.id)
            .values(reference=reference, status_token=secrets.token_hex(16))
        )

    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.alter_column("reference", existing_type=sa.String(length=12), nullable=False)
        batch_op.alter_column("status_token", existing_type=sa.String(length=32), nullable=False)
        batch_op.alter_column("language", existing_type=sa.String(length=5), server_default=None)
        batch_op.create_unique_constraint(batch_op.f("uq_report_reference"), ["reference"])
        batch_op.create_unique_constraint(batch_op.f("uq_report_status_token"), ["status_token"])

    op.create_table(
        "report_reply",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("side", sa.String(length=10), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", traceability.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("side IN ('centre', 'producer')", name=op.f("ck_report_reply_side")),
        sa.ForeignKeyConstraint(["author_id"], ["user.id"], name=op.f("fk_report_reply_author_id_user")),
        sa.ForeignKeyConstraint(["batch_id"], ["batch.id"], name=op.f("fk_report_reply_batch_id_batch")),
        sa.ForeignKeyConstraint(["report_id"], ["report.id"], name=op.f("fk_report_reply_report_id_report")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_reply")),
    )
    with op.batch_alter_table("report_reply", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_reply_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_report_reply_report_id"), ["report_id"], unique=False)


def downgrade():
    with op.batch_alter_table("report_reply", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_reply_report_id"))
        batch_op.drop_index(batch_op.f("ix_report_reply_batch_id"))
    op.drop_table("report_reply")

    with op.batch_alter_table("report", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_report_status_token"), type_="unique")
        batch_op.drop_constraint(batch_op.f("uq_report_reference"), type_="unique")
        batch_op.drop_column("language")
        batch_op.drop_column("status_token")
        batch_op.drop_column("reference")
