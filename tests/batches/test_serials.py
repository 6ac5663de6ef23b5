"""Serialised items: random AI 21 serials, their URLs, the refusals, bulk and concurrent creation."""

from __future__ import annotations

import threading

import pytest
from flask_babel import force_locale
from sqlalchemy import event, func, select

from traceability.batches import serials as serials_module
from traceability.batches.serials import SERIAL_ALPHABET, create_serials, new_serial
from traceability.batches.service import item_public_url
from traceability.core.errors import Conflict, Forbidden, InvalidInput
from traceability.core.extensions import db as _db
from traceability.gs1 import is_valid_ai_value
from traceability.gs1.digital_link import parse_uri
from traceability.models.accounts import User
from traceability.models.audit import AuditEntry
from traceability.models.batches import Batch, Item

BASE = "https://trace.example.vn"


def test_serials_are_13_unambiguous_characters_valid_for_ai_21():
    drawn = {new_serial() for _ in range(5000)}
    assert len(drawn) == 5000
    for serial in drawn:
        assert len(serial) == 13 and set(serial) <= set(SERIAL_ALPHABET)
        assert is_valid_ai_value(serial)
    assert not set("ILOU") & set("".join(drawn))  # never misread as 1, 0 or V
    # Every character appears in every position: the bits are random, not a counter.
    assert all(len({serial[i] for serial in drawn}) == 32 for i in range(13))


def test_items_of_a_gtin_product_get_digital_links_with_ai_21(tenants, make, db):
    own = tenants["daklak"]
    product = make.product(own.producer, gtin="08930000000019")
    batch = make.batch(product, lot_code="LO-2026-001")
    items = create_serials(batch, 5, actor=own.producer_user)
    db.session.commit()
    assert len(items) == 5 and len({item.serial for item in items}) == 5
    for item in items:
        url = item_public_url(BASE, item)
        assert url == f"{BASE}/01/08930000000019/10/LO-2026-001/21/{item.serial}"
        link = parse_uri(url)
        assert (link.gtin14, link.lot, link.serial) == ("08930000000019", "LO-2026-001", item.serial)
        assert len(item.public_code) >= 16  # 80 random bits in base32
    assert db.session.scalar(select(func.count(Item.id)).where(Item.batch_id == batch.id)) == 5


def test_items_without_gtin_get_their_own_short_code(tenants, db):
    own = tenants["daklak"]
    items = create_serials(own.batch, 3, actor=own.producer_user)
    urls = [item_public_url(BASE, item) for item in items]
    assert urls == [f"{BASE}/t/{item.public_code}" for item in items]
    assert own.batch.public_code not in "".join(urls)


def test_one_audit_entry_summarises_the_creation(tenants, db):
    own = tenants["daklak"]
    before = db.session.scalar(select(func.count(AuditEntry.id)))
    items = create_serials(own.batch, 250, actor=own.producer_user)
    db.session.commit()
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.id > before)).all()
    assert len(entries) == 1
    entry = entries[0]
    assert (entry.action, entry.object_type, entry.object_id) == (
        "create_serials",
        "Batch",
        str(own.batch.id),
    )
    assert entry.after["count"] == 250
    assert entry.after["first_item_id"] == items[0].id and entry.after["last_item_id"] == items[-1].id
    assert entry.producer_id == own.producer.id and entry.user_id == own.producer_user.id


@pytest.mark.parametrize("count", [0, -1, 10_001, "5", 2.5, None, True])
def test_counts_outside_1_to_10000_are_refused(tenants, db, count):
    own = tenants["daklak"]
    with pytest.raises(InvalidInput) as refused:
        create_serials(own.batch, count, actor=own.producer_user)
    assert "count" in refused.value.fields
    assert db.session.scalar(select(func.count(Item.id))) == 0


def test_who_may_create_items(tenants, db):
    own, other = tenants["daklak"], tenants["nghean"]
    for reader in (own.auditor, tenants["ministry"], other.producer_user, other.staff):
        with pytest.raises(Forbidden):
            create_serials(own.batch, 1, actor=reader)
    assert len(create_serials(own.batch, 1, actor=own.staff)) == 1  # the producer's centre may


def test_suspended_producers_and_recalled_batches_cannot_create_items(tenants, db):
    own, other = tenants["daklak"], tenants["nghean"]
    own.producer.status = "suspended"
    with force_locale("en"), pytest.raises(Forbidden, match="suspended"):
        create_serials(own.batch, 1, actor=own.producer_user)
    other.batch.status = "recalled"
    with force_locale("en"), pytest.raises(Conflict, match="recalled"):
        create_serials(other.batch, 1, actor=other.producer_user)
    assert db.session.scalar(select(func.count(Item.id))) == 0


def test_a_clashing_serial_is_drawn_again_without_losing_other_work(tenants, db, monkeypatch):
    """The insert runs in a savepoint: a clash undoes only it, and new serials are drawn."""
    own = tenants["daklak"]
    (taken,) = create_serials(own.batch, 1, actor=own.producer_user)
    fresh = iter([taken.serial, "ZZZZZZZZZZZZZ"])
    monkeypatch.setattr(serials_module, "new_serial", lambda: next(fresh))
    (item,) = create_serials(own.batch, 1, actor=own.producer_user)
    db.session.commit()
    assert item.serial == "ZZZZZZZZZZZZZ"
    assert sorted(db.session.scalars(select(Item.serial))) == sorted([taken.serial, "ZZZZZZZZZZZZZ"])


def test_ten_thousand_items_in_one_request_are_one_bulk_insert(tenants, db):
    own = tenants["daklak"]
    statements: list[str] = []

    def count_inserts(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO ITEM"):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count_inserts)
    try:
        items = create_serials(own.batch, 10_000, actor=own.producer_user)
        db.session.commit()
    finally:
        event.remove(db.engine, "before_cursor_execute", count_inserts)
    assert len(items) == 10_000
    assert len({item.serial for item in items}) == len({item.public_code for item in items}) == 10_000
    assert len(statements) <= 20  # batched multi-row INSERTs, not 10,000 round trips


def test_concurrent_requests_both_get_unique_items(app, tenants, db):
    own = tenants["daklak"]
    batch_id, user_id = own.batch.id, own.producer_user.id
    db.session.commit()
    errors: list[BaseException] = []

    def create() -> None:
        with app.app_context():
            try:
                batch, user = _db.session.get(Batch, batch_id), _db.session.get(User, user_id)
                create_serials(batch, 2000, actor=user)
                _db.session.commit()
            except BaseException as error:  # noqa: BLE001 - reported below
                errors.append(error)
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=create) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert db.session.scalar(select(func.count(Item.id))) == 6000
    assert db.session.scalar(select(func.count(func.distinct(Item.serial)))) == 6000


def test_api_creates_and_lists_items(api, tenants, make, db):
    own = tenants["daklak"]
    product = make.product(own.producer, gtin="08930000000026")
    batch = make.batch(product, lot_code="L7")
    response = api.post(f"/batches/{batch.id}/serials", own.producer_user, json={"count": 3})
    assert response.status_code == 201, response.get_json()
    created = response.get_json()["items"]
    assert [sorted(entry) for entry in created] == [["created_at", "id", "serial", "url"]] * 3
    for entry in created:
        assert entry["url"] == f"{BASE}/01/08930000000026/10/L7/21/{entry['serial']}"
    listed = api.get(f"/batches/{batch.id}/items?per_page=2", own.producer_user).get_json()
    assert listed["total"] == 3 and listed["per_page"] == 2
    assert [entry["serial"] for entry in listed["items"]] == [entry["serial"] for entry in created[:2]]


def test_api_refusals_say_what_to_fix(api, tenants, db):
    own, other = tenants["daklak"], tenants["nghean"]
    path = f"/batches/{own.batch.id}/serials"
    for body in ({"count": 0}, {"count": 10_001}, {"count": "3"}, {}):
        response = api.post(path, own.producer_user, json=body)
        assert response.status_code == 422
        assert "count" in response.get_json()["error"]["fields"]
    assert api.post(path, own.auditor, json={"count": 1}).status_code == 403
    assert api.post(path, other.producer_user, json={"count": 1}).status_code == 404
    assert api.get(f"/batches/{own.batch.id}/items", other.producer_user).status_code == 404
    own.batch.status = "recalled"
    response = api.post(path, own.producer_user, json={"count": 1})
    assert response.status_code == 409
    assert db.session.scalar(select(func.count(Item.id))) == 0


def test_create_items_on_the_batch_page(web, tenants, db):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    page_url = f"/manage/batches/{own.batch.id}"
    page = web.client.get(page_url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Create serialised items" in page and "No serialised items" in page
    response = web.post_form(
        f"/manage/batches/{own.batch.id}/serials",
        {"serials-count": "12", "serials-template": "", "serials-ec": "M"},
        form_url=page_url,
    )
    assert response.status_code == 302
    items_page = web.client.get(response.headers["Location"], headers={"Accept-Language": "en"})
    text = items_page.get_data(as_text=True)
    items = db.session.scalars(select(Item).order_by(Item.id)).all()
    assert len(items) == 12
    assert "12 items" in text
    for item in items:
        assert item.serial in text and f"{BASE}/t/{item.public_code}" in text
        assert f"/manage/items/{item.id}/qr.png" in text
    page = web.client.get(page_url, headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "12 serialised items" in page


def test_the_batch_page_refuses_a_bad_count_with_a_message(web, tenants, db):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    page_url = f"/manage/batches/{own.batch.id}"
    response = web.post_form(
        f"/manage/batches/{own.batch.id}/serials",
        {"serials-count": "20000", "serials-template": "", "serials-ec": "M"},
        form_url=page_url,
        headers={"Accept-Language": "en"},
        follow_redirects=True,
    )
    assert "10000" in response.get_data(as_text=True) or "10,000" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Item.id))) == 0


def test_auditors_cannot_create_items_on_the_web(web, tenants, db):
    own = tenants["daklak"]
    web.login(own.auditor.email)
    page_url = f"/manage/batches/{own.batch.id}"
    assert "serials-count" not in web.client.get(page_url).get_data(as_text=True)
    response = web.post_form(
        f"/manage/batches/{own.batch.id}/serials",
        {"serials-count": "2", "serials-template": "", "serials-ec": "M"},
        form_url=page_url,
    )
    assert response.status_code == 403
