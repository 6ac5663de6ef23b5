"""The centres' yearly report: what each figure counts, the national roll-up, and the XLSX and PDF."""

from __future__ import annotations

import io
from dataclasses import fields
from datetime import date

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from traceability.core.dates import vietnam_today
from traceability.reports.centre_work import save_contract, save_process, save_task
from traceability.reports.yearly import Figures, centre_report, figures_by_centre, national_report

EN = {"Accept-Language": "en"}
YEAR = 2025  # a finished year


def _contract(actor, number, kind, signed_on, value, products=()):
    return save_contract(
        {
            "kind": kind,
            "number": number,
            "counterparty": "HTX Đối tác",
            "signed_on": signed_on,
            "value_vnd": value,
            "product_ids": [p.id for p in products],
        },
        actor=actor,
    )


def _task(actor, code, starts_on, ends_on, status="in_progress", products=()):
    return save_task(
        {
            "name": f"Nhiệm vụ {code}",
            "code": code,
            "level": "province",
            "starts_on": starts_on,
            "ends_on": ends_on,
            "status": status,
            "product_ids": [p.id for p in products],
        },
        actor=actor,
    )


@pytest.fixture
def centres(db, make, tenants):
    """Three centres with products, first batches and their own work in and around ``YEAR``."""
    thanhhoa = make.centre("38")
    tenants["thanhhoa"] = type("Tenant", (), {})()
    tenants["thanhhoa"].centre = thanhhoa
    tenants["thanhhoa"].staff = make.user("centre_staff", centre=thanhhoa)
    tenants["thanhhoa"].producer = make.producer(thanhhoa)
    db.session.delete(tenants["daklak"].batch)
    db.session.delete(tenants["nghean"].batch)
    made = {}
    for key, revenues in (
        ("daklak", (1_250_000_000, 600_000_000, None)),
        ("nghean", (3_000_000_000, 0, 75)),
        ("thanhhoa", (9_999_999_999_999, 1, 2)),
    ):
        t = tenants[key]
        new, linked, unrevenued = (
            make.product(t.producer, name=f"{key} mới", declared_revenue_vnd=revenues[0]),
            make.product(t.producer, name=f"{key} từ chuyển giao", declared_revenue_vnd=revenues[1]),
            make.product(t.producer, name=f"{key} chưa khai", declared_revenue_vnd=revenues[2]),
        )
        old = make.product(t.producer, name=f"{key} cũ", declared_revenue_vnd=5_000_000_000)
        make.product(t.producer, name=f"{key} chưa có lô", declared_revenue_vnd=7_000_000_000)
        make.batch(new, production_date=date(YEAR, 1, 1))
        make.batch(new, production_date=date(YEAR + 1, 2, 1))
        make.batch(linked, production_date=date(YEAR, 12, 31))
        make.batch(unrevenued, production_date=date(YEAR, 6, 15), status="recalled")
        make.batch(old, production_date=date(YEAR - 1, 12, 31))
        make.batch(old, production_date=date(YEAR, 5, 1))
        staff = t.staff
        _contract(staff, f"{key}-CG1", "technology_transfer", date(YEAR, 3, 1), 450_000_000, [linked])
        _contract(staff, f"{key}-CG2", "technology_transfer", date(YEAR, 12, 31), 50_000_001)
        _contract(staff, f"{key}-DV1", "service", date(YEAR, 7, 7), 120_000_000)
        _contract(staff, f"{key}-TV0", "consulting", date(YEAR - 1, 12, 31), 80_000_000)  # another year
        save_process(
            {"name": f"{key} quy trình A", "mastered_on": date(YEAR, 4, 4), "product_ids": [old.id]},
            actor=staff,
        )
        save_process({"name": f"{key} quy trình B", "mastered_on": date(YEAR + 1, 1, 1)}, actor=staff)
        _task(staff, f"{key}-1", date(YEAR - 2, 1, 1), None)  # still running
        _task(staff, f"{key}-2", date(YEAR - 2, 1, 1), date(YEAR, 1, 1), "accepted")
        _task(staff, f"{key}-3", date(YEAR - 2, 1, 1), date(YEAR - 1, 12, 31), "accepted")  # ended before
        _task(staff, f"{key}-4", date(YEAR + 1, 1, 1), None)  # starts after
        _task(staff, f"{key}-5", date(YEAR, 12, 31), date(YEAR + 1, 6, 1), "stopped")
        made[key] = {"new": new, "linked": linked, "old": old, "unrevenued": unrevenued}
    db.session.commit()
    return tenants, made


def test_a_centres_figures_count_what_the_definitions_say(centres):
    tenants, _made = centres
    report = centre_report(tenants["daklak"].centre, YEAR)
    assert report.figures == Figures(
        products_to_market=3,  # first batch in the year: new, linked, unrevenued (recalled still counts)
        products_revenue_vnd=1_850_000_000,
        products_from_centre_work=1,  # linked; "old" is linked too but came to market before
        products_from_centre_work_revenue_vnd=600_000_000,
        technology_transfer_count=2,
        technology_transfer_value_vnd=500_000_001,
        service_count=1,
        service_value_vnd=120_000_000,
        consulting_count=0,
        consulting_value_vnd=0,
        processes_mastered=1,
        tasks_carried_out=3,  # running, ended in the year, started on its last day
        tasks_accepted=1,
    )
    assert {item.product.name for item in report.products} == {
        "daklak mới",
        "daklak từ chuyển giao",
        "daklak chưa khai",
    }
    assert [item.first_on for item in report.products if item.product.name == "daklak mới"] == [
        date(YEAR, 1, 1)
    ]
    assert [c.number for c in report.contracts] == ["daklak-DV1", "daklak-CG1", "daklak-CG2"]
    assert [p.name for p in report.processes] == ["daklak quy trình A"]
    assert sorted(t.code for t in report.tasks) == ["daklak-1", "daklak-2", "daklak-5"]


def test_the_next_year_counts_only_what_is_new_then(centres):
    tenants, _made = centres
    figures = centre_report(tenants["daklak"].centre, YEAR + 1).figures
    assert figures.products_to_market == 0  # "new" had its first batch the year before
    assert figures.processes_mastered == 1
    assert figures.tasks_carried_out == 3  # running, starts in the year, stopped in the year


def test_the_national_roll_up_is_the_exact_sum_of_the_centres_reports(centres):
    report = national_report(YEAR)
    assert [centre.province_code for centre, _figures in report.rows] == ["38", "40", "66"]
    own = {centre.id: centre_report(centre, YEAR).figures for centre, _figures in report.rows}
    for centre, figures in report.rows:
        assert figures == own[centre.id]
    for field in fields(Figures):
        assert getattr(report.total, field.name) == sum(getattr(f, field.name) for f in own.values()), (
            field.name
        )
    assert report.total.products_revenue_vnd == 1_850_000_000 + 3_000_000_075 + 10_000_000_000_002
    assert report.total.technology_transfer_count == 6


def test_a_centre_without_anything_reports_zeros(db, make):
    centre = make.centre("01")
    assert figures_by_centre([centre.id], YEAR) == {centre.id: Figures()}


# ---------------------------------------------------------------- pages and downloads


def _cells(workbook_bytes: bytes, sheet: int = 0) -> list[list]:
    workbook = load_workbook(io.BytesIO(workbook_bytes))
    return [list(row) for row in workbook.worksheets[sheet].iter_rows(values_only=True)]


def test_a_centre_reads_its_report_and_downloads_it(client, web, centres):
    tenants, _made = centres
    t = tenants["daklak"]
    web.login(t.auditor.email)
    base = f"/manage/reports/{YEAR}/centres/{t.centre.id}"
    page = client.get(base, headers=EN)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert (
        "Products brought to market" in html and "1,850,000,000" in html and "daklak từ chuyển giao" in html
    )

    xlsx = client.get(f"{base}.xlsx", headers=EN)
    assert xlsx.status_code == 200 and xlsx.mimetype.endswith("spreadsheetml.sheet")
    rows = _cells(xlsx.get_data())
    figures = {row[0].strip(): row[2] for row in rows if row and row[0] and isinstance(row[2], int)}
    assert figures["Products brought to market"] == 3
    assert figures["Declared revenue of these products"] == 1_850_000_000
    assert figures["Value of technology transfer contracts"] == 500_000_001
    assert figures["S&T tasks carried out"] == 3
    workbook = load_workbook(io.BytesIO(xlsx.get_data()))
    assert workbook.sheetnames[1:] == [
        "Products brought to market",
        "Contracts",
        "Technology processes mastered",
        "S&T tasks carried out",
    ]
    contracts = [list(row) for row in workbook["Contracts"].iter_rows(values_only=True)]
    assert ["Service", "daklak-DV1", "HTX Đối tác", date(YEAR, 7, 7)] == [
        c if not hasattr(c, "date") else c.date() for c in contracts[1][:4]
    ]

    pdf = client.get(f"{base}.pdf", headers=EN)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.get_data())).pages)
    assert f"Yearly report {YEAR}" in text
    assert t.centre.name in text  # Vietnamese diacritics survive: the font is embedded
    for number in ("1,850,000,000", "500,000,001", "120,000,000", "daklak-CG1", "daklak quy trình A"):
        assert number in text


def test_the_vietnamese_pdf_writes_amounts_the_vietnamese_way(client, web, centres):
    tenants, _made = centres
    web.login(tenants["daklak"].staff.email)
    pdf = client.get(f"/manage/reports/{YEAR}/centres/{tenants['daklak'].centre.id}.pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.get_data())).pages)
    assert "1.850.000.000" in text and "500.000.001" in text
    assert "Đắk Lắk" in text


def test_the_ministry_downloads_the_roll_up_and_it_adds_up(client, web, centres):
    tenants, _made = centres
    web.login(tenants["ministry"].email)
    page = client.get(f"/manage/reports/{YEAR}/national", headers=EN).get_data(as_text=True)
    assert 'data-key="products_revenue_vnd">10,004,850,000,077<' in page

    rows = _cells(client.get(f"/manage/reports/{YEAR}/national.xlsx", headers=EN).get_data())
    header = next(row for row in rows if row[0] == "Province code")
    body = rows[rows.index(header) + 1 :]
    centres_rows, total = body[:-1], body[-1]
    assert [row[0] for row in centres_rows] == ["38", "40", "66"] and total[1] == "Total"
    for column in range(3, len(header)):
        assert total[column] == sum(row[column] for row in centres_rows), header[column]
    # Each centre's row is that centre's own report.
    for row in centres_rows:
        centre = next(
            t.centre
            for t in tenants.values()
            if getattr(t, "centre", None) and t.centre.province_code == row[0]
        )
        own = _cells(client.get(f"/manage/reports/{YEAR}/centres/{centre.id}.xlsx", headers=EN).get_data())
        values = [
            r[2] for r in own if r and isinstance(r[2], int) and r[1] is not None and r[0] != "Indicator"
        ]
        assert row[3:] == values

    pdf = client.get(f"/manage/reports/{YEAR}/national.pdf", headers=EN)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.get_data())).pages)
    assert "10,004,850,000,077" in text and "Thanh Hóa" in text and "Total" in text


def test_the_roll_up_is_the_ministrys(client, web, centres):
    tenants, _made = centres
    web.login(tenants["daklak"].admin.email)
    assert client.get(f"/manage/reports/{YEAR}/national").status_code == 403
    assert client.get(f"/manage/reports/{YEAR}/national.xlsx").status_code == 403


def test_a_centre_cannot_read_another_centres_report(client, web, centres):
    tenants, _made = centres
    web.login(tenants["nghean"].staff.email)
    assert client.get(f"/manage/reports/{YEAR}/centres/{tenants['daklak'].centre.id}").status_code == 404
    assert client.get(f"/manage/reports/{YEAR}/centres/{tenants['daklak'].centre.id}.pdf").status_code == 404
    web.login(tenants["daklak"].producer_user.email)
    assert client.get(f"/manage/reports/{YEAR}/centres/{tenants['daklak'].centre.id}").status_code == 403
    assert client.get("/manage/reports").status_code == 403


def test_a_year_outside_the_range_is_refused_clearly(client, web, centres):
    tenants, _made = centres
    web.login(tenants["daklak"].staff.email)
    response = client.get(
        f"/manage/reports/{vietnam_today().year + 1}/centres/{tenants['daklak'].centre.id}", headers=EN
    )
    assert response.status_code == 400
    assert "choose a year from 2000 to this year" in response.get_data(as_text=True)


def test_the_reports_page_lists_the_users_centres(client, web, centres):
    tenants, _made = centres
    web.login(tenants["daklak"].staff.email)
    page = client.get(f"/manage/reports?year={YEAR}", headers=EN).get_data(as_text=True)
    assert f"/manage/reports/{YEAR}/centres/{tenants['daklak'].centre.id}" in page
    assert f"/centres/{tenants['nghean'].centre.id}" not in page and "/national" not in page
    web.login(tenants["ministry"].email)
    page = client.get(f"/manage/reports?year={YEAR}", headers=EN).get_data(as_text=True)
    assert f"/manage/reports/{YEAR}/national" in page and f"/centres/{tenants['nghean'].centre.id}" in page
