"""Coarser scan counts: per product and day, per product and month, and per centre, day, language and device

``scan_daily_product`` (a product's scans per Vietnamese day, whatever the
lot), ``scan_monthly_product`` (the same per Vietnamese month) and
``scan_daily_centre`` (a centre's scans per day, language and kind of device)
are kept by the app beside ``scan_daily``, in the same transaction; the
ministry's and the centres' charts read them. All three are filled here from
``scan_daily``, which also holds the days whose raw scans
retention has dropped (``flask scans rebuild-daily`` computes all three again).

Revision ID: 7a1c0b13d015
Revises: 7a1c0b13d014
Create Date: 2026-12-13 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7a1c0b13d015"
down_revision = "7a1c0b13d014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "scan_daily_product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("producer_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_scan_daily_product_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["producer_id"], ["producer.id"], name=op.f("fk_scan_daily_product_producer_id_producer")
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centre.id"], name=op.f("fk_scan_daily_product_centre_id_centre")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_daily_product")),
        sa.UniqueConstraint("day", "product_id", name=op.f("uq_scan_daily_product_day_product_id")),
    )
    with op.batch_alter_table("scan_daily_product", schema=None) as batch_op:
        batch_op.create_index("ix_scan_daily_product_product_day", ["product_id", "day"], unique=False)
        batch_op.create_index("ix_scan_daily_product_centre_day", ["centre_id", "day"], unique=False)
    op.create_table(
        "scan_monthly_product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("producer_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_scan_monthly_product_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["producer_id"], ["producer.id"], name=op.f("fk_scan_monthly_product_producer_id_producer")
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centre.id"], name=op.f("fk_scan_monthly_product_centre_id_centre")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_monthly_product")),
        sa.UniqueConstraint("month", "product_id", name=op.f("uq_scan_monthly_product_month_product_id")),
    )
    with op.batch_alter_table("scan_monthly_product", schema=None) as batch_op:
        batch_op.create_index("ix_scan_monthly_product_centre_month", ["centre_id", "month"], unique=False)
    op.create_table(
        "scan_daily_centre",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("device_class", sa.String(length=10), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centre.id"], name=op.f("fk_scan_daily_centre_centre_id_centre")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_daily_centre")),
        sa.UniqueConstraint(
            "day",
            "centre_id",
            "language",
            "device_class",
            name=op.f("uq_scan_daily_centre_day_centre_id_language_device_class"),
        ),
    )
    with op.batch_alter_table("scan_daily_centre", schema=None) as batch_op:
        batch_op.create_index("ix_scan_daily_centre_centre_day", ["centre_id", "day"], unique=False)

    op.execute(
        "INSERT INTO scan_daily_product (day, product_id, producer_id, centre_id, count) "
        "SELECT day, product_id, producer_id, centre_id, sum(count) FROM scan_daily "
        "GROUP BY day, product_id, producer_id, centre_id"
    )
    month = (
        "CAST(date_trunc('month', day) AS DATE)"
        if op.get_bind().dialect.name == "postgresql"
        else "date(day, 'start of month')"
    )
    op.execute(
        "INSERT INTO scan_monthly_product (month, product_id, producer_id, centre_id, count) "  # noqa: S608
        f"SELECT {month}, product_id, producer_id, centre_id, sum(count) FROM scan_daily "
        f"GROUP BY {month}, product_id, producer_id, centre_id"
    )
    op.execute(
        "INSERT INTO scan_daily_centre (day, centre_id, language, device_class, count) "
        "SELECT day, centre_id, language, device_class, sum(count) FROM scan_daily "
        "GROUP BY day, centre_id, language, device_class"
    )


def downgrade():
    with op.batch_alter_table("scan_daily_centre", schema=None) as batch_op:
        batch_op.drop_index("ix_scan_daily_centre_centre_day")
    op.drop_table("scan_daily_centre")
    with op.batch_alter_table("scan_monthly_product", schema=None) as batch_op:
        batch_op.drop_index("ix_scan_monthly_product_centre_month")
    op.drop_table("scan_monthly_product")
    with op.batch_alter_table("scan_daily_product", schema=None) as batch_op:
        batch_op.drop_index("ix_scan_daily_product_centre_day")
        batch_op.drop_index("ix_scan_daily_product_product_day")
    op.drop_table("scan_daily_product")
