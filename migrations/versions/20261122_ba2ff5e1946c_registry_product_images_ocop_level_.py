"""registry: product images, OCOP level, search text, documents

Revision ID: ba2ff5e1946c
Revises: 865c03bfd597
Create Date: 2026-11-22 04:19:13.916084

"""
from alembic import op
import sqlalchemy as sa

import traceability.core.database


# revision identifiers, used by Alembic.
revision = 'ba2ff5e1946c'
down_revision = '865c03bfd597'
branch_labels = None
depends_on = None


def _backfill_search_text(table: str, columns: tuple[str, ...]) -> None:
    """Fill the folded search text of existing rows, as the model's event does for new ones."""
    from traceability.core.text import fold

    connection = op.get_bind()
    rows = connection.execute(sa.text(f"SELECT id, {', '.join(columns)} FROM {table}")).all()
    for row in rows:
        text = fold(" ".join(value for value in row[1:] if value))
        connection.execute(sa.text(f"UPDATE {table} SET search_text = :text WHERE id = :id"), {"text": text, "id": row.id})


def upgrade():
    op.create_table(
        "product_image",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=100), nullable=False),
        sa.Column("thumbnail_filename", sa.String(length=100), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", traceability.core.database.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("width > 0 AND height > 0", name=op.f("ck_product_image_size")),
        sa.ForeignKeyConstraint(
            ["product_id"], ["product.id"], name=op.f("fk_product_image_product_id_product"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_image")),
        sa.UniqueConstraint("filename", name=op.f("uq_product_image_filename")),
        sa.UniqueConstraint("thumbnail_filename", name=op.f("uq_product_image_thumbnail_filename")),
    )
    with op.batch_alter_table("product_image", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_product_image_product_id"), ["product_id"], unique=False)

    with op.batch_alter_table("certification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document_content_type", sa.String(length=50), nullable=True))
        batch_op.add_column(sa.Column("document_size", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("document_original_name", sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_certification_document_filename"), ["document_filename"])

    with op.batch_alter_table("producer", schema=None) as batch_op:
        batch_op.add_column(sa.Column("logo_filename", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("status_changed_at", traceability.core.database.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("search_text", sa.String(length=700), nullable=False, server_default=""))
    _backfill_search_text("producer", ("name", "tax_code"))
    with op.batch_alter_table("producer", schema=None) as batch_op:
        batch_op.alter_column("search_text", server_default=None)

    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ocop_level", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("search_text", sa.String(length=1200), nullable=False, server_default=""))
        # Product images move to their own table; none were stored in this column yet.
        batch_op.drop_column("image_filename")
    op.execute(
        "UPDATE product SET ocop_level = CASE WHEN ocop_stars = 5 THEN 'central' "
        "WHEN ocop_stars IN (3, 4) THEN 'province' END"
    )
    _backfill_search_text("product", ("name", "name_en", "brand", "category", "gtin"))
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.alter_column("search_text", server_default=None)
        batch_op.create_check_constraint(
            op.f("ck_product_ocop_level_value"), "ocop_level IS NULL OR ocop_level IN ('province', 'central')"
        )
        batch_op.create_check_constraint(
            op.f("ck_product_ocop_level"),
            "ocop_stars IS NULL OR (ocop_stars = 5 AND ocop_level = 'central') "
            "OR (ocop_stars IN (3, 4) AND ocop_level = 'province')",
        )


def downgrade():
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_product_ocop_level"), type_="check")
        batch_op.drop_constraint(op.f("ck_product_ocop_level_value"), type_="check")
        batch_op.add_column(sa.Column("image_filename", sa.VARCHAR(length=100), nullable=True))
        batch_op.drop_column("search_text")
        batch_op.drop_column("ocop_level")

    with op.batch_alter_table("producer", schema=None) as batch_op:
        batch_op.drop_column("search_text")
        batch_op.drop_column("status_changed_at")
        batch_op.drop_column("logo_filename")

    with op.batch_alter_table("certification", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_certification_document_filename"), type_="unique")
        batch_op.drop_column("document_original_name")
        batch_op.drop_column("document_size")
        batch_op.drop_column("document_content_type")

    with op.batch_alter_table("product_image", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_image_product_id"))
    op.drop_table("product_image")
