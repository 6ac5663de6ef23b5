"""Uploads: type by content, size limits, decompression bombs, EXIF stripped, random names."""

import hashlib
import io

import pytest
from PIL import Image

from traceability.core.uploads import UploadRejected, sniff, store_document, store_image

MB = 1024 * 1024


def _png(width=1200, height=900, colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_photo_is_resized_with_a_thumbnail_under_random_names(tmp_path):
    stored = store_image(_png(3200, 2400), tmp_path, max_bytes=8 * MB)
    assert (stored.width, stored.height) == (1600, 1200)
    with (
        Image.open(tmp_path / stored.filename) as large,
        Image.open(tmp_path / stored.thumbnail_filename) as thumb,
    ):
        assert large.format == "JPEG" and large.size == (1600, 1200)
        assert max(thumb.size) == 400
    assert stored.filename != stored.thumbnail_filename
    assert len(stored.filename) >= 36


def test_exif_and_gps_are_not_kept(tmp_path):
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x8825] = {2: (10.0, 45.0, 0.0)}  # GPSInfo: where the farmer stood
    Image.new("RGB", (50, 50)).save(buffer, format="JPEG", exif=exif)
    stored = store_image(buffer.getvalue(), tmp_path, max_bytes=MB)
    with Image.open(tmp_path / stored.filename) as image:
        assert not image.getexif()


def test_a_text_file_named_like_an_image_is_refused(tmp_path):
    with pytest.raises(UploadRejected) as caught:
        store_image(b"<html><script>alert(1)</script></html>", tmp_path, max_bytes=MB)
    assert caught.value.reason == "type"
    assert list(tmp_path.iterdir()) == []


def test_a_png_header_on_garbage_is_refused(tmp_path):
    with pytest.raises(UploadRejected) as caught:
        store_image(b"\x89PNG\r\n\x1a\n" + b"\x00" * 500, tmp_path, max_bytes=MB)
    assert caught.value.reason == "damaged"


def test_an_oversized_upload_is_refused(tmp_path):
    with pytest.raises(UploadRejected) as caught:
        store_image(_png(), tmp_path, max_bytes=1000)
    assert caught.value.reason == "too_large"


def test_a_decompression_bomb_is_refused(tmp_path):
    buffer = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(buffer, format="PNG")  # 144 megapixels in a few KB
    assert len(buffer.getvalue()) < 100_000
    with pytest.raises(UploadRejected) as caught:
        store_image(buffer.getvalue(), tmp_path, max_bytes=MB)
    assert caught.value.reason == "too_many_pixels"


def test_a_pdf_document_is_kept_byte_for_byte_with_its_hash(tmp_path):
    data = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    stored = store_document(data, tmp_path, max_bytes=MB)
    assert stored.content_type == "application/pdf"
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert (tmp_path / stored.filename).read_bytes() == data
    assert stored.filename.endswith(".pdf")


def test_html_is_never_accepted_as_a_document(tmp_path):
    with pytest.raises(UploadRejected):
        store_document(b"<!doctype html><p>hi", tmp_path, max_bytes=MB)


def test_sniffing_ignores_names_and_reads_magic_bytes():
    assert sniff(_png()) == "png"
    assert sniff(b"%PDF-1.4") == "pdf"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "webp"
    assert sniff(b"GIF89a") is None


def test_media_route_serves_stored_images_with_long_cache(app, client):
    from pathlib import Path

    stored = store_image(_png(), Path(app.config["UPLOAD_FOLDER"]) / "images", max_bytes=MB)
    response = client.get(f"/media/{stored.thumbnail_filename}")
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert "immutable" in response.headers["Cache-Control"]
    assert response.data.startswith(b"\xff\xd8")
    response.close()
    assert client.get("/media/../config.py").status_code == 404
    assert client.get("/media/nothing.jpg").status_code == 404
