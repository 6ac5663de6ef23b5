"""product claims: OCOP ratings and flagship designations become certifications to verify

A product's OCOP rating and flagship flag were typed by the producer and shown
to the public as they were. They become claims (certifications of type "ocop"
and "flagship", scope "product") that the producer's centre verifies; the
product's OCOP and flagship columns keep only what was verified. Existing data
turns into declared (pending) claims, so nothing is public until a centre acts.

Revision ID: 7a1c0b13d001
Revises: 5c2d7e91a4b0
Create Date: 2026-12-07 12:00:00.000000

"""
from datetime import UTC, datetime

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7a1c0b13d001'
down_revision = '5c2d7e91a4b0'
branch_labels = None
depends_on = None

OLD_TYPES = "'vietgap', 'globalgap', 'organic', 'iso22000', 'haccp', 'iso9001', 'ocop', 'other'"
NEW_TYPES = "'vietgap', 'globalgap', 'organic', 'iso22000', 'haccp', 'iso9001', 'ocop', 'flagship', 'other'"
GROUPS = "'food', 'beverage', 'herbal', 'handicraft', 'ornamental', 'tourism'"


def upgrade():
    with op.batch_alter_table("certification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_ocop_group", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("claim_ocop_stars", sa.Integer(), nullable=True))
        batch_op.alter_column("valid_from", existing_type=sa.Date(), nullable=True)
        batch_op.drop_constraint(op.f("ck_certification_type"), type_="check")
        batch_op.create_check_constraint(op.f("ck_certification_type"), f"type IN ({NEW_TYPES})")
        batch_op.create_check_constraint(op.f("ck_certification_valid_from"), "valid_from IS NOT NULL OR type IN ('ocop', 'flagship')")
        batch_op.create_check_constraint(op.f("ck_certification_ocop_group"), f"claim_ocop_group IS NULL OR claim_ocop_group IN ({GROUPS})")
        batch_op.create_check_constraint(
            op.f("ck_certification_ocop_stars"), "claim_ocop_stars IS NULL OR (claim_ocop_stars BETWEEN 3 AND 5)"
        )
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flagship_expires_on", sa.Date(), nullable=True))

    connection = op.get_bind()
    now = datetime.now(UTC)
    if connection.dialect.name == "sqlite":
        now = now.replace(tzinfo=None)
    rows = connection.execute(
        sa.text(
            "SELECT id, producer_id, is_flagship, ocop_group, ocop_stars, ocop_certificate_no, "
            "ocop_issued_on, ocop_expires_on FROM product WHERE ocop_stars IS NOT NULL OR is_flagship"
        )
    ).all()
    insert = sa.text(
        "INSERT INTO certification (producer_id, scope, product_id, type, number, issuer, valid_from, "
        "valid_to, claim_ocop_group, claim_ocop_stars, status, created_at) VALUES (:producer_id, 'product', "
        ":product_id, :type, :number, '', :valid_from, :valid_to, :group, :stars, 'pending', :now)"
    )
    for row in rows:
        if row.ocop_stars is not None:
            connection.execute(
                insert,
                {
                    "producer_id": row.producer_id,
                    "product_id": row.id,
                    "type": "ocop",
                    "number": row.ocop_certificate_no or "",
                    "valid_from": row.ocop_issued_on,
                    "valid_to": row.ocop_expires_on,
                    "group": row.ocop_group,
                    "stars": row.ocop_stars,
                    "now": now,
                },
            )
        if row.is_flagship:
            connection.execute(
                insert,
                {
                    "producer_id": row.producer_id,
                    "product_id": row.id,
                    "type": "flagship",
                    "number": "",
                    "valid_from": None,
                    "valid_to": None,
                    "group": None,
                    "stars": None,
                    "now": now,
                },
            )
    # Nothing was verified: the published columns start empty.
    connection.execute(
        sa.text(
            "UPDATE product SET is_flagship = false, ocop_group = NULL, ocop_stars = NULL, ocop_level = NULL, "
            "ocop_certificate_no = NULL, ocop_issued_on = NULL, ocop_expires_on = NULL"
        )
    )


def downgrade():
    connection = op.get_bind()
    claims = connection.execute(
        sa.text(
            "SELECT product_id, type, number, valid_from, valid_to, claim_ocop_group, claim_ocop_stars "
            "FROM certification WHERE scope = 'product' AND type IN ('ocop', 'flagship') "
            "AND status != 'rejected' AND (type = 'flagship' OR claim_ocop_stars IS NOT NULL) ORDER BY id"
        )
    ).all()
    for claim in claims:  # the latest claim of each kind wins
        if claim.type == "flagship":
            connection.execute(sa.text("UPDATE product SET is_flagship = true WHERE id = :id"), {"id": claim.product_id})
        else:
            connection.execute(
                sa.text(
                    "UPDATE product SET ocop_group = :group, ocop_stars = :stars, ocop_level = :level, "
                    "ocop_certificate_no = :number, ocop_issued_on = :issued, ocop_expires_on = :expires WHERE id = :id"
                ),
                {
                    "group": claim.claim_ocop_group,
                    "stars": claim.claim_ocop_stars,
                    "level": "central" if claim.claim_ocop_stars == 5 else "province",
                    "number": claim.number or None,
                    "issued": claim.valid_from,
                    "expires": claim.valid_to,
                    "id": claim.product_id,
                },
            )
    connection.execute(
        sa.text(
            "DELETE FROM certification WHERE type = 'flagship' "
            "OR (type = 'ocop' AND (valid_from IS NULL OR claim_ocop_stars IS NOT NULL))"
        )
    )
    with op.batch_alter_table("product", schema=None) as batch_op:
        batch_op.drop_column("flagship_expires_on")
    with op.batch_alter_table("certification", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_certification_ocop_stars"), type_="check")
        batch_op.drop_constraint(op.f("ck_certification_ocop_group"), type_="check")
        batch_op.drop_constraint(op.f("ck_certification_valid_from"), type_="check")
        batch_op.drop_constraint(op.f("ck_certification_type"), type_="check")
        batch_op.create_check_constraint(op.f("ck_certification_type"), f"type IN ({OLD_TYPES})")
        batch_op.alter_column("valid_from", existing_type=sa.Date(), nullable=False)
        batch_op.drop_column("claim_ocop_stars")
        batch_op.drop_column("claim_ocop_group")
