"""The OCOP honey lot of the consumer page tests: through the routes (tests/public), in Chromium (tests/browser)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

from PIL import Image

from traceability.batches.service import new_public_code, record_event
from traceability.core.dates import VIETNAM_OFFSET, vietnam_today
from traceability.gs1 import gtin_check_digit
from traceability.models.batches import Item
from traceability.registry.product_images import add_product_image

GTIN14 = ("893000000888" + str(gtin_check_digit("893000000888"))).zfill(14)
LOT = "MO-2611"
SERIAL = "Q7K2M9XW4T"
PRODUCT_NAME = "Mật ong hoa cà phê Krông Năng"
PRODUCT_NAME_EN = "Krong Nang coffee blossom honey"
CENTRE_NAME = "Trung tâm Ứng dụng KH&CN Đắk Lắk"
PRODUCER_NAME = "Hợp tác xã Ong mật Krông Năng"


def picture(size: tuple[int, int] = (1200, 900), colour: tuple[int, int, int] = (200, 150, 40)) -> bytes:
    """A plain PNG photo."""
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def honey_lot(
    make: Any,
    db: Any,
    *,
    photo: bytes | None = None,
    harvest_photo: bytes | None = None,
    lot: str = LOT,
    serial: str = SERIAL,
    **product: Any,
) -> SimpleNamespace:
    """A lot of a cooperative's OCOP honey from its farm: the product's photo, a photographed harvest, an item.

    ``photo`` and ``harvest_photo`` are plain pictures unless given; ``product``
    gives the product's fields (name, description, shop links...) over the
    OCOP honey's. Nothing is committed.
    """
    today = vietnam_today()
    centre = make.centre(
        "66",
        name=CENTRE_NAME,
        address="15 Lê Duẩn, Phường Buôn Ma Thuột, Đắk Lắk",
        phone="0262 3852 123",
        email="ttudkhcn@daklak.gov.vn",
    )
    producer = make.producer(centre, name=PRODUCER_NAME, ward="Xã Phú Lộc", street="Thôn 5")
    user = make.user("producer", producer=producer)
    farm = make.location(producer, name="Trại ong Phú Lộc", ward="Xã Phú Lộc")
    product = make.product(
        producer,
        **{
            "name": PRODUCT_NAME,
            "name_en": PRODUCT_NAME_EN,
            "description": "Mật ong nguyên chất thu từ hoa cà phê vụ xuân.",
            "gtin": GTIN14,
            "brand": "Krông Năng Honey",
            "standards": "TCVN 12605:2019",
            "ocop_group": "food",
            "ocop_stars": 4,
            "ocop_certificate_no": "OCOP-DL-2025-117",
            "ocop_issued_on": today - timedelta(days=200),
            "ocop_expires_on": today + timedelta(days=400),
            **product,
        },
    )
    image = add_product_image(product, photo or picture(), actor=user)
    batch = make.batch(
        product,
        lot_code=lot,
        production_date=today - timedelta(days=20),
        expiry_date=today + timedelta(days=500),
        origin_location_id=farm.id,
    )
    harvest = record_event(
        batch,
        {
            "type": "harvesting",
            "time": datetime.combine(today - timedelta(days=21), datetime.min.time(), VIETNAM_OFFSET)
            + timedelta(hours=7),
            "location_id": farm.id,
            "note": "Quay mật tại trại",
        },
        actor=user,
        photo=harvest_photo or picture((800, 600), (90, 120, 60)),
    )
    item = Item(batch_id=batch.id, serial=serial, public_code=new_public_code())
    db.session.add(item)
    batch_path = f"/01/{product.gtin}/10/{lot}"
    return SimpleNamespace(
        centre=centre,
        producer=producer,
        user=user,
        farm=farm,
        product=product,
        image=image,
        batch=batch,
        harvest=harvest,
        item=item,
        today=today,
        batch_path=batch_path,
        item_path=f"{batch_path}/21/{serial}",
    )
