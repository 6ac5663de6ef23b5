"""The products' monthly scan counts indexed for the top of a ranking

``scan_monthly_product`` gets its months' rows in order of their counts
(``month, count``, and per centre ``centre_id, month, count``, which replaces
``centre_id, month``), so a year's "most scanned products" reads the top of
each month and stops early, and a product's months (``product_id, month``)
for the exact counts of the few it finds. Indexes only: no data changes.

Revision ID: 7a1c0b13d016
Revises: 7a1c0b13d015
Create Date: 2026-12-14 09:00:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "7a1c0b13d016"
down_revision = "7a1c0b13d015"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("scan_monthly_product", schema=None) as batch_op:
        batch_op.drop_index("ix_scan_monthly_product_centre_month")
        batch_op.create_index(
            "ix_scan_monthly_product_centre_month_count", ["centre_id", "month", "count"], unique=False
        )
        batch_op.create_index("ix_scan_monthly_product_month_count", ["month", "count"], unique=False)
        batch_op.create_index("ix_scan_monthly_product_product_month", ["product_id", "month"], unique=False)


def downgrade():
    with op.batch_alter_table("scan_monthly_product", schema=None) as batch_op:
        batch_op.drop_index("ix_scan_monthly_product_product_month")
        batch_op.drop_index("ix_scan_monthly_product_month_count")
        batch_op.drop_index("ix_scan_monthly_product_centre_month_count")
        batch_op.create_index("ix_scan_monthly_product_centre_month", ["centre_id", "month"], unique=False)
