"""reports: a centre's contracts, technology processes and S&T tasks, linked to products

Revision ID: 730051e79bd6
Revises: 6d99e3621ae3
Create Date: 2026-11-22 10:00:00.000000

"""

from alembic import op
import sqlalchemy as sa

import traceability.core.database


# revision identifiers, used by Alembic.
revision = "730051e79bd6"
down_revision = "6d99e3621ae3"
branch_labels = None
depends_on = None


def _timestamps():
    return (
        sa.Column("created_at", traceability.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", traceability.core.database.UTCDateTime(timezone=True), nullable=False),
    )


def _product_link(name, owner):
    op.create_table(
        name,
        sa.Column(f"{owner}_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            [f"{owner}_id"], [f"{owner}.id"], name=op.f(f"fk_{name}_{owner}_id_{owner}"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f(f"fk_{name}_product_id_product"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint(f"{owner}_id", "product_id", name=op.f(f"pk_{name}")),
    )
    with op.batch_alter_table(name, schema=None) as batch_op:
        batch_op.create_index(batch_op.f(f"ix_{name}_product_id"), ["product_id"], unique=False)


def upgrade():
    op.create_table(
        "centre_contract",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("number", sa.String(length=100), nullable=False),
        sa.Column("counterparty", sa.String(length=300), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("value_vnd", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "kind IN ('technology_transfer', 'service', 'consulting')", name=op.f("ck_centre_contract_kind")
        ),
        sa.CheckConstraint(
            "value_vnd >= 0 AND value_vnd <= 1000000000000000", name=op.f("ck_centre_contract_value_vnd")
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centre.id"], name=op.f("fk_centre_contract_centre_id_centre")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_centre_contract")),
        sa.UniqueConstraint("centre_id", "number", name=op.f("uq_centre_contract_centre_id_number")),
    )
    with op.batch_alter_table("centre_contract", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_centre_contract_centre_id"), ["centre_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_centre_contract_signed_on"), ["signed_on"], unique=False)

    op.create_table(
        "technology_process",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("mastered_on", sa.Date(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        *_timestamps(),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centre.id"], name=op.f("fk_technology_process_centre_id_centre")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_technology_process")),
        sa.UniqueConstraint("centre_id", "name", name=op.f("uq_technology_process_centre_id_name")),
    )
    with op.batch_alter_table("technology_process", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_technology_process_centre_id"), ["centre_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_technology_process_mastered_on"), ["mastered_on"], unique=False)

    op.create_table(
        "science_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=500), nullable=False),
        sa.Column("code", sa.String(length=50), nullable=False),
        sa.Column("level", sa.String(length=20), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "level IN ('national', 'ministry', 'province', 'grassroots')", name=op.f("ck_science_task_level")
        ),
        sa.CheckConstraint(
            "status IN ('in_progress', 'accepted', 'stopped')", name=op.f("ck_science_task_status")
        ),
        sa.CheckConstraint("ends_on IS NULL OR ends_on >= starts_on", name=op.f("ck_science_task_dates")),
        sa.ForeignKeyConstraint(["centre_id"], ["centre.id"], name=op.f("fk_science_task_centre_id_centre")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_science_task")),
        sa.UniqueConstraint("centre_id", "code", name=op.f("uq_science_task_centre_id_code")),
    )
    with op.batch_alter_table("science_task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_science_task_centre_id"), ["centre_id"], unique=False)

    _product_link("centre_contract_product", "centre_contract")
    _product_link("technology_process_product", "technology_process")
    _product_link("science_task_product", "science_task")


def downgrade():
    for name in ("science_task_product", "technology_process_product", "centre_contract_product"):
        with op.batch_alter_table(name, schema=None) as batch_op:
            batch_op.drop_index(batch_op.f(f"ix_{name}_product_id"))
        op.drop_table(name)
    with op.batch_alter_table("science_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_science_task_centre_id"))
    op.drop_table("science_task")
    with op.batch_alter_table("technology_process", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_technology_process_mastered_on"))
        batch_op.drop_index(batch_op.f("ix_technology_process_centre_id"))
    op.drop_table("technology_process")
    with op.batch_alter_table("centre_contract", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_centre_contract_signed_on"))
        batch_op.drop_index(batch_op.f("ix_centre_contract_centre_id"))
    op.drop_table("centre_contract")
