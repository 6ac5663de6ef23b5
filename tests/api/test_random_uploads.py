"""Random bytes uploaded as an image or a document: a clear 4xx and nothing stored, never a 500."""

from __future__ import annotations

import hashlib
import io
import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from traceability.models.registry import ProductImage

# A real header followed by garbage gets past sniffing and reaches the decoder.
HEADERS = [
    b"",
    b"%PDF-1.4\n",
    b"\x89PNG\r\n\x1a\n",
    b"\xff\xd8\xff\xe0",
    b"RIFF\x10\x00\x00\x00WEBPVP8 ",
    b"GIF89a",
]
garbage = st.builds(lambda header, rest: header + rest, st.sampled_from(HEADERS), st.binary(max_size=3000))
NUMBERS = itertools.count(1)
UPLOADS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@UPLOADS
@given(data=garbage, filename=st.text(max_size=80))
def test_random_bytes_as_a_product_image_are_refused(api, tenants, db, data, filename):
    own = tenants["daklak"]
    response = api.post(
        f"/products/{own.product.id}/images",
        own.producer_user,
        data={"file": (io.BytesIO(data), filename or "x")},
        content_type="multipart/form-data",
    )
    assert response.status_code in (400, 413, 422), response.get_json()
    assert response.get_json()["error"]["message"]
    assert db.session.scalar(select(func.count()).select_from(ProductImage)) == 0


@UPLOADS
@given(data=garbage, filename=st.text(max_size=80))
def test_random_bytes_as_a_certificate_document_are_refused(api, tenants, db, data, filename):
    own = tenants["daklak"]
    created = api.post(
        "/certifications",
        own.producer_user,
        json={
            "scope": "producer",
            "subject_id": own.producer.id,
            "type": "vietgap",
            "number": f"VG-{next(NUMBERS)}",
            "issuer": "TQC",
            "valid_from": "2026-01-01",
            "valid_to": "2027-01-01",
        },
    )
    assert created.status_code == 201, created.get_json()
    response = api.post(
        f"/certifications/{created.get_json()['id']}/document",
        own.producer_user,
        data={"file": (io.BytesIO(data), filename or "x")},
        content_type="multipart/form-data",
    )
    if data.startswith(b"%PDF-") and response.status_code == 200:
        # Documents are kept byte for byte (a PDF is not parsed), so this one is taken as sent.
        assert response.get_json()["document_sha256"] == hashlib.sha256(data).hexdigest()
        return
    assert response.status_code in (400, 413, 422), response.get_json()
    error = response.get_json()["error"]
    # The document field is named, unless the part came without a filename and
    # held a NUL byte: then the request guard refuses it before the view does.
    assert error["fields"] or (response.status_code == 400 and "NUL" in error["message"]), error
