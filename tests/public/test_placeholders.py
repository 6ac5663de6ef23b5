"""A product without a photo shows its category's designed placeholder; the demo's pictures are drawn locally."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image

from traceability.core.dates import vietnam_today
from traceability.demo.pictures import product_picture
from traceability.public.placeholders import ICONS, category_icon


@pytest.mark.parametrize(
    ("category", "icon"),
    [
        ("Cà phê", "coffee"),
        ("Mật ong", "honey"),
        ("Chè", "tea"),
        ("Lúa gạo", "rice"),
        ("Gia vị", "pepper"),
        ("Trái cây tươi", "fruit"),
        ("Thủ công mỹ nghệ", "handicraft"),
        ("Nước mắm", "bottle"),
        ("Chế biến sâu", "package"),  # "chế" is not "chè"
        ("Yến sào", "package"),
        ("", "package"),
    ],
)
def test_a_category_gets_its_icon(category, icon):
    assert category_icon(category) == icon


def test_every_icon_is_a_static_svg(app):
    client = app.test_client()
    for icon in ICONS:
        with client.get(f"/static/img/categories/{icon}.svg") as response:
            assert response.status_code == 200 and response.mimetype == "image/svg+xml"
            assert b"<script" not in response.data


def test_pages_show_the_placeholder_where_a_product_has_no_photo(app, make, db):
    centre = make.centre("66")
    producer = make.producer(centre)
    today = vietnam_today()
    product = make.product(producer, name="Mật ong rừng U Minh", category="Mật ong", is_flagship=True)
    batch = make.batch(product, expiry_date=today + timedelta(days=100))
    db.session.commit()
    client = app.test_client()
    lot_page = client.get(f"/t/{batch.public_code}").get_data(as_text=True)
    assert (
        'src="/static/img/categories/honey.svg"' in lot_page and 'class="thumbnail placeholder"' in lot_page
    )
    listing = client.get("/products").get_data(as_text=True)
    if "Mật ong rừng U Minh" in listing:  # in the directory while its flagship claim counts
        assert 'src="/static/img/categories/honey.svg"' in listing


def test_demo_pictures_are_drawn_and_the_same_each_time():
    first = product_picture("Cà phê bột Hòa Phú", "Cà phê", "Hòa Phú")
    product_picture.cache_clear()
    assert product_picture("Cà phê bột Hòa Phú", "Cà phê", "Hòa Phú") == first
    image = Image.open(io.BytesIO(first))
    assert image.size == (640, 640)
    assert (
        len(image.convert("RGB").getcolors(maxcolors=100_000) or ()) > 1000
    )  # a drawing with gradients, not a flat square
