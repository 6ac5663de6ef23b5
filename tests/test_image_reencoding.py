"""Public images are re-encoded from their pixels only, and decoding an upload costs a bounded amount.

Every image upload (product photos, producer logos, event and inspection
photos) goes through ``uploads.store_image``; the product photo is checked
end to end, through the API and the public ``/media/`` URL.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from PIL.JpegImagePlugin import JpegImageFile

from traceability.core import uploads
from traceability.core.uploads import UploadRejected, store_image

MB = 1024 * 1024
COMMENT = b"Lo Bao Loc 2026, GPS 11.54N 107.81E, phone 0912345678"
XMP = (
    b"http://ns.adobe.com/xap/1.0/\x00"
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="11,32.4N"/>'
    b"</rdf:RDF></x:xmpmeta>"
)


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ " + b"\x00" * 4 + _s15(x) + _s15(y) + _s15(z)


def swapped_rgb_profile() -> bytes:
    """An ICC v2 RGB profile whose red is sRGB's blue and whose blue is sRGB's red.

    A red pixel in this profile *is* blue: a re-encoder that drops the profile
    without converting stores red, one that converts stores blue.
    """
    description = b"Swapped red and blue"
    curve = (
        b"curv" + b"\x00" * 4 + struct.pack(">I", 1) + struct.pack(">H", 0x0233) + b"\x00\x00"
    )  # gamma 2.2
    tags = [
        (
            b"desc",
            b"desc"
            + b"\x00" * 4
            + struct.pack(">I", len(description) + 1)
            + description
            + b"\x00"
            + b"\x00" * 4
            + b"\x00" * 4
            + b"\x00" * 3
            + b"\x00" * 67,
        ),
        (b"wtpt", _xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", _xyz(0.1431, 0.0606, 0.7141)),  # sRGB's blue primary (D50)
        (b"gXYZ", _xyz(0.3851, 0.7169, 0.0971)),
        (b"bXYZ", _xyz(0.4361, 0.2225, 0.0139)),  # sRGB's red primary
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
        (b"cprt", b"text" + b"\x00" * 4 + b"none\x00"),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for signature, data in tags:
        data += b"\x00" * (-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (
        struct.pack(">I", size)
        + b"lcms"
        + bytes([2, 0x10, 0, 0])
        + b"mntrRGB XYZ "
        + struct.pack(">6H", 2026, 1, 1, 0, 0, 0)
        + b"acsp"
        + b"APPL"
        + b"\x00" * 4 * 6
        + _s15(0.9642)
        + _s15(1.0)
        + _s15(0.8249)
        + b"lcms"
    )
    header += b"\x00" * (128 - len(header))
    return header + struct.pack(">I", len(tags)) + table + body


def tagged_jpeg(size: tuple[int, int] = (1200, 800), colour=(255, 0, 0)) -> bytes:
    """A JPEG with everything a phone or an editor leaves in one: a comment, EXIF with GPS, XMP, an ICC profile."""
    exif = Image.Exif()
    exif[0x010F] = "Samsung"
    exif[0x8825] = {2: (11.0, 32.0, 24.0)}  # GPSInfo: where the farmer stood
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(
        buffer, format="JPEG", quality=95, comment=COMMENT, exif=exif, icc_profile=swapped_rgb_profile()
    )
    data = buffer.getvalue()
    xmp_segment = b"\xff\xe1" + struct.pack(">H", len(XMP) + 2) + XMP
    return data[:2] + xmp_segment + data[2:]  # right after SOI


def jpeg_markers(data: bytes) -> list[int]:
    """The markers of a JPEG's segments before its image data (SOS)."""
    assert data[:2] == b"\xff\xd8"
    markers, position = [], 2
    while position < len(data):
        assert data[position] == 0xFF
        marker = data[position + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: the pixels follow
            break
        (length,) = struct.unpack(">H", data[position + 2 : position + 4])
        position += 2 + length
    return markers


def assert_pixels_only(path: Path) -> None:
    data = path.read_bytes()
    markers = jpeg_markers(data)
    assert 0xFE not in markers, "a JPEG comment (COM) survived"
    assert [marker for marker in markers if 0xE1 <= marker <= 0xEF] == [], "an APPn segment survived"
    assert COMMENT not in data and b"xmpmeta" not in data and b"Samsung" not in data
    with Image.open(path) as image:
        assert image.format == "JPEG" and image.mode == "RGB"
        assert "comment" not in image.info and "icc_profile" not in image.info and "xmp" not in image.info
        assert not image.getexif()


def test_the_fixture_carries_every_kind_of_metadata():
    data = tagged_jpeg()
    markers = jpeg_markers(data)
    assert {0xFE, 0xE1, 0xE2} <= set(markers)  # COM, APP1 (EXIF and XMP), APP2 (ICC)
    with Image.open(io.BytesIO(data)) as image:
        assert image.info["comment"] == COMMENT and image.info["icc_profile"]


def test_a_tagged_jpeg_comes_out_as_pixels_only_in_both_copies(tmp_path):
    stored = store_image(tagged_jpeg(), tmp_path, max_bytes=8 * MB)
    assert_pixels_only(tmp_path / stored.filename)
    assert_pixels_only(tmp_path / stored.thumbnail_filename)


def test_colours_in_another_profile_are_converted_to_srgb_not_dropped(tmp_path):
    stored = store_image(tagged_jpeg(colour=(255, 0, 0)), tmp_path, max_bytes=8 * MB)
    for name in (stored.filename, stored.thumbnail_filename):
        with Image.open(tmp_path / name) as image:
            red, green, blue = image.getpixel((image.width // 2, image.height // 2))
        assert blue > 200 and red < 60 and green < 60, (red, green, blue)  # the profile's red is sRGB's blue


def test_a_png_with_text_chunks_and_a_profile_comes_out_clean(tmp_path):
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", COMMENT.decode())
    text.add_itxt("XML:com.adobe.xmp", XMP.decode().split("\x00", 1)[1])
    buffer = io.BytesIO()
    Image.new("RGBA", (900, 600), (0, 0, 255, 255)).save(
        buffer, format="PNG", pnginfo=text, icc_profile=swapped_rgb_profile()
    )
    stored = store_image(buffer.getvalue(), tmp_path, max_bytes=8 * MB)
    assert_pixels_only(tmp_path / stored.filename)
    assert_pixels_only(tmp_path / stored.thumbnail_filename)


def test_an_upright_copy_is_kept_of_a_rotated_photo(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to view
    buffer = io.BytesIO()
    Image.new("RGB", (1200, 800), (20, 120, 20)).save(buffer, format="JPEG", exif=exif, comment=COMMENT)
    stored = store_image(buffer.getvalue(), tmp_path, max_bytes=8 * MB)
    assert (stored.width, stored.height) == (800, 1200)
    assert_pixels_only(tmp_path / stored.filename)


def _striped_png(size: int, mode: str = "RGB") -> bytes:
    image = Image.new(mode, (size, size), "white")
    for x in range(0, size, 200):
        image.paste("red", (x, 0, x + 3, size))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_large_png_of_a_few_kb_is_refused_from_its_header_without_decoding(tmp_path, monkeypatch):
    """The report's 6320 × 6320 PNG (under the 40-megapixel cap): 1.35 s and 330 MB before."""
    data = _striped_png(6320)
    assert len(data) < 200 * 1024

    def no_decoding(self, *args, **kwargs):
        raise AssertionError("pixels decoded")

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", no_decoding)
    with pytest.raises(UploadRejected) as caught:
        store_image(data, tmp_path, max_bytes=8 * MB)
    assert caught.value.reason == "too_many_pixels"
    assert caught.value.limit == uploads.MAX_FULL_DECODE_PIXELS
    assert list(tmp_path.iterdir()) == []


def test_a_large_jpeg_is_decoded_once_at_a_reduced_scale(monkeypatch):
    buffer = io.BytesIO()
    Image.new("RGB", (6400, 4800), (200, 160, 40)).save(buffer, format="JPEG", quality=80)
    loads: list[tuple[int, int]] = []
    load = JpegImageFile.load

    def recorded_load(self):
        loads.append(self.size)  # the size it decodes at: set by draft before loading
        return load(self)

    monkeypatch.setattr(JpegImageFile, "load", recorded_load)
    image = uploads._open_image(buffer.getvalue(), uploads.IMAGE_MAX_SIDE)
    assert set(loads) == {(1600, 1200)}  # DCT scaling: a sixteenth of the pixels
    assert image.size == (1600, 1200)


def test_a_png_at_the_lower_bound_is_stored(tmp_path):
    stored = store_image(_striped_png(4000), tmp_path, max_bytes=8 * MB)
    assert (stored.width, stored.height) == (1600, 1600)


def test_the_public_copy_of_a_product_photo_is_clean(api, client, tenants, app):
    own = tenants["daklak"]
    response = api.post(
        f"/products/{own.product.id}/images",
        own.producer_user,
        data={"file": (io.BytesIO(tagged_jpeg()), "anh.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    for url in (body["url"], body["thumbnail_url"]):
        name = url.rsplit("/", 1)[1]
        with client.get(f"/media/{name}") as public:
            assert public.status_code == 200
            served = public.data
        path = Path(app.config["UPLOAD_FOLDER"]) / "images" / name
        assert served == path.read_bytes()
        assert_pixels_only(path)


def test_a_png_over_the_lower_bound_is_refused_with_its_limit(api, tenants, client):
    own = tenants["daklak"]
    response = api.post(
        f"/products/{own.product.id}/images",
        own.producer_user,
        data={"file": (io.BytesIO(_striped_png(6320)), "anh.png")},
        content_type="multipart/form-data",
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 422, response.get_json()
    assert "more than 16 megapixels" in response.get_json()["error"]["fields"]["file"]
