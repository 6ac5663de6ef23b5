"""Label sheets: rendered to PDF, rasterised at 300 dpi by PDFium, every code read back by zxing-cpp."""

from __future__ import annotations

import io
import multiprocessing
import os
import signal
import threading
import unicodedata
from datetime import date
from multiprocessing.connection import Connection

import pytest
from PIL import ImageDraw

from tests.labels.pdf_reading import MM_PX, fonts, page_count, pdf_text, rasterise, read_codes
from traceability.labels.encoders import encoder_pool, shutdown_encoder_pools
from traceability.labels.sheets import (
    MIN_MODULE_MM,
    TEMPLATES,
    LabelSizeError,
    LabelText,
    check_fits,
    module_mm,
    render_labels,
)
from traceability.labels.symbols import encode

TEXT = LabelText(
    product_name="Cà phê Robusta rang xay Buôn Ma Thuột",
    lot_code="LO-2026-001",
    production_date=date(2026, 10, 1),
    expiry_date=date(2027, 10, 1),
    ocop_stars=4,
)
GTIN_ITEM = "https://trace.example.vn/01/08930000000019/10/LO-2026-001/21/{serial}"


def serial_urls(count: int) -> list[str]:
    return [GTIN_ITEM.format(serial=f"7K2M9XW4T{n:04d}") for n in range(count)]


def flat(text: str) -> str:
    """Extracted text with its line breaks as spaces (labels wrap long names)."""
    return " ".join(text.split())


def render(urls: list[str], template: str, text: LabelText = TEXT, **options) -> bytes:
    output = io.BytesIO()
    render_labels(output, template, text, urls, **options)
    return output.getvalue()


@pytest.mark.parametrize("template", TEMPLATES.values(), ids=lambda t: t.name)
def test_templates_match_their_stock_and_fit_the_page(template):
    across = 2 * template.left_margin + (template.columns - 1) * template.column_pitch + template.label_width
    down = 2 * template.top_margin + (template.rows - 1) * template.row_pitch + template.label_height
    assert across == pytest.approx(template.page_width, abs=0.05)
    assert down == pytest.approx(template.page_height, abs=0.05)
    assert template.column_pitch >= template.label_width and template.row_pitch >= template.label_height
    if template.name.startswith("a4-"):
        assert (template.page_width, template.page_height) == (210, 297)


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_code_on_a_full_sheet_scans_to_its_own_url(name):
    """One sheet and three labels more: page one holds a full grid, every code decodes to its URL."""
    template = TEMPLATES[name]
    urls = serial_urls(template.per_page + 3)
    pdf = render(urls, name)
    assert page_count(pdf) == (2 if template.per_page > 3 else template.per_page + 3)
    page = rasterise(pdf, 0)
    assert page.size == pytest.approx((template.page_width * MM_PX, template.page_height * MM_PX), abs=1)
    codes = read_codes(page)
    assert [code.text for code in codes] == urls[: template.per_page]  # in reading order
    assert {code.ec_level for code in codes} == {"M"}
    for code in codes:
        assert code.module_px / MM_PX >= MIN_MODULE_MM
    last = read_codes(rasterise(pdf, page_count(pdf) - 1))
    assert [code.text for code in last] == urls[-(len(urls) % template.per_page or template.per_page) :]


def test_each_code_keeps_a_clear_quiet_zone_of_four_modules():
    """Nothing (text, a neighbour) is printed within four modules of a code, even with a very long name."""
    pdf = render(serial_urls(65), "a4-5x13", LabelText("Tên sản phẩm rất dài " * 8, "LO-1", date(2026, 1, 2)))
    page = rasterise(pdf)
    codes = read_codes(page)
    assert len(codes) == 65
    for code in codes:
        quiet = 4 * code.module_px - 2  # two pixels of slack for anti-aliased edges
        around = page.crop(
            (code.left - quiet, code.top - quiet, code.right + quiet + 1, code.bottom + quiet + 1)
        )
        ImageDraw.Draw(around).rectangle(
            (quiet - 1, quiet - 1, around.width - quiet, around.height - quiet), fill=255
        )  # blank the code itself
        assert around.getextrema()[0] > 128, f"dark pixels in the quiet zone of {code.text}"


def test_nothing_is_printed_outside_the_labels():
    """Text that does not fit is shrunk or cut short, never spilled into the gaps between labels."""
    template = TEMPLATES["a4-5x13"]
    long_text = LabelText(
        "Nước mắm cá cơm truyền thống Phú Quốc thượng hạng đóng chai thủy tinh 500 ml " * 3,
        "LOT-2026/ABCDEFGHIJK",
        date(2026, 1, 2),
        date(2028, 12, 31),
        5,
    )
    page = rasterise(render(serial_urls(template.per_page), "a4-5x13", long_text))
    assert page.getextrema()[0] < 128  # something was printed
    draw = ImageDraw.Draw(page)
    point_px = MM_PX * 25.4 / 72  # origins() are in points from the bottom left; pixels run from the top
    width, height = template.label_width * MM_PX, template.label_height * MM_PX
    for left, bottom in template.origins():
        x, y = left * point_px, page.height - bottom * point_px - height
        draw.rectangle((x - 1, y - 1, x + width + 1, y + height + 1), fill=255)
    assert page.getextrema()[0] > 128  # with every label blanked, the sheet is empty


def test_text_with_vietnamese_diacritics_stars_dates_and_url():
    pdf = render(serial_urls(3), "a4-3x8")
    text = flat(pdf_text(pdf))
    for expected in (
        "Cà phê Robusta",
        "Buôn Ma Thuột",
        "★★★★ OCOP",
        "Lô: LO-2026-001",
        "NSX: 01/10/2026",
        "HSD: 01/10/2027",
    ):
        assert expected in text
    # The short URL, without https://, wrapped after slashes.
    assert "trace.example.vn/01/08930000000019/10/LO-2026-001/21/7K2M9XW4T0002" in text.replace("/ ", "/")
    assert "https://" not in text
    assert fonts(pdf) == {"DejaVuSans": True, "DejaVuSans-Bold": True}  # embedded, nothing else used


def test_decomposed_accents_are_composed_before_drawing():
    """A name typed with combining accents (as some keyboards send it) prints as the composed letters."""
    decomposed = unicodedata.normalize("NFD", "Mật ong hoa cà phê")
    assert decomposed != "Mật ong hoa cà phê"
    text = flat(pdf_text(render(serial_urls(1), "roll-50x30", LabelText(decomposed, "L1", date(2026, 3, 4)))))
    assert "Mật ong hoa cà phê" in text


def test_no_stars_and_no_expiry_leave_their_lines_out():
    text = pdf_text(render(serial_urls(1), "roll-50x30", LabelText("Gạo ST25", "L1", date(2026, 3, 4))))
    assert "Gạo ST25" in text and "NSX: 04/03/2026" in text
    assert "★" not in text and "HSD" not in text


def test_copies_of_one_code_and_error_correction_h():
    url = "https://trace.example.vn/t/ABCDEFGHJKMNPQRS"
    pdf = render([url] * 40, "a4-4x10", error_correction="H")
    codes = read_codes(rasterise(pdf))
    assert [code.text for code in codes] == [url] * 40
    assert {code.ec_level for code in codes} == {"H"}
    assert pdf_text(pdf).replace("\n", "").count("trace.example.vn/t/ABCDEFGHJKMNPQRS") == 40


def test_a_code_too_small_to_scan_is_refused_with_the_way_out():
    url = "https://truy-xuat-nguon-goc.so-khoa-hoc-cong-nghe.daklak.gov.vn/01/08930000000019/10/LOT-2026-ABCDEFGHIJ/21/7K2M9XW4T0001"
    with pytest.raises(LabelSizeError) as refused:
        render([url] * 3, "a4-5x13", error_correction="H")
    error = refused.value
    assert error.template == "a4-5x13" and error.module_mm < MIN_MODULE_MM
    assert "a4-5x13" in str(error)
    assert error.bigger_templates and "a4-5x13" not in error.bigger_templates
    for bigger in error.bigger_templates:  # every suggestion really fits
        check_fits(bigger, url, "H")
    assert error.fits_with_m == (module_mm(TEMPLATES["a4-5x13"], encode(url, "M").size) >= MIN_MODULE_MM)


def test_progress_is_reported_page_by_page():
    seen: list[int] = []
    render(serial_urls(70), "a4-5x13", progress=seen.append)
    assert seen == [65, 70]


def test_worker_processes_give_the_same_codes():
    urls = serial_urls(130)
    pdf = render(urls, "a4-5x13", workers=2)
    assert [code.text for code in read_codes(rasterise(pdf, 1))] == urls[65:]


def test_worker_processes_from_a_threaded_process():
    """A web process's background job: the workers come from the fork server, not a plain fork."""
    shutdown_encoder_pools()  # the pool is started from the thread below, as in a job worker
    urls = serial_urls(70)
    result: dict[str, bytes] = {}
    thread = threading.Thread(target=lambda: result.setdefault("pdf", render(urls, "a4-5x13", workers=2)))
    thread.start()
    thread.join(timeout=120)
    assert [code.text for code in read_codes(rasterise(result["pdf"], 1))] == urls[65:]


def _sheet_in_forked_child(urls: list[str], parent_pool: object, answer: Connection) -> None:
    """In a forked child: draw a sheet and say whether the pool it used was the parent's, and its workers."""
    pdf = render(urls, "a4-5x13", workers=2)
    pool = encoder_pool(2)
    answer.send((pdf, pool is parent_pool, sorted(pool._processes)))


def test_a_sheet_drawn_after_a_fork_starts_its_own_pool_and_scans():
    """A gunicorn or job worker forked after its parent drew a sheet: the inherited pool would hang."""
    render(serial_urls(70), "a4-5x13", workers=2)
    parent_pool = encoder_pool(2)
    parent_workers = set(parent_pool._processes)  # the pids of its worker processes
    urls = [GTIN_ITEM.format(serial=f"CHILD{n:04d}") for n in range(70)]
    ours, theirs = multiprocessing.get_context("fork").Pipe(duplex=False)
    child = multiprocessing.get_context("fork").Process(
        target=_sheet_in_forked_child, args=(urls, parent_pool, theirs)
    )
    child.start()
    assert ours.poll(120), "the child's sheet did not finish"
    pdf, used_parents_pool, child_workers = ours.recv()
    child.join(30)
    assert child.exitcode == 0
    assert not used_parents_pool
    assert child_workers and not parent_workers & set(child_workers)
    assert [code.text for code in read_codes(rasterise(pdf, 1))] == urls[65:]
    # The parent's pool still serves the parent.
    again = serial_urls(70)[::-1]
    assert [code.text for code in read_codes(rasterise(render(again, "a4-5x13", workers=2), 1))] == again[65:]
    assert encoder_pool(2) is parent_pool


def test_two_sheets_in_a_row_share_the_pool_and_both_scan():
    first = [GTIN_ITEM.format(serial=f"FIRST{n:04d}") for n in range(130)]
    second = [GTIN_ITEM.format(serial=f"AGAIN{n:04d}") for n in range(70)]
    first_pdf = render(first, "a4-5x13", workers=2)
    pool = encoder_pool(2)
    second_pdf = render(second, "a4-5x13", workers=2)
    assert encoder_pool(2) is pool
    assert [code.text for code in read_codes(rasterise(first_pdf, 1))] == first[65:]
    assert [code.text for code in read_codes(rasterise(second_pdf, 0))] == second[:65]
    assert [code.text for code in read_codes(rasterise(second_pdf, 1))] == second[65:]


def test_a_sheet_finishes_when_an_encoder_worker_dies():
    """A worker killed (out of memory, an operator): this sheet still completes, the next gets a new pool."""
    render(serial_urls(70), "a4-5x13", workers=2)
    pool = encoder_pool(2)
    for pid in list(pool._processes):
        os.kill(pid, signal.SIGKILL)
    urls = [GTIN_ITEM.format(serial=f"KILL{n:04d}") for n in range(70)]
    pdf = render(urls, "a4-5x13", workers=2)
    assert [code.text for code in read_codes(rasterise(pdf, 1))] == urls[65:]
    assert encoder_pool(2) is not pool
    assert [code.text for code in read_codes(rasterise(render(urls, "a4-5x13", workers=2), 1))] == urls[65:]


def test_only_ascii_urls_are_encoded():
    with pytest.raises(ValueError, match="ASCII"):
        encode("https://trace.example.vn/01/08930000000019/10/Lô-1")
    with pytest.raises(ValueError):
        encode("https://trace.example.vn/t/X", "Q")


@pytest.mark.parametrize("name", TEMPLATES)
def test_serial_labels_print_their_serial_number_and_still_scan(name):
    template = TEMPLATES[name]
    urls = serial_urls(template.per_page)
    serials = [url.rsplit("/", 1)[-1] for url in urls]
    pdf = render(urls, name, TEXT, serials=serials)
    text = flat(pdf_text(pdf))
    for serial in serials:
        assert f"Số sê-ri: {serial}" in text
    assert [code.text for code in read_codes(rasterise(pdf, 0))] == urls


def test_the_serial_caption_is_the_one_passed_in_and_copies_have_none():
    english = LabelText(**{**TEXT.__dict__, "serial_caption": "Serial no."})
    urls = serial_urls(3)
    assert "Serial no.: 7K2M9XW4T0002" in flat(
        pdf_text(render(urls, "a4-3x8", english, serials=[u[-13:] for u in urls]))
    )
    copies = render([urls[0]] * 3, "a4-3x8")
    assert "sê-ri" not in pdf_text(copies) and "Serial" not in pdf_text(copies)
