"""QR code images for public URLs."""

from __future__ import annotations

import io

import qrcode
import qrcode.constants
import qrcode.image.svg

ERROR_CORRECTION = {
    "M": qrcode.constants.ERROR_CORRECT_M,
    "H": qrcode.constants.ERROR_CORRECT_H,
}
QUIET_ZONE_MODULES = 4  # the minimum the QR standard asks for


def _qr(data: str, error_correction: str, box_size: int) -> qrcode.QRCode:
    if error_correction not in ERROR_CORRECTION:
        raise ValueError(f"error correction must be one of {', '.join(ERROR_CORRECTION)}")
    code = qrcode.QRCode(
        error_correction=ERROR_CORRECTION[error_correction],
        box_size=box_size,
        border=QUIET_ZONE_MODULES,
    )
    code.add_data(data)
    code.make(fit=True)
    return code


def qr_png(data: str, *, size_px: int = 400, error_correction: str = "M") -> bytes:
    """A PNG of ``data`` about ``size_px`` wide (whole pixels per module, never blurred)."""
    modules = _qr(data, error_correction, 1).modules_count + 2 * QUIET_ZONE_MODULES
    box_size = max(1, size_px // modules)
    image = _qr(data, error_correction, box_size).make_image(fill_color="black", back_color="white")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def qr_svg(data: str, *, error_correction: str = "M") -> bytes:
    """An SVG of ``data``, scalable for print."""
    image = _qr(data, error_correction, 10).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()
