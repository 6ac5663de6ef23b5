"""The dashboards under ``/manage/dashboard``: the centre's (its province) or the ministry's; chart CSVs."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import format_decimal
from flask_login import current_user

from traceability.core.dates import vietnam_today
from traceability.http.web import attachment, roles_required
from traceability.registry import worklists
from traceability.reports.dashboard import CHARTS, chart, dashboard_charts

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

READERS = ("centre_admin", "centre_staff", "auditor", "ministry")
CHART_KEYS = ", ".join(f"'{key}'" for key in CHARTS)  # quoted: the keys hold hyphens
WAITING_SHOWN = 10


def _number(value: int | float) -> str:
    return format_decimal(value)


@bp.route("")
@roles_required(*READERS)
def index():
    """The centre's dashboard (its province) or the ministry's (every province)."""
    today = vietnam_today()
    charts = dashboard_charts(current_user, today)
    return render_template(
        "reports/dashboard.html",
        charts=charts,
        by_key={chart.key: chart for chart in charts},
        today=today,
        number=_number,
        waiting=worklists.pending_producers(current_user, limit=WAITING_SHOWN),
        national=current_user.role == "ministry",
    )


@bp.route(f"/<any({CHART_KEYS}):chart_key>.csv")
@roles_required(*READERS)
def chart_csv(chart_key: str):
    """One chart's table as a CSV download."""
    today = vietnam_today()
    table = chart(chart_key, current_user, today)
    return attachment(table.csv(), "text/csv", f"{table.key}-{today.isoformat()}.csv")
