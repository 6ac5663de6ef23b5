"""The dashboards: each chart's numbers, the tenant scope, the CSV downloads and the page itself."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest

from tests.reports.helpers import chart_section, chart_table, csv_rows
from traceability.core.dates import month_start, vietnam_midnight, vietnam_today
from traceability.models.batches import Recall, TraceEvent
from traceability.models.inspections import Inspection
from traceability.models.public import Scan
from traceability.models.registry import Certification
from traceability.reports import dashboard

EN = {"Accept-Language": "en"}
TODAY = vietnam_today()


def _month(months_ago: int):
    """A production date ``months_ago`` months back, never after today."""
    return min(month_start(TODAY, -months_ago), TODAY)


def _certification(db, producer, number, status, days):
    db.session.add(
        Certification(
            producer_id=producer.id,
            scope="producer",
            type="vietgap",
            number=number,
            issuer="VinaCert",
            valid_from=TODAY - timedelta(days=700),
            valid_to=TODAY + timedelta(days=days),
            status=status,
        )
    )


def _inspection(db, centre, producer, severity, status):
    db.session.add(
        Inspection(
            centre_id=centre.id,
            producer_id=producer.id,
            subject_kind="producer",
            inspected_on=TODAY - timedelta(days=10),
            inspector="Nguyễn Văn A",
            outcome="nonconformity",
            severity=severity,
            follow_up_on=TODAY - timedelta(days=1),
            status=status,
        )
    )


def _scans(db, batch, moments):
    for moment in moments:
        db.session.add(Scan(batch_id=batch.id, scanned_at=moment, device_class="mobile"))


@pytest.fixture
def world(db, make, tenants):
    """Known data in Đắk Lắk and a little in Nghệ An, dated around today."""
    daklak, nghean = tenants["daklak"], tenants["nghean"]
    # The tenants' own product and batch are not part of what the tests count.
    db.session.delete(daklak.batch)
    db.session.delete(nghean.batch)
    db.session.flush()
    make.producer(daklak.centre, status="pending")
    make.producer(daklak.centre, status="pending")
    make.producer(daklak.centre, status="rejected")
    make.producer(nghean.centre, status="pending")
    expired = TODAY - timedelta(days=3)
    later = TODAY + timedelta(days=700)
    p = daklak.producer
    four = make.product(p, ocop_group="food", ocop_stars=4, ocop_expires_on=later)
    make.product(p, ocop_group="food", ocop_stars=3, ocop_expires_on=TODAY + timedelta(days=30))
    make.product(p, ocop_group="beverage", ocop_stars=5, ocop_expires_on=later)
    make.product(p, ocop_group="food", ocop_stars=4, ocop_expires_on=expired)  # no longer OCOP
    make.product(nghean.producer, ocop_group="handicraft", ocop_stars=3, ocop_expires_on=later)
    batches = [
        make.batch(four, production_date=production, expiry_date=None)
        for production in (_month(0), _month(0), _month(2), _month(11), month_start(TODAY, -12))
    ]
    other = make.batch(nghean.product, production_date=_month(0))
    midnight = vietnam_midnight(TODAY)
    _scans(
        db,
        batches[0],
        [
            midnight + timedelta(minutes=30),  # 17:30 UTC yesterday: today in Vietnam
            midnight + timedelta(hours=1),
            midnight + timedelta(hours=2),
            midnight - timedelta(days=28),
            midnight - timedelta(days=29) + timedelta(hours=20),
            midnight - timedelta(days=29) - timedelta(minutes=1),  # 31 days ago in Vietnam: left out
        ],
    )
    _scans(db, other, [midnight + timedelta(hours=3)] * 4)
    _certification(db, p, "SOON", "verified", 10)
    _certification(db, p, "LAST-DAY", "verified", 60)
    _certification(db, p, "TOO-LATE", "verified", 61)
    _certification(db, p, "PENDING", "pending", 5)
    _certification(db, nghean.producer, "NA-SOON", "verified", 5)
    db.session.add(Recall(batch_id=batches[0].id, reason="Dư lượng", status="open"))
    db.session.add(Recall(batch_id=batches[1].id, reason="Nhãn sai", status="closed", outcome="withdrawn"))
    db.session.add(Recall(batch_id=other.id, reason="Bao bì", status="open"))
    # A future event is a data quality warning.
    db.session.add(
        TraceEvent(
            batch_id=batches[2].id,
            type="packing",
            biz_step="packing",
            event_time=datetime.now(UTC) + timedelta(days=5),
        )
    )
    _inspection(db, daklak.centre, p, "major", "open")
    _inspection(db, daklak.centre, p, "minor", "answered")
    _inspection(db, nghean.centre, nghean.producer, "critical", "open")
    db.session.commit()
    return tenants


def _chart(key, user):
    return dashboard.chart(key, user, TODAY)


def _rows(chart):
    return {row[0]: row[1:] for row in chart.rows}


def test_products_by_province_follow_the_scope(world):
    centre = _chart("products-by-province", world["daklak"].staff)
    assert centre.rows == [["Đắk Lắk", 5]]  # the tenants' product and four more
    national = _chart("products-by-province", world["ministry"])
    assert national.rows == [["Đắk Lắk", 5], ["Nghệ An", 2]]


def test_ocop_products_by_group_and_stars_count_certificates_in_force(app, world):
    with app.test_request_context(headers=EN):
        groups = _rows(_chart("products-by-ocop-group", world["daklak"].staff))
        stars = _chart("products-by-stars", world["daklak"].staff)
        national = _chart("products-by-stars", world["ministry"])
    assert groups["Food"] == [1, 1, 0, 2]  # 3, 4, 5 stars and the total; the expired one left out
    assert groups["Beverages"] == [0, 0, 1, 1]
    assert groups["Handicrafts and textiles"] == [0, 0, 0, 0]
    assert stars.rows == [["3 stars", 1], ["4 stars", 1], ["5 stars", 1]]
    assert [row[1] for row in national.rows] == [2, 1, 1]


def test_batches_per_month_cover_the_last_twelve_months(world):
    chart = _chart("batches-per-month", world["daklak"].staff)
    counts = _rows(chart)
    assert len(chart.rows) == 12
    assert chart.rows[-1][0] == TODAY.strftime("%m/%Y")
    assert counts[TODAY.strftime("%m/%Y")] == [2]
    assert counts[month_start(TODAY, -2).strftime("%m/%Y")] == [1]
    assert counts[month_start(TODAY, -11).strftime("%m/%Y")] == [1]
    assert chart.total == 4  # the batch of 12 months ago is left out
    assert _chart("batches-per-month", world["ministry"]).total == 5


def test_scans_per_day_are_counted_in_vietnam_time(world):
    chart = _chart("scans-per-day", world["daklak"].staff)
    counts = _rows(chart)
    assert len(chart.rows) == 30
    assert counts[TODAY.strftime("%d/%m/%Y")] == [3]
    assert counts[(TODAY - timedelta(days=28)).strftime("%d/%m/%Y")] == [1]
    assert counts[(TODAY - timedelta(days=29)).strftime("%d/%m/%Y")] == [1]
    assert chart.total == 5
    assert _chart("scans-per-day", world["nghean"].staff).total == 4
    assert _chart("scans-per-day", world["ministry"]).total == 9


def test_certifications_expiring_match_the_work_list(world):
    from traceability.registry import worklists

    user = world["daklak"].staff
    chart = _chart("certifications-expiring", user)
    by_series = {item.name: sum(item.values) for item in chart.series}
    assert list(by_series.values()) == [2, 1]  # SOON and LAST-DAY; one OCOP certificate
    assert list(by_series.values()) == [
        worklists.expiring_certifications(user, today=TODAY).total,
        worklists.expiring_ocop_products(user, today=TODAY).total,
    ]
    months = [row[0] for row in chart.rows]
    assert months[0] == TODAY.strftime("%m/%Y")
    assert months[-1] == (TODAY + timedelta(days=60)).strftime("%m/%Y")
    soon = (TODAY + timedelta(days=10)).strftime("%m/%Y")
    assert _rows(chart)[soon][0] >= 1
    assert _chart("certifications-expiring", world["ministry"]).total == 4


def test_recalls_producers_quality_and_nonconformities(world):
    user = world["daklak"].staff
    assert [row[1] for row in _chart("recalls", user).rows] == [1, 1]
    assert [row[1] for row in _chart("recalls", world["ministry"]).rows] == [2, 1]
    producers = _chart("producers", user)
    assert [row[1] for row in producers.rows] == [2, 1, 1, 0]  # pending, approved, rejected, suspended
    assert producers.notes["waiting"] == 2
    quality = _chart("quality-warnings", user)
    assert quality.total == 1 and len(quality.rows) == 8
    assert _chart("quality-warnings", world["nghean"].staff).total == 0
    nonconformities = _chart("nonconformities", user)
    assert [row[1] for row in nonconformities.rows] == [1, 1, 0]  # minor, major, critical
    assert nonconformities.notes["overdue"] == 1
    assert [row[1] for row in _chart("nonconformities", world["ministry"]).rows] == [1, 1, 1]


def test_every_chart_is_empty_without_data(app, db, make):
    centre = make.centre("38")
    staff = make.user("centre_staff", centre=centre)
    db.session.commit()
    for chart in dashboard.dashboard_charts(staff, TODAY):
        assert chart.is_empty, chart.key


# ---------------------------------------------------------------- web


def test_the_centre_dashboard_shows_every_chart_with_its_table_and_csv(client, web, world):
    web.login(world["daklak"].auditor.email)
    response = client.get("/manage/dashboard", headers=EN)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for key in dashboard.CHARTS:
        section = chart_section(page, key)
        svg = re.search(r"<svg.*?</svg>", section, re.S).group(0)
        root = ElementTree.fromstring(svg)
        assert root.get("role") == "img" and root.findtext("{http://www.w3.org/2000/svg}title")
        table = chart_table(section)
        download = client.get(f"/manage/dashboard/{key}.csv", headers=EN)
        assert download.status_code == 200 and download.mimetype == "text/csv"
        assert "attachment" in download.headers["Content-Disposition"]
        rows = csv_rows(download)
        assert [[cell.replace(",", "") for cell in row] for row in table] == rows, key
    assert "Nghệ An" not in chart_table(chart_section(page, "products-by-province"))[1]


def test_the_csv_carries_the_numbers_of_the_chart(client, web, world):
    web.login(world["ministry"].email)
    body = client.get("/manage/dashboard/products-by-province.csv", headers=EN).get_data().decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(body))) == [
        ["Province", "Products"],
        ["Đắk Lắk", "5"],
        ["Nghệ An", "2"],
    ]


def test_an_empty_dashboard_says_so(client, web, db, make):
    centre = make.centre("38")
    staff = make.user("centre_staff", centre=centre)
    db.session.commit()
    web.login(staff.email)
    page = client.get("/manage/dashboard", headers=EN).get_data(as_text=True)
    assert "No scans in the last 30 days." in page
    assert "No recalls." in page
    assert "<svg" not in page


@pytest.mark.parametrize("path", ["/manage/dashboard", "/manage/dashboard/recalls.csv"])
def test_producers_may_not_see_dashboards(client, web, world, path):
    web.login(world["daklak"].producer_user.email)
    assert client.get(path).status_code == 403


def test_signed_out_users_are_sent_to_sign_in(client, world):
    assert client.get("/manage/dashboard").status_code == 302


def test_an_unknown_chart_is_not_found(client, web, world):
    web.login(world["daklak"].staff.email)
    assert client.get("/manage/dashboard/nothing.csv").status_code == 404


def test_the_overview_links_the_dashboard_and_reports(client, web, world):
    web.login(world["daklak"].staff.email)
    page = client.get("/manage", headers=EN).get_data(as_text=True)
    assert 'href="/manage/dashboard"' in page and 'href="/manage/reports"' in page
    web.login(world["daklak"].producer_user.email)
    page = client.get("/manage", headers=EN).get_data(as_text=True)
    assert 'href="/manage/dashboard"' not in page
