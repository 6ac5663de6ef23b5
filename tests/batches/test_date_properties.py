"""Property-based tests of dates and date ranges: any calendar day is taken or refused, never a 500.

A date field accepts anything from 0001-01-01 to 9999-12-31; what is built
from it afterwards (midnights in Vietnam converted to UTC, the day after the
last one, EPCIS times, the chain spreadsheet, the consumer page) must cope
with the extremes too.
"""

from __future__ import annotations

import itertools
from datetime import date

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from traceability.core.extensions import db
from traceability.reports.audit_log import audit_entries

LOTS = itertools.count(1)
DATES = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
days = st.one_of(st.dates(), st.sampled_from([date.min, date.max, date(1, 1, 2), date(9999, 12, 30)]))


@DATES
@given(date_from=st.none() | days, date_to=st.none() | days)
@example(date_from=date.min, date_to=date.max)
def test_the_audit_log_filters_by_any_days(app, tenants, date_from, date_to):
    filters = {"date_from": date_from, "date_to": date_to}
    db.session.scalars(audit_entries(filters, tenants["daklak"].admin).limit(5)).all()


@DATES
@given(produced=days, expires=st.none() | days)
@example(produced=date.min, expires=date.max)
@example(produced=date.max, expires=None)
def test_a_batch_of_any_dates_is_taken_or_refused_and_its_pages_answer(
    api, client, tenants, produced, expires
):
    own = tenants["daklak"]
    response = api.post(
        "/batches",
        own.producer_user,
        json={
            "product_id": own.product.id,
            "lot_code": f"D{next(LOTS)}",
            "production_date": produced.isoformat(),
            "expiry_date": expires.isoformat() if expires else None,
            "quantity": 10,
            "unit": "KGM",
        },
    )
    assert response.status_code in (201, 422), response.get_json()
    if response.status_code == 422:
        assert set(response.get_json()["error"]["fields"]) <= {"production_date", "expiry_date"}
        return
    batch = response.get_json()
    for path in ("epcis", "chain.csv", "trace", "events"):
        answer = api.get(f"/batches/{batch['id']}/{path}", own.producer_user)
        assert answer.status_code == 200, (path, answer.status_code)
    page = client.get(batch["public_url"].removeprefix("https://trace.example.vn"))
    assert page.status_code in (200, 302), page.status_code
