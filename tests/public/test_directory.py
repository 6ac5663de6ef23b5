"""The public directory of OCOP and flagship products: the list, a product's page, sitemap.xml, robots.txt."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from html import escape
from pathlib import Path
from types import SimpleNamespace

import pytest

from traceability.core.config import PROJECT_ROOT
from traceability.core.dates import vietnam_today
from traceability.models.registry import Certification, ProductImage
from traceability.public.jsonld import product_jsonld

TODAY = vietnam_today()
BASE = "https://trace.example.vn"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
JSONLD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)


def _ocop(stars: int, group: str = "food", *, expires_in_days: int = 700) -> dict:
    return {
        "ocop_stars": stars,
        "ocop_group": group,
        "ocop_certificate_no": f"OCOP-{stars}-{expires_in_days}",
        "ocop_issued_on": TODAY - timedelta(days=400),
        "ocop_expires_on": TODAY + timedelta(days=expires_in_days),
    }


def _image(db, product, n: int) -> ProductImage:
    image = ProductImage(
        product_id=product.id,
        filename=f"photo{product.id}-{n}.jpg",
        thumbnail_filename=f"thumb{product.id}-{n}.jpg",
        width=1200,
        height=900,
        sha256="0" * 64,
        position=n,
    )
    db.session.add(image)
    return image


def _certification(db, producer, number: str, *, status="verified", scope="product", **kw) -> Certification:
    values = {
        "producer_id": producer.id,
        "scope": scope,
        "type": "vietgap",
        "number": number,
        "issuer": "Công ty Chứng nhận TQC",
        "valid_from": TODAY - timedelta(days=100),
        "valid_to": TODAY + timedelta(days=300),
        "status": status,
    }
    values.update(kw)
    certification = Certification(**values)
    db.session.add(certification)
    return certification


@pytest.fixture
def shown(db, make):
    """Two provinces' products: some the directory shows, some it must not."""
    daklak = make.centre(
        "66", address="15 Lê Duẩn, Buôn Ma Thuột", phone="0262 3852 111", email="ttud@daklak.gov.vn"
    )
    nghean = make.centre("40")
    coop = make.producer(
        daklak,
        name="HTX Nông nghiệp Ea Tu",
        phone="0905 123 456",
        email="htx.eatu@example.vn",
        website="https://eatu.example.vn",
    )
    suspended = make.producer(daklak, name="HTX Tạm dừng", status="suspended")
    pending = make.producer(daklak, name="HTX Chờ duyệt", status="pending")
    tea_maker = make.producer(nghean, name="Công ty Chè Thanh Chương", province_code="40")
    r = SimpleNamespace(db=db, centre=daklak, coop=coop)
    r.coffee = make.product(
        coop,
        name="Cà phê Robusta Buôn Ma Thuột",
        name_en="Buon Ma Thuot Robusta coffee",
        brand="Ea Tu",
        gtin="08938505974019",
        description="Cà phê Robusta rang mộc, trồng dưới tán sầu riêng.",
        shop_links=[{"name": "Shopee", "url": "https://shopee.vn/eatu"}],
        **_ocop(4),
    )
    r.pepper = make.product(coop, name="Hồ tiêu Đắk Lắk", category="Gia vị", is_flagship=True)
    r.honey = make.product(coop, name="Mật ong hoa cà phê", **_ocop(3, expires_in_days=-1))
    r.flagship_expired_ocop = make.product(
        coop, name="Sầu riêng Ri6", category="Trái cây", is_flagship=True, **_ocop(4, expires_in_days=-10)
    )
    r.plain = make.product(coop, name="Bánh tráng thường", category="Bánh")
    r.suspended = make.product(suspended, name="Cà phê chồn", **_ocop(5))
    r.pending = make.product(pending, name="Cà phê Arabica chờ duyệt", **_ocop(4))
    r.tea = make.product(tea_maker, name="Chè xanh Thanh Chương", category="Chè", **_ocop(5, "beverage"))
    _image(db, r.coffee, 0)
    _image(db, r.coffee, 1)
    db.session.commit()
    return r


def _names(page) -> list[str]:
    return re.findall(r'<span class="name">([^<]+)</span>', page.get_data(as_text=True))


def test_only_products_of_approved_producers_with_ocop_in_force_or_flagship_are_shown(client, shown):
    page = client.get("/products")
    assert page.status_code == 200
    assert sorted(_names(page)) == sorted(
        ["Cà phê Robusta Buôn Ma Thuột", "Hồ tiêu Đắk Lắk", "Sầu riêng Ri6", "Chè xanh Thanh Chương"]
    )
    html = page.get_data(as_text=True)
    # Five stars first; a flagship product whose OCOP expired shows no stars.
    assert _names(page)[0] == "Chè xanh Thanh Chương"
    card = html[html.index("Sầu riêng Ri6") : html.index("</li>", html.index("Sầu riêng Ri6"))]
    assert "★" not in card


def test_search_ignores_diacritics_and_case(client, shown):
    assert _names(client.get("/products?q=ca phe")) == ["Cà phê Robusta Buôn Ma Thuột"]
    assert _names(client.get("/products?q=HO TIEU")) == ["Hồ tiêu Đắk Lắk"]
    # The producer's name is searched too.
    assert _names(client.get("/products?q=che thanh chuong")) == ["Chè xanh Thanh Chương"]
    assert "Cà phê Robusta Buôn Ma Thuột" in _names(client.get("/products?q=htx nong nghiep"))


def test_filters_by_province_group_and_stars(client, shown):
    assert _names(client.get("/products?province=40")) == ["Chè xanh Thanh Chương"]
    assert _names(client.get("/products?group=beverage")) == ["Chè xanh Thanh Chương"]
    # Only stars in force: the flagship durian's expired 4 stars do not count.
    assert _names(client.get("/products?stars=4")) == ["Cà phê Robusta Buôn Ma Thuột"]
    assert _names(client.get("/products?province=66&stars=5")) == []
    page = client.get("/products?province=66&group=food&q=robusta")
    assert _names(page) == ["Cà phê Robusta Buôn Ma Thuột"]
    html = page.get_data(as_text=True)
    # The chosen filters stay selected in the form, and every province is offered.
    assert '<option selected value="66">Đắk Lắk</option>' in html
    assert html.count("<option ") >= 34 + 1 + 6 + 1 + 3 + 1


def test_a_filter_that_is_not_offered_is_refused_with_a_message(client, shown):
    page = client.get("/products?stars=7&province=99", headers={"Accept-Language": "en"})
    assert page.status_code == 400
    assert page.get_data(as_text=True).count("Not a valid choice.") == 2
    assert len(_names(page)) == 4  # the refused filters are left out, the page still works


def test_no_match_says_so_and_offers_to_clear_the_filters(client, shown):
    page = client.get("/products?q=xyz khong co", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "No products match your search." in html
    assert '<a href="/products">Clear the filters and see every product</a>' in html


def test_an_empty_directory_says_so(client, db):
    page = client.get("/products", headers={"Accept-Language": "en"})
    assert "No products in the directory yet." in page.get_data(as_text=True)


def test_pages_of_24_keep_the_filters(client, db, make):
    coop = make.producer(make.centre("66"))
    for n in range(30):
        make.product(coop, name=f"Sản phẩm chủ lực {n:02d}", is_flagship=True)
    make.product(coop, name="Gạo ST25", is_flagship=True)
    db.session.commit()
    first = client.get("/products?q=san pham")
    assert len(_names(first)) == 24
    assert 'href="/products?q=san+pham&amp;page=2" rel="next"' in first.get_data(as_text=True)
    second = client.get("/products?q=san pham&page=2")
    assert len(_names(second)) == 6
    assert set(_names(first)).isdisjoint(_names(second))
    assert client.get("/products?q=san pham&page=3").status_code == 404
    assert client.get("/products?page=0").status_code == 404


def test_product_urls_are_stable_and_canonical(client, shown):
    coffee = shown.coffee
    canonical = f"/products/{coffee.id}-ca-phe-robusta-buon-ma-thuot"
    assert client.get(canonical).status_code == 200
    short = client.get(f"/products/{coffee.id}")
    assert (short.status_code, short.headers["Location"]) == (301, canonical)
    renamed = client.get(f"/products/{coffee.id}-an-old-name")
    assert (renamed.status_code, renamed.headers["Location"]) == (301, canonical)
    # The list links to the canonical URL.
    assert f'href="{canonical}"' in client.get("/products").get_data(as_text=True)


@pytest.mark.parametrize("which", ["honey", "plain", "suspended", "pending"])
def test_a_product_not_in_the_directory_has_no_page(client, shown, which):
    product = getattr(shown, which)
    assert client.get(f"/products/{product.id}").status_code == 404
    assert client.get(f"/products/{product.id}-x").status_code == 404


def test_an_unknown_product_is_not_found(client, shown):
    assert client.get("/products/999999").status_code == 404
    assert client.get("/products/999999-ca-phe").status_code == 404


@pytest.fixture
def coffee_page(client, shown, make):
    """The coffee's page, with certificates in every state and lots in every state."""
    db, coop, coffee = shown.db, shown.coop, shown.coffee
    farm = make.location(coop, name="Vườn cà phê Ea Tu")
    other_farm = make.location(coop, name="Vườn không liên quan")
    _certification(db, coop, "VG-VALID", product_id=coffee.id)
    _certification(db, coop, "ISO-PRODUCER", scope="producer", type="iso22000", valid_to=None)
    _certification(db, coop, "VG-FARM", scope="location", location_id=farm.id)
    _certification(db, coop, "VG-OTHER-FARM", scope="location", location_id=other_farm.id)
    _certification(db, coop, "VG-EXPIRED", product_id=coffee.id, valid_to=TODAY - timedelta(days=1))
    _certification(db, coop, "VG-PENDING", product_id=coffee.id, status="pending")
    _certification(db, coop, "VG-REJECTED", product_id=coffee.id, status="rejected")
    _certification(db, coop, "VG-FUTURE", product_id=coffee.id, valid_from=TODAY + timedelta(days=5))
    _certification(db, coop, "VG-OTHER-PRODUCT", product_id=shown.pepper.id)
    shown.current = make.batch(coffee, lot_code="CF2611", origin_location_id=farm.id, expiry_date=None)
    shown.recalled = make.batch(coffee, lot_code="CF2609", status="recalled")
    shown.expired = make.batch(
        coffee,
        lot_code="CF2501",
        expiry_date=TODAY - timedelta(days=1),
        production_date=TODAY - timedelta(days=400),
    )
    db.session.commit()
    page = client.get(f"/products/{coffee.id}", follow_redirects=True, headers={"Accept-Language": "en"})
    assert page.status_code == 200
    return page.get_data(as_text=True)


def test_product_page_shows_only_certificates_in_force(coffee_page):
    for shown_number in ("VG-VALID", "ISO-PRODUCER", "VG-FARM"):
        assert shown_number in coffee_page
    for hidden in (
        "VG-EXPIRED",
        "VG-PENDING",
        "VG-REJECTED",
        "VG-FUTURE",
        "VG-OTHER-FARM",
        "VG-OTHER-PRODUCT",
    ):
        assert hidden not in coffee_page
    assert "verified by the centre" in coffee_page


def test_product_page_shows_producer_ocop_shops_lots_and_centre(coffee_page, shown):
    page = coffee_page
    assert "<h1>Buon Ma Thuot Robusta coffee</h1>" in page  # the English name in English
    assert "HTX Nông nghiệp Ea Tu" in page
    assert shown.coop.address_line in page and "Đắk Lắk" in page
    assert 'href="tel:0905123456"' in page and "mailto:htx.eatu@example.vn" in page
    assert '<a href="https://eatu.example.vn" rel="nofollow noopener">' in page
    assert '<a href="https://shopee.vn/eatu" rel="nofollow noopener">Shopee</a>' in page
    # OCOP stars with the certificate's validity.
    expiry = (TODAY + timedelta(days=700)).strftime("%d/%m/%Y")
    assert "OCOP 4 stars" in page and f"valid until {expiry}" in page
    # Current lots link to their QR pages; recalled and expired ones are not offered.
    assert f'<a href="{BASE}/01/08938505974019/10/CF2611">Lot CF2611</a>' in page
    assert "CF2609" not in page and "CF2501" not in page
    # Verified by the centre, with its contact.
    assert escape(shown.centre.name) in page and "ttud@daklak.gov.vn" in page and "tel:02623852111" in page
    # Lazy-loaded thumbnails from the app's own media route, linked to the full photo.
    assert page.count('loading="lazy"') == 2
    assert (
        f'<a href="/media/photo{shown.coffee.id}-0.jpg"><img src="/media/thumb{shown.coffee.id}-0.jpg"'
        in page
    )


def test_expired_ocop_is_never_shown_as_valid(client, shown):
    page = client.get(
        f"/products/{shown.flagship_expired_ocop.id}",
        follow_redirects=True,
        headers={"Accept-Language": "en"},
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "OCOP 4 stars" not in html and "★" not in html
    assert "its stars are no longer in force" in html
    data = json.loads(JSONLD.search(html).group(1))
    assert "hasCertification" not in data


def test_product_page_json_ld_describes_the_product_its_maker_and_valid_certificates(coffee_page, shown):
    blocks = JSONLD.findall(coffee_page)
    assert len(blocks) == 1
    data = json.loads(blocks[0])
    canonical = f"{BASE}/products/{shown.coffee.id}-ca-phe-robusta-buon-ma-thuot"
    assert data["@context"] == "https://schema.org"
    assert (data["@type"], data["url"], data["gtin14"]) == ("Product", canonical, "08938505974019")
    assert data["brand"] == {"@type": "Brand", "name": "Ea Tu"}
    assert data["image"] == [
        f"{BASE}/media/photo{shown.coffee.id}-0.jpg",
        f"{BASE}/media/photo{shown.coffee.id}-1.jpg",
    ]
    maker = data["manufacturer"]
    assert (maker["@type"], maker["name"], maker["url"]) == (
        "Organization",
        "HTX Nông nghiệp Ea Tu",
        "https://eatu.example.vn",
    )
    assert maker["address"]["@type"] == "PostalAddress"
    assert (maker["address"]["addressRegion"], maker["address"]["addressCountry"]) == ("Đắk Lắk", "VN")
    certificates = data["hasCertification"]
    assert {c["@type"] for c in certificates} == {"Certification"}
    numbers = {c.get("certificationIdentification") for c in certificates}
    assert numbers == {"OCOP-4-700", "VG-VALID", "ISO-PRODUCER", "VG-FARM"}
    ocop = next(c for c in certificates if c["certificationIdentification"] == "OCOP-4-700")
    assert ocop["certificationRating"]["ratingValue"] == 4
    assert "offers" not in data  # the product has no price


def test_open_graph_tags_give_absolute_urls_for_sharing(coffee_page, shown):
    def meta(name: str) -> str:
        return re.search(rf'<meta property="{name}" content="([^"]*)">', coffee_page).group(1)

    canonical = f"{BASE}/products/{shown.coffee.id}-ca-phe-robusta-buon-ma-thuot"
    assert meta("og:url") == canonical
    assert meta("og:title") == "Buon Ma Thuot Robusta coffee"
    assert meta("og:description").startswith("Cà phê Robusta rang mộc")
    assert meta("og:image") == f"{BASE}/media/photo{shown.coffee.id}-0.jpg"
    assert f'<link rel="canonical" href="{canonical}">' in coffee_page


def test_json_ld_cannot_break_out_of_its_script(client, shown):
    shown.coffee.description = 'Ngon</script><script>alert("x")</script>'
    shown.db.session.commit()
    html = client.get(f"/products/{shown.coffee.id}", follow_redirects=True).get_data(as_text=True)
    assert "<script>alert" not in html
    assert json.loads(JSONLD.search(html).group(1))["description"] == shown.coffee.description


def test_pages_need_no_javascript(client, shown):
    for url in ("/products", f"/products/{shown.coffee.id}"):
        html = client.get(url, follow_redirects=True).get_data(as_text=True)
        assert re.findall(r"<script[^>]*>", html) in ([], ['<script type="application/ld+json">'])


def test_vietnamese_by_default_english_by_choice(client, shown):
    assert '<html lang="vi">' in client.get("/products").get_data(as_text=True)
    english = client.get("/products", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="en">' in english and "<h1>OCOP and flagship products</h1>" in english
    # The Vietnamese name stays the name in Vietnamese.
    vietnamese = client.get(f"/products/{shown.coffee.id}", follow_redirects=True).get_data(as_text=True)
    assert "<h1>Cà phê Robusta Buôn Ma Thuột</h1>" in vietnamese


def test_sitemap_lists_the_directory_and_its_product_pages(client, shown):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{SITEMAP}urlset"
    entries = {
        url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod")
        for url in root.findall(f"{SITEMAP}url")
    }
    expected = {f"{BASE}/products"} | {
        f"{BASE}/products/{p.id}-{slug}"
        for p, slug in (
            (shown.coffee, "ca-phe-robusta-buon-ma-thuot"),
            (shown.pepper, "ho-tieu-dak-lak"),
            (shown.flagship_expired_ocop, "sau-rieng-ri6"),
            (shown.tea, "che-xanh-thanh-chuong"),
        )
    }
    assert set(entries) == expected
    for lastmod in entries.values():
        moment = datetime.fromisoformat(lastmod)
        assert moment.tzinfo is not None and abs(datetime.now(moment.tzinfo) - moment) < timedelta(hours=1)
    # Every listed page answers 200 without a redirect.
    for loc in expected:
        assert client.get(loc.removeprefix(BASE)).status_code == 200


def test_robots_txt_allows_the_directory_and_points_to_the_sitemap(client):
    text = client.get("/robots.txt").get_data(as_text=True)
    assert "User-agent: *" in text and "Allow: /\n" in text
    assert f"Sitemap: {BASE}/sitemap.xml" in text
    assert "Disallow: /manage" in text and "Disallow: /products" not in text


def test_home_page_links_to_the_directory(client):
    assert 'href="/products"' in client.get("/").get_data(as_text=True)


def test_pages_weigh_under_100_kb_with_their_css(client, db, make):
    coop = make.producer(make.centre("66"))
    for n in range(24):
        product = make.product(
            coop,
            name=f"Cà phê đặc sản Buôn Ma Thuột số {n:02d} của hợp tác xã nông nghiệp",
            description="Cà phê Robusta rang mộc. " * 20,
            is_flagship=True,
            shop_links=[{"name": f"Cửa hàng {k}", "url": f"https://shop{k}.example.vn"} for k in range(10)],
            **_ocop(4),
        )
        for k in range(4):
            _image(db, product, k)
        for _lot in range(12):
            make.batch(product)
    db.session.commit()
    css = Path(PROJECT_ROOT / "static" / "css" / "app.css").stat().st_size
    listing = client.get("/products")
    assert len(_names(listing)) == 24
    product_page = client.get(f"/products/{product.id}", follow_redirects=True)
    for page in (listing, product_page):
        assert page.status_code == 200
        assert len(page.data) + css < 100_000, (len(page.data), css)


def test_json_ld_builder_leaves_out_what_is_not_in_force_whatever_it_is_given(shown):
    coop, honey = shown.coop, shown.honey
    given = [
        _certification(shown.db, coop, "OK", product_id=honey.id),
        _certification(shown.db, coop, "OLD", product_id=honey.id, valid_to=TODAY - timedelta(days=1)),
        _certification(shown.db, coop, "WAIT", product_id=honey.id, status="pending"),
    ]
    data = product_jsonld(honey, url=f"{BASE}/x", today=TODAY, certifications=given)
    # The honey's OCOP certificate expired yesterday: no rating, only the certificate in force.
    assert [c["certificationIdentification"] for c in data["hasCertification"]] == ["OK"]
    assert "image" not in data and "brand" not in data and "offers" not in data
