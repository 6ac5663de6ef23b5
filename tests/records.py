"""One record of every kind a URL names, created as their users would, for tests that visit every route."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from tests import factories
from tests.inspections.helpers import as_json, nonconformity, picture
from traceability import create_app
from traceability.batches.label_jobs import queue_label_job
from traceability.batches.label_sheets import LabelPlan
from traceability.core.config import TestConfig
from traceability.core.dates import vietnam_today
from traceability.core.extensions import db
from traceability.models.audit import AuditEntry
from traceability.models.notifications import Notification


def _created(response: Any) -> dict[str, Any]:
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _uploaded(api: Any, path: str, user: Any, content: bytes, filename: str) -> dict[str, Any]:
    """POSTs ``content`` as the form's ``file`` and returns the record it made."""
    return _created(
        api.post(
            path, user, data={"file": (io.BytesIO(content), filename)}, content_type="multipart/form-data"
        )
    )


@cache
def collection_app() -> Flask:
    """An app for reading the routes and the OpenAPI document at collection, before any fixture."""
    return create_app(TestConfig)


def one_of_each(own: Any, api: Any) -> dict[str, Any]:
    """Records of a tenant's producer (``own`` as in the ``tenants`` fixture), made as its users would.

    Returns the URL arguments naming them, by the names the routes give them.
    """
    producer, staff = own.producer_user, own.staff
    recalled = factories.make_batch(own.product)
    db.session.commit()
    event = _created(
        api.post(
            f"/batches/{own.batch.id}/events",
            producer,
            json={"type": "harvesting", "time": datetime.now(UTC).isoformat()},
        )
    )
    today = vietnam_today()
    certification = _created(
        api.post(
            "/certifications",
            producer,
            json={
                "scope": "product",
                "subject_id": own.product.id,
                "type": "vietgap",
                "number": "VietGAP-TT-12-34-66-0001",
                "issuer": "Trung tâm Kiểm nghiệm và Chứng nhận chất lượng TQC",
                "valid_from": (today - timedelta(days=365)).isoformat(),
                "valid_to": (today + timedelta(days=365)).isoformat(),
            },
        )
    )
    inspection = _created(
        api.post("/inspections", staff, json=as_json(nonconformity("producer", own.producer.id)))
    )
    inspection = _uploaded(api, f"/inspections/{inspection['id']}/photos", staff, picture("JPEG"), "anh.jpg")
    image = _uploaded(api, f"/products/{own.product.id}/images", producer, picture("PNG"), "anh.png")
    items = _created(api.post(f"/batches/{own.batch.id}/serials", producer, json={"count": 3}))["items"]
    recall = _created(api.post(f"/batches/{recalled.id}/recall", producer, json={"reason": "Thử nghiệm"}))
    job = queue_label_job(own.batch, LabelPlan("roll-50x30", "M", 3), actor=producer)
    # A GTIN another producer of the province holds, disputed for a new product of this one.
    holder = factories.make_product(factories.make_producer(own.centre), gtin="08935000000021")
    claiming = factories.make_product(own.producer)
    db.session.commit()
    dispute = _created(
        api.post(
            "/gtin-disputes",
            producer,
            json={"gtin": holder.gtin, "product_id": claiming.id, "gs1_membership_no": "GS1VN-2019-0457"},
        )
    )
    # A notification of the producer's user: centre staff asking for it get a 404 (it is not theirs).
    notification = Notification(user_id=own.producer_user.id, kind="recall", params={}, link="/manage")
    db.session.add(notification)
    db.session.commit()
    return {
        "notification_id": notification.id,
        "centre_id": own.centre.id,
        "producer_id": own.producer.id,
        "product_id": own.product.id,
        "location_id": own.location.id,
        "batch_id": own.batch.id,
        "event_id": event["id"],
        "recall_id": recall["id"],
        "certification_id": certification["id"],
        "inspection_id": inspection["id"],
        "photo_id": inspection["photos"][0]["id"],
        "image_id": image["id"],
        "item_id": items[0]["id"],
        "job_id": job.id,
        "dispute_id": dispute["id"],
        "user_id": staff.id,
        "entry_id": db.session.scalar(select(func.max(AuditEntry.id))),
        "year": today.year,
        "code": own.batch.public_code,
        "name": image["url"].rsplit("/", 1)[-1],
        "filename": "css/app.css",
        "slug": "ca-phe",
        "_identifiers": f"09506000134352/10/{own.batch.lot_code}",
    }
