"""EPCIS 2.0 repository: the query index of exported events, and capture jobs

``epcis_query_event`` (and its identifiers in ``epcis_query_value``) holds each
event a lot's EPCIS export gives, so that ``GET /epcis/events`` filters and
pages in SQL; the app keeps it at every change. It starts empty here: run
``flask --app wsgi epcis reindex`` once after this upgrade to index the events
recorded before it. ``epcis_capture_job`` records each ``POST /epcis/capture``.

Revision ID: 7a1c0b13d007
Revises: 7a1c0b13d006
Create Date: 2026-12-08 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

import traceability.core.database

# revision identifiers, used by Alembic.
revision = "7a1c0b13d007"
down_revision = "7a1c0b13d006"
branch_labels = None
depends_on = None

SOURCES = "source IN ('event', 'transformation', 'aggregation', 'recall', 'recall_ended')"
FIELDS = (
    "field IN ('epc', 'childEPC', 'parentID', 'inputEPC', 'outputEPC', 'epcClass', 'childEPCClass', "
    "'inputEPCClass', 'outputEPCClass', 'correctiveEventID', 'bizTransaction', 'source', 'destination')"
)


def upgrade():
    op.create_table(
        "epcis_query_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("producer_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("event_time", traceability.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("record_time", traceability.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=True),
        sa.Column("biz_step", sa.String(length=300), nullable=True),
        sa.Column("disposition", sa.String(length=300), nullable=True),
        sa.Column("read_point", sa.String(length=300), nullable=True),
        sa.Column("biz_location", sa.String(length=300), nullable=True),
        sa.Column("error_declared_at", traceability.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error_reason", sa.String(length=300), nullable=True),
        sa.Column("retracted", sa.Boolean(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.CheckConstraint(SOURCES, name=op.f("ck_epcis_query_event_source")),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["batch.id"], name=op.f("fk_epcis_query_event_batch_id_batch"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["producer_id"], ["producer.id"], name=op.f("fk_epcis_query_event_producer_id_producer")
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centre.id"], name=op.f("fk_epcis_query_event_centre_id_centre")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_query_event")),
        sa.UniqueConstraint(
            "batch_id", "source", "source_id", name=op.f("uq_epcis_query_event_batch_id_source_source_id")
        ),
    )
    with op.batch_alter_table("epcis_query_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_epcis_query_event_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_epcis_query_event_read_point"), ["read_point"], unique=False)
        batch_op.create_index(batch_op.f("ix_epcis_query_event_biz_location"), ["biz_location"], unique=False)
        batch_op.create_index("ix_epcis_query_event_time_order", ["event_time", "id"], unique=False)
        batch_op.create_index("ix_epcis_query_event_record_order", ["record_time", "id"], unique=False)
        batch_op.create_index(
            "ix_epcis_query_event_producer_time", ["producer_id", "event_time", "id"], unique=False
        )
        batch_op.create_index(
            "ix_epcis_query_event_producer_record", ["producer_id", "record_time", "id"], unique=False
        )
        batch_op.create_index(
            "ix_epcis_query_event_centre_time", ["centre_id", "event_time", "id"], unique=False
        )
        batch_op.create_index(
            "ix_epcis_query_event_centre_record", ["centre_id", "record_time", "id"], unique=False
        )
        batch_op.create_index(
            "ix_epcis_query_event_type_time", ["event_type", "event_time", "id"], unique=False
        )
        batch_op.create_index(
            "ix_epcis_query_event_step_time", ["biz_step", "event_time", "id"], unique=False
        )

    op.create_table(
        "epcis_query_value",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("query_event_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=300), nullable=True),
        sa.Column("value", sa.String(length=300), nullable=False),
        sa.Column("gtin", sa.String(length=14), nullable=True),
        sa.Column("quantity", traceability.core.database.Quantity(precision=18, scale=3), nullable=True),
        sa.CheckConstraint(FIELDS, name=op.f("ck_epcis_query_value_field")),
        sa.ForeignKeyConstraint(
            ["query_event_id"],
            ["epcis_query_event.id"],
            name=op.f("fk_epcis_query_value_query_event_id_epcis_query_event"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_query_value")),
    )
    with op.batch_alter_table("epcis_query_value", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_epcis_query_value_query_event_id"), ["query_event_id"], unique=False
        )
        batch_op.create_index("ix_epcis_query_value_value_field", ["value", "field"], unique=False)
        batch_op.create_index("ix_epcis_query_value_gtin_field", ["gtin", "field"], unique=False)

    op.create_table(
        "epcis_capture_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("capture_id", sa.String(length=32), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=True),
        sa.Column("error_behaviour", sa.String(length=10), nullable=False),
        sa.Column("running", sa.Boolean(), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("captured", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("ignored", sa.Integer(), nullable=False),
        sa.Column("event_ids", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("created_at", traceability.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", traceability.core.database.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "error_behaviour IN ('rollback', 'proceed')", name=op.f("ck_epcis_capture_job_error_behaviour")
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centre.id"], name=op.f("fk_epcis_capture_job_centre_id_centre")
        ),
        sa.ForeignKeyConstraint(["owner_id"], ["user.id"], name=op.f("fk_epcis_capture_job_owner_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_epcis_capture_job")),
        sa.UniqueConstraint("capture_id", name=op.f("uq_epcis_capture_job_capture_id")),
    )
    with op.batch_alter_table("epcis_capture_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_epcis_capture_job_centre_id"), ["centre_id"], unique=False)
        batch_op.create_index(
            "ix_epcis_capture_job_owner_created", ["owner_id", "created_at", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("epcis_capture_job", schema=None) as batch_op:
        batch_op.drop_index("ix_epcis_capture_job_owner_created")
        batch_op.drop_index(batch_op.f("ix_epcis_capture_job_centre_id"))
    op.drop_table("epcis_capture_job")
    with op.batch_alter_table("epcis_query_value", schema=None) as batch_op:
        batch_op.drop_index("ix_epcis_query_value_gtin_field")
        batch_op.drop_index("ix_epcis_query_value_value_field")
        batch_op.drop_index(batch_op.f("ix_epcis_query_value_query_event_id"))
    op.drop_table("epcis_query_value")
    with op.batch_alter_table("epcis_query_event", schema=None) as batch_op:
        for name in (
            "ix_epcis_query_event_step_time",
            "ix_epcis_query_event_type_time",
            "ix_epcis_query_event_centre_record",
            "ix_epcis_query_event_centre_time",
            "ix_epcis_query_event_producer_record",
            "ix_epcis_query_event_producer_time",
            "ix_epcis_query_event_record_order",
            "ix_epcis_query_event_time_order",
        ):
            batch_op.drop_index(name)
        batch_op.drop_index(batch_op.f("ix_epcis_query_event_biz_location"))
        batch_op.drop_index(batch_op.f("ix_epcis_query_event_read_point"))
        batch_op.drop_index(batch_op.f("ix_epcis_query_event_event_id"))
    op.drop_table("epcis_query_event")
