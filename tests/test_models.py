"""Constraints live in the database: they hold even when Python is bypassed."""

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from traceability.batches.service import new_public_code
from traceability.models.batches import Batch, BatchInput
from traceability.models.registry import Product


def _expect_integrity_error(db, statement, params):
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.execute(text(statement), params)


def test_lot_code_is_unique_per_product_but_not_across_products(db, make, tenants):
    batch = tenants["daklak"].batch
    other_product = make.product(tenants["daklak"].producer)
    make.batch(other_product, lot_code=batch.lot_code)  # another product may reuse it
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(
            Batch(
                product_id=batch.product_id,
                lot_code=batch.lot_code,
                public_code=new_public_code(),
                production_date=date(2026, 1, 1),
                quantity=Decimal(1),
                unit="KGM",
            )
        )


@pytest.mark.parametrize(
    ("column", "value"),
    [("ocop_stars", 6), ("ocop_stars", 2), ("ocop_group", "jewellery"), ("gtin", "123")],
)
def test_product_check_constraints(db, tenants, column, value):
    product_id = tenants["daklak"].product.id
    _expect_integrity_error(
        db, f"UPDATE product SET {column} = :v WHERE id = :id", {"v": value, "id": product_id}
    )


def test_batch_check_constraints(db, tenants):
    batch_id = tenants["daklak"].batch.id
    _expect_integrity_error(
        db, "UPDATE batch SET expiry_date = :d WHERE id = :id", {"d": date(2020, 1, 1), "id": batch_id}
    )
    _expect_integrity_error(db, "UPDATE batch SET status = 'lost' WHERE id = :id", {"id": batch_id})
    _expect_integrity_error(db, "UPDATE batch SET quantity = -1 WHERE id = :id", {"id": batch_id})


def test_foreign_keys_are_enforced(db, tenants):
    _expect_integrity_error(
        db, "UPDATE product SET producer_id = 999999 WHERE id = :id", {"id": tenants["daklak"].product.id}
    )


def test_a_batch_cannot_be_its_own_input(db, tenants):
    batch = tenants["daklak"].batch
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(BatchInput(output_batch_id=batch.id, input_batch_id=batch.id, quantity=Decimal(1)))


def test_user_role_needs_its_tenant(db, tenants):
    user = tenants["daklak"].producer_user
    _expect_integrity_error(db, 'UPDATE "user" SET producer_id = NULL WHERE id = :id', {"id": user.id})
    staff = tenants["daklak"].staff
    _expect_integrity_error(db, 'UPDATE "user" SET centre_id = NULL WHERE id = :id', {"id": staff.id})


def test_sums_of_quantities_are_exact(db, make, tenants):
    from traceability.batches.service import quantity_remaining

    source = make.batch(tenants["daklak"].product, quantity=Decimal("0.3"))
    for share in ("0.1", "0.2"):
        output = make.batch(tenants["daklak"].product)
        db.session.add(
            BatchInput(output_batch_id=output.id, input_batch_id=source.id, quantity=Decimal(share))
        )
    db.session.commit()
    db.session.expire_all()
    assert quantity_remaining(db.session.get(Batch, source.id)) == Decimal("0.000")


def test_gtin_is_unique(db, make, tenants):
    make.product(tenants["daklak"].producer, gtin="08935000000014")
    with pytest.raises(IntegrityError), db.session.begin_nested():
        db.session.add(Product(producer_id=tenants["nghean"].producer.id, name="x", gtin="08935000000014"))
