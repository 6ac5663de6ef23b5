"""The yearly reports, under ``/manage/reports``.

A centre's report with the records behind it, the ministry's national roll-up; each as XLSX and PDF too.
"""

from __future__ import annotations

import re
import unicodedata

from flask import Blueprint, abort, render_template, request
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_login import current_user

from traceability.accounts.scope import get_scoped_or_404, scoped_select
from traceability.core.dates import vietnam_today
from traceability.core.extensions import db
from traceability.http.converters import query_int
from traceability.http.web import attachment, roles_required
from traceability.models.registry import Centre
from traceability.reports import exports, yearly

bp = Blueprint("yearly", __name__, url_prefix="/reports")

READERS = ("centre_admin", "centre_staff", "auditor", "ministry")


def _number(value: int | float) -> str:
    return format_decimal(value)


def _year(year: int) -> int:
    """A year a report can be made for; 400 with what to choose otherwise."""
    if not yearly.FIRST_YEAR <= year <= vietnam_today().year:
        message = _(
            "There is no report for %(year)d: choose a year from %(first)d to this year.",
            year=year,
            first=yearly.FIRST_YEAR,
        )
        abort(400, description=message)
    return year


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return re.sub(r"[^A-Za-z0-9]+", "-", plain.encode("ascii", "ignore").decode()).strip("-").lower()


def _report_filename(centre: Centre, year: int, extension: str) -> str:
    return f"bao-cao-{year}-{_ascii(centre.province_name) or centre.province_code}.{extension}"


@bp.route("")
@roles_required(*READERS)
def index():
    """Choose a year; the centre's report, or for the ministry every centre's and the national roll-up."""
    this_year = vietnam_today().year
    year = request.args.get("year", this_year, type=query_int)
    if not yearly.FIRST_YEAR <= year <= this_year:
        year = this_year
    centres = db.session.scalars(scoped_select(Centre).order_by(Centre.province_code)).all()
    return render_template(
        "reports/index.html",
        year=year,
        years=list(range(this_year, max(yearly.FIRST_YEAR, this_year - 10) - 1, -1)),
        centres=centres,
        national=current_user.role == "ministry",
    )


def _centre_report(year: int, centre_id: int) -> yearly.CentreReport:
    return yearly.centre_report(get_scoped_or_404(Centre, centre_id), _year(year))


@bp.route("/<int:year>/centres/<int:centre_id>")
@roles_required(*READERS)
def centre(year: int, centre_id: int):
    """A centre's yearly report: the figures and the records behind them."""
    report = _centre_report(year, centre_id)
    return render_template(
        "reports/centre_report.html",
        report=report,
        indicators=yearly.INDICATORS,
        number=_number,
        yearly=yearly,
    )


@bp.route("/<int:year>/centres/<int:centre_id>.xlsx")
@roles_required(*READERS)
def centre_xlsx(year: int, centre_id: int):
    """A centre's yearly report as a spreadsheet."""
    report = _centre_report(year, centre_id)
    body = exports.centre_report_xlsx(report, get_locale())
    return attachment(body, exports.XLSX_MEDIA_TYPE, _report_filename(report.centre, year, "xlsx"))


@bp.route("/<int:year>/centres/<int:centre_id>.pdf")
@roles_required(*READERS)
def centre_pdf(year: int, centre_id: int):
    """A centre's yearly report as a PDF."""
    report = _centre_report(year, centre_id)
    body = exports.centre_report_pdf(report, get_locale())
    return attachment(body, exports.PDF_MEDIA_TYPE, _report_filename(report.centre, year, "pdf"))


@bp.route("/<int:year>/national")
@roles_required("ministry")
def national(year: int):
    """The national roll-up: every centre's figures and their sum."""
    report = yearly.national_report(_year(year))
    return render_template(
        "reports/national_report.html", report=report, indicators=yearly.INDICATORS, number=_number
    )


@bp.route("/<int:year>/national.xlsx")
@roles_required("ministry")
def national_xlsx(year: int):
    """The national roll-up as a spreadsheet."""
    body = exports.national_report_xlsx(yearly.national_report(_year(year)), get_locale())
    return attachment(body, exports.XLSX_MEDIA_TYPE, f"bao-cao-{year}-toan-quoc.xlsx")


@bp.route("/<int:year>/national.pdf")
@roles_required("ministry")
def national_pdf(year: int):
    """The national roll-up as a PDF."""
    body = exports.national_report_pdf(yearly.national_report(_year(year)), get_locale())
    return attachment(body, exports.PDF_MEDIA_TYPE, f"bao-cao-{year}-toan-quoc.pdf")
