"""The scan analytics page: each role's own scans, exact counts, CSV equal to the table, dates checked."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.reports.helpers import chart_section, chart_table, csv_rows
from traceability.core.dates import vietnam_midnight, vietnam_today
from traceability.models.public import Scan
from traceability.reports import scan_analytics

EN = {"Accept-Language": "en"}
VI = {"Accept-Language": "vi"}
TODAY = vietnam_today()
MIDNIGHT = vietnam_midnight(TODAY)


def _scans(db, batch, moments, language="vi", device="mobile"):
    for moment in moments:
        db.session.add(Scan(batch_id=batch.id, scanned_at=moment, language=language, device_class=device))


@pytest.fixture
def world(db, make, tenants):
    """Scans of two Đắk Lắk producers and one Nghệ An producer, around today's and older days."""
    daklak, nghean = tenants["daklak"], tenants["nghean"]
    neighbour = make.producer(daklak.centre, name="HTX Tiêu Krông Pắc")
    pepper = make.product(neighbour, name="Hồ tiêu đen")
    pepper_batch = make.batch(pepper, lot_code="TIEU-01")
    second = make.batch(daklak.product, lot_code="CF-02")
    _scans(
        db,
        daklak.batch,
        [
            MIDNIGHT + timedelta(minutes=30),  # 17:30 UTC yesterday: today in Vietnam
            MIDNIGHT + timedelta(hours=9),
            MIDNIGHT - timedelta(minutes=1),  # yesterday in Vietnam
            MIDNIGHT - timedelta(days=29) + timedelta(hours=8),  # the first of the last 30 days
            MIDNIGHT - timedelta(days=29) - timedelta(minutes=1),  # 31 days ago in Vietnam: left out
        ],
    )
    _scans(db, daklak.batch, [MIDNIGHT + timedelta(hours=10)], language="en", device="desktop")
    _scans(db, second, [MIDNIGHT + timedelta(hours=11)] * 2, device="tablet")
    _scans(db, pepper_batch, [MIDNIGHT + timedelta(hours=12)] * 3, language="en")
    _scans(db, nghean.batch, [MIDNIGHT + timedelta(hours=13)] * 4, device="other")
    tenants["neighbour_user"] = make.user("producer", producer=neighbour)
    db.session.commit()
    return tenants


def _page(client, web, user, query: str = "", headers=EN) -> tuple[int, str]:
    web.login(user.email)
    response = client.get(f"/manage/scans{query}", headers=headers)
    return response.status_code, response.get_data(as_text=True)


def _counts(page: str, key: str) -> dict[str, int]:
    return {row[0]: int(row[1].replace(",", "")) for row in chart_table(chart_section(page, key))[1:]}


def _keys(page: str) -> list[str]:
    return re.findall(r'<section class="chart-card" id="chart-([a-z-]+)"', page)


def test_a_producer_sees_only_its_own_scans(client, web, world):
    status, page = _page(client, web, world["daklak"].producer_user)
    assert status == 200
    assert _keys(page) == ["per-day", "per-product", "per-batch", "per-language", "per-device"]
    day = _counts(page, "per-day")
    assert len(day) == 30
    assert day[TODAY.strftime("%d/%m/%Y")] == 5  # 2 vi, 1 en and 2 of the second batch
    assert day[(TODAY - timedelta(days=1)).strftime("%d/%m/%Y")] == 1
    assert day[(TODAY - timedelta(days=29)).strftime("%d/%m/%Y")] == 1
    assert sum(day.values()) == 7
    assert _counts(page, "per-product") == {
        world["daklak"].product.name: 7
    }  # no producer name: it is its own
    assert _counts(page, "per-batch") == {
        f"{world['daklak'].batch.lot_code} · {world['daklak'].product.name}": 5,
        f"CF-02 · {world['daklak'].product.name}": 2,
    }
    assert _counts(page, "per-language") == {"Vietnamese": 6, "English": 1}
    assert _counts(page, "per-device") == {"Phone": 4, "Tablet": 2, "Computer": 1, "Other": 0}
    assert "Hồ tiêu đen" not in page and "TIEU-01" not in page
    assert "<strong>7</strong>" in page

    status, page = _page(client, web, world["neighbour_user"])
    assert _counts(page, "per-product") == {"Hồ tiêu đen": 3}


def test_a_centre_sees_its_province_by_producer(client, web, world):
    daklak = world["daklak"]
    for user in (daklak.staff, daklak.auditor):
        status, page = _page(client, web, user)
        assert status == 200
        assert _keys(page) == ["per-day", "per-product", "per-producer", "per-language", "per-device"]
        assert sum(_counts(page, "per-day").values()) == 10
        assert _counts(page, "per-producer") == {daklak.producer.name: 7, "HTX Tiêu Krông Pắc": 3}
        assert _counts(page, "per-product") == {
            f"{daklak.product.name} ({daklak.producer.name})": 7,
            "Hồ tiêu đen (HTX Tiêu Krông Pắc)": 3,
        }
        assert _counts(page, "per-language") == {"Vietnamese": 6, "English": 4}
        assert world["nghean"].producer.name not in page
    status, page = _page(client, web, world["nghean"].staff)
    assert _counts(page, "per-producer") == {world["nghean"].producer.name: 4}
    assert _counts(page, "per-device") == {"Phone": 0, "Tablet": 0, "Computer": 0, "Other": 4}


def test_the_ministry_sees_every_province(client, web, world):
    status, page = _page(client, web, world["ministry"])
    assert status == 200
    assert _keys(page) == ["per-day", "per-product", "per-province", "per-language", "per-device"]
    assert _counts(page, "per-province") == {"Đắk Lắk": 10, "Nghệ An": 4}
    assert sum(_counts(page, "per-day").values()) == 14
    assert sum(_counts(page, "per-product").values()) == 14


def test_every_csv_matches_its_table(client, web, world):
    for user in (world["daklak"].producer_user, world["daklak"].auditor, world["ministry"]):
        query = f"?date_from={(TODAY - timedelta(days=6)).isoformat()}"
        status, page = _page(client, web, user, query)
        assert status == 200
        for key in _keys(page):
            section = chart_section(page, key)
            link = re.search(r'href="([^"]+\.csv[^"]*)" download', section).group(1).replace("&amp;", "&")
            assert link.startswith(f"/manage/scans/{key}.csv?date_from=")
            download = client.get(link, headers=EN)
            assert download.status_code == 200 and download.mimetype == "text/csv"
            assert "attachment" in download.headers["Content-Disposition"]
            table = [[cell.replace(",", "") for cell in row] for row in chart_table(section)]
            assert csv_rows(download) == table, (user.role, key)
            if key == "per-day":
                assert len(table) == 1 + 7


def test_a_date_range_counts_only_its_days(client, web, world):
    yesterday = (TODAY - timedelta(days=1)).isoformat()
    user = world["daklak"].producer_user
    status, page = _page(client, web, user, f"?date_from={yesterday}&date_to={yesterday}")
    assert status == 200
    assert _counts(page, "per-day") == {(TODAY - timedelta(days=1)).strftime("%d/%m/%Y"): 1}
    earlier = (TODAY - timedelta(days=40)).isoformat()
    status, page = _page(client, web, user, f"?date_from={earlier}")
    day = _counts(page, "per-day")
    assert len(day) == 41 and sum(day.values()) == 8  # the scan of 31 days ago is in now
    status, page = _page(client, web, user, f"?date_to={yesterday}")
    day = _counts(page, "per-day")
    assert len(day) == 30 and sum(day.values()) == 3  # the 30 days ending yesterday: 31 days ago is in


def test_the_most_scanned_list_sums_the_rest(app, db, make, world):
    producer = world["daklak"].producer
    for n in range(12):
        batch = make.batch(make.product(producer, name=f"Sản phẩm {n:02d}"))
        _scans(db, batch, [MIDNIGHT + timedelta(hours=1)] * (n + 1))
    db.session.commit()
    with app.test_request_context(headers=EN):
        chart = scan_analytics.per_product(world["daklak"].producer_user, scan_analytics.Period.ending(TODAY))
    assert len(chart.rows) == 11
    assert chart.rows[0] == ["Sản phẩm 11", 12]
    assert [world["daklak"].product.name, 7] in chart.rows[:10]
    assert chart.rows[-1] == ["Other products", 1 + 2 + 3]  # Sản phẩm 00, 01 and 02
    assert chart.total == sum(range(1, 13)) + 7


def test_no_scans_says_so(client, web, db, make):
    centre = make.centre("38")
    staff = make.user("centre_staff", centre=centre)
    db.session.commit()
    status, page = _page(client, web, staff)
    assert status == 200
    assert page.count("No scans in this period.") == 5
    assert "<svg" not in page and ".csv" not in page
    assert "<strong>0</strong>" in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("?date_from=2026-02-30", "Not a valid date value."),
        ("?date_from=yesterday", "Not a valid date value."),
        ("?date_from=2025-05-02&date_to=2025-05-01", "The end date cannot be before the start date."),
        ("?date_from=2024-01-01&date_to=2025-06-01", "Choose at most 366 days."),
        ("?date_from=1999-12-31", "Choose a day from 2000 on."),
        ("?date_to=9999-12-31", "Choose a day no later than today."),
    ],
)
def test_bad_dates_are_refused_with_a_message(client, web, world, query, message):
    status, page = _page(client, web, world["daklak"].staff, query)
    assert status == 400
    assert '<p class="error" id="date_' in page and message in page
    assert "Correct the dates to see the scans." in page
    assert "<svg" not in page
    download = client.get(f"/manage/scans/per-day.csv{query}", headers=EN)
    assert download.status_code == 400 and message in download.get_data(as_text=True)


def test_bad_dates_are_refused_in_vietnamese(client, web, world):
    status, page = _page(client, web, world["daklak"].staff, "?date_from=2025-05-02&date_to=2025-05-01", VI)
    assert status == 400
    assert "Ngày kết thúc không được trước ngày bắt đầu." in page
    status, page = _page(client, web, world["daklak"].staff, "?date_to=31/02/2025", VI)
    assert status == 400 and "Ngày không hợp lệ." in page


@pytest.mark.parametrize(
    ("role", "key"),
    [("producer_user", "per-province"), ("producer_user", "per-producer"), ("staff", "per-batch")],
)
def test_another_roles_chart_is_not_found(client, web, world, role, key):
    web.login(getattr(world["daklak"], role).email)
    assert client.get(f"/manage/scans/{key}.csv").status_code == 404


def test_the_management_navigation_links_the_page(client, web, world):
    for user in (world["daklak"].producer_user, world["daklak"].auditor, world["ministry"]):
        web.login(user.email)
        page = client.get("/manage", headers=EN).get_data(as_text=True)
        nav = re.search(r'<nav class="manage-nav".*?</nav>', page, re.S).group(0)
        assert 'href="/manage/scans"' in nav


def test_signed_out_users_are_sent_to_sign_in(client, world):
    assert client.get("/manage/scans").status_code == 302
    assert client.get("/manage/scans/per-day.csv").status_code == 302
