"""The chain spreadsheet: one row per event of the whole chain, as CSV and XLSX."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from traceability.batches.chain_export import COLUMNS, chain_header, chain_rows
from traceability.batches.lineage import add_inputs
from traceability.batches.service import correct_event, record_event, retract_event
from traceability.core.dates import VIETNAM_OFFSET
from traceability.core.extensions import db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _at(day: int, hour: int = 8) -> datetime:
    return datetime(2026, 10, day, hour, 0, tzinfo=VIETNAM_OFFSET)


@pytest.fixture
def coffee(make, tenants):
    """Green beans → roasted → packed, each with its events; the packed lot is shipped to a supermarket."""
    own = tenants["daklak"]
    actor = own.producer_user
    farm = make.location(own.producer, name="Vườn Ea Tu", gln="8935000000014")
    plant = make.location(own.producer, name="Xưởng rang Tân Lợi", kind="facility", internal_code="XUONG-01")
    beans = make.batch(
        make.product(own.producer, name="Cà phê nhân"),
        lot_code="NHAN-01",
        quantity=Decimal("1000"),
        origin_location_id=farm.id,
        production_date=date(2026, 10, 1),
    )
    roasted = make.batch(
        make.product(own.producer, name="Cà phê rang"), lot_code="RANG-01", quantity=Decimal("800")
    )
    packed = make.batch(
        make.product(own.producer, name="Cà phê rang xay gói 500 g", gtin="08935000000021"),
        lot_code="GOI-01",
        quantity=Decimal("1500"),
        unit="H87",
        production_date=date(2026, 10, 7),
    )
    add_inputs(
        roasted, [{"batch_id": beans.id, "quantity": Decimal("1000")}], kind="transformation", actor=actor
    )
    add_inputs(
        packed, [{"batch_id": roasted.id, "quantity": Decimal("780")}], kind="transformation", actor=actor
    )
    record_event(
        beans,
        {
            "type": "harvesting",
            "time": _at(1, 7),
            "location_id": farm.id,
            "quantity": "1000",
            "note": "Hái chín",
        },
        actor=actor,
    )
    record_event(roasted, {"type": "processing", "time": _at(5), "location_id": plant.id}, actor=actor)
    record_event(packed, {"type": "packing", "time": _at(7), "location_id": plant.id}, actor=actor)
    record_event(
        packed,
        {
            "type": "shipping",
            "time": _at(8, 14),
            "location_id": plant.id,
            "quantity": "500",
            "reference_type": "Phiếu xuất kho",
            "reference": "PXK-0042",
            "counterparty": "Siêu thị Co.op Buôn Ma Thuột",
        },
        actor=actor,
    )
    return {"own": own, "beans": beans, "roasted": roasted, "packed": packed, "farm": farm, "plant": plant}


def _csv(response) -> list[dict[str, str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "no UTF-8 BOM: Excel would garble Vietnamese"
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def test_the_whole_chain_has_one_row_per_event_sorted_by_time(coffee):
    rows = chain_rows(coffee["roasted"], "en")
    assert [(row["lot_code"], row["event"]) for row in rows] == [
        ("NHAN-01", "Harvesting"),
        ("RANG-01", "Processing"),
        ("GOI-01", "Packing"),
        ("GOI-01", "Shipping"),
    ]
    harvest, processing, _, shipping = rows
    assert (harvest["relation"], harvest["depth"]) == ("Upstream (an input)", 1)
    assert (processing["relation"], processing["depth"]) == ("This batch", 0)
    assert (shipping["relation"], shipping["depth"]) == ("Downstream (made from it)", 1)
    assert harvest["location_code"] == "8935000000014"  # the GLN
    assert processing["location_code"] == "XUONG-01"  # no GLN: the internal code
    assert harvest["lot_code_source_location"] == "Vườn Ea Tu (8935000000014)"
    assert coffee["own"].producer.name in harvest["lot_code_source"]
    assert coffee["own"].producer.street in harvest["lot_code_source"]
    assert shipping["time"].isoformat() == "2026-10-08T14:00:00+07:00"
    assert (shipping["quantity"], shipping["unit"]) == (Decimal("500"), "pcs")  # the unit by name
    # An event without a quantity shows the batch's.
    assert (processing["quantity"], processing["unit"]) == (Decimal("800"), "kg")


def test_a_batch_without_events_still_has_a_row(make, tenants):
    lone = make.batch(tenants["daklak"].product, lot_code="LE-01")
    rows = chain_rows(lone, "vi")
    assert len(rows) == 1
    assert (
        rows[0]["lot_code"] == "LE-01" and rows[0]["event"] is None and rows[0]["quantity"] == Decimal("500")
    )


def test_corrections_replace_the_event_and_retractions_remove_it(coffee):
    own, packed = coffee["own"], coffee["packed"]
    shipping = next(event for event in packed.events if event.type == "shipping")
    packing = next(event for event in packed.events if event.type == "packing")
    fixed = correct_event(
        shipping,
        {"type": "shipping", "time": _at(8, 15), "quantity": "450", "reference": "PXK-0043"},
        "Sai số lượng",
        actor=own.producer_user,
    )
    retract_event(packing, "Ghi nhầm lô", actor=own.producer_user)
    db.session.expire_all()  # as a new request would see it
    rows = [row for row in chain_rows(packed, "en") if row["lot_code"] == "GOI-01"]
    assert [(row["event_id"], row["corrects"], row["quantity"]) for row in rows] == [
        (fixed.id, shipping.id, Decimal("450"))
    ]


def test_csv_download_has_the_key_data_elements_in_english(api, coffee):
    response = api.get(
        f"/batches/{coffee['packed'].id}/chain.csv", coffee["own"].staff, headers={"Accept-Language": "en"}
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="chain-GOI-01.csv"'
    rows = _csv(response)
    assert [row["Traceability lot code"] for row in rows] == ["NHAN-01", "RANG-01", "GOI-01", "GOI-01"]
    shipping = rows[-1]
    assert shipping["Event"] == "Shipping"
    assert shipping["Business step (CBV)"] == "shipping"
    assert shipping["Date and time"] == "2026-10-08T14:00:00+07:00"
    assert shipping["Reference document type"] == "Phiếu xuất kho"
    assert shipping["Reference document number"] == "PXK-0042"
    assert shipping["Recipient or source"] == "Siêu thị Co.op Buôn Ma Thuột"
    assert (shipping["Quantity"], shipping["Unit"]) == ("500", "pcs")
    assert shipping["GTIN"] == "08935000000021"  # the leading zero kept
    assert shipping["Product description"] == "Cà phê rang xay gói 500 g"
    assert shipping["Location"] == "Xưởng rang Tân Lợi"
    assert rows[0]["Place in the chain"] == "Upstream (an input)" and rows[0]["Steps from this batch"] == "2"


def test_the_header_is_vietnamese_by_default(api, coffee):
    response = api.get(f"/batches/{coffee['packed'].id}/chain.csv", coffee["own"].producer_user)
    header = next(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert header == chain_header("vi")
    for vietnamese in (
        "Số lượng",
        "Đơn vị tính",
        "Ngày sản xuất",
        "Bên nhận hoặc bên giao",
        "Cơ sở sản xuất",
    ):
        assert vietnamese in header
    rows = _csv(response)
    assert rows[-1]["Bên nhận hoặc bên giao"] == "Siêu thị Co.op Buôn Ma Thuột"
    assert rows[-1]["Đơn vị tính"] == "cái"  # H87 by its Vietnamese name, as on the pages
    assert chain_header("vi") != chain_header("en")


def test_xlsx_is_a_sortable_sheet_with_a_frozen_bold_header_and_date_cells(api, coffee):
    response = api.get(
        f"/batches/{coffee['roasted'].id}/chain.xlsx",
        coffee["own"].auditor,
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 200
    assert response.mimetype == XLSX
    assert response.headers["Content-Disposition"] == 'attachment; filename="chain-RANG-01.xlsx"'
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(COLUMNS)).column_letter}5"
    header = [cell.value for cell in sheet[1]]
    assert header == chain_header("en")
    assert all(cell.font.bold for cell in sheet[1])
    rows = [
        dict(zip(header, (cell.value for cell in row), strict=True)) for row in sheet.iter_rows(min_row=2)
    ]
    assert [row["Traceability lot code"] for row in rows] == ["NHAN-01", "RANG-01", "GOI-01", "GOI-01"]
    assert rows[0]["Date and time"] == datetime(2026, 10, 1, 7, 0)  # a real date cell, local time
    assert rows[0]["UTC offset"] == "+07:00"
    assert rows[0]["Production date"] == datetime(2026, 10, 1)
    assert rows[-1]["Reference document number"] == "PXK-0042"
    assert rows[-1]["Quantity"] == 500
    assert (rows[-1]["Unit"], rows[1]["Unit"]) == ("pcs", "kg")
    assert sheet.column_dimensions["A"].width >= len("Traceability lot code")


def test_web_downloads_for_signed_in_users(web, client, coffee):
    batch_id = coffee["packed"].id
    assert client.get(f"/manage/batches/{batch_id}/chain.csv").status_code == 302  # sign in first
    web.login(coffee["own"].producer_user.email)
    csv_response = client.get(f"/manage/batches/{batch_id}/chain.csv")
    assert csv_response.status_code == 200
    rows = _csv(csv_response)
    assert len(rows) == 4 and "Số lượng" in rows[0]
    xlsx_response = client.get(f"/manage/batches/{batch_id}/chain.xlsx")
    assert xlsx_response.status_code == 200
    assert load_workbook(io.BytesIO(xlsx_response.get_data())).active.max_row == 5


def test_another_tenant_gets_404(api, web, client, coffee, tenants):
    other = tenants["nghean"]
    batch_id = coffee["packed"].id
    assert api.get(f"/batches/{batch_id}/chain.csv", other.staff).status_code == 404
    assert api.get(f"/batches/{batch_id}/chain.xlsx", other.producer_user).status_code == 404
    web.login(other.staff.email)
    assert client.get(f"/manage/batches/{batch_id}/chain.xlsx").status_code == 404
    assert api.get(f"/batches/{batch_id}/chain.csv", tenants["ministry"]).status_code == 200


def test_text_that_looks_like_a_formula_stays_text(api, make, tenants):
    own = tenants["daklak"]
    batch = make.batch(own.product, lot_code="F-01")
    record_event(
        batch,
        {"type": "storing", "time": _at(2), "note": '=HYPERLINK("http://x.example","x")'},
        actor=own.producer_user,
    )
    rows = _csv(api.get(f"/batches/{batch.id}/chain.csv", own.staff, headers={"Accept-Language": "en"}))
    assert rows[0]["Note"] == '\'=HYPERLINK("http://x.example","x")'
    xlsx = api.get(f"/batches/{batch.id}/chain.xlsx", own.staff, headers={"Accept-Language": "en"})
    sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
    note = sheet.cell(2, [c.key for c in COLUMNS].index("note") + 1)
    assert note.data_type == "s" and note.value.startswith("=HYPERLINK")


def test_a_vietnamese_lot_code_gets_an_ascii_file_name(api, make, tenants):
    own = tenants["daklak"]
    batch = make.batch(own.product, lot_code="LÔ Đặc biệt/1")
    response = api.get(f"/batches/{batch.id}/chain.csv", own.staff)
    assert response.headers["Content-Disposition"] == 'attachment; filename="chain-LO_Dac_biet_1.csv"'
