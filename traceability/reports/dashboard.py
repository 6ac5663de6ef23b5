"""The figures of the centre's and the ministry's dashboards, one chart each.

Every chart is one SQL ``GROUP BY`` through the tenant scope, so a centre
sees its province and the ministry every province; periods are grouped with
``traceability.reports.periods``, which reads the same on SQLite and
PostgreSQL. The data quality warnings and the open nonconformities reuse the
quality checks and the inspections' counts, the scans per day the scan
analytics' count, and the expiry window is the work list's, so the dashboard
and the pages it links to never disagree.

Each function returns a ``Chart`` (``chart_data``): the SVG, the table under
it and its CSV download are all drawn from it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from traceability.accounts.scope import tenant_clause
from traceability.batches.quality import quality_report
from traceability.core.dates import month_start
from traceability.core.extensions import db
from traceability.core.vocabulary import STATUS_LABELS, label
from traceability.inspections.service import SEVERITY_LABELS, nonconformity_counts
from traceability.models.batches import Batch, Recall
from traceability.models.inspections import SEVERITIES
from traceability.models.registry import (
    OCOP_GROUPS,
    PRODUCER_STATUSES,
    Centre,
    Certification,
    Producer,
    Product,
)
from traceability.registry.forms import OCOP_GROUP_LABELS
from traceability.registry.worklists import EXPIRY_WINDOW_DAYS
from traceability.reports import charts
from traceability.reports.chart_data import Chart
from traceability.reports.chart_shapes import count_series, daily_chart, province_chart
from traceability.reports.periods import last_months, month_key, month_of_date
from traceability.reports.scan_analytics import Period, daily_counts

BATCH_MONTHS = 12
SCAN_DAYS = 30
RECALL_STATUSES = ("open", "closed")


def _grouped(query: Any) -> dict[Any, int]:
    return {key: int(count) for key, count in db.session.execute(query)}


def _month_label(month: date) -> str:
    return month.strftime("%m/%Y")


# ---------------------------------------------------------------- products


def _ocop_in_force(today: date) -> Any:
    """OCOP products whose certificate has not expired."""
    return (
        Product.ocop_stars.is_not(None),
        or_(Product.ocop_expires_on.is_(None), Product.ocop_expires_on >= today),
    )


def products_by_province(user: Any, today: date) -> Chart:
    """Products by the province of their producer's centre, most first."""
    counts = _grouped(
        select(Centre.province_code, func.count(Product.id))
        .select_from(Product)
        .join(Producer, Producer.id == Product.producer_id)
        .join(Centre, Centre.id == Producer.centre_id)
        .where(tenant_clause(Product, user))
        .group_by(Centre.province_code)
    )
    return province_chart(
        counts,
        key="products-by-province",
        title=_l("Products by province"),
        description=_l("Registered products, by the province of the producer's centre."),
        series_name=_l("Products"),
        empty_message=_l("No products registered yet."),
    )


def products_by_ocop_group(user: Any, today: date) -> Chart:
    """OCOP products in force by OCOP group, each bar split by stars."""
    counts = {
        (group, stars): int(count)
        for group, stars, count in db.session.execute(
            select(Product.ocop_group, Product.ocop_stars, func.count(Product.id))
            .where(tenant_clause(Product, user), *_ocop_in_force(today))
            .group_by(Product.ocop_group, Product.ocop_stars)
        )
    }
    groups = list(OCOP_GROUPS)
    series = [
        charts.Series(
            str(_l("%(stars)d stars", stars=stars)), tuple(counts.get((group, stars), 0) for group in groups)
        )
        for stars in (3, 4, 5)
    ]
    return Chart(
        key="products-by-ocop-group",
        title=str(_l("OCOP products by group")),
        description=str(_l("OCOP products with a certificate in force, by OCOP group and stars.")),
        category_header=str(_l("OCOP group")),
        categories=[label(OCOP_GROUP_LABELS, group) for group in groups],
        series=series,
        kind="hstacked",
        empty_message=str(_l("No OCOP products with a certificate in force.")),
    )


def products_by_stars(user: Any, today: date) -> Chart:
    """OCOP products in force by their stars."""
    counts = _grouped(
        select(Product.ocop_stars, func.count(Product.id))
        .where(tenant_clause(Product, user), *_ocop_in_force(today))
        .group_by(Product.ocop_stars)
    )
    stars = [3, 4, 5]
    labels = [str(_l("%(stars)d stars", stars=star_count)) for star_count in stars]
    return Chart(
        key="products-by-stars",
        title=str(_l("OCOP products by stars")),
        description=str(_l("3 and 4 stars are certified by the province, 5 stars by the central council.")),
        category_header=str(_l("Stars")),
        categories=labels,
        series=[count_series(_l("Products"), counts, stars)],
        axis_labels=["★★★", "★★★★", "★★★★★"],
        empty_message=str(_l("No OCOP products with a certificate in force.")),
    )


# ---------------------------------------------------------------- batches, scans


def batches_per_month(user: Any, today: date) -> Chart:
    """Batches by the month of their production date, over the last 12 months."""
    months = last_months(today, BATCH_MONTHS)
    month = month_of_date(Batch.production_date)
    counts = _grouped(
        select(month, func.count(Batch.id))
        .where(
            tenant_clause(Batch, user),
            Batch.production_date >= months[0],
            Batch.production_date < month_start(today, 1),
        )
        .group_by(month)
    )
    keys = [month_key(first) for first in months]
    labels = [_month_label(first) for first in months]
    return Chart(
        key="batches-per-month",
        title=str(_l("Batches per month")),
        description=str(_l("Batches by month of production, over the last 12 months.")),
        category_header=str(_l("Month")),
        categories=labels,
        series=[count_series(_l("Batches"), counts, keys)],
        axis_labels=[first.strftime("%m/%y") for first in months],
        empty_message=str(_l("No batches produced in the last 12 months.")),
    )


def scans_per_day(user: Any, today: date) -> Chart:
    """Public scans of QR codes by day (Vietnam time), over the last 30 days: the scan analytics' count."""
    period = Period.ending(today, SCAN_DAYS)
    return daily_chart(
        daily_counts(user, period),
        period.days,
        key="scans-per-day",
        title=_l("Scans per day"),
        description=_l("Consumers' scans of the QR codes, per day over the last 30 days."),
        series_name=_l("Scans"),
        empty_message=_l("No scans in the last 30 days."),
    )


# ---------------------------------------------------------------- certifications, recalls, producers


def certifications_expiring(user: Any, today: date) -> Chart:
    """Verified certifications and OCOP certificates that expire in the next 60 days, by month.

    The same window and conditions as the work list's renewals, so the totals match it.
    """
    end = today + timedelta(days=EXPIRY_WINDOW_DAYS)
    month = month_of_date(Certification.valid_to)
    certificates = _grouped(
        select(month, func.count(Certification.id))
        .where(
            tenant_clause(Certification, user),
            Certification.status == "verified",
            Certification.valid_to.between(today, end),
            Certification.claim_ocop_stars.is_(None),  # OCOP ratings are counted by product below
        )
        .group_by(month)
    )
    ocop_month = month_of_date(Product.ocop_expires_on)
    ocop = _grouped(
        select(ocop_month, func.count(Product.id))
        .where(tenant_clause(Product, user), Product.ocop_expires_on.between(today, end))
        .group_by(ocop_month)
    )
    months = []
    first = month_start(today, 0)
    while first <= end:
        months.append(first)
        first = month_start(first, 1)
    keys = [month_key(each) for each in months]
    return Chart(
        key="certifications-expiring",
        title=str(_l("Certifications expiring")),
        description=str(
            _l("Certificates that expire in the next %(days)d days, by month.", days=EXPIRY_WINDOW_DAYS)
        ),
        category_header=str(_l("Month")),
        categories=[_month_label(each) for each in months],
        series=[
            count_series(_l("Verified certifications"), certificates, keys),
            count_series(_l("OCOP certificates"), ocop, keys),
        ],
        kind="stacked",
        empty_message=str(_l("No certificate expires in the next %(days)d days.", days=EXPIRY_WINDOW_DAYS)),
    )


def recalls(user: Any, today: date) -> Chart:
    """Recalls, open and closed."""
    counts = _grouped(
        select(Recall.status, func.count(Recall.id))
        .where(tenant_clause(Recall, user))
        .group_by(Recall.status)
    )
    return Chart(
        key="recalls",
        title=str(_l("Recalls")),
        description=str(_l("Recalls still open and those the centre closed.")),
        category_header=str(_l("Status")),
        categories=[label(STATUS_LABELS, status) for status in RECALL_STATUSES],
        series=[count_series(_l("Recalls"), counts, list(RECALL_STATUSES))],
        empty_message=str(_l("No recalls.")),
    )


def producers_by_status(user: Any, today: date) -> Chart:
    """Producers by status; the first bar is those waiting for the centre's approval."""
    counts = _grouped(
        select(Producer.status, func.count(Producer.id))
        .where(tenant_clause(Producer, user))
        .group_by(Producer.status)
    )
    return Chart(
        key="producers",
        title=str(_l("Producers waiting for approval")),
        description=str(_l("Producers by status: the first bar waits for the centre's decision.")),
        category_header=str(_l("Status")),
        categories=[label(STATUS_LABELS, status) for status in PRODUCER_STATUSES],
        series=[count_series(_l("Producers"), counts, list(PRODUCER_STATUSES))],
        empty_message=str(_l("No producers yet.")),
        notes={"waiting": counts.get("pending", 0)},
    )


# ---------------------------------------------------------------- quality, inspections


def quality_warnings(user: Any, today: date) -> Chart:
    """The data quality checks and how many batches each flags."""
    checks = quality_report(user)
    return Chart(
        key="quality-warnings",
        title=str(_l("Data quality warnings")),
        description=str(_l("Batches each data quality check flags.")),
        category_header=str(_l("Check")),
        categories=[check.title for check in checks],
        series=[charts.Series(str(_l("Batches")), tuple(check.batch_count for check in checks))],
        kind="hbar",
        empty_message=str(_l("No data quality warnings.")),
    )


def nonconformities(user: Any, today: date) -> Chart:
    """Nonconformities not yet closed, by severity."""
    counts = nonconformity_counts(user, today=today)
    return Chart(
        key="nonconformities",
        title=str(_l("Open nonconformities")),
        description=str(_l("Inspections' nonconformities not yet closed, by severity.")),
        category_header=str(_l("Severity")),
        categories=[label(SEVERITY_LABELS, severity) for severity in SEVERITIES],
        series=[count_series(_l("Nonconformities"), counts, list(SEVERITIES))],
        empty_message=str(_l("No open nonconformities.")),
        notes={"overdue": counts.get("overdue", 0)},
    )


CHARTS: dict[str, Callable[[Any, date], Chart]] = {
    "products-by-province": products_by_province,
    "products-by-ocop-group": products_by_ocop_group,
    "products-by-stars": products_by_stars,
    "batches-per-month": batches_per_month,
    "scans-per-day": scans_per_day,
    "certifications-expiring": certifications_expiring,
    "recalls": recalls,
    "producers": producers_by_status,
    "quality-warnings": quality_warnings,
    "nonconformities": nonconformities,
}


def chart(key: str, user: Any, today: date) -> Chart:
    """One chart by its key (KeyError for an unknown one)."""
    return CHARTS[key](user, today)


def dashboard_charts(user: Any, today: date) -> list[Chart]:
    """Every chart of the dashboard, in the order the page shows them."""
    return [build(user, today) for build in CHARTS.values()]
