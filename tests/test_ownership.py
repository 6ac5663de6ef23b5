"""Ownership declared once (``traceability.core.ownership``): a new model that belongs to a lot is covered everywhere.

The test declares a model the registry does not have, a lot's tasting note,
with one line, ``__owner__ = batch_owned()``, and nothing else: the tenant
scope, the page cache and the retention purge must all treat it as the lot's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import ForeignKey, String, func, select
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.exceptions import NotFound

from tests.audit.test_retention import _batch, months_ago
from tests.public.test_page_cache import get
from traceability.accounts.scope import get_scoped_or_404, scoped_select
from traceability.audit.retention import RetentionPolicy, apply_purge, plan_purge
from traceability.batches.service import record_event
from traceability.core.dates import VIETNAM_OFFSET
from traceability.core.ownership import batch_owned, owned_models, owner_of


@pytest.fixture
def tasting(db) -> Iterator[type]:
    """A model declared here only, its table created for the test and gone afterwards."""

    class Tasting(db.Model):
        __tablename__ = "test_tasting"
        __owner__ = batch_owned()  # the one declaration under test

        id: Mapped[int] = mapped_column(primary_key=True)
        batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id"))
        note: Mapped[str] = mapped_column(String(200))

    Tasting.__table__.create(db.engine)
    try:
        yield Tasting
    finally:
        db.session.rollback()
        Tasting.__table__.drop(db.engine)
        db.metadata.remove(Tasting.__table__)
        db.Model.registry._dispose_cls(Tasting)  # the test's class leaves no trace in the other tests


def test_the_declaration_is_all_there_is(tasting):
    assert owner_of(tasting).kind == "batch"
    assert tasting in set(owned_models("batch"))


def test_the_tenant_scope_shows_a_lots_rows_to_its_producer_and_centre_only(db, tenants, tasting):
    daklak, nghean = tenants["daklak"], tenants["nghean"]
    own = tasting(batch_id=daklak.batch.id, note="Vị chua nhẹ, hậu ngọt")
    other = tasting(batch_id=nghean.batch.id, note="Hương cam")
    db.session.add_all([own, other])
    db.session.commit()

    def visible(user) -> set[str]:
        return {row.note for row in db.session.scalars(scoped_select(tasting, user))}

    assert visible(daklak.producer_user) == {"Vị chua nhẹ, hậu ngọt"}
    assert visible(daklak.staff) == {"Vị chua nhẹ, hậu ngọt"}
    assert visible(nghean.producer_user) == {"Hương cam"}
    assert visible(tenants["ministry"]) == {"Vị chua nhẹ, hậu ngọt", "Hương cam"}
    assert get_scoped_or_404(tasting, own.id, daklak.producer_user) is own
    with pytest.raises(NotFound):  # another tenant's id answers 404, as every other record's
        get_scoped_or_404(tasting, other.id, daklak.producer_user)


def test_a_change_forgets_the_lots_cached_page(app, db, tenants, tasting):
    own = tenants["daklak"]
    record_event(
        own.batch,
        {"type": "harvesting", "time": datetime(2026, 10, 1, 7, tzinfo=VIETNAM_OFFSET)},
        actor=own.producer_user,
    )
    db.session.commit()
    path = f"/t/{own.batch.public_code}"
    get(app, path)
    assert get(app, path).headers["X-Page-Cache"] == "hit"

    db.session.add(tasting(batch_id=own.batch.id, note="Đậm đà"))
    db.session.commit()

    assert get(app, path).headers["X-Page-Cache"] == "miss"
    # Another lot's page is not the tasting's: it stays cached.
    other = f"/t/{tenants['nghean'].batch.public_code}"
    get(app, other)
    db.session.add(tasting(batch_id=own.batch.id, note="Thơm"))
    db.session.commit()
    assert get(app, other).headers["X-Page-Cache"] == "hit"


def test_the_retention_purge_removes_a_lots_rows_with_the_lot(db, make, tenants, tasting):
    old = _batch(make, tenants["daklak"].product, produced=months_ago(36), expires=months_ago(24))
    db.session.add(tasting(batch_id=old.id, note="Nếm thử lúc nhập kho"))
    db.session.commit()

    plan = plan_purge(RetentionPolicy(12, 60))
    assert [removal.batch_id for removal in plan.removals] == [old.id]
    assert plan.kept == []  # not kept as "referenced by another table": the table is the lot's
    apply_purge(plan)
    db.session.commit()

    assert db.session.scalar(select(func.count()).select_from(tasting)) == 0
