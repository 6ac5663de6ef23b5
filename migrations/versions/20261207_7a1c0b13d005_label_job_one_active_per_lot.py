"""Label jobs: one queued or running job per lot at a time

Revision ID: 7a1c0b13d005
Revises: 7a1c0b13d004
Create Date: 2026-12-07 18:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "7a1c0b13d005"
down_revision = "7a1c0b13d004"
branch_labels = None
depends_on = None

ACTIVE = "status IN ('queued', 'running')"


def upgrade():
    # Lots that already have several waiting jobs keep the newest; the older ones end as failed
    # (they can be restarted once the newest is done), so the unique index can be built.
    op.execute(
        sa.text(
            "UPDATE label_job SET status = 'failed', claim_token = NULL, "
            "error = 'Superseded by a newer print job of the same lot.' "
            f"WHERE {ACTIVE} AND id < (SELECT MAX(newer.id) FROM label_job AS newer "
            "WHERE newer.batch_id = label_job.batch_id AND newer.status IN ('queued', 'running'))"
        )
    )
    op.create_index(
        "uq_label_job_active_batch_id",
        "label_job",
        ["batch_id"],
        unique=True,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )


def downgrade():
    op.drop_index("uq_label_job_active_batch_id", table_name="label_job")
