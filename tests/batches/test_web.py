"""The batch pages: inputs on the form, corrections, recalls and the chain page."""

from decimal import Decimal

from sqlalchemy import select

from traceability.batches.lineage import add_inputs
from traceability.models.batches import Batch, BatchInput, Recall, TraceEvent


def _new_batch(web, product, **extra):
    data = {
        "product_id": str(product.id),
        "lot_code": "RANG-77",
        "production_date": "2026-10-10",
        "quantity": "300",
        "unit": "KGM",
        "location_id": "",
        "input_kind": "transformation",
    }
    data.update(extra)
    return web.post_form("/manage/batches/new", data)


def test_a_batch_made_from_another_through_the_form(web, make, tenants, db):
    own = tenants["daklak"]
    roasted = make.product(own.producer, name="Cà phê rang xay")
    web.login(own.producer_user.email)
    response = _new_batch(
        web, roasted, **{"inputs-0-batch_id": str(own.batch.id), "inputs-0-quantity": "600"}
    )
    assert response.status_code == 422
    assert "500" in response.get_data(as_text=True)  # what is left of the input
    assert db.session.scalar(select(Batch).where(Batch.lot_code == "RANG-77")) is None
    response = _new_batch(
        web, roasted, **{"inputs-0-batch_id": str(own.batch.id), "inputs-0-quantity": "450"}
    )
    assert response.status_code == 302
    page = web.client.get(response.headers["Location"]).get_data(as_text=True)
    assert own.batch.lot_code in page
    source_page = web.client.get(f"/manage/batches/{own.batch.id}").get_data(as_text=True)
    assert "RANG-77" in source_page and "50" in source_page


def test_correct_and_withdraw_an_event_on_the_web(web, tenants, db):
    own = tenants["daklak"]
    web.login(own.producer_user.email)
    page = f"/manage/batches/{own.batch.id}"
    web.post_form(page, {"type": "packing", "time": "2026-10-03T08:00", "quantity": "10"})
    event = db.session.scalars(select(TraceEvent)).one()
    correct_url = f"{page}/events/{event.id}/correct"
    form_page = web.client.get(correct_url).get_data(as_text=True)
    assert 'value="2026-10-03T08:00"' in form_page
    response = web.post_form(
        correct_url, {"type": "packing", "time": "2026-10-03T08:00", "quantity": "12", "reason": ""}
    )
    assert response.status_code == 422
    response = web.post_form(
        correct_url,
        {"type": "packing", "time": "2026-10-03T08:00", "quantity": "12", "reason": "Đếm lại thùng"},
    )
    assert response.status_code == 302
    events = db.session.scalars(select(TraceEvent).order_by(TraceEvent.id)).all()
    assert len(events) == 2 and events[1].voids_event_id == events[0].id
    response = web.post_form(
        f"{page}/events/{events[1].id}/retract",
        {"retract-reason": "Nhập nhầm"},
        form_url=f"{page}/events/{events[1].id}/correct",
    )
    assert response.status_code == 302
    assert (
        db.session.scalars(select(TraceEvent).where(TraceEvent.is_retraction)).one().voids_event_id
        == events[1].id
    )


def test_recall_on_the_web_reaches_the_public_page(web, make, tenants, db, app):
    own = tenants["daklak"]
    packed_product = make.product(own.producer, name="Cà phê gói")
    packed = make.batch(packed_product, lot_code="GOI-1", quantity=Decimal("100"))
    add_inputs(
        packed,
        [{"batch_id": own.batch.id, "quantity": Decimal("100")}],
        kind="transformation",
        actor=own.producer_user,
    )
    web.login(own.producer_user.email)
    response = web.post_form(
        f"/manage/batches/{own.batch.id}/recall",
        {"recall-reason": "Nhiễm nấm mốc"},
        form_url=f"/manage/batches/{own.batch.id}",
    )
    assert response.status_code == 302
    recall = db.session.scalars(select(Recall)).one()
    detail = web.client.get(f"/manage/recalls/{recall.id}").get_data(as_text=True)
    assert "GOI-1" in detail and own.batch.lot_code in detail
    public = app.test_client().get(f"/t/{packed.public_code}").get_data(as_text=True)
    assert "Nhiễm nấm mốc" in public
    assert "alert-danger" in public
    # the producer cannot close it; its centre can
    assert "close-note" not in detail
    web.client.post("/logout", data={"csrf_token": web.csrf_token("/manage")})
    web.login(own.staff.email)
    response = web.post_form(
        f"/manage/recalls/{recall.id}", {"close-note": "Đã thu hồi đủ", "close-outcome": "withdrawn"}
    )
    assert response.status_code == 302
    db.session.refresh(recall)
    assert recall.status == "closed"


def test_the_chain_page_shows_both_directions(web, make, tenants, db):
    own = tenants["daklak"]
    roasted = make.batch(make.product(own.producer, name="Cà phê rang"), lot_code="RANG-1")
    packed = make.batch(make.product(own.producer, name="Cà phê gói"), lot_code="GOI-1")
    add_inputs(
        roasted,
        [{"batch_id": own.batch.id, "quantity": Decimal("200")}],
        kind="transformation",
        actor=own.producer_user,
    )
    add_inputs(
        packed,
        [{"batch_id": roasted.id, "quantity": Decimal("100")}],
        kind="transformation",
        actor=own.producer_user,
    )
    web.login(own.staff.email)
    page = web.client.get(f"/manage/batches/{roasted.id}/chain").get_data(as_text=True)
    assert own.batch.lot_code in page and "GOI-1" in page
    other = tenants["nghean"]
    assert web.client.get(f"/manage/batches/{other.batch.id}/chain").status_code == 404
    assert db.session.scalar(select(db.func.count(BatchInput.id))) == 2


def test_the_amount_taken_of_an_input_reads_as_a_quantity_in_each_language(web, make, tenants, db):
    own = tenants["daklak"]
    own.batch.quantity = Decimal("9000")
    roasted = make.product(own.producer, name="Cà phê rang xay")
    web.login(own.producer_user.email)
    made = _new_batch(web, roasted, **{"inputs-0-batch_id": str(own.batch.id), "inputs-0-quantity": "5000.5"})
    assert made.status_code == 302
    for language, taken in (("vi", "5.000,5 kg"), ("en", "5,000.5 kg")):
        for page_url in (made.headers["Location"], f"/manage/batches/{own.batch.id}"):  # made from, used in
            page = web.client.get(page_url, headers={"Accept-Language": language}).get_data(as_text=True)
            lineage = page[page.index('<div class="lineage">') :]
            assert f": {taken}</li>" in lineage, (language, page_url)
            assert "5000.5" not in lineage
