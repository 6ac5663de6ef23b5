"""A recall from start to end: no shop while it is open, and closing says how it ended.

While a recall is open the lot's page, its linkset and the resolver offer no
shop. The centre closes it with an outcome: ``returned_to_sale`` (the page says
the recall ended, when and why, and the shops come back) or ``withdrawn`` (the
page keeps saying do not use). The outcome applies to every batch the recall
reached. Every page is read as a phone or an integrator would, through the
real routes, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from flask_babel import force_locale, gettext
from flask_migrate import upgrade
from sqlalchemy import text

from tests.databases import scratch_database
from tests.public.honey import honey_lot
from traceability import create_app
from traceability.batches.lineage import add_inputs
from traceability.batches.recalls import close_recall, recall_batch, recall_state
from traceability.core.config import TestConfig
from traceability.core.dates import VIETNAM_OFFSET
from traceability.core.errors import InvalidInput
from traceability.core.extensions import db as _db
from traceability.models.batches import Batch, Recall

SHOP = "https://sannongsan.example.vn/mat-ong"
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
)
HASRETAILERS = "https://gs1.org/voc/hasRetailers"
RECALL_STATUS = "https://gs1.org/voc/recallStatus"


def get(app, path: str, language: str = "vi", **headers: str):
    headers = {"User-Agent": PHONE, "Accept": "text/html", "Accept-Language": language, **headers}
    response = app.test_client().get(path, headers=headers)
    app.extensions["scan_buffer"].flush()
    return response


def page_of(app, path: str, language: str = "vi") -> str:
    response = get(app, path, language)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def tr(language: str, message: str, **values: str) -> str:
    with force_locale(language):
        return html.escape(gettext(message, **values))


def jsonld(page: str) -> dict:
    match = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.DOTALL)
    assert match
    return json.loads(match.group(1))


def linkset(app, path: str) -> dict:
    response = get(app, f"{path}?linkType=linkset")
    assert response.status_code == 200
    return response.get_json()["linkset"][0]


def vietnam_day(moment: datetime) -> str:
    return moment.astimezone(VIETNAM_OFFSET).strftime("%d/%m/%Y")


@pytest.fixture
def honey(make, db):
    """The honey lot with a shop, its centre's staff and a jar lot bottled from it."""
    lot = honey_lot(make, db, shop_links=[{"name": "Sàn nông sản Đắk Lắk", "url": SHOP, "price_vnd": 250000}])
    lot.staff = make.user("centre_staff", centre=lot.centre)
    # All the honey goes into the jars: the honey lot is used up (consumed).
    lot.jars = make.batch(lot.product, lot_code="HU-2611", quantity=Decimal("500"))
    add_inputs(
        lot.jars,
        [{"batch_id": lot.batch.id, "quantity": Decimal("500")}],
        kind="transformation",
        actor=lot.user,
    )
    db.session.commit()
    return lot


def _open_recall(honey, db) -> Recall:
    recall = recall_batch(honey.batch, "Phát hiện tồn dư kháng sinh", actor=honey.user)
    db.session.commit()
    return recall


# --- while the recall is open ----------------------------------------------------------------------


def test_before_a_recall_the_shop_is_offered(app, honey):
    page = page_of(app, honey.batch_path)
    assert SHOP in page and jsonld(page)["offers"]
    assert [link["href"] for link in linkset(app, honey.batch_path)[HASRETAILERS]] == [SHOP]
    response = get(app, f"{honey.batch_path}?linkType=gs1:hasRetailers")
    assert response.status_code == 307 and response.headers["Location"] == SHOP


@pytest.mark.parametrize("language", ["vi", "en"])
def test_an_open_recall_hides_every_shop_link(app, db, honey, language):
    _open_recall(honey, db)
    for path in (honey.batch_path, honey.item_path, f"/t/{honey.jars.public_code}"):
        page = page_of(app, path, language)
        assert SHOP not in page, path
        assert 'id="shops"' not in page
        assert "offers" not in jsonld(page)
        context = linkset(app, path)
        assert HASRETAILERS not in context and RECALL_STATUS in context
        # The retailer link has no target (GS1 resolver standard: 404), never the shop, and leads to the page.
        response = get(app, f"{path}?linkType=gs1:hasRetailers", language)
        assert response.status_code == 404 and "Location" not in response.headers
        assert html.unescape(tr(language, "Open the product's page")) in response.get_data(as_text=True)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_banner_gives_the_recall_date_and_the_centres_hotline(app, db, honey, language):
    recall = _open_recall(honey, db)
    page = page_of(app, honey.batch_path, language)
    banner = re.search(r'<section class="alert alert-danger recall-warning".*?</section>', page, re.DOTALL)
    assert banner
    assert tr(language, "Recalled on %(day)s.", day=vietnam_day(recall.opened_at)) in banner.group(0)
    assert 'href="tel:02623852123"' in banner.group(0) and "0262 3852 123" in banner.group(0)


# --- closing -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["vi", "en"])
def test_returned_to_sale_says_when_the_recall_ended_and_why_and_the_shops_come_back(
    app, db, honey, language
):
    recall = _open_recall(honey, db)
    page_of(app, honey.batch_path, language)  # the recalled page is in the page cache now
    close_recall(recall, "Kiểm nghiệm lại đạt QCVN 8-3:2012", "returned_to_sale", actor=honey.staff)
    db.session.commit()
    ended = tr(
        language,
        "The recall of %(start)s ended on %(end)s: %(note)s",
        start=vietnam_day(recall.opened_at),
        end=vietnam_day(recall.closed_at),
        note="Kiểm nghiệm lại đạt QCVN 8-3:2012",
    )
    for path in (honey.batch_path, f"/t/{honey.jars.public_code}"):
        page = page_of(app, path, language)
        assert ended in page, path
        assert tr(language, "Recalled: do not use this batch.") not in page
        assert SHOP in page and jsonld(page)["offers"]
        context = linkset(app, path)
        assert [link["href"] for link in context[HASRETAILERS]] == [SHOP]
        assert "Kiểm nghiệm lại đạt" in context[RECALL_STATUS][0]["title"]
        response = get(app, f"{path}?linkType=gs1:hasRetailers")
        assert response.status_code == 307 and response.headers["Location"] == SHOP
    # Every batch the recall reached is usable again, as one.
    db.session.expire_all()
    assert db.session.get(Batch, honey.batch.id).status == "consumed"  # all of it went into the jars
    assert db.session.get(Batch, honey.jars.id).status == "active"


@pytest.mark.parametrize("language", ["vi", "en"])
def test_withdrawn_keeps_saying_do_not_use(app, db, honey, language):
    recall = _open_recall(honey, db)
    close_recall(recall, "Đã thu hồi và tiêu huỷ toàn bộ lô", "withdrawn", actor=honey.staff)
    db.session.commit()
    for path in (honey.batch_path, f"/t/{honey.jars.public_code}"):
        page = page_of(app, path, language)
        assert tr(language, "Recalled: do not use this batch.") in page
        assert (
            tr(
                language,
                "The recall was closed on %(day)s: the lot is withdrawn for good.",
                day=vietnam_day(recall.closed_at),
            )
            in page
        )
        assert SHOP not in page and "offers" not in jsonld(page)
        assert HASRETAILERS not in linkset(app, path)
        assert get(app, f"{path}?linkType=gs1:hasRetailers").status_code == 404
    db.session.expire_all()
    assert {db.session.get(Batch, honey.batch.id).status, db.session.get(Batch, honey.jars.id).status} == {
        "recalled"
    }


def test_a_batch_another_recall_holds_stays_recalled(app, db, honey):
    """The jars have a recall of their own: the honey's return to sale does not clear it."""
    honey_recall = _open_recall(honey, db)
    jars_recall = recall_batch(honey.jars, "Nắp hũ không kín", actor=honey.user)
    close_recall(honey_recall, "Kiểm nghiệm lại đạt", "returned_to_sale", actor=honey.staff)
    db.session.commit()
    db.session.expire_all()
    assert db.session.get(Batch, honey.jars.id).status == "recalled"
    state = recall_state(db.session.get(Batch, honey.jars.id))
    assert state.recalled and [recall.id for recall in state.in_force] == [jars_recall.id]
    page = page_of(app, f"/t/{honey.jars.public_code}")
    assert "Nắp hũ không kín" in page and SHOP not in page
    assert "Kiểm nghiệm lại đạt" not in page  # an ended recall is not told while another holds the lot


def test_returning_to_sale_needs_a_reason_and_an_outcome(db, honey):
    recall = _open_recall(honey, db)
    with pytest.raises(InvalidInput) as caught:
        close_recall(recall, "  ", "returned_to_sale", actor=honey.staff)
    assert "note" in caught.value.fields
    with pytest.raises(InvalidInput) as caught:
        close_recall(recall, "Xong", "", actor=honey.staff)
    assert "outcome" in caught.value.fields
    assert recall.status == "open"


# --- the API -------------------------------------------------------------------------------------------


def test_the_api_closes_a_recall_with_its_outcome(api, db, honey):
    recall = _open_recall(honey, db)
    url = f"/recalls/{recall.id}/close"
    missing = api.post(url, honey.staff, json={"note": "Xong"})
    assert missing.status_code == 422
    assert "outcome" in missing.get_json()["error"]["fields"]
    wrong = api.post(url, honey.staff, json={"note": "Xong", "outcome": "closed"})
    assert wrong.status_code == 422 and "outcome" in wrong.get_json()["error"]["fields"]
    silent = api.post(url, honey.staff, json={"outcome": "returned_to_sale"})
    assert silent.status_code == 422 and "note" in silent.get_json()["error"]["fields"]
    assert api.post(url, honey.staff, data="not json", content_type="application/json").status_code == 400
    assert api.post(url, honey.user, json={"note": "Xong", "outcome": "withdrawn"}).status_code == 403
    closed = api.post(url, honey.staff, json={"note": "Kiểm nghiệm lại đạt", "outcome": "returned_to_sale"})
    assert closed.status_code == 200, closed.get_json()
    body = closed.get_json()
    assert (body["status"], body["outcome"], body["close_note"]) == (
        "closed",
        "returned_to_sale",
        "Kiểm nghiệm lại đạt",
    )
    assert body["closed_at"] is not None
    again = api.post(url, honey.staff, json={"note": "Lần nữa", "outcome": "withdrawn"})
    assert again.status_code == 409
    assert api.get(f"/recalls/{recall.id}", honey.staff).get_json()["outcome"] == "returned_to_sale"
    assert api.get(f"/batches/{honey.jars.id}", honey.staff).get_json()["status"] == "active"


def test_another_centre_cannot_see_the_recall(api, db, honey, make):
    recall = _open_recall(honey, db)
    other = make.user("centre_staff", centre=make.centre("40"))
    response = api.post(f"/recalls/{recall.id}/close", other, json={"note": "Xong", "outcome": "withdrawn"})
    assert response.status_code == 404


def test_the_openapi_document_describes_the_outcome(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/recalls/{recall_id}/close"]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    assert "outcome" in schema["required"]
    assert schema["properties"]["outcome"]["enum"] == ["returned_to_sale", "withdrawn"]


# --- the management pages ------------------------------------------------------------------------------


def test_the_centre_closes_a_recall_from_its_page(web, db, honey):
    recall = _open_recall(honey, db)
    web.login(honey.staff.email)
    url = f"/manage/recalls/{recall.id}"
    form = web.client.get(url).get_data(as_text=True)
    assert (
        'name="close-outcome"' in form and 'value="returned_to_sale"' in form and 'value="withdrawn"' in form
    )
    refused = web.post_form(url, {"close-note": "Kiểm nghiệm lại đạt"})
    assert refused.status_code == 422
    db.session.expire_all()
    assert db.session.get(Recall, recall.id).status == "open"
    done = web.post_form(url, {"close-note": "Kiểm nghiệm lại đạt", "close-outcome": "returned_to_sale"})
    assert done.status_code == 302
    db.session.expire_all()
    closed = db.session.get(Recall, recall.id)
    assert (closed.status, closed.outcome) == ("closed", "returned_to_sale")
    detail = web.client.get(url).get_data(as_text=True)
    assert tr("vi", "Returned to sale: the lots are safe to use") in detail
    assert 'name="close-outcome"' not in detail


def test_the_producer_cannot_close_it(web, db, honey):
    recall = _open_recall(honey, db)
    web.login(honey.user.email)
    url = f"/manage/recalls/{recall.id}"
    assert web.post_form(url, {"close-outcome": "withdrawn", "close-note": "Xong"}).status_code == 403
    assert web.post_form(url, {}).status_code == 403  # whatever the form holds


# --- the migration -------------------------------------------------------------------------------------


@pytest.fixture
def empty_database_url(database_url: str, tmp_path) -> Iterator[str]:
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
        return
    with scratch_database(database_url, f"recall_{uuid.uuid4().hex[:12]}") as url:
        yield url


def test_recalls_closed_before_the_outcome_stay_withdrawn(empty_database_url):
    """A recall closed before outcomes kept its lots recalled: it becomes ``withdrawn``, nothing turns safe."""

    class FreshConfig(TestConfig):
        DATABASE_URL = empty_database_url

    app = create_app(FreshConfig)
    now = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    with app.app_context():
        upgrade(revision="7a1c0b13d001")
        with _db.engine.begin() as connection:
            stamp = now.replace(tzinfo=None) if connection.dialect.name == "sqlite" else now
            connection.execute(
                text(
                    "INSERT INTO centre (id, province_code, name, address, phone, email, created_at) "
                    "VALUES (1, '66', 'Trung tâm Đắk Lắk', '', '', '', :now)"
                ),
                {"now": stamp},
            )
            connection.execute(
                text(
                    "INSERT INTO producer (id, centre_id, name, kind, province_code, ward, street, phone, email, "
                    "website, status, search_text, created_at, updated_at) VALUES (1, 1, 'HTX Ea Tu', "
                    "'cooperative', '66', '', '', '', '', '', 'approved', '', :now, :now)"
                ),
                {"now": stamp},
            )
            connection.execute(
                text(
                    "INSERT INTO product (id, producer_id, name, description, category, brand, standards, "
                    "is_flagship, shop_links, search_text, created_at, updated_at) VALUES (1, 1, 'Cà phê', '', "
                    "'', '', '', false, '[]', '', :now, :now)"
                ),
                {"now": stamp},
            )
            for batch_id in (1, 2):
                connection.execute(
                    text(
                        "INSERT INTO batch (id, product_id, lot_code, public_code, production_date, quantity, "
                        "unit, status, created_at) VALUES (:id, 1, :lot, :code, '2026-01-01', 5, 'KGM', "
                        "'recalled', :now)"
                    ),
                    {
                        "id": batch_id,
                        "lot": f"L{batch_id}",
                        "code": f"CODE{batch_id}AAAAAAAAAAAA",
                        "now": stamp,
                    },
                )
            connection.execute(
                text(
                    "INSERT INTO recall (id, batch_id, reason, status, opened_at, closed_at, close_note) VALUES "
                    "(1, 1, 'Mốc', 'closed', :now, :now, 'Đã thu hồi'), (2, 2, 'Nhãn sai', 'open', :now, NULL, NULL)"
                ),
                {"now": stamp},
            )
        upgrade()
        with _db.engine.connect() as connection:
            rows = connection.execute(text("SELECT id, status, outcome FROM recall ORDER BY id")).all()
        _db.engine.dispose()
    assert [tuple(row) for row in rows] == [(1, "closed", "withdrawn"), (2, "open", None)]
