"""The audit browser: centre staff and auditors read their province's log, the ministry all; producers none."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from markupsafe import escape
from sqlalchemy import delete, update

from tests.conftest import WebHelper
from traceability.audit.service import record_audit
from traceability.core.dates import VIETNAM_OFFSET
from traceability.models.audit import AuditEntry
from traceability.registry.products import create_product, update_product


@pytest.fixture
def logged(db, tenants):
    """A product created and renamed in each province, by the producer and by the centre."""
    products = {}
    for key in ("daklak", "nghean"):
        own = tenants[key]
        product = create_product({"name": f"Cà phê {key}"}, actor=own.producer_user)
        update_product(product, {"name": f"Cà phê rang {key}"}, actor=own.staff)
        products[key] = product
    db.session.commit()
    return products


def _page(client, url="/manage/audit", **params):
    response = client.get(url, query_string=params)
    return response.status_code, response.get_data(as_text=True)


def _signed_in(app, user) -> WebHelper:
    helper = WebHelper(app.test_client())
    helper.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    helper.login(user.email)
    return helper


@pytest.mark.parametrize("role", ["staff", "admin", "auditor"])
def test_centre_users_see_their_province_only(app, tenants, logged, role):
    user = getattr(tenants["daklak"], role)
    status, page = _page(_signed_in(app, user).client)
    assert status == 200
    assert f"{tenants['daklak'].producer.name}" in page
    assert tenants["nghean"].producer.name not in page


def test_the_ministry_sees_every_province(app, tenants, logged):
    status, page = _page(_signed_in(app, tenants["ministry"]).client)
    assert status == 200
    assert tenants["daklak"].producer.name in page and tenants["nghean"].producer.name in page


def test_producers_do_not_see_the_audit_log(app, tenants, logged, db):
    client = _signed_in(app, tenants["daklak"].producer_user).client
    entry = db.session.query(AuditEntry).filter_by(producer_id=tenants["daklak"].producer.id).first()
    assert client.get("/manage/audit").status_code == 403
    assert client.get(f"/manage/audit/{entry.id}").status_code == 403
    assert "/manage/audit" not in client.get("/manage/products").get_data(as_text=True)


def test_signed_out_visitors_are_sent_to_sign_in(client, logged):
    response = client.get("/manage/audit")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_an_entry_of_another_province_is_not_found(app, tenants, logged, db):
    other = db.session.query(AuditEntry).filter_by(producer_id=tenants["nghean"].producer.id).first()
    client = _signed_in(app, tenants["daklak"].auditor).client
    assert client.get(f"/manage/audit/{other.id}").status_code == 404


def test_the_detail_shows_who_and_the_before_after_diff(app, tenants, logged, db):
    own = tenants["daklak"]
    entry = db.session.query(AuditEntry).filter_by(action="update", producer_id=own.producer.id).one()
    status, page = _page(_signed_in(app, own.auditor).client, f"/manage/audit/{entry.id}")
    assert status == 200
    assert own.staff.email in page
    assert "Cà phê daklak" in page and "Cà phê rang daklak" in page
    assert 'class="changed"' in page
    assert entry.entry_hash in page and entry.prev_hash in page
    assert "matches its content" in page


def test_a_tampered_entry_is_flagged_on_its_page(app, tenants, logged, db):
    own = tenants["daklak"]
    entry = db.session.query(AuditEntry).filter_by(action="update", producer_id=own.producer.id).one()
    db.session.execute(update(AuditEntry).where(AuditEntry.id == entry.id).values(after={"name": "Khác"}))
    db.session.commit()
    status, page = _page(_signed_in(app, own.auditor).client, f"/manage/audit/{entry.id}")
    assert status == 200
    assert "no longer matches its hash" in page


def _ids(page: str) -> set[int]:
    return {int(n) for n in re.findall(r'href="/manage/audit/(\d+)"', page)}


def test_filters_by_action_record_user_producer_and_date(app, tenants, logged, db):
    own = tenants["daklak"]
    client = _signed_in(app, tenants["ministry"]).client
    entries = db.session.query(AuditEntry).all()

    def expected(predicate):
        return {entry.id for entry in entries if predicate(entry)}

    assert _ids(_page(client, action="update")[1]) == expected(lambda e: e.action == "update")
    assert _ids(_page(client, object_type="Product")[1]) == expected(lambda e: e.object_type == "Product")
    assert _ids(_page(client, user=own.staff.email.upper())[1]) == expected(
        lambda e: e.user_id == own.staff.id
    )
    by_producer = _ids(_page(client, producer_id=own.producer.id)[1])
    assert by_producer == expected(lambda e: e.producer_id == own.producer.id)
    today = datetime.now(VIETNAM_OFFSET).date()  # the filter reads days in Vietnam
    assert _ids(_page(client, date_from=today.isoformat(), date_to=today.isoformat())[1]) >= by_producer
    assert _ids(_page(client, date_from=(today + timedelta(days=2)).isoformat())[1]) == set()
    assert _ids(_page(client, date_to=(today - timedelta(days=2)).isoformat())[1]) == set()
    product = logged["daklak"]
    history = _ids(_page(client, object_type="Product", object_id=product.id)[1])
    assert history == expected(lambda e: e.object_type == "Product" and e.object_id == str(product.id))


def test_bad_filters_are_explained_not_a_server_error(app, tenants, logged):
    client = _signed_in(app, tenants["ministry"]).client
    status, page = _page(client, date_from="2026-11-20", date_to="2026-11-01")
    assert status == 200
    assert "The end date cannot be before the start date." in page
    status, page = _page(client, date_from="not-a-date", producer_id="abc", action="nonsense", page="x")
    assert status == 200


def test_the_log_is_paginated(app, tenants, db):
    own = tenants["daklak"]
    for n in range(55):
        record_audit("update", own.product, actor=own.staff, after={"n": n})
    db.session.commit()
    client = _signed_in(app, own.staff).client
    first, second = _page(client)[1], _page(client, page=2)[1]
    assert len(_ids(first)) == 50
    assert 'rel="next"' in first
    # The sign-in of this very test is on the first page; page two holds the rest.
    assert _ids(first).isdisjoint(_ids(second))
    assert len(_ids(first) | _ids(second)) == 56


# The chains: one per centre and a national one, shown and filtered on the pages.


def test_the_list_names_each_entrys_chain_and_position(app, tenants, logged, db):
    own = tenants["daklak"]
    entry = db.session.query(AuditEntry).filter_by(action="update", producer_id=own.producer.id).one()
    assert entry.chain == f"centre:{own.centre.id}"
    page = _page(_signed_in(app, tenants["ministry"]).client, action="update", producer_id=own.producer.id)[1]
    cell = re.search(r'data-label="Audit chain">(.*?)</td>', page, re.S).group(1)
    assert escape(own.centre.name) in cell and f"position {entry.position}" in cell
    national = db.session.query(AuditEntry).filter_by(user_id=tenants["ministry"].id).first()
    page = _page(_signed_in(app, tenants["ministry"]).client, chain="national")[1]
    assert national is not None and national.id in _ids(page)
    assert re.search(r'data-label="Audit chain">National<br>', page)


def test_the_ministry_filters_by_chain(app, tenants, logged, db):
    client = _signed_in(app, tenants["ministry"]).client
    entries = db.session.query(AuditEntry).all()
    for key in ("daklak", "nghean"):
        chain = f"centre:{tenants[key].centre.id}"
        expected = {e.id for e in entries if e.chain == chain}
        assert expected and _ids(_page(client, chain=chain)[1]) == expected
    # The ministry's own sign-in, written after the query above, is on the national chain too.
    national = _ids(_page(client, chain="national")[1])
    assert {e.id for e in entries if e.chain == "national"} <= national
    assert all(db.session.get(AuditEntry, n).chain == "national" for n in national)


def test_a_chain_outside_the_readers_scope_is_refused_and_ignored(app, tenants, logged, db):
    own, other = tenants["daklak"], tenants["nghean"]
    client = _signed_in(app, own.auditor).client
    unfiltered = _ids(_page(client)[1])
    page = _page(client, chain=f"centre:{other.centre.id}")[1]
    options = re.search(r'<select[^>]*name="chain".*?</select>', page, re.S).group(0)
    assert escape(own.centre.name) in options and escape(other.centre.name) not in options
    assert "Not a valid choice" in page
    assert _ids(page) == unfiltered  # ignored: the reader's own log, nothing of the other province
    for bad in ("centre:abc", "x" * 500, "centre:999999"):
        status, page = _page(client, chain=bad)
        assert status == 200 and "Not a valid choice" in page


def test_an_entry_links_to_the_previous_entry_of_its_chain(app, tenants, logged, db):
    own = tenants["daklak"]
    chain = f"centre:{own.centre.id}"
    first, second = (
        db.session.query(AuditEntry).filter_by(chain=chain).order_by(AuditEntry.position).limit(2).all()
    )
    client = _signed_in(app, own.auditor).client
    page = _page(client, f"/manage/audit/{second.id}")[1]
    assert f"{escape(own.centre.name)}</a> · position {second.position}" in page
    assert f'<a href="/manage/audit/{first.id}" rel="prev">entry #{first.id}</a> · position 1' in page
    assert "the chain is broken here" not in page
    page = _page(client, f"/manage/audit/{first.id}")[1]
    assert "the start of the chain" in page and 'rel="prev"' not in page


def test_the_previous_entry_outside_the_province_is_named_not_linked(app, tenants, logged, db):
    own, ministry = tenants["daklak"], tenants["ministry"]
    hidden = record_audit("update", ministry, actor=ministry, after={"n": 1})
    shared = record_audit("update", ministry, actor=ministry, after={"n": 2})
    db.session.commit()
    assert hidden.chain == shared.chain == "national" and shared.position == hidden.position + 1
    # Like the older entries of the national chain: one the province reads, after one it does not.
    db.session.execute(
        update(AuditEntry).where(AuditEntry.id == shared.id).values(producer_id=own.producer.id)
    )
    db.session.commit()
    page = _page(_signed_in(app, own.auditor).client, f"/manage/audit/{shared.id}")[1]
    assert f"National</a> · position {shared.position}" in page
    assert f"position {hidden.position} · outside your province" in page
    assert 'rel="prev"' not in page and f"#{hidden.id}" not in page
    page = _page(_signed_in(app, ministry).client, f"/manage/audit/{shared.id}")[1]
    assert f'<a href="/manage/audit/{hidden.id}" rel="prev">' in page


def test_a_removed_or_replaced_previous_entry_shows_on_the_page(app, tenants, logged, db):
    own = tenants["daklak"]
    record_audit("update", own.product, actor=own.staff, after={"n": 1})
    db.session.commit()
    first, second, third = (
        db.session.query(AuditEntry)
        .filter_by(chain=f"centre:{own.centre.id}")
        .order_by(AuditEntry.position)
        .limit(3)
        .all()
    )
    db.session.execute(update(AuditEntry).where(AuditEntry.id == first.id).values(entry_hash="f" * 64))
    db.session.execute(delete(AuditEntry).where(AuditEntry.id == second.id))
    db.session.commit()
    client = _signed_in(app, own.auditor).client
    page = _page(client, f"/manage/audit/{third.id}")[1]
    assert f"position {second.position} · <strong>no entry holds it: entries were removed" in page
    assert 'rel="prev"' not in page
    db.session.execute(update(AuditEntry).where(AuditEntry.id == third.id).values(position=second.position))
    db.session.commit()
    page = _page(client, f"/manage/audit/{third.id}")[1]
    assert f'rel="prev">entry #{first.id}</a>' in page
    assert "not the hash of the entry before it: the chain is broken here" in page
