"""Scans for a national year: monthly partitions on PostgreSQL, and their daily counts

``scan_daily`` holds how many scans each lot had per Vietnamese day,
language and kind of device (with the lot's product, producer and centre);
the app keeps it as scans are written and every dashboard reads it. It is
filled here from the scans already stored (``flask scans rebuild-daily``
computes it again).

On PostgreSQL ``scan`` becomes a table partitioned by Vietnamese month of
``scanned_at`` (primary key ``(id, scanned_at)``, its ids kept and its
sequence reused): the old table is renamed, the new one created with a
DEFAULT partition and one partition per month its rows need plus this and
next month, the rows copied, the old table dropped. The worker makes the
next months' partitions (``scans.partitions``). SQLite keeps a plain table.

Revision ID: 7a1c0b13d014
Revises: 7a1c0b13d013
Create Date: 2026-12-12 09:00:00.000000

"""

from datetime import date

import sqlalchemy as sa
from alembic import op

from traceability.core.dates import add_months, vietnam_today
from traceability.core.partitions import ensure_partitions

# revision identifiers, used by Alembic.
revision = "7a1c0b13d014"
down_revision = "7a1c0b13d013"
branch_labels = None
depends_on = None

DEVICES = "device_class IN ('mobile', 'tablet', 'desktop', 'bot', 'other')"
COLUMNS = "id, batch_id, item_id, scanned_at, language, device_class"
SCAN_INDEXES = (
    ("ix_scan_batch_id", "batch_id"),
    ("ix_scan_item_id", "item_id"),
    ("ix_scan_scanned_at", "scanned_at"),
)


def _scan_table_sql(partitioned: bool) -> str:
    key = "id, scanned_at" if partitioned else "id"
    return (
        "CREATE TABLE scan ("
        " id INTEGER NOT NULL DEFAULT nextval('scan_id_seq'),"
        " batch_id INTEGER NOT NULL, item_id INTEGER, scanned_at TIMESTAMP WITH TIME ZONE NOT NULL,"
        " language VARCHAR(5) NOT NULL, device_class VARCHAR(10) NOT NULL,"
        f" CONSTRAINT pk_scan PRIMARY KEY ({key}),"
        f" CONSTRAINT ck_scan_device_class CHECK ({DEVICES}),"
        " CONSTRAINT fk_scan_batch_id_batch FOREIGN KEY (batch_id) REFERENCES batch (id),"
        " CONSTRAINT fk_scan_item_id_item FOREIGN KEY (item_id) REFERENCES item (id))"
        + (" PARTITION BY RANGE (scanned_at)" if partitioned else "")
    )


def _rebuild_scan_table(partitioned: bool) -> None:
    """Move ``scan``'s rows into a new table, partitioned or not, keeping ids, sequence and indexes."""
    op.execute("ALTER TABLE scan RENAME TO scan_old")
    op.execute("ALTER TABLE scan_old RENAME CONSTRAINT pk_scan TO pk_scan_old")
    for name, _column in SCAN_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute(_scan_table_sql(partitioned))
    if partitioned:
        connection = op.get_bind()
        months = [
            date.fromisoformat(str(month))
            for month in connection.scalars(
                sa.text(
                    "SELECT DISTINCT CAST(date_trunc('month', scanned_at AT TIME ZONE 'Asia/Ho_Chi_Minh') AS DATE) "
                    "FROM scan_old"
                )
            )
        ]
        today = vietnam_today()
        ensure_partitions(connection, "scan", "scanned_at", [*months, today, add_months(today, 1)])
    op.execute(f"INSERT INTO scan ({COLUMNS}) SELECT {COLUMNS} FROM scan_old")  # noqa: S608
    op.execute("ALTER SEQUENCE scan_id_seq OWNED BY scan.id")
    # The primary key (id, scanned_at) no longer keeps ids unique by itself: new ids follow the highest.
    op.execute("SELECT setval('scan_id_seq', (SELECT COALESCE(max(id), 0) + 1 FROM scan), false)")
    op.execute("DROP TABLE scan_old")
    for name, column in SCAN_INDEXES:
        op.execute(f"CREATE INDEX {name} ON scan ({column})")


def upgrade():
    op.create_table(
        "scan_daily",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("producer_id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("device_class", sa.String(length=10), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["batch.id"], name=op.f("fk_scan_daily_batch_id_batch")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_scan_daily_product_id_product")
        ),
        sa.ForeignKeyConstraint(
            ["producer_id"], ["producer.id"], name=op.f("fk_scan_daily_producer_id_producer")
        ),
        sa.ForeignKeyConstraint(["centre_id"], ["centre.id"], name=op.f("fk_scan_daily_centre_id_centre")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_daily")),
        sa.UniqueConstraint(
            "day",
            "batch_id",
            "language",
            "device_class",
            name=op.f("uq_scan_daily_day_batch_id_language_device_class"),
        ),
    )
    with op.batch_alter_table("scan_daily", schema=None) as batch_op:
        batch_op.create_index("ix_scan_daily_batch_day", ["batch_id", "day"], unique=False)
        batch_op.create_index("ix_scan_daily_producer_day", ["producer_id", "day"], unique=False)
        batch_op.create_index("ix_scan_daily_centre_day", ["centre_id", "day"], unique=False)

    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        _rebuild_scan_table(partitioned=True)
    day = (
        "CAST(scan.scanned_at AT TIME ZONE 'Asia/Ho_Chi_Minh' AS DATE)"
        if postgresql
        else "date(scan.scanned_at, '+7 hours')"
    )
    op.execute(
        "INSERT INTO scan_daily (day, batch_id, product_id, producer_id, centre_id, language, device_class, count) "
        f"SELECT {day}, scan.batch_id, batch.product_id, product.producer_id, producer.centre_id, scan.language, "  # noqa: S608
        "scan.device_class, count(*) FROM scan JOIN batch ON batch.id = scan.batch_id "
        "JOIN product ON product.id = batch.product_id JOIN producer ON producer.id = product.producer_id "
        f"GROUP BY {day}, scan.batch_id, batch.product_id, product.producer_id, producer.centre_id, scan.language, "
        "scan.device_class"
    )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        _rebuild_scan_table(partitioned=False)
    with op.batch_alter_table("scan_daily", schema=None) as batch_op:
        batch_op.drop_index("ix_scan_daily_centre_day")
        batch_op.drop_index("ix_scan_daily_producer_day")
        batch_op.drop_index("ix_scan_daily_batch_day")
    op.drop_table("scan_daily")
