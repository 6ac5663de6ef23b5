"""A "ladder" of lots: each graph walk visits each lot once, and what people read of a chain is bounded.

A producer built 21 steps of 2 lots, each lot made from both lots of the step
below, so the lot n steps up is reached by 2^n paths. The chain page expanded
every path (step 14: 4 s and 12.6 MB; step 18 killed the worker). Here a
ladder of 46 lots (23 steps) goes through the chain page, the spreadsheet, the
API's trace, the EPCIS document and a recall: each lot comes once in each
answer, the page is small and the number of SQL statements does not grow with
the paths. Then a small ``CHAIN_MAX_LOTS`` shows the bound and its message.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import event, select

from traceability.batches.lineage import add_inputs
from traceability.batches.recalls import recall_batch
from traceability.batches.trace import related_batch_ids, trace
from traceability.gs1.epcis import validate_document
from traceability.models.batches import RecallBatch

STEPS = 23
LOT_ANCHOR = re.compile(r'<li class="chain-node[^"]*" id="lot-(\d+)"')


@pytest.fixture
def statements(app) -> Iterator[Callable[[], int]]:
    """How many SQL statements (queries and writes, not BEGIN) ran since the test started counting."""
    from traceability.core.extensions import db

    seen: list[str] = []

    def remember(_conn, _cursor, statement, *_args) -> None:
        if not statement.lstrip().upper().startswith("BEGIN"):
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    yield lambda: len(seen)
    event.remove(db.engine, "before_cursor_execute", remember)


@pytest.fixture
def ladder(make, tenants, db):
    """23 steps of 2 lots, each made (through the lineage service) from both lots of the step below: 46 lots."""
    own = tenants["daklak"]
    product = make.product(own.producer, name="Phân vi sinh ủ nhiều lần")
    steps = []
    for step in range(STEPS):
        pair = [
            make.batch(product, lot_code=f"THANG-{step:02d}{side}", quantity=Decimal("100")) for side in "AB"
        ]
        if steps:
            below = [{"batch_id": lot.id, "quantity": Decimal("10")} for lot in steps[-1]]
            for lot in pair:
                add_inputs(lot, below, kind="transformation", actor=own.producer_user)
        steps.append(pair)
    db.session.commit()
    lots = [lot for pair in steps for lot in pair]
    return SimpleNamespace(own=own, steps=steps, lots=lots, top=steps[-1][0], bottom=steps[0][0])


def _chain_page(web, batch_id: int) -> str:
    response = web.client.get(f"/manage/batches/{batch_id}/chain", headers={"Accept-Language": "en"})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _upstream_of(ladder, step: int) -> set[int]:
    return {lot.id for pair in ladder.steps[:step] for lot in pair}


def _downstream_of(ladder, step: int) -> set[int]:
    return {lot.id for pair in ladder.steps[step + 1 :] for lot in pair}


def test_the_chain_page_lists_each_lot_once_by_steps(web, ladder, statements):
    web.login(ladder.own.staff.email)
    # A lot in the middle first: without the fix its page repeats the shared sub-chains (MBs).
    middle = ladder.steps[11][0]
    for lot, step in ((middle, 11), (ladder.top, STEPS - 1), (ladder.bottom, 0)):
        before = statements()
        page = _chain_page(web, lot.id)
        used = statements() - before
        assert len(page.encode()) < 200_000, f"{len(page.encode()):,} bytes of HTML for step {step}"
        assert page.count(f"· {ladder.bottom.lot_code}</a>") <= 1, "a lot is listed more than once"
        shown = Counter(int(found) for found in LOT_ANCHOR.findall(page))
        assert set(shown) == _upstream_of(ladder, step) | _downstream_of(ladder, step)
        assert set(shown.values()) == {1}, "a lot is listed more than once"
        assert used <= 30, f"{used} SQL statements for one chain page"
    # The top lot's page: 22 steps upstream, each with its two lots and what each was made from.
    page = _chain_page(web, ladder.top.id)
    assert "Step 22" in page and "Step 23" not in page
    assert "Upstream: what it was made from (44)" in page
    assert "chain-truncated" not in page
    assert page.count("Made from:") == 42  # every upstream lot but the two origins
    assert "Not used in another batch yet." in page


def test_the_spreadsheet_and_the_api_trace_have_each_lot_once(web, api, ladder, statements):
    staff = ladder.own.staff
    response = api.get(f"/batches/{ladder.top.id}/chain.csv", staff, headers={"Accept-Language": "en"})
    assert response.status_code == 200 and "X-Chain-Truncated" not in response.headers
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    lots = Counter(row["Traceability lot code"] for row in rows)
    assert set(lots) == {lot.lot_code for lot in ladder.lots if lot.id != ladder.steps[-1][1].id}
    assert set(lots.values()) == {1}  # no events: one row per lot

    for lot, direction, expected in (
        (ladder.top, "upstream", _upstream_of(ladder, STEPS - 1)),
        (ladder.bottom, "downstream", _downstream_of(ladder, 0)),
    ):
        before = statements()
        body = api.get(f"/batches/{lot.id}/trace?direction={direction}", staff).get_json()
        assert statements() - before <= 30
        ids = [node["id"] for node in body["nodes"]]
        assert sorted(ids) == sorted(expected | {lot.id})  # each once
        assert {node["depth"] for node in body["nodes"] if node["id"] != lot.id} == set(range(1, STEPS))
        edges = [(edge["input_batch_id"], edge["output_batch_id"]) for edge in body["edges"]]
        assert len(edges) == len(set(edges)) == 2 + 4 * (STEPS - 2)
        assert (body["truncated"], body["total_nodes"], body["node_limit"]) == (False, 45, 1000)


def test_the_epcis_document_has_each_lot_once(api, ladder):
    response = api.get(f"/batches/{ladder.top.id}/epcis", ladder.own.staff)
    assert response.status_code == 200
    document = response.get_json()
    assert validate_document(document).valid
    assert "trace:chainTruncated" not in document
    transformations = [e for e in document["epcisBody"]["eventList"] if e["type"] == "TransformationEvent"]
    # Every lot of the chain made from others (all but the two origins; the top's twin is not in it): once.
    outputs = Counter(e["outputQuantityList"][0]["epcClass"] for e in transformations)
    assert len(outputs) == 45 - 2 and set(outputs.values()) == {1}
    assert all(len(e["inputQuantityList"]) == 2 for e in transformations)


def test_a_recall_of_the_bottom_lot_reaches_every_lot_once(ladder, db, statements):
    bottom_id = ladder.bottom.id
    before = statements()
    depths = related_batch_ids(bottom_id, "downstream")
    assert statements() - before == 1  # one recursive query, whatever the number of paths
    assert depths == {lot.id: step for step, pair in enumerate(ladder.steps) for lot in pair if step > 0}
    recall = recall_batch(ladder.bottom, "Nhiễm khuẩn E. coli vượt ngưỡng", actor=ladder.own.producer_user)
    db.session.commit()
    reached = db.session.execute(
        select(RecallBatch.batch_id, RecallBatch.depth).where(RecallBatch.recall_id == recall.id)
    ).all()
    assert len(reached) == 45 and {batch_id for batch_id, _ in reached} == _downstream_of(ladder, 0) | {
        ladder.bottom.id
    }
    assert all(lot.status == "recalled" for lot in ladder.lots if lot.id != ladder.steps[0][1].id)
    assert ladder.steps[0][1].status == "active"


def test_a_chain_past_the_bound_shows_the_nearest_lots_and_says_so(web, api, app, ladder, monkeypatch):
    monkeypatch.setitem(app.config, "CHAIN_MAX_LOTS", 5)
    staff = ladder.own.staff
    nearest = {lot.id for pair in ladder.steps[-3:-1] for lot in pair} | {ladder.steps[-4][0].id}

    result = trace(ladder.top, "upstream")
    assert {node.id for node in result.nodes} == nearest | {ladder.top.id}
    assert (result.truncated, result.total) == (True, 44)

    web.login(staff.email)
    page = _chain_page(web, ladder.top.id)
    assert {int(found) for found in LOT_ANCHOR.findall(page)} == nearest
    assert (
        "The upstream chain has 44 lots, more than the 5 this page shows: the nearest 5 are listed, "
        "here and in the downloads." in page
    )
    assert "Not used in another batch yet." in page  # the top's downstream is empty, not cut
    page_vi = web.client.get(
        f"/manage/batches/{ladder.top.id}/chain", headers={"Accept-Language": "vi"}
    ).get_data(as_text=True)
    assert "chain-truncated" in page_vi and "The upstream chain has" not in page_vi

    body = api.get(f"/batches/{ladder.top.id}/trace?direction=upstream", staff).get_json()
    assert (body["truncated"], body["total_nodes"], body["node_limit"]) == (True, 45, 5)
    assert {node["id"] for node in body["nodes"]} == nearest | {ladder.top.id}
    assert all(
        edge["input_batch_id"] in nearest and edge["output_batch_id"] in nearest | {ladder.top.id}
        for edge in body["edges"]
    )

    response = api.get(f"/batches/{ladder.top.id}/chain.csv", staff)
    assert response.headers["X-Chain-Truncated"] == "true"
    assert len(list(csv.reader(io.StringIO(response.get_data(as_text=True))))) == 1 + 6

    document = api.get(f"/batches/{ladder.top.id}/epcis", staff).get_json()
    assert document["trace:chainTruncated"] is True
    assert validate_document(document).valid

    # A recall is never cut: it reaches every lot made from the bottom one.
    recall = recall_batch(ladder.bottom, "Nhiễm khuẩn", actor=ladder.own.producer_user)
    assert len(recall.affected) == 45
