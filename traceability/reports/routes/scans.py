"""The scan analytics page (``/manage/scans``) and its CSVs, for producers, centres and the ministry."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, render_template, request
from flask_babel import format_decimal
from flask_login import current_user

from traceability.http.web import attachment, roles_required
from traceability.models.accounts import ROLES
from traceability.reports.forms import ScanPeriodForm
from traceability.reports.scan_analytics import CHART_KEYS, Period, scan_chart, scan_charts

bp = Blueprint("scans", __name__, url_prefix="/scans")

KEYS = ", ".join(f"'{key}'" for key in CHART_KEYS)  # quoted: the keys hold hyphens


def _number(value: int | float) -> str:
    return format_decimal(value)


def _query_args(form: ScanPeriodForm) -> dict[str, str]:
    """The dates as the user gave them, for the CSV links."""
    return {
        name: value.isoformat()
        for name, value in (("date_from", form.date_from.data), ("date_to", form.date_to.data))
        if isinstance(value, date)
    }


@bp.route("")
@roles_required(*ROLES)
def index():
    """Scans per day, product, province or producer or batch, language and device, over a date range."""
    form = ScanPeriodForm(formdata=request.args)
    period = form.period()
    charts = scan_charts(current_user, period) if period else []
    return render_template(
        "reports/scans.html",
        form=form,
        period=period,
        charts=charts,
        total=charts[0].total if charts else 0,
        query=_query_args(form),
        number=_number,
        national=current_user.role == "ministry",
    ), (200 if period else 400)


@bp.route(f"/<any({KEYS}):chart_key>.csv")
@roles_required(*ROLES)
def chart_csv(chart_key: str):
    """One scan chart's table as a CSV download, for the same dates as the page."""
    form = ScanPeriodForm(formdata=request.args)
    period = form.period()
    if period is None:
        errors = [str(error) for field in form for error in field.errors]
        abort(400, description=" ".join(errors))
    table = scan_chart(chart_key, current_user, period)
    if table is None:
        abort(404)  # a chart of another role's page (the ministry's provinces, say)
    return attachment(table.csv(), "text/csv", _filename(table.key, period))


def _filename(key: str, period: Period) -> str:
    return f"scans-{key}-{period.start.isoformat()}-{period.end.isoformat()}.csv"
