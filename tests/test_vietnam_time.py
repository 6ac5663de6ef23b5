"""Every time a page shows is Vietnam's, never the UTC the database keeps.

Every stored instant of the records below is set to 20:30 UTC on 4 March 2025,
which is 03:30 on 5 March in Vietnam (UTC+07:00): a page that prints the UTC
value shows "20:30" or "04/03/2025". The test opens every HTML page of the
management area and the public pages those records have, as the centre's staff
and as the producer, and looks for either; a new page is covered by being
routed. One event was captured with a UTC offset (``Z``), as integrators send.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.inspections.helpers import nonconformity
from tests.public.honey import honey_lot, picture
from traceability.batches.lineage import add_inputs
from traceability.batches.recalls import close_recall, recall_batch
from traceability.batches.service import new_public_code, record_event, retract_event
from traceability.core.database import UTCDateTime
from traceability.core.dates import VIETNAM_OFFSET
from traceability.inspections.service import create_inspection
from traceability.models.audit import AuditEntry
from traceability.models.batches import Item, TraceEvent
from traceability.models.public import ProblemReport
from traceability.public.showcase import product_slug

INSTANT = datetime(2025, 3, 4, 20, 30, tzinfo=UTC)
UTC_SIGNS = ("20:30", "04/03/2025")  # the UTC time and day of INSTANT as a page would print them
VIETNAM_SIGNS = ("05/03/2025 03:30",)
# Tables whose times sign a user in: moving them would end the test's own sessions and tokens.
KEPT_TABLES = {"user", "api_token"}
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
)


@pytest.fixture
def records(make, db, app):
    """A centre's records of every kind a page shows a time of, all stamped INSTANT."""
    honey = honey_lot(make, db, shop_links=[{"name": "Sàn Đắk Lắk", "url": "https://san.example.vn/mat-ong"}])
    honey.staff = make.user("centre_staff", centre=honey.centre, name="Trần Thị Bình")
    when = datetime.combine(honey.today - timedelta(days=2), datetime.min.time(), VIETNAM_OFFSET)
    shipped = record_event(
        honey.batch,
        {"type": "shipping", "time": when, "counterparty": "Siêu thị Q7", "reference": "HD-1"},
        actor=honey.staff,
        photo=picture((320, 240)),
    )
    honey.captured = record_event(honey.batch, {"type": "inspecting", "time": when}, actor=honey.user)
    retract_event(shipped, "Ghi nhầm", actor=honey.user)
    # A lot made from the honey, recalled then returned to sale; another still recalled.
    honey.jars = make.batch(honey.product, lot_code="HU-01", quantity=Decimal("100"))
    add_inputs(
        honey.jars,
        [{"batch_id": honey.batch.id, "quantity": Decimal("100")}],
        kind="transformation",
        actor=honey.user,
    )
    honey.closed_recall = recall_batch(honey.jars, "Nắp hũ hở", actor=honey.user)
    close_recall(honey.closed_recall, "Đã thay nắp, kiểm nghiệm đạt", "returned_to_sale", actor=honey.staff)
    honey.recalled = make.batch(honey.product, lot_code="HU-02")
    honey.open_recall = recall_batch(honey.recalled, "Nhãn sai hạn dùng", actor=honey.user)
    honey.report = ProblemReport(batch_id=honey.batch.id, message="Bao bì bị rách.", contact="0900000000")
    db.session.add(honey.report)
    honey.inspection = create_inspection(nonconformity("batch", honey.batch.id), actor=honey.staff)
    honey.certification = make.certification(honey.product, status="verified", verified_at=INSTANT)
    db.session.flush()
    for table in db.metadata.sorted_tables:
        if table.name in KEPT_TABLES:
            continue
        for column in table.columns:
            if isinstance(column.type, UTCDateTime):
                db.session.execute(update(table).where(column.isnot(None)).values({column.name: INSTANT}))
    # Captured with a UTC offset: shown at its time in Vietnam, not at "20:30".
    db.session.execute(
        update(TraceEvent).where(TraceEvent.id == honey.captured.id).values(time_zone_offset="+00:00")
    )
    honey.item = Item(batch_id=honey.batch.id, serial="S1", public_code=new_public_code(), created_at=INSTANT)
    db.session.add(honey.item)
    db.session.commit()
    app.extensions["page_cache"].clear()
    return honey


def _arguments(records: Any, db: Any) -> dict[str, Any]:
    entry_id = db.session.scalar(select(AuditEntry.id).order_by(AuditEntry.id.desc()).limit(1))
    return {
        "batch_id": records.batch.id,
        "event_id": records.captured.id,
        "item_id": records.item.id,
        "producer_id": records.producer.id,
        "product_id": records.product.id,
        "certification_id": records.certification.id,
        "inspection_id": records.inspection.id,
        "recall_id": records.closed_recall.id,
        "entry_id": entry_id,
        "location_id": records.farm.id,
        "centre_id": records.centre.id,
        "year": INSTANT.year,
        "code": records.jars.public_code,
        "_identifiers": f"{records.product.gtin}/10/{records.batch.lot_code}",
        "slug": product_slug(records.product.name),
    }


def _urls(app: Any, arguments: dict[str, Any], extra_codes: list[str]) -> list[str]:
    """Every GET page of the management area and the public pages of these records."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.rule.startswith(("/api/", "/static", "/lang/", "/media/")):
            continue
        values = {}
        for name, converter in rule._converters.items():
            if name in arguments:
                values[name] = arguments[name]
            elif hasattr(converter, "items"):  # any(a, b): its first value
                values[name] = sorted(converter.items)[0]
        if set(rule.arguments) - set(values):
            continue  # a record these pages don't have (a dispute, a centre contract)
        with app.test_request_context():
            urls.append(app.url_for(rule.endpoint, **values))
    # The other public pages of the records: the recalled lot, the item (its scans), reporting a problem.
    urls += [f"/t/{code}" for code in extra_codes]
    urls += [f"/report/{code}" for code in extra_codes]
    return sorted(set(urls))


def _html_pages(client: Any, urls: list[str], language: str) -> dict[str, str]:
    pages = {}
    for url in urls:
        response = client.get(url, headers={"Accept-Language": language, "User-Agent": PHONE})
        if response.status_code == 200 and response.mimetype == "text/html":
            pages[url] = response.get_data(as_text=True)
        response.close()
    return pages


@pytest.mark.parametrize("language", ["vi", "en"])
def test_no_page_shows_a_utc_time(app, db, web, records, language):
    started = datetime.now(VIETNAM_OFFSET)
    arguments = _arguments(records, db)
    codes = [records.batch.public_code, records.recalled.public_code, records.item.public_code]
    urls = _urls(app, arguments, codes)
    seen: dict[str, str] = {}
    for user in (records.staff, records.user):
        web.login(user.email)
        seen |= {f"{user.role} {url}": page for url, page in _html_pages(web.client, urls, language).items()}
        web.client.post("/logout", data={"csrf_token": web.csrf_token("/manage")})
    seen |= {f"public {url}": page for url, page in _html_pages(app.test_client(), urls, language).items()}
    assert len(seen) > 40, sorted(seen)  # the crawl reached the pages, not the login form
    # Records the crawl itself writes (a sign-in's audit entry) carry the real time: when the run
    # happens at 20:30 in Vietnam, "20:30" on a page is that, not INSTANT in UTC.
    now = {started.strftime("%H:%M"), datetime.now(VIETNAM_OFFSET).strftime("%H:%M")}
    signs = [sign for sign in UTC_SIGNS if sign not in now]
    showing_utc = {name: sign for name, page in seen.items() for sign in signs if sign in page}
    assert showing_utc == {}
    # The times are there, in Vietnam's time: the pages that show one.
    for page_name in (
        f"centre_staff /manage/recalls/{records.closed_recall.id}",
        "centre_staff /manage/recalls",
        f"centre_staff /manage/batches/{records.batch.id}",
        "centre_staff /manage/audit",
        f"producer /manage/batches/{records.batch.id}",
    ):
        assert VIETNAM_SIGNS[0] in seen[page_name], page_name
    # The public pages give Vietnam's day: the recall of 5 March ended on 5 March; the other is of 5 March.
    assert "05/03/2025" in seen[f"public /t/{records.jars.public_code}"]
    assert "05/03/2025" in seen[f"public /t/{records.recalled.public_code}"]
