"""QR images straight from traceability.labels.qr, read back by zxing-cpp."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.qr_decoding import read_png, read_svg
from traceability.labels.qr import QrSizeError, image_tag, qr_matrix, qr_png, qr_svg

URLS = [
    "https://trace.example.vn/01/08930000000019/10/LO-2026-001",
    "https://trace.example.vn/01/08930000000019/10/L%2F1%3F/21/K7Q2M9XW4T",
    "https://trace.example.vn/t/ABCDEFGHIJKLMNOP",
]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("ec", ["M", "H"])
def test_png_reads_back_with_its_level_and_a_four_module_quiet_zone(url, ec):
    png = qr_png(url, size_px=600, error_correction=ec)
    read = read_png(png)
    assert read.text == url
    assert read.ec_level == ec
    assert read.quiet_zone_modules == (4, 4, 4, 4)
    assert read.module_px == int(read.module_px)  # whole pixels per module: never blurred
    width, height = Image.open(io.BytesIO(png)).size
    assert width == height <= 600
    assert width > 600 - (17 + 4 * read.version + 8)  # the largest whole multiple that fits


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("ec", ["M", "H"])
def test_svg_reads_back_with_its_level_and_a_four_module_quiet_zone(url, ec):
    svg = qr_svg(url, error_correction=ec)
    read = read_svg(svg)
    assert read.text == url
    assert read.ec_level == ec
    assert read.quiet_zone_modules == (4, 4, 4, 4)


def test_svg_size_sets_the_display_size_only():
    svg = qr_svg(URLS[0], size_px=300).decode()
    side = qr_matrix(URLS[0]).size_with_quiet_zone
    assert f'viewBox="0 0 {side} {side}"' in svg
    assert 'width="300" height="300"' in svg
    assert read_svg(svg.encode()).text == URLS[0]


def test_default_level_is_m_and_h_needs_a_bigger_symbol():
    assert qr_matrix(URLS[1]).error_correction == "M"
    assert qr_matrix(URLS[1], "H").size > qr_matrix(URLS[1], "M").size


def test_the_same_url_and_options_always_give_the_same_bytes():
    assert qr_png(URLS[0], size_px=500) == qr_png(URLS[0], size_px=500)
    assert qr_svg(URLS[0]) == qr_svg(URLS[0])
    tag = image_tag(URLS[0], "png", size_px=500, error_correction="M")
    assert tag == image_tag(URLS[0], "png", size_px=500, error_correction="M")
    for other in (
        image_tag(URLS[0], "svg", size_px=500, error_correction="M"),
        image_tag(URLS[0], "png", size_px=501, error_correction="M"),
        image_tag(URLS[0], "png", size_px=500, error_correction="H"),
        image_tag(URLS[2], "png", size_px=500, error_correction="M"),
    ):
        assert other != tag


def test_too_small_or_unknown_options_are_refused():
    with pytest.raises(QrSizeError) as caught:
        qr_png(URLS[1], size_px=20)
    assert caught.value.minimum_px == qr_matrix(URLS[1]).size_with_quiet_zone
    with pytest.raises(QrSizeError):
        qr_svg(URLS[1], size_px=20)
    with pytest.raises(ValueError):
        qr_png(URLS[0], error_correction="Q")
