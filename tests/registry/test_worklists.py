"""The centre staff's work lists: each section lists its centre's records, the ministry all."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event

from tests.conftest import WebHelper
from traceability.models.registry import Certification, ProductImage
from traceability.registry import worklists

TODAY = date.today()


def _certification(make_db, producer, *, number, status="pending", valid_to, product=None, document=True):
    certification = Certification(
        producer_id=producer.id,
        scope="product" if product else "producer",
        product_id=product.id if product else None,
        type="vietgap",
        number=number,
        issuer="Công ty Chứng nhận TQC",
        valid_from=TODAY - timedelta(days=700),
        valid_to=valid_to,
        status=status,
        document_filename=f"{number.lower()}.pdf" if document else None,
    )
    make_db.session.add(certification)
    make_db.session.flush()
    return certification


def _complete(db, product, n: int) -> None:
    """Give a product everything Art. 23.5 asks of it."""
    product.brand = "Ban Mê Xanh"
    product.description = "Cà phê Robusta rang mộc, trồng tại Đắk Lắk."
    product.standards = "TCVN 4193:2014"
    db.session.add(
        ProductImage(
            product_id=product.id,
            filename=f"image{n}.jpg",
            thumbnail_filename=f"thumb{n}.jpg",
            width=800,
            height=600,
            sha256="0" * 64,
        )
    )


@pytest.fixture
def lists(db, make, tenants):
    """In each province: a pending producer, certifications in every situation, OCOP and incomplete products."""
    records = {}
    for key, tag in (("daklak", "DL"), ("nghean", "NA")):
        t = tenants[key]
        r = records[key] = {}
        r["pending_producer"] = make.producer(t.centre, name=f"HTX chờ duyệt {tag}", status="pending")
        make.producer(t.centre, name=f"HTX đã từ chối {tag}", status="rejected")
        r["to_verify"] = _certification(
            db, t.producer, number=f"{tag}-CHO", valid_to=TODAY + timedelta(days=400)
        )
        r["expiring"] = _certification(
            db, t.producer, number=f"{tag}-SAP-HET", status="verified", valid_to=TODAY + timedelta(days=30)
        )
        _certification(
            db, t.producer, number=f"{tag}-CON-LAU", status="verified", valid_to=TODAY + timedelta(days=90)
        )
        _certification(
            db, t.producer, number=f"{tag}-DA-HET", status="verified", valid_to=TODAY - timedelta(days=1)
        )
        r["ocop"] = make.product(
            t.producer,
            name=f"Mật ong OCOP {tag}",
            ocop_group="food",
            ocop_stars=4,
            ocop_certificate_no=f"{tag}/QĐ-UBND",
            ocop_issued_on=TODAY - timedelta(days=1000),
            ocop_expires_on=TODAY + timedelta(days=20),
        )
        make.product(
            t.producer,
            name=f"Hồ tiêu OCOP {tag}",
            ocop_group="food",
            ocop_stars=3,
            ocop_issued_on=TODAY - timedelta(days=600),
            ocop_expires_on=TODAY + timedelta(days=300),
        )
        complete = make.product(t.producer, name=f"Cà phê đầy đủ {tag}")
        _complete(db, complete, 1 if key == "daklak" else 2)
        r["complete"] = complete
        r["no_brand"] = make.product(t.producer, name=f"Cà phê thiếu thương hiệu {tag}")
        _complete(db, r["no_brand"], 3 if key == "daklak" else 4)
        r["no_brand"].brand = ""
        no_ward = make.producer(t.centre, name=f"Hộ thiếu địa chỉ {tag}", ward="")
        r["no_address"] = make.product(no_ward, name=f"Chè thiếu địa chỉ {tag}")
        _complete(db, r["no_address"], 5 if key == "daklak" else 6)
    db.session.commit()
    return records


def _names(worklist) -> set[str]:
    return {getattr(item, "number", None) or getattr(item, "name", None) for item in worklist.items}


def test_each_list_holds_the_centres_records_only(tenants, lists):
    staff = tenants["daklak"].staff
    assert _names(worklists.pending_producers(staff)) == {"HTX chờ duyệt DL"}
    assert _names(worklists.certifications_to_verify(staff)) == {"DL-CHO"}
    assert _names(worklists.expiring_certifications(staff, today=TODAY)) == {"DL-SAP-HET"}
    assert _names(worklists.expiring_ocop_products(staff, today=TODAY)) == {"Mật ong OCOP DL"}
    incomplete = {entry.product.name: entry.missing for entry in worklists.incomplete_products(staff).items}
    assert "Cà phê đầy đủ DL" not in incomplete
    assert incomplete["Cà phê thiếu thương hiệu DL"] == ["brand"]
    assert incomplete["Chè thiếu địa chỉ DL"] == ["address"]
    # The tenant fixture's product has no image, brand, description or standards.
    assert incomplete[tenants["daklak"].product.name] == ["image", "standards", "brand", "description"]
    assert not any(name.endswith(" NA") for name in incomplete)


def test_the_ministry_sees_every_province(tenants, lists):
    ministry = tenants["ministry"]
    assert _names(worklists.pending_producers(ministry)) == {"HTX chờ duyệt DL", "HTX chờ duyệt NA"}
    assert _names(worklists.certifications_to_verify(ministry)) == {"DL-CHO", "NA-CHO"}
    assert _names(worklists.expiring_certifications(ministry)) == {"DL-SAP-HET", "NA-SAP-HET"}
    assert _names(worklists.expiring_ocop_products(ministry)) == {"Mật ong OCOP DL", "Mật ong OCOP NA"}


def test_counts_cover_the_whole_list_beyond_the_shown_rows(db, make, tenants):
    centre = tenants["daklak"].centre
    for n in range(5):
        make.producer(centre, name=f"HTX mới {n}", status="pending")
    db.session.commit()
    worklist = worklists.pending_producers(tenants["daklak"].staff, limit=2)
    assert len(worklist.items) == 2 and worklist.total == 5


def test_a_list_is_one_query_however_many_rows(app, db, make, tenants):
    statements: list[str] = []

    def count(*args, **kwargs):
        statements.append(args[2])

    staff = tenants["daklak"].staff
    for n in range(6):
        product = make.product(tenants["daklak"].producer, name=f"Sản phẩm {n}")
        _certification(db, tenants["daklak"].producer, number=f"N{n}", product=product, valid_to=TODAY)
    db.session.commit()
    db.session.expire_all()
    assert staff.role and staff.centre_id  # loaded before counting
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        to_verify = worklists.certifications_to_verify(staff)
        incomplete = worklists.incomplete_products(staff)
        for certification in to_verify.items:
            assert certification.product.name and certification.producer.name
        for entry in incomplete.items:
            assert entry.product.producer.name
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert to_verify.total == 6 and incomplete.total == 7
    assert len(statements) == 2


def test_worklist_page_shows_the_sections_with_counts_and_links(app, tenants, lists):
    browser = WebHelper(app.test_client())
    browser.login(tenants["daklak"].staff.email)
    response = browser.client.get("/manage/worklist", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    daklak = lists["daklak"]
    assert f'href="/manage/producers/{daklak["pending_producer"].id}"' in page
    assert f'href="/manage/certifications/{daklak["to_verify"].id}"' in page
    assert f'href="/manage/certifications/{daklak["expiring"].id}"' in page
    assert f'href="/manage/products/{daklak["ocop"].id}"' in page
    assert "Cà phê thiếu thương hiệu DL" in page and "brand" in page
    assert "Producers to approve: 1" in page
    assert "Certifications to verify: 1" in page
    assert "DL-CON-LAU" not in page and "DL-DA-HET" not in page
    assert " NA" not in page and "NA-" not in page


def test_worklist_page_for_the_ministry_and_the_auditor_but_not_producers(app, tenants, lists):
    ministry = WebHelper(app.test_client())
    ministry.login(tenants["ministry"].email)
    page = ministry.client.get("/manage/worklist").get_data(as_text=True)
    assert "HTX chờ duyệt DL" in page and "HTX chờ duyệt NA" in page
    auditor = WebHelper(app.test_client())
    auditor.login(tenants["nghean"].auditor.email)
    page = auditor.client.get("/manage/worklist").get_data(as_text=True)
    assert "NA-CHO" in page and "DL-CHO" not in page
    producer = WebHelper(app.test_client())
    producer.login(tenants["daklak"].producer_user.email)
    assert producer.client.get("/manage/worklist").status_code == 403


def test_empty_worklist_says_there_is_nothing_to_do(app, db, make):
    centre = make.centre("01")
    staff = make.user("centre_staff", centre=centre)
    db.session.commit()
    browser = WebHelper(app.test_client())
    browser.login(staff.email)
    page = browser.client.get("/manage/worklist", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "No producer is waiting for approval." in page
    assert "No certification is waiting for verification." in page
