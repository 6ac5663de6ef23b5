"""The seed-demo command: realistic, consistent, idempotent demo data and working logins."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from traceability.batches.recalls import recalls_affecting
from traceability.batches.service import quantity_remaining
from traceability.demo.loader import DEMO_PASSWORD, MINISTRY_EMAIL, demo_logins
from traceability.gs1 import is_valid_ai_value, is_valid_gln, is_valid_gtin
from traceability.models.accounts import User
from traceability.models.audit import AuditEntry
from traceability.models.batches import Batch, BatchInput, TraceEvent
from traceability.models.registry import Centre, Certification, Location, Producer, Product
from traceability.registry.claims import is_claim

MODELS = (Centre, Producer, Location, Product, Certification, Batch, TraceEvent, BatchInput, User, AuditEntry)
LOGIN_ROW = re.compile(
    r"^\s+(\S+@demo\.vn)\s+(\S+)\s+(ministry|centre_admin|centre_staff|auditor|producer)\s"
)


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _seed(runner) -> str:
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result.output


def _mst_is_valid(tax_code: str) -> bool:
    weights = (31, 29, 23, 19, 17, 13, 7, 5, 3)
    remainder = sum(weight * int(digit) for weight, digit in zip(weights, tax_code, strict=False)) % 11
    return remainder != 0 and tax_code[9] == str(10 - remainder)


@pytest.fixture
def seeded(runner) -> str:
    return _seed(runner)


def test_prints_every_login_with_the_shared_password(seeded):
    printed = {
        match.group(1): (match.group(2), match.group(3))
        for line in seeded.splitlines()
        if (match := LOGIN_ROW.match(line))
    }
    assert printed == {email: (DEMO_PASSWORD, role) for email, role in demo_logins()}
    assert "Demo data loaded" in seeded
    for email in (MINISTRY_EMAIL, "daklak.admin@demo.vn", "htx.caphe@demo.vn"):
        assert email in seeded


def test_users_cover_every_role(db, seeded):
    roles = db.session.execute(select(User.role, func.count()).group_by(User.role)).all()
    by_role = dict(roles)
    centres = _count(db, Centre)
    assert by_role["ministry"] == 1
    assert by_role["centre_admin"] == by_role["centre_staff"] == by_role["auditor"] == centres
    assert by_role["producer"] >= 5


def test_centres_span_several_provinces(db, seeded):
    centres = db.session.scalars(select(Centre)).all()
    assert len({centre.province_code for centre in centres}) >= 4
    assert all(centre.name.startswith("Trung tâm") and centre.phone and centre.email for centre in centres)


def test_producers_of_every_kind_mostly_approved(db, seeded):
    producers = db.session.scalars(select(Producer)).all()
    assert len(producers) >= 10
    assert {producer.kind for producer in producers} == {"enterprise", "cooperative", "household"}
    statuses = [producer.status for producer in producers]
    assert statuses.count("pending") == 1
    rejected = [producer for producer in producers if producer.status == "rejected"]
    assert len(rejected) == 1 and rejected[0].status_reason  # the reason the producer reads
    assert statuses.count("approved") == len(producers) - 2
    assert any(p.kind == "household" and p.tax_code is None for p in producers)
    for producer in producers:
        assert producer.ward and producer.street
        assert producer.tax_code is None or _mst_is_valid(producer.tax_code), producer.tax_code


def test_products_ocop_flagship_and_valid_gtins(db, seeded):
    products = db.session.scalars(select(Product)).all()
    assert len(products) >= 20
    ocop = [product for product in products if product.ocop_stars]
    assert len(ocop) >= 10
    assert 1 <= sum(product.ocop_stars == 5 for product in ocop) <= 3
    assert {"food", "beverage", "herbal", "handicraft"} <= {product.ocop_group for product in ocop}
    for product in ocop:
        assert product.ocop_certificate_no and product.ocop_issued_on < product.ocop_expires_on
        assert product.ocop_expires_on > date(2026, 11, 22)  # still valid today
    assert sum(product.is_flagship for product in products) >= 8

    with_gtin = [product.gtin for product in products if product.gtin]
    assert 5 <= len(with_gtin) < len(products)
    assert all(gtin.startswith("0893") and is_valid_gtin(gtin) for gtin in with_gtin)
    for product in products:
        assert all(link["url"].startswith("https://") and link["name"] for link in product.shop_links)
    assert any("TCVN 5107:2018" in product.standards for product in products)


def test_demo_claims_are_verified_by_the_centres_but_one_left_for_the_work_list(db, seeded):
    """The demo's OCOP ratings and flagship designations went through the centres' verification."""
    claims = [c for c in db.session.scalars(select(Certification)) if is_claim(c)]
    verified = [c for c in claims if c.status == "verified"]
    assert len(verified) >= 18
    deciders = [db.session.get(User, c.verified_by_id) for c in verified]
    assert all(user.role == "centre_staff" for user in deciders)
    assert all(user.centre_id == c.producer.centre_id for user, c in zip(deciders, verified, strict=True))
    assert all(c.document_filename for c in verified if c.type == "ocop")
    declared = [c for c in claims if c.status == "pending"]
    assert declared and {c.product.name for c in declared} == {
        db.session.get(Product, declared[0].product_id).name
    }
    waiting = declared[0].product
    assert waiting.ocop_stars is None and not waiting.is_flagship  # nothing public before the centre acts


def test_locations_have_valid_glns_and_coordinates(db, seeded):
    locations = db.session.scalars(select(Location)).all()
    glns = [location.gln for location in locations if location.gln]
    assert len(glns) >= 5
    assert all(is_valid_gln(gln) for gln in glns)
    assert {location.kind for location in locations} == {"farm", "facility", "warehouse"}
    assert all(location.latitude is not None and location.longitude is not None for location in locations)


def test_certifications_verified_pending_and_expired(db, seeded):
    certifications = [c for c in db.session.scalars(select(Certification)) if not is_claim(c)]
    statuses = {certification.status for certification in certifications}
    assert statuses == {"verified", "pending"}
    today = date(2026, 11, 22)
    expired = [c for c in certifications if c.status == "verified" and not c.is_valid_on(today)]
    assert len(expired) == 1
    assert {c.scope for c in certifications} == {"producer", "location", "product"}
    assert all(c.verified_by_id is not None for c in certifications if c.status == "verified")


def test_batches_have_events_and_gs1_lot_codes(db, seeded):
    batches = db.session.scalars(select(Batch)).all()
    assert len(batches) >= 10
    for batch in batches:
        assert len(batch.events) >= 2, batch.lot_code
        if batch.product.gtin:
            assert is_valid_ai_value(batch.lot_code), batch.lot_code
        for event in batch.events:
            assert event.time_zone_offset == "+07:00"
            assert event.event_time <= datetime.now(UTC)  # none in the future, whatever day it runs
    assert {event.type for batch in batches for event in batch.events} >= {
        "growing",
        "harvesting",
        "processing",
        "packing",
        "shipping",
        "inspecting",
    }


def test_lineage_chain_of_depth_two_within_quantities(db, seeded):
    links = db.session.scalars(select(BatchInput)).all()
    outputs_of = {link.input_batch_id: link.output_batch_id for link in links}
    # green coffee -> roasted coffee -> ground coffee: an input whose output is itself an input.
    assert any(output in outputs_of for output in outputs_of.values())
    for link in links:
        assert link.kind == "transformation"
        assert quantity_remaining(link.input_batch) >= 0
    chain = db.session.scalar(select(Batch).where(Batch.lot_code == "BOT2603A"))
    roasted = db.session.scalar(select(BatchInput).where(BatchInput.output_batch_id == chain.id)).input_batch
    green = db.session.scalar(select(BatchInput).where(BatchInput.output_batch_id == roasted.id)).input_batch
    assert (roasted.lot_code, green.lot_code) == ("RM2603", "NHAN-HP-2601")


def test_certificates_carry_documents_and_one_expires_soon(app, db, seeded):
    # A flagship designation is the province's own decision: it needs no scanned document.
    certifications = [c for c in db.session.scalars(select(Certification)) if c.type != "flagship"]
    assert all(c.document_sha256 and c.document_filename for c in certifications)
    today = date.today()
    assert any(
        c.status == "verified" and c.valid_to and today < c.valid_to <= today + timedelta(days=60)
        for c in certifications
    )


def test_a_recalled_lot_reaches_the_batch_made_from_it(db, seeded):
    recalled = db.session.scalar(select(Batch).where(Batch.lot_code == "VT-PS-2606"))
    dried = db.session.scalar(select(Batch).where(Batch.lot_code == "VS2606"))
    assert recalled.status == "recalled"
    assert [recall.batch_id for recall in recalls_affecting(dried)] == [recalled.id]


def test_everything_is_in_the_audit_log(db, seeded):
    audited = dict(
        db.session.execute(
            select(AuditEntry.object_type, func.count())
            .where(AuditEntry.action == "create")
            .group_by(AuditEntry.object_type)
        ).all()
    )
    for model in (Centre, Producer, Location, Product, Certification, Batch, TraceEvent, BatchInput, User):
        assert audited[model.__name__] == _count(db, model), model.__name__


def test_running_twice_changes_nothing(db, runner, seeded):
    before = {model.__name__: _count(db, model) for model in MODELS}
    again = _seed(runner)
    db.session.expire_all()
    assert {model.__name__: _count(db, model) for model in MODELS} == before
    assert "already loaded" in again
    assert "daklak.admin@demo.vn" in again


def test_a_printed_login_gets_an_api_token(client, seeded):
    rows = [match for line in seeded.splitlines() if (match := LOGIN_ROW.match(line))]
    for email, password, _role in (rows[0].groups(), rows[-1].groups()):
        response = client.post("/api/v1/tokens", json={"email": email, "password": password})
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["token"]


def test_the_printed_sample_url_opens_the_consumer_page(app, client, seeded):
    urls = [line.rsplit(": ", 1)[1] for line in seeded.splitlines() if app.config["PUBLIC_BASE_URL"] in line]
    assert any("/01/0893" in url and url.endswith("/10/BOT2603A") for url in urls)
    assert any("/t/" in url for url in urls)
    for url in urls:
        response = client.get(urlsplit(url).path)
        assert response.status_code == 200, url
        assert "Hòa Phú" in response.get_data(as_text=True)


def test_reuses_a_centre_created_before(db, make, runner):
    existing = make.centre("66", name="Trung tâm Ứng dụng KH&CN Đắk Lắk")
    db.session.commit()
    _seed(runner)
    centres = db.session.scalars(select(Centre).where(Centre.province_code == "66")).all()
    assert [centre.id for centre in centres] == [existing.id]
    assert (
        db.session.scalar(select(func.count()).select_from(Producer).where(Producer.centre_id == existing.id))
        == 3
    )
