"""The one centre and cooperative the write benchmarks work for, made through the services."""

from __future__ import annotations

from typing import Any


def daklak_cooperative(*, domain: str, producer_email: str, password: str, name: str) -> tuple[Any, Any]:
    """The Đắk Lắk centre (with a staff account) and an approved coffee cooperative with its user.

    Returns the cooperative and its producer user; call inside an app context
    on a database made by the migrations.
    """
    from traceability.accounts.service import create_user
    from traceability.registry.centres import create_centre
    from traceability.registry.producers import create_producer

    centre = create_centre(province_code="66", name="Trung tâm Ứng dụng KH&CN Đắk Lắk")
    staff = create_user(email=f"trung-tam@{domain}", password=password, role="centre_staff", centre=centre)
    producer = create_producer(
        {
            "name": name,
            "kind": "cooperative",
            "tax_code": "6000123456",
            "province_code": "66",
            "ward": "Xã Ea Tu",
            "street": "12 Lê Duẩn",
        },
        actor=staff,
    )
    user = create_user(email=producer_email, password=password, role="producer", producer=producer)
    return producer, user
