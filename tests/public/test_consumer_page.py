"""The consumer page behind a QR code: what it shows, in both languages, to anyone who scans it.

Every test opens the public URLs as a phone would, signed out, through the
real routes (resolver, page cache) on SQLite and PostgreSQL.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from flask_babel import force_locale, gettext, ngettext
from sqlalchemy import select

from tests.public.honey import (
    CENTRE_NAME,
    GTIN14,
    LOT,
    PRODUCER_NAME,
    PRODUCT_NAME,
    PRODUCT_NAME_EN,
    SERIAL,
    honey_lot,
)
from traceability.batches.lineage import add_inputs
from traceability.batches.recalls import recall_batch
from traceability.core import dates as dates_module
from traceability.core.dates import vietnam_today
from traceability.models.public import Scan

BASE = "https://trace.example.vn"
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
)
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def tr(language: str, message: str, **values) -> str:
    """A message as the page shows it in ``language`` (HTML-escaped)."""
    with force_locale(language):
        return html.escape(gettext(message, **values))


def get(app, path: str, language: str | None = None, client=None, **headers: str):
    headers.setdefault("User-Agent", PHONE)
    headers.setdefault("Accept", BROWSER_ACCEPT)
    if language:
        headers.setdefault("Accept-Language", language)
    return (client or app.test_client()).get(path, headers=headers)


def page_of(app, path: str, language: str | None = None) -> str:
    response = get(app, path, language)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def recall_section(page: str) -> str:
    match = re.search(
        r'<section class="alert alert-danger recall-warning"[^>]*>(.*?)</section>', page, re.DOTALL
    )
    return match.group(1) if match else ""


@pytest.fixture
def honey(make, db):
    """The honey lot (``tests.public.honey``): shop links, a centre's staff, certificates in every state."""
    lot = honey_lot(
        make,
        db,
        shop_links=[
            {"name": "Sàn nông sản Đắk Lắk", "url": "https://sannongsan.example.vn/mat-ong"},
            {"name": "Đường dẫn hỏng", "url": "javascript:alert(1)"},
        ],
    )
    lot.staff = make.user("centre_staff", centre=lot.centre)
    lot.certificates = {
        key: make.certification(
            subject,
            type="vietgap" if subject is lot.product else "organic",
            number=f"CERT-{key.upper()}-01",
            issuer="Trung tâm Chứng nhận Phù hợp QUACERT",
            valid_from=lot.today - timedelta(days=400),
            valid_to=valid_to,
            status=status,
        )
        for key, status, subject, valid_to in (
            ("valid", "verified", lot.product, lot.today + timedelta(days=300)),
            ("farm", "verified", lot.farm, None),
            ("expired", "verified", lot.product, lot.today - timedelta(days=1)),
            ("pending", "pending", lot.product, lot.today + timedelta(days=300)),
            ("rejected", "rejected", lot.product, lot.today + timedelta(days=300)),
        )
    }
    db.session.commit()
    return lot


# --- what the page shows -------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_decree_37_facts_come_first_in_the_readers_language(app, honey, language):
    page = page_of(app, honey.batch_path, language)
    assert f'<html lang="{language}">' in page
    name = PRODUCT_NAME_EN if language == "en" else PRODUCT_NAME
    assert f'<h1 class="product-name">{html.escape(name)}</h1>' in page
    # Art. 23.7: name, image, producer and address, origin, lot, dates; Art. 23.5: brand, standards.
    facts = [
        f'src="/media/{honey.image.thumbnail_filename}"',
        tr(language, "Producer"),
        html.escape(PRODUCER_NAME),
        tr(language, "Address"),
        html.escape(honey.producer.address_line),
        tr(language, "Origin"),
        html.escape(f"Trại ong Phú Lộc, {honey.farm.address_line}"),
        tr(language, "Lot code"),
        f'class="lot-code">{LOT}<',
        tr(language, "Production date"),
        (honey.today - timedelta(days=20)).strftime("%d/%m/%Y"),
        tr(language, "Expiry date"),
        (honey.today + timedelta(days=500)).strftime("%d/%m/%Y"),
        html.escape("Krông Năng Honey"),
        "TCVN 12605:2019",
    ]
    positions = [page.find(fact) for fact in facts]
    assert -1 not in positions, [fact for fact, at in zip(facts, positions, strict=True) if at == -1]
    # Above the fold: before every other section of the page.
    assert max(positions) < page.find('<section class="consumer-section')
    for heading in ("Certifications", "What happened to this batch", "Where to buy", "Verified by"):
        assert f">{tr(language, heading)}</h2>" in page


def test_the_main_image_is_its_lazy_thumbnail_with_its_size(app, honey):
    page = page_of(app, honey.batch_path)
    image = re.search(r'<img src="/media/' + honey.image.thumbnail_filename + r'"[^>]*>', page).group(0)
    assert 'loading="lazy"' in image and 'width="400" height="300"' in image
    assert f'alt="{html.escape(PRODUCT_NAME)}"' in image
    # The full-size image only for sharing (OpenGraph, JSON-LD), never loaded by the page.
    body = re.sub(r"<meta[^>]*>|<script.*?</script>", "", page, flags=re.DOTALL)
    assert f"/media/{honey.image.filename}" not in body
    with app.test_client().get(f"/media/{honey.image.thumbnail_filename}") as response:
        assert response.status_code == 200


def test_the_language_switch_is_a_link_back_to_the_same_page(app, honey):
    client = app.test_client()
    page = get(app, honey.batch_path, client=client).get_data(as_text=True)
    link = html.unescape(re.search(r'<a class="lang-switch" href="([^"]+)"', page).group(1))
    assert urlsplit(link).path == "/lang/en/page" and "csrf_token" not in page
    switched = client.get(link)
    assert switched.status_code == 302 and switched.headers["Location"] == honey.batch_path
    english = get(app, honey.batch_path, client=client).get_data(as_text=True)
    assert '<html lang="en">' in english and html.escape(PRODUCT_NAME_EN) in english
    back = html.unescape(re.search(r'<a class="lang-switch" href="([^"]+)"', english).group(1))
    client.get(back)
    assert '<html lang="vi">' in get(app, honey.batch_path, client=client).get_data(as_text=True)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example/"])
def test_the_language_switch_never_leaves_the_site(app, target):
    response = app.test_client().get("/lang/en/page", query_string={"next": target})
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_a_lot_code_with_a_slash_keeps_its_page_across_the_switch(app, make, db, honey):
    make.batch(honey.product, lot_code="MO/26")
    db.session.commit()
    path = f"/01/{GTIN14}/10/MO%2F26"
    page = page_of(app, path)
    link = html.unescape(re.search(r'<a class="lang-switch" href="([^"]+)"', page).group(1))
    client = app.test_client()
    assert client.get(link).headers["Location"] == path
    assert get(app, path, client=client).status_code == 200


def test_the_page_is_the_same_for_every_reader(app, web, honey):
    anonymous = page_of(app, honey.batch_path)
    web.login(honey.staff.email)
    signed_in = web.client.get(honey.batch_path, headers={"User-Agent": PHONE}).get_data(as_text=True)
    assert signed_in == anonymous
    assert "csrf_token" not in anonymous and "/logout" not in anonymous


# --- warnings ------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_recall_of_the_lot_itself_shows_a_red_warning_at_the_top(app, db, honey, language):
    assert 'id="recall"' not in page_of(app, honey.batch_path)
    recall_batch(honey.batch, "Phát hiện tồn dư kháng sinh", actor=honey.user)
    db.session.commit()
    page = page_of(app, honey.batch_path, language)
    warning = recall_section(page)
    assert tr(language, "Recalled: do not use this batch.") in warning
    assert "Phát hiện tồn dư kháng sinh" in warning
    assert tr(language, "Stop using it and take it back to where you bought it.") in warning
    assert page.find('id="recall"') < page.find('<h1 class="product-name">')


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_recall_of_an_input_lot_shows_on_the_product_made_from_it(app, make, db, honey, language):
    supplier = make.producer(honey.centre, name="Trại ong Ea Tu")
    supplier_user = make.user("producer", producer=supplier)
    raw = make.product(supplier, name="Mật ong thô")
    raw_lot = make.batch(raw, lot_code="THO-01", production_date=honey.today - timedelta(days=40))
    db.session.commit()
    add_inputs(
        honey.batch,
        [{"batch_id": raw_lot.id, "quantity": Decimal("50")}],
        kind="transformation",
        actor=honey.staff,
    )
    db.session.commit()
    recall_batch(raw_lot, "Nhiễm nấm men", actor=supplier_user)
    db.session.commit()
    for path in (honey.batch_path, honey.item_path):
        warning = recall_section(page_of(app, path, language))
        assert tr(language, "Recalled: do not use this batch.") in warning
        expected = tr(
            language,
            "It was made from a lot that is recalled: %(product)s, lot %(lot)s.",
            product="Mật ong thô",
            lot="THO-01",
        )
        assert expected in warning and "Nhiễm nấm men" in warning


class FrozenDateTime(datetime):
    """``datetime.now`` at a fixed instant: 20:00 UTC, already the next day in Vietnam."""

    instant = datetime(2026, 11, 22, 20, 0, tzinfo=UTC)

    @classmethod
    def now(cls, tz=None):
        return cls.instant.astimezone(tz) if tz else cls.instant.replace(tzinfo=None)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_expired_notice_follows_vietnams_date_not_the_servers(
    app, make, db, honey, monkeypatch, language
):
    vietnam_day = date(2026, 11, 23)  # 03:00 in Vietnam, 22 November at the server
    yesterday = make.batch(honey.product, production_date=date(2026, 11, 1), expiry_date=date(2026, 11, 22))
    today = make.batch(honey.product, production_date=date(2026, 11, 1), expiry_date=vietnam_day)
    db.session.commit()
    monkeypatch.setattr(dates_module, "datetime", FrozenDateTime)  # where vietnam_today reads the clock
    assert vietnam_today() == vietnam_day
    expired = page_of(app, f"/t/{yesterday.public_code}", language)
    notice = tr(language, "This batch passed its expiry date on %(day)s.", day="22/11/2026")
    assert notice in expired and 'class="expiry-date expired"' in expired
    assert "expired-notice" not in page_of(app, f"/t/{today.public_code}", language)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_suspended_producer_is_said(app, db, honey, language):
    notice = tr(language, "This producer is currently suspended by the provincial centre.")
    assert notice not in page_of(app, honey.batch_path, language)
    honey.producer.status = "suspended"
    db.session.commit()
    assert notice in page_of(app, honey.batch_path, language)


# --- OCOP and certifications ---------------------------------------------------------------------


@pytest.mark.parametrize("language", ["vi", "en"])
def test_ocop_stars_in_force_with_their_certificate(app, honey, language):
    page = page_of(app, honey.batch_path, language)
    ocop = re.search(
        r'<section class="consumer-section ocop-certificate" id="ocop">(.*?)</section>', page, re.DOTALL
    ).group(1)
    assert "OCOP ★★★★" in ocop and tr(language, "Province level") in ocop
    assert tr(language, "Certificate No. %(number)s", number="OCOP-DL-2025-117") in ocop
    until = (honey.today + timedelta(days=400)).strftime("%d/%m/%Y")
    assert tr(language, "valid until %(day)s", day=until) in ocop
    assert page.find("★★★★") < page.find('class="facts"')  # next to the name, above the fold


@pytest.mark.parametrize("language", ["vi", "en"])
def test_expired_ocop_stars_are_shown_expired_never_valid(app, db, honey, language):
    honey.product.ocop_issued_on = honey.today - timedelta(days=1200)
    honey.product.ocop_expires_on = honey.today - timedelta(days=1)
    db.session.commit()
    page = page_of(app, honey.batch_path, language)
    day = (honey.today - timedelta(days=1)).strftime("%d/%m/%Y")
    expected = tr(
        language,
        "The OCOP certificate of this product expired on %(day)s: its stars are no longer in force.",
        day=day,
    )
    assert expected in page
    assert "★" not in page and "valid until" not in page
    assert "OCOP-DL-2025-117" not in page


def test_stars_without_certificate_dates_are_not_in_force(app, db, honey):
    honey.product.ocop_issued_on = honey.product.ocop_expires_on = None
    db.session.commit()
    page = page_of(app, honey.batch_path, "en")
    assert "The OCOP certificate of this product is not in force." in page and "★" not in page


@pytest.mark.parametrize("language", ["vi", "en"])
def test_only_verified_certificates_in_force_are_shown_each_with_issuer_number_validity(app, honey, language):
    page = page_of(app, honey.batch_path, language)
    valid, farm = honey.certificates["valid"], honey.certificates["farm"]
    entry = re.search(rf'<li id="certification-{valid.id}">(.*?)</li>', page, re.DOTALL).group(1)
    assert "CERT-VALID-01" in entry and html.escape("Trung tâm Chứng nhận Phù hợp QUACERT") in entry
    start, end = (
        (honey.today - timedelta(days=400)).strftime("%d/%m/%Y"),
        (honey.today + timedelta(days=300)).strftime("%d/%m/%Y"),
    )
    assert tr(language, "valid from %(start)s until %(end)s", start=start, end=end) in entry
    assert tr(language, "verified by the centre") in entry
    farm_entry = re.search(rf'<li id="certification-{farm.id}">(.*?)</li>', page, re.DOTALL).group(1)
    assert "CERT-FARM-01" in farm_entry and html.escape("Trại ong Phú Lộc") in farm_entry
    for hidden in ("CERT-EXPIRED-01", "CERT-PENDING-01", "CERT-REJECTED-01"):
        assert hidden not in page


def test_without_a_certificate_in_force_the_page_says_so(app, db, honey):
    for certification in honey.certificates.values():
        certification.status = "pending"
    db.session.commit()
    page = page_of(app, honey.batch_path, "en")
    assert (
        "No certificate verified by the centre is in force." in page
        and "verified by the centre</span>" not in page
    )


# --- timeline, shops, centre ---------------------------------------------------------------------


def test_the_timeline_says_what_where_when_who_with_a_lazy_photo(app, honey):
    page = page_of(app, honey.batch_path, "en")
    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', page, re.DOTALL).group(1)
    assert "Harvesting" in timeline
    assert html.escape("Trại ong Phú Lộc, Đắk Lắk") in timeline
    assert (honey.today - timedelta(days=21)).strftime("%d/%m/%Y 07:00") in timeline
    assert html.escape(f"by {PRODUCER_NAME}") in timeline and honey.user.name not in timeline
    assert html.escape("Quay mật tại trại") in timeline
    photo = re.search(r"<img[^>]*event-photo[^>]*>", timeline).group(0)
    assert f'src="/media/{honey.harvest.photo_thumbnail_filename}"' in photo
    assert 'loading="lazy"' in photo and 'width="160"' in photo and 'height="120"' in photo
    assert f'href="/media/{honey.harvest.photo_filename}"' in timeline
    client = app.test_client()
    for name in (honey.harvest.photo_thumbnail_filename, honey.harvest.photo_filename):
        with client.get(f"/media/{name}") as response:
            assert response.status_code == 200 and response.mimetype.startswith("image/")


def test_shop_links_are_external_links_without_referrer_power(app, honey):
    page = page_of(app, honey.batch_path, "en")
    shops = re.search(r'id="shops">(.*?)</section>', page, re.DOTALL).group(1)
    assert (
        f'<a href="https://sannongsan.example.vn/mat-ong" rel="nofollow noopener">{html.escape("Sàn nông sản Đắk Lắk")}</a>'
        in shops
    )
    assert "javascript:" not in page


def test_no_shop_section_without_shop_links(app, db, honey):
    honey.product.shop_links = []
    db.session.commit()
    assert 'id="shops"' not in page_of(app, honey.batch_path)


def test_verified_by_the_centre_with_its_contact(app, honey):
    page = page_of(app, honey.batch_path, "en")
    section = re.search(r'id="verified-by">(.*?)</section>', page, re.DOTALL).group(1)
    assert "Verified by" in section and html.escape(CENTRE_NAME) in section
    assert html.escape("15 Lê Duẩn, Phường Buôn Ma Thuột, Đắk Lắk") in section
    assert '<a href="tel:02623852123">0262 3852 123</a>' in section
    assert '<a href="mailto:ttudkhcn@daklak.gov.vn">ttudkhcn@daklak.gov.vn</a>' in section


# --- a serialised item: scans and a copied code --------------------------------------------------


def add_scans(db, item, moments_and_devices):
    for moment, device in moments_and_devices:
        db.session.add(
            Scan(
                batch_id=item.batch_id, item_id=item.id, scanned_at=moment, language="vi", device_class=device
            )
        )
    db.session.commit()


@pytest.mark.parametrize("language", ["vi", "en"])
def test_an_item_shows_its_scans_and_no_warning_for_one_buyer(app, db, honey, language):
    first = datetime(2026, 11, 20, 3, 15, tzinfo=UTC)
    add_scans(db, honey.item, [(first, "mobile"), (first + timedelta(minutes=2), "mobile")])
    page = page_of(app, honey.item_path, language)
    with force_locale(language):
        expected = ngettext(
            "This code was scanned %(num)d time before, first on %(first)s.",
            "This code was scanned %(num)d times before, first on %(first)s.",
            2,
            first="20/11/2026 10:15",
        )
    assert html.escape(expected) in page
    assert 'id="copied-code"' not in page


@pytest.mark.parametrize("language", ["vi", "en"])
def test_many_scans_of_one_serial_warn_of_a_copied_code(app, db, honey, monkeypatch, language):
    monkeypatch.setitem(app.config, "COPIED_CODE_SCANS", 5)
    start = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    add_scans(db, honey.item, [(start + timedelta(hours=n), "mobile") for n in range(4)])
    assert 'id="copied-code"' not in page_of(app, honey.item_path, language)
    add_scans(db, honey.item, [(start + timedelta(hours=5), "mobile")])
    page = page_of(app, honey.item_path, language)
    assert 'id="copied-code"' in page
    warning = re.search(r'id="copied-code">(.*?)</section>', page, re.DOTALL).group(1)
    assert tr(language, "Warning: this code may have been copied") in warning
    with force_locale(language):
        many = ngettext("It has been scanned %(num)d time.", "It has been scanned %(num)d times.", 5)
    assert html.escape(many) in warning
    assert f'href="/report/{honey.item.public_code}"' in warning
    assert page.find('id="copied-code"') < page.find('<h1 class="product-name">')


def test_scans_on_many_days_warn_of_a_copied_code(app, db, honey):
    start = datetime(2026, 11, 1, 3, 0, tzinfo=UTC)
    add_scans(db, honey.item, [(start + timedelta(days=n), "mobile") for n in range(7)])
    page = page_of(app, honey.item_path, "en")
    assert "It has been scanned on many different days." in page


def test_two_kinds_of_device_within_minutes_warn_of_a_copied_code(app, db, honey):
    start = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    add_scans(db, honey.item, [(start, "mobile"), (start + timedelta(minutes=4), "desktop")])
    page = page_of(app, honey.item_path, "en")
    assert "It was scanned on different kinds of device within a few minutes." in page


def test_the_lot_page_never_warns_of_a_copied_code(app, db, honey, monkeypatch):
    monkeypatch.setitem(app.config, "COPIED_CODE_SCANS", 1)
    add_scans(db, honey.item, [(datetime(2026, 11, 20, 3, tzinfo=UTC), "mobile")] * 3)
    assert 'id="copied-code"' not in page_of(app, honey.batch_path)


# --- machine-readable ----------------------------------------------------------------------------


def jsonld_of(page: str) -> dict:
    [block] = re.findall(r'<script type="application/ld\+json">(.*?)</script>', page, re.DOTALL)
    return json.loads(block)


def test_json_ld_describes_the_lot_as_some_products_with_its_maker_and_certificates(app, honey):
    document = jsonld_of(page_of(app, honey.batch_path))
    assert document["@context"] == "https://schema.org" and document["@type"] == "SomeProducts"
    assert document["@id"] == f"{BASE}{honey.batch_path}" and document["gtin14"] == GTIN14
    assert document["name"] == PRODUCT_NAME and document["alternateName"] == PRODUCT_NAME_EN
    assert document["image"] == [f"{BASE}/media/{honey.image.filename}"]
    assert document["productionDate"] == (honey.today - timedelta(days=20)).isoformat()
    maker = document["manufacturer"]
    assert maker["@type"] == "Organization" and maker["name"] == PRODUCER_NAME
    assert maker["address"] == {
        "@type": "PostalAddress",
        "streetAddress": "Thôn 5",
        "addressLocality": "Xã Phú Lộc",
        "addressRegion": "Đắk Lắk",
        "addressCountry": "VN",
    }
    numbers = [c.get("certificationIdentification") for c in document["hasCertification"]]
    assert numbers[0] == "OCOP-DL-2025-117" and sorted(numbers[1:]) == ["CERT-FARM-01", "CERT-VALID-01"]
    assert all(c["@type"] == "Certification" for c in document["hasCertification"])
    assert "offers" not in document  # no shop gives a price


def test_json_ld_of_an_item_is_an_individual_product_with_its_serial(app, honey):
    document = jsonld_of(page_of(app, honey.item_path))
    assert document["@type"] == "IndividualProduct" and document["serialNumber"] == SERIAL
    assert document["@id"] == f"{BASE}{honey.item_path}"


def test_json_ld_offers_the_shops_that_give_a_price(app, db, honey):
    honey.product.shop_links = [
        {"name": "Sàn nông sản Đắk Lắk", "url": "https://sannongsan.example.vn/mat-ong", "price_vnd": 185000},
        {"name": "Cửa hàng HTX", "url": "https://htx.example.vn/"},
    ]
    db.session.commit()
    page = page_of(app, honey.batch_path)
    assert "185.000 ₫</span>" in page  # the shop's price, written as Vietnamese write it
    document = jsonld_of(page)
    assert document["offers"] == [
        {
            "@type": "Offer",
            "url": "https://sannongsan.example.vn/mat-ong",
            "price": "185000",
            "priceCurrency": "VND",
            "seller": {"@type": "Organization", "name": "Sàn nông sản Đắk Lắk"},
        }
    ]


def test_the_json_ld_block_is_allowed_by_the_policy_and_escaped(app, db, honey):
    honey.product.description = "</script><script>alert(1)</script>"
    db.session.commit()
    response = get(app, honey.batch_path)
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    page = response.get_data(as_text=True)
    assert "<script>alert(1)" not in page
    assert jsonld_of(page)["description"] == "</script><script>alert(1)</script>"
    # Every <script> on the page is a data block, which browsers never run.
    assert re.findall(r"<script\b[^>]*>", page) == ['<script type="application/ld+json">']


def meta(page: str, name: str) -> str:
    return html.unescape(re.search(rf'<meta property="{name}" content="([^"]*)">', page).group(1))


@pytest.mark.parametrize("language", ["vi", "en"])
def test_open_graph_tags_for_zalo_and_facebook(app, honey, language):
    page = page_of(app, honey.item_path, language)
    name = PRODUCT_NAME_EN if language == "en" else PRODUCT_NAME
    assert meta(page, "og:title") == f"{name} · {PRODUCER_NAME}"
    assert meta(page, "og:url") == f"{BASE}{honey.item_path}"
    assert meta(page, "og:image") == f"{BASE}/media/{honey.image.filename}"
    description = meta(page, "og:description")
    assert LOT in description and SERIAL in description and PRODUCER_NAME in description
    assert meta(page, "og:locale") == ("en_US" if language == "en" else "vi_VN")


# --- weight and assets ---------------------------------------------------------------------------


class AssetParser(HTMLParser):
    """The URLs a browser loads by itself: stylesheets, scripts, images, frames, icons."""

    def __init__(self) -> None:
        super().__init__()
        self.assets: list[str] = []
        self.stylesheets: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "link" and attributes.get("href") and attributes.get("rel") not in ("canonical",):
            self.assets.append(attributes["href"])
            if attributes.get("rel") == "stylesheet":
                self.stylesheets.append(attributes["href"])
        elif tag in ("script", "img", "iframe", "source", "video", "audio") and attributes.get("src"):
            self.assets.append(attributes["src"])


def test_the_page_with_its_css_weighs_under_100_kb_and_loads_nothing_from_elsewhere(app, honey):
    client = app.test_client()
    for path in (honey.batch_path, honey.item_path):
        body = get(app, path, client=client).get_data()
        parser = AssetParser()
        parser.feed(body.decode())
        assert parser.stylesheets == ["/static/css/app.css"]
        assert parser.assets and all(
            url.startswith("/") and not url.startswith("//") for url in parser.assets
        )
        css = 0
        for url in parser.stylesheets:
            with client.get(url) as stylesheet:
                assert stylesheet.status_code == 200
                css += len(stylesheet.get_data())
        assert len(body) + css < 100_000, (len(body), css)


# --- reporting a problem -------------------------------------------------------------------------


def report_form(client, code: str) -> str:
    page = client.get(f"/report/{code}").get_data(as_text=True)
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def reports(db) -> list:
    from traceability.models.public import ProblemReport

    return list(db.session.scalars(select(ProblemReport).order_by(ProblemReport.id)))


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_consumer_reports_a_problem_from_the_page(app, db, honey, language):
    page = page_of(app, honey.item_path, language)
    link = re.search(r'<a class="button" href="([^"]+)"', page).group(1)
    assert link == f"/report/{honey.item.public_code}"
    client = app.test_client()
    headers = {"Accept-Language": language}
    form = client.get(link, headers=headers)
    assert form.status_code == 200 and html.escape(
        PRODUCT_NAME_EN if language == "en" else PRODUCT_NAME
    ) in form.get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.get_data(as_text=True)).group(1)
    sent = client.post(
        link,
        data={"message": "Nắp hộp bị bóc, mật có mùi lạ.", "contact": "0905 123 456", "csrf_token": token},
        headers=headers,
    )
    assert sent.status_code == 302
    thanks = client.get(sent.headers["Location"], headers=headers).get_data(as_text=True)
    assert (
        tr(language, "Thank you. Your report was sent to the provincial centre that verifies this product.")
        in thanks
    )
    [report] = reports(db)
    assert (report.batch_id, report.item_id, report.status) == (honey.batch.id, honey.item.id, "open")
    assert (report.message, report.contact) == ("Nắp hộp bị bóc, mật có mùi lạ.", "0905 123 456")


def test_the_audit_log_keeps_the_report_but_not_the_senders_contact(app, db, honey):
    from traceability.models.audit import AuditEntry

    client = app.test_client()
    token = report_form(client, honey.batch.public_code)
    client.post(
        f"/report/{honey.batch.public_code}",
        data={"message": "Hũ bị nứt", "contact": "0905 123 456", "csrf_token": token},
    )
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.object_type == "Report")).one()
    assert entry.action == "create" and entry.after["message"] == "Hũ bị nứt"
    assert "contact" not in entry.after and entry.producer_id == honey.producer.id
    assert "0905 123 456" not in json.dumps(entry.after, ensure_ascii=False)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_an_empty_report_is_refused_in_the_readers_language(app, db, honey, language):
    client = app.test_client()
    headers = {"Accept-Language": language}
    token = report_form(client, honey.batch.public_code)
    response = client.post(
        f"/report/{honey.batch.public_code}", data={"message": "   ", "csrf_token": token}, headers=headers
    )
    assert response.status_code == 422
    assert tr(language, "Describe the problem.") in response.get_data(as_text=True)
    assert reports(db) == []


def test_a_report_without_its_csrf_token_is_refused(app, db, honey):
    response = app.test_client().post(f"/report/{honey.batch.public_code}", data={"message": "Giả mạo"})
    assert response.status_code == 400
    assert reports(db) == []


def test_too_many_reports_from_one_address_are_refused_with_429(app, db, honey, monkeypatch):
    monkeypatch.setitem(app.config, "REPORT_LIMIT_PER_ADDRESS", "2 per hour")
    client = app.test_client()
    path = f"/report/{honey.batch.public_code}"
    token = report_form(client, honey.batch.public_code)
    for n in range(2):
        assert client.post(path, data={"message": f"Báo cáo {n}", "csrf_token": token}).status_code == 302
    refused = client.post(
        path, data={"message": "Báo cáo 3", "csrf_token": token}, headers={"Accept-Language": "en"}
    )
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 3600
    assert (
        "You have sent too many reports in a short time. Wait 60 minutes and try again."
        in refused.get_data(as_text=True)
    )
    assert len(reports(db)) == 2
    # Another address is not held back.
    other = client.post(
        path,
        data={"message": "Báo cáo khác", "csrf_token": token},
        environ_base={"REMOTE_ADDR": "203.0.113.9"},
    )
    assert other.status_code == 302 and len(reports(db)) == 3


def test_an_unknown_code_has_no_report_form(app, honey):
    assert app.test_client().get("/report/NOSUCHCODE").status_code == 404


# --- the centre's work list ----------------------------------------------------------------------


def send_report(app, code: str, message: str) -> None:
    client = app.test_client()
    token = report_form(client, code)
    assert client.post(f"/report/{code}", data={"message": message, "csrf_token": token}).status_code == 302


def test_a_report_reaches_the_centres_work_list_and_staff_close_it(app, db, web, honey):
    send_report(app, honey.item.public_code, "Mã QR trùng với hũ khác")
    [report] = reports(db)
    web.login(honey.staff.email)
    worklist = web.client.get("/manage/worklist", headers={"Accept-Language": "en"}).get_data(as_text=True)
    section = re.search(r'<section id="problem-reports".*?</section>', worklist, re.DOTALL).group(0)
    assert "Problem reports from consumers" in section and "(1)" in section
    assert html.escape("Mã QR trùng với hũ khác") in section and SERIAL in section
    closed = web.post_form(
        f"/manage/problem-reports/{report.id}/close",
        {"note": "Đã liên hệ HTX, thay nhãn", "next": "/manage/worklist#problem-reports"},
        form_url="/manage/worklist",
    )
    assert closed.status_code == 302 and closed.headers["Location"] == "/manage/worklist#problem-reports"
    db.session.refresh(report)
    assert (report.status, report.closed_by_id, report.close_note) == (
        "closed",
        honey.staff.id,
        "Đã liên hệ HTX, thay nhãn",
    )
    worklist = web.client.get("/manage/worklist", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Mã QR trùng" not in worklist and "No problem report from consumers is open." in worklist


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example/"])
def test_closing_a_report_never_redirects_to_another_site(app, db, web, honey, target):
    send_report(app, honey.batch.public_code, "Nắp bị hở")
    [report] = reports(db)
    web.login(honey.staff.email)
    closed = web.post_form(
        f"/manage/problem-reports/{report.id}/close", {"next": target}, form_url="/manage/worklist"
    )
    assert closed.status_code == 302 and closed.headers["Location"] == "/manage/problem-reports"


def test_another_provinces_centre_neither_sees_nor_closes_the_report(app, db, web, make, honey):
    send_report(app, honey.batch.public_code, "Hũ bị phồng nắp")
    [report] = reports(db)
    other_centre = make.centre("40")
    other_staff = make.user("centre_staff", centre=other_centre)
    db.session.commit()
    web.login(other_staff.email)
    assert "Hũ bị phồng nắp" not in web.client.get("/manage/worklist").get_data(as_text=True)
    assert "Hũ bị phồng nắp" not in web.client.get("/manage/problem-reports").get_data(as_text=True)
    refused = web.post_form(f"/manage/problem-reports/{report.id}/close", {}, form_url="/manage/worklist")
    assert refused.status_code == 404
    db.session.refresh(report)
    assert report.status == "open"


def test_the_producer_sees_its_reports_but_does_not_close_them(app, db, web, honey):
    send_report(app, honey.batch.public_code, "Mật bị kết tinh")
    [report] = reports(db)
    web.login(honey.user.email)
    listing = web.client.get(f"/manage/problem-reports?batch_id={honey.batch.id}").get_data(as_text=True)
    assert html.escape("Mật bị kết tinh") in listing and "close-report" not in listing
    refused = web.post_form(
        f"/manage/problem-reports/{report.id}/close", {}, form_url="/manage/problem-reports"
    )
    assert refused.status_code == 403
    db.session.refresh(report)
    assert report.status == "open"
    batch_page = web.client.get(f"/manage/batches/{honey.batch.id}").get_data(as_text=True)
    assert f"/manage/problem-reports?batch_id={honey.batch.id}" in html.unescape(batch_page)


def test_a_closed_report_cannot_be_closed_again(app, db, web, honey):
    send_report(app, honey.batch.public_code, "Nhãn bị mờ")
    [report] = reports(db)
    web.login(honey.staff.email)
    web.post_form(f"/manage/problem-reports/{report.id}/close", {}, form_url="/manage/worklist")
    again = web.post_form(
        f"/manage/problem-reports/{report.id}/close",
        {"note": "lần hai"},
        form_url="/manage/worklist",
        headers={"Accept-Language": "en"},  # the refusal is flashed in the language of this request
    )
    assert again.status_code == 302
    db.session.refresh(report)
    assert report.close_note is None
    listing = web.client.get(
        "/manage/problem-reports?status=closed", headers={"Accept-Language": "en"}
    ).get_data(as_text=True)
    assert "Nhãn bị mờ" in html.unescape(listing) and "This report is already closed." in listing
