"""The yearly reports as XLSX (openpyxl) and PDF (reportlab, DejaVu Sans embedded for Vietnamese).

Both are drawn from the same ``CentreReport`` or ``NationalReport`` the web
page shows, so the three never disagree. Amounts are whole đồng: real
numbers in the spreadsheet (formatted with thousands separators), written in
the user's locale in the PDF.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from babel import Locale
from babel.numbers import format_decimal
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Table, TableStyle

from traceability.core.spreadsheets import looks_like_formula
from traceability.core.vocabulary import label
from traceability.labels import FONT_FOLDER
from traceability.reports.yearly import (
    CONTRACT_KIND_LABELS,
    INDICATORS,
    TASK_LEVEL_LABELS,
    TASK_STATUS_LABELS,
    CentreReport,
    Figures,
    Indicator,
    NationalReport,
)

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF_MEDIA_TYPE = "application/pdf"
AMOUNT_FORMAT = "#,##0"
DATE_FORMAT = "DD/MM/YYYY"
FONT = "DejaVuSans"
BOLD_FONT = "DejaVuSans-Bold"
# The national PDF splits the indicators into tables narrow enough for an A4 page.
NATIONAL_PDF_GROUPS = (
    (
        "products_to_market",
        "products_revenue_vnd",
        "products_from_centre_work",
        "products_from_centre_work_revenue_vnd",
    ),
    (
        "technology_transfer_count",
        "technology_transfer_value_vnd",
        "service_count",
        "service_value_vnd",
        "consulting_count",
        "consulting_value_vnd",
    ),
    ("processes_mastered", "tasks_carried_out", "tasks_accepted"),
)
INDICATOR_BY_KEY = {indicator.key: indicator for indicator in INDICATORS}


def _indicator_label(indicator: Indicator) -> str:
    return f"   {indicator.label}" if indicator.indent else str(indicator.label)


def _product_names(record: Any) -> str:
    return ", ".join(product.name for product in record.products)


def _detail_tables(report: CentreReport) -> list[tuple[str, list[str], list[list[Any]]]]:
    """The records behind the figures: (title, header, rows) for each list, translated in the current locale."""
    yes, no = str(_l("Yes")), str(_l("No"))
    return [
        (
            str(_l("Products brought to market")),
            [
                str(_l("Product")),
                str(_l("Producer")),
                str(_l("First batch")),
                str(_l("Declared revenue (VND)")),
                str(_l("From the centre's work")),
            ],
            [
                [
                    item.product.name,
                    item.product.producer.name,
                    item.first_on,
                    item.product.declared_revenue_vnd or 0,
                    yes if item.from_centre_work else no,
                ]
                for item in report.products
            ],
        ),
        (
            str(_l("Contracts")),
            [
                str(_l("Kind")),
                str(_l("Number")),
                str(_l("Counterparty")),
                str(_l("Signed on")),
                str(_l("Value (VND)")),
                str(_l("Products")),
            ],
            [
                [
                    label(CONTRACT_KIND_LABELS, contract.kind),
                    contract.number,
                    contract.counterparty,
                    contract.signed_on,
                    contract.value_vnd,
                    _product_names(contract),
                ]
                for contract in report.contracts
            ],
        ),
        (
            str(_l("Technology processes mastered")),
            [str(_l("Process")), str(_l("Mastered on")), str(_l("Products"))],
            [[process.name, process.mastered_on, _product_names(process)] for process in report.processes],
        ),
        (
            str(_l("S&T tasks carried out")),
            [
                str(_l("Code")),
                str(_l("Task")),
                str(_l("Level")),
                str(_l("Start")),
                str(_l("End")),
                str(_l("Status")),
                str(_l("Products")),
            ],
            [
                [
                    task.code,
                    task.name,
                    label(TASK_LEVEL_LABELS, task.level),
                    task.starts_on,
                    task.ends_on,
                    label(TASK_STATUS_LABELS, task.status),
                    _product_names(task),
                ]
                for task in report.tasks
            ],
        ),
    ]


# ---------------------------------------------------------------- XLSX


def _put(sheet: Worksheet, row: int, column: int, value: Any, *, bold: bool = False) -> None:
    cell = sheet.cell(row=row, column=column, value=value)
    if looks_like_formula(value):
        cell.data_type = "s"  # text a user typed stays text, never a formula
    elif isinstance(value, int) and not isinstance(value, bool):
        cell.number_format = AMOUNT_FORMAT
    elif isinstance(value, date):
        cell.number_format = DATE_FORMAT
    if bold:
        cell.font = Font(bold=True)


def _write_table(sheet: Worksheet, top: int, header: list[str], rows: Iterable[list[Any]]) -> int:
    """A bold header and the rows from row ``top``; the next free row."""
    for column, title in enumerate(header, start=1):
        _put(sheet, top, column, title, bold=True)
    row_number = top
    for row_number, row in enumerate(rows, start=top + 1):
        for column, value in enumerate(row, start=1):
            _put(sheet, row_number, column, value)
    return row_number + 1


def _widths(sheet: Worksheet, widths: Iterable[float]) -> None:
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width


def _heading(sheet: Worksheet, lines: list[str]) -> int:
    for number, line in enumerate(lines, start=1):
        _put(sheet, number, 1, line, bold=number == 1)
    return len(lines) + 2


def _first_sheet(workbook: Workbook, title: str) -> Worksheet:
    """The sheet a new workbook opens with, named ``title`` (at most 31 characters, Excel's limit)."""
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)  # a new workbook's one sheet
    sheet.title = title[:31]
    return sheet


def _save(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def centre_report_xlsx(report: CentreReport, locale: str | Locale) -> bytes:
    """The centre's report: a sheet of figures, then one sheet per list of records behind them."""
    with force_locale(locale):
        workbook = Workbook()
        sheet = _first_sheet(workbook, str(_l("Report")))
        top = _heading(sheet, _centre_title_lines(report))
        rows = [[_indicator_label(i), str(i.unit), getattr(report.figures, i.key)] for i in INDICATORS]
        _write_table(sheet, top, [str(_l("Indicator")), str(_l("Unit")), str(_l("Value"))], rows)
        _widths(sheet, (52, 14, 22))
        for title, header, table_rows in _detail_tables(report):
            detail = workbook.create_sheet(title[:31])
            _write_table(detail, 1, header, table_rows)
            _widths(detail, [40 if index < 3 else 18 for index in range(len(header))])
            detail.freeze_panes = "A2"
        return _save(workbook)


def national_report_xlsx(report: NationalReport, locale: str | Locale) -> bytes:
    """The roll-up: one row per centre, one column per figure, the national total last."""
    with force_locale(locale):
        workbook = Workbook()
        sheet = _first_sheet(workbook, str(_l("National roll-up")))
        top = _heading(
            sheet, [str(_l("National roll-up of the centres' results, %(year)d", year=report.year))]
        )
        header = [str(_l("Province code")), str(_l("Province")), str(_l("Centre"))]
        header += [f"{indicator.label} ({indicator.unit})" for indicator in INDICATORS]
        rows = [
            [centre.province_code, centre.province_name, centre.name, *_values(figures)]
            for centre, figures in report.rows
        ]
        rows.append(["", str(_l("Total")), "", *_values(report.total)])
        last = _write_table(sheet, top, header, rows)
        for column in range(1, len(header) + 1):
            sheet.cell(row=last - 1, column=column).font = Font(bold=True)
            sheet.cell(row=top, column=column).alignment = Alignment(wrap_text=True, vertical="top")
        _widths(sheet, [10, 16, 40, *([18] * len(INDICATORS))])
        sheet.freeze_panes = sheet.cell(row=top + 1, column=4).coordinate
        return _save(workbook)


def _values(figures: Figures) -> list[int]:
    return [getattr(figures, indicator.key) for indicator in INDICATORS]


def _centre_title_lines(report: CentreReport) -> list[str]:
    return [
        str(_l("Yearly report %(year)d", year=report.year)),
        report.centre.name,
        str(_l("Province: %(province)s", province=report.centre.province_name)),
    ]


# ---------------------------------------------------------------- PDF


def _register_fonts() -> None:
    registered = pdfmetrics.getRegisteredFontNames()
    for name, filename in ((FONT, "DejaVuSans.ttf"), (BOLD_FONT, "DejaVuSans-Bold.ttf")):
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(FONT_FOLDER / filename)))


def _styles() -> dict[str, Any]:
    return {
        "title": ParagraphStyle("title", fontName=BOLD_FONT, fontSize=15, leading=19, spaceAfter=6),
        "heading": ParagraphStyle(
            "heading", fontName=BOLD_FONT, fontSize=11, leading=14, spaceBefore=10, spaceAfter=4
        ),
        "body": ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12),
        "cell": ParagraphStyle("cell", fontName=FONT, fontSize=7.5, leading=9.5),
        "head_cell": ParagraphStyle("head_cell", fontName=BOLD_FONT, fontSize=7.5, leading=9.5),
        "number": ParagraphStyle("number", fontName=FONT, fontSize=7.5, leading=9.5, alignment=2),
    }


def _pdf_text(value: Any, locale: str | Locale) -> str:
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return format_decimal(value, locale=locale)
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _pdf_table(header: list[str], rows: list[list[Any]], widths: list[float], locale: str | Locale) -> Any:
    styles = _styles()

    def cell(value: Any, style: str) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            style = "number"
        return Paragraph(escape(_pdf_text(value, locale)), styles[style])

    data = [[cell(title, "head_cell") for title in header]]
    data += [[cell(value, "cell") for value in row] for row in rows]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b7c0b5")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8f3ec")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    return table


def _document(story: list[Any], title: str) -> bytes:
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=title,
        author="",
        invariant=True,
    )
    document.build(story)
    return buffer.getvalue()


def _paragraph(text: str, style: str) -> Any:
    return Paragraph(escape(text), _styles()[style])


def centre_report_pdf(report: CentreReport, locale: str | Locale) -> bytes:
    """The centre's report as a PDF: the figures, then the products, contracts, processes and tasks."""
    _register_fonts()
    page_width = 180  # millimetres inside the margins
    with force_locale(locale):
        title, *lines = _centre_title_lines(report)
        story = [_paragraph(title, "title"), *(_paragraph(line, "body") for line in lines)]
        story.append(_paragraph(str(_l("Figures")), "heading"))
        rows = [[_indicator_label(i), str(i.unit), getattr(report.figures, i.key)] for i in INDICATORS]
        header = [str(_l("Indicator")), str(_l("Unit")), str(_l("Value"))]
        story.append(_pdf_table(header, rows, [110 * mm, 25 * mm, 45 * mm], locale))
        for heading, detail_header, detail_rows in _detail_tables(report):
            story.append(_paragraph(heading, "heading"))
            if not detail_rows:
                story.append(_paragraph(str(_l("None this year.")), "body"))
                continue
            column = page_width / len(detail_header) * mm
            story.append(_pdf_table(detail_header, detail_rows, [column] * len(detail_header), locale))
        return _document(story, title)


def national_report_pdf(report: NationalReport, locale: str | Locale) -> bytes:
    """The roll-up as a PDF: the indicators in three tables, one row per centre and the total."""
    _register_fonts()
    with force_locale(locale):
        title = str(_l("National roll-up of the centres' results, %(year)d", year=report.year))
        story = [_paragraph(title, "title")]
        for keys in NATIONAL_PDF_GROUPS:
            indicators = [INDICATOR_BY_KEY[key] for key in keys]
            header = [str(_l("Province")), *(f"{i.label} ({i.unit})" for i in indicators)]
            rows = [
                [centre.province_name, *(getattr(figures, i.key) for i in indicators)]
                for centre, figures in report.rows
            ]
            rows.append([str(_l("Total")), *(getattr(report.total, i.key) for i in indicators)])
            value_width = (180 - 30) / len(indicators) * mm
            story.append(_paragraph(" ", "body"))
            story.append(_pdf_table(header, rows, [30 * mm, *([value_width] * len(indicators))], locale))
        return _document(story, title)
