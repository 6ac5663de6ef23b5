"""Twenty clients at once: no duplicate lot code or serial, no over-consumption, no lost write.

Each client runs in its own thread with its own database session and
connection, lined up on a barrier so their transactions overlap. A client
works one of three ways, as the real callers do:

* ``service``: the service functions in an app context of its own, committing
  as a request does (the command line and background jobs);
* ``api``: ``/api/v1`` with a bearer token, through a test client of its own;
* ``web``: the signed-in forms with their CSRF token, through a test client of its own.

Every refusal must be a clear 4xx in the user's language, never a 500 and
never SQLite's "database is locked"; the figures are checked in the database
afterwards, and the audit chain must still verify. The same tests run on
PostgreSQL with TEST_DATABASE_URL (row locks and an advisory lock there,
``BEGIN IMMEDIATE`` on SQLite).
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import func, select

from tests.conftest import CSRF_PATTERN
from tests.factories import PASSWORD, make_user
from traceability.audit.chain import verify_chain
from traceability.batches.lineage import add_inputs
from traceability.batches.recalls import recall_batch
from traceability.batches.serials import create_serials
from traceability.batches.service import create_batch, record_event
from traceability.batches.trace import related_batch_ids
from traceability.core.dates import VIETNAM_OFFSET
from traceability.core.errors import DomainError
from traceability.core.extensions import db as _db
from traceability.models.accounts import User
from traceability.models.audit import AuditEntry
from traceability.models.batches import Batch, BatchInput, Item, Recall, RecallBatch, TraceEvent

CLIENTS = 20
WAYS = ("service", "api", "web")
TAGS = re.compile(r"<[^>]+>")


@dataclass
class Outcome:
    """What one client was told: the status, the message a person reads, and the ids it was given."""

    status: int
    message: str = ""
    ids: list[Any] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status in (200, 201, 302)


def page_text(body: str) -> str:
    return " ".join(html.unescape(TAGS.sub(" ", body)).split())


class Client:
    """One of the twenty clients; ``prepare`` runs before the barrier, the writes after it."""

    def __init__(self, app: Flask, way: str, user_id: int, email: str, token: str | None) -> None:
        self.app, self.way, self.user_id, self.email, self.token = app, way, user_id, email, token
        self.http = app.test_client()
        self.csrf = ""

    def prepare(self) -> None:
        if self.way != "web":
            return
        login_page = self.http.get("/login")
        token = CSRF_PATTERN.search(login_page.get_data(as_text=True)).group(1)
        signed_in = self.http.post(
            "/login", data={"email": self.email, "password": PASSWORD, "csrf_token": token}
        )
        assert signed_in.status_code == 302, signed_in.status_code
        form = self.http.get("/manage/batches/new")
        self.csrf = CSRF_PATTERN.search(form.get_data(as_text=True)).group(1)

    # The service functions, committed once like a request.
    def _service(self, work: Callable[[User], list[Any]]) -> Outcome:
        with self.app.app_context(), force_locale("en"):
            actor = _db.session.get(User, self.user_id)
            try:
                ids = work(actor)
                _db.session.commit()
            except DomainError as error:
                _db.session.rollback()
                texts = [str(error.message), *(str(text) for text in error.fields.values())]
                return Outcome(error.status, " ".join(texts))
            return Outcome(201, ids=ids)

    def _api(self, path: str, body: dict[str, Any]) -> tuple[Outcome, dict[str, Any]]:
        response = self.http.post(
            f"/api/v1{path}",
            json=body,
            headers={"Authorization": f"Bearer {self.token}", "Accept-Language": "en"},
        )
        answer = response.get_json(silent=True) or {}
        error = answer.get("error") or {}
        message = " ".join([error.get("message", ""), *map(str, (error.get("fields") or {}).values())])
        return Outcome(response.status_code, message), answer

    def _web(self, path: str, form: dict[str, Any]) -> Outcome:
        response = self.http.post(
            path, data={**form, "csrf_token": self.csrf}, headers={"Accept-Language": "en"}
        )
        outcome = Outcome(response.status_code)
        if response.status_code == 302:
            location = response.headers["Location"]
            found = re.search(r"/manage/batches/(\d+)", location)
            outcome.ids = [int(found.group(1))] if found else []
        else:
            outcome.message = page_text(response.get_data(as_text=True))
        return outcome

    def create_batch(self, product_id: int, lot_code: str, inputs: list[tuple[int, Decimal]] = ()) -> Outcome:
        data: dict[str, Any] = {
            "product_id": product_id,
            "lot_code": lot_code,
            "production_date": "2026-11-01",
            "quantity": "50",
            "unit": "KGM",
        }
        if self.way == "service":
            data["production_date"] = datetime(2026, 11, 1).date()
            data["quantity"] = Decimal("50")
            data["inputs"] = [{"batch_id": bid, "quantity": q} for bid, q in inputs]
            return self._service(lambda actor: [create_batch(data, actor=actor).id])
        if self.way == "api":
            data["inputs"] = [{"batch_id": bid, "quantity": str(q)} for bid, q in inputs]
            outcome, answer = self._api("/batches", data)
            outcome.ids = [answer["id"]] if outcome.ok else []
            return outcome
        form = {**data, "location_id": "", "input_kind": "transformation"}
        for index, (bid, quantity) in enumerate(inputs):
            form[f"inputs-{index}-batch_id"] = str(bid)
            form[f"inputs-{index}-quantity"] = str(quantity)
        return self._web("/manage/batches/new", form)

    def record_event(self, batch_id: int, note: str) -> Outcome:
        moment = datetime.now(VIETNAM_OFFSET).replace(microsecond=0) - timedelta(hours=1)
        if self.way == "service":

            def work(actor: User) -> list[Any]:
                batch = _db.session.get(Batch, batch_id)
                return [
                    record_event(batch, {"type": "inspecting", "time": moment, "note": note}, actor=actor).id
                ]

            return self._service(work)
        if self.way == "api":
            body = {"type": "inspecting", "time": moment.isoformat(), "note": note}
            outcome, answer = self._api(f"/batches/{batch_id}/events", body)
            outcome.ids = [answer["id"]] if outcome.ok else []
            return outcome
        form = {
            "type": "inspecting",
            "time": moment.strftime("%Y-%m-%dT%H:%M"),
            "note": note,
            "location_id": "",
        }
        return self._web(f"/manage/batches/{batch_id}", form)

    def create_serials(self, batch_id: int, count: int) -> Outcome:
        if self.way == "service":

            def work(actor: User) -> list[Any]:
                batch = _db.session.get(Batch, batch_id)
                return [item.serial for item in create_serials(batch, count, actor=actor)]

            return self._service(work)
        if self.way == "api":
            outcome, answer = self._api(f"/batches/{batch_id}/serials", {"count": count})
            outcome.ids = [item["serial"] for item in answer.get("items", [])]
            return outcome
        outcome = self._web(
            f"/manage/batches/{batch_id}/serials", {"serials-count": str(count), "serials-template": ""}
        )
        outcome.ids = []  # the page lists them; the database is checked instead
        return outcome

    def recall(self, batch_id: int, reason: str) -> Outcome:
        if self.way == "service":

            def work(actor: User) -> list[Any]:
                return [recall_batch(_db.session.get(Batch, batch_id), reason, actor=actor).id]

            return self._service(work)
        if self.way == "api":
            outcome, answer = self._api(f"/batches/{batch_id}/recall", {"reason": reason})
            outcome.ids = [answer["id"]] if outcome.ok else []
            return outcome
        outcome = self._web(f"/manage/batches/{batch_id}/recall", {"recall-reason": reason})
        outcome.ids = []
        return outcome


def run_together(clients: list[Client], work: Callable[[int, Client], Outcome]) -> list[Outcome]:
    """Prepare every client, then let them all write at the same instant; their outcomes in order."""
    _db.session.commit()  # the test's own transaction would hold SQLite's write lock
    barrier = threading.Barrier(len(clients))
    outcomes: list[Any] = [None] * len(clients)

    def run(index: int, client: Client) -> None:
        try:
            client.prepare()
            barrier.wait(timeout=60)
            outcomes[index] = work(index, client)
        except Exception as error:  # noqa: BLE001 - raised below, in the test's thread
            barrier.abort()
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads), "a client hung"
    errors = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
    if errors:  # the cause first, not the barrier it broke
        raise next((e for e in errors if not isinstance(e, threading.BrokenBarrierError)), errors[0])
    for outcome in outcomes:
        # What reaches a user is a success or a clear refusal: never a 500, never a locked database.
        assert outcome.status in (201, 302, 409, 422), (outcome.status, outcome.message[:300])
        assert "locked" not in outcome.message.lower()
    return outcomes


@pytest.fixture
def crowd(app, tenants, api):
    """Twenty clients of the Đắk Lắk producer's staff, all working the chosen way."""
    own = tenants["daklak"]
    users = [own.producer_user] + [make_user("producer", producer=own.producer) for _ in range(CLIENTS - 1)]
    _db.session.commit()

    def make(way: str) -> list[Client]:
        return [
            Client(app, way, user.id, user.email, api.token(user) if way == "api" else None) for user in users
        ]

    return make


def assert_chain_intact() -> None:
    report = verify_chain()
    assert report.intact, report.problem


@pytest.mark.parametrize("way", WAYS)
def test_one_lot_code_claimed_by_twenty_clients_is_given_once(way, crowd, tenants, db):
    product_id = tenants["daklak"].product.id
    outcomes = run_together(crowd(way), lambda _i, client: client.create_batch(product_id, "LO-RACE-01"))

    won = [outcome for outcome in outcomes if outcome.ok]
    refused = [outcome for outcome in outcomes if not outcome.ok]
    assert len(won) == 1 and len(refused) == CLIENTS - 1
    for outcome in refused:
        assert outcome.status == (422 if way == "web" else 409)
        assert "already has a batch with lot code LO-RACE-01" in outcome.message
    stored = db.session.scalars(select(Batch).where(Batch.lot_code == "LO-RACE-01")).all()
    assert [batch.id for batch in stored] == won[0].ids
    created = db.session.scalar(
        select(func.count(AuditEntry.id)).where(
            AuditEntry.object_type == "Batch", AuditEntry.action == "create"
        )
    )
    assert created == 1  # the refused attempts left no trace but their refusal
    assert_chain_intact()


@pytest.mark.parametrize("way", WAYS)
def test_twenty_clients_taking_from_one_input_never_take_more_than_it_has(way, crowd, make, tenants, db):
    own = tenants["daklak"]
    source = make.batch(own.product, lot_code="NHAN-CHUNG", quantity=Decimal("100"))
    source_id, product_id = source.id, own.product.id
    db.session.commit()
    # 20 x 7 kg = 140 kg asked of a 100 kg lot: 14 are served (98 kg), 6 are told 2 kg is left.
    outcomes = run_together(
        crowd(way),
        lambda i, client: client.create_batch(product_id, f"RANG-{i:02d}", [(source_id, Decimal("7"))]),
    )

    served = [i for i, outcome in enumerate(outcomes) if outcome.ok]
    refused = [i for i, outcome in enumerate(outcomes) if not outcome.ok]
    assert len(served) == 14 and len(refused) == 6
    for i in refused:
        assert outcomes[i].status == 422
        assert "Only 2 KGM of lot NHAN-CHUNG is left; 7 KGM cannot be taken." in outcomes[i].message
    consumed = db.session.scalar(
        select(func.sum(BatchInput.quantity)).where(BatchInput.input_batch_id == source_id)
    )
    assert Decimal(consumed) == Decimal("98")
    made = set(db.session.scalars(select(Batch.lot_code).where(Batch.lot_code.like("RANG-%"))))
    assert made == {f"RANG-{i:02d}" for i in served}  # a refused request created no batch
    assert db.session.get(Batch, source_id).status == "active"
    assert_chain_intact()


def test_concurrent_takers_that_use_the_input_up_leave_it_consumed(crowd, make, tenants, db):
    own = tenants["daklak"]
    source = make.batch(own.product, lot_code="NHAN-HET", quantity=Decimal("60"))
    source_id, product_id = source.id, own.product.id
    db.session.commit()
    asked = [Decimal(3 + i % 5) for i in range(CLIENTS)]  # 100 kg asked in all, 3 to 7 kg each
    outcomes = run_together(
        crowd("service"),
        lambda i, client: client.create_batch(product_id, f"XAY-{i:02d}", [(source_id, asked[i])]),
    )

    consumed = Decimal(
        db.session.scalar(select(func.sum(BatchInput.quantity)).where(BatchInput.input_batch_id == source_id))
    )
    assert consumed == sum(asked[i] for i, outcome in enumerate(outcomes) if outcome.ok)
    assert consumed <= Decimal("60")
    remaining = Decimal("60") - consumed
    refusals = [(asked[i], outcome) for i, outcome in enumerate(outcomes) if not outcome.ok]
    assert refusals
    for wanted, outcome in refusals:
        left = Decimal(re.search(r"Only ([\d.]+) KGM of lot NHAN-HET is left", outcome.message).group(1))
        # Each refusal told the truth at its moment: less than asked was left, and no less than is left now.
        assert remaining <= left < wanted
    source = db.session.get(Batch, source_id)
    assert source.status == ("consumed" if remaining == 0 else "active")
    assert_chain_intact()


@pytest.mark.parametrize("way", WAYS)
def test_events_appended_concurrently_are_all_stored(way, crowd, make, tenants, db):
    own = tenants["daklak"]
    batch_ids = [own.batch.id, make.batch(own.product, lot_code="LO-SONG-SONG").id]
    db.session.commit()

    def append(i: int, client: Client) -> Outcome:
        outcomes = [client.record_event(batch_ids[(i + n) % 2], f"kiểm tra {i}-{n}") for n in range(3)]
        failed = [outcome for outcome in outcomes if not outcome.ok]
        return failed[0] if failed else Outcome(201, ids=[i for o in outcomes for i in o.ids])

    outcomes = run_together(crowd(way), append)

    assert all(outcome.ok for outcome in outcomes)
    notes = db.session.scalars(select(TraceEvent.note).where(TraceEvent.batch_id.in_(batch_ids))).all()
    assert sorted(notes) == sorted(f"kiểm tra {i}-{n}" for i in range(CLIENTS) for n in range(3))
    acknowledged = [event_id for outcome in outcomes for event_id in outcome.ids]
    stored = set(db.session.scalars(select(TraceEvent.id).where(TraceEvent.id.in_(acknowledged))))
    assert stored == set(acknowledged)  # every id a client was given is there
    logged = db.session.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.object_type == "TraceEvent")
    )
    assert logged == CLIENTS * 3
    assert_chain_intact()


@pytest.mark.parametrize("way", WAYS)
def test_serials_generated_concurrently_are_all_different(way, crowd, tenants, db):
    batch_id = tenants["daklak"].batch.id
    outcomes = run_together(crowd(way), lambda _i, client: client.create_serials(batch_id, 40))

    assert all(outcome.ok for outcome in outcomes)
    items = db.session.execute(select(Item.serial, Item.public_code).where(Item.batch_id == batch_id)).all()
    assert len(items) == CLIENTS * 40
    assert len({serial for serial, _code in items}) == len(items)
    assert len({code for _serial, code in items}) == len(items)
    given = [serial for outcome in outcomes for serial in outcome.ids]
    assert len(given) == len(set(given))
    assert set(given) <= {serial for serial, _code in items}
    assert_chain_intact()


def test_twenty_clients_doing_everything_at_once(crowd, make, tenants, db):
    """Batches, events, serials and takings from one input, over the API and the forms together."""
    own = tenants["daklak"]
    source = make.batch(own.product, lot_code="NGUON-CHUNG", quantity=Decimal("30"))
    source_id, product_id, batch_id = source.id, own.product.id, own.batch.id
    db.session.commit()
    clients = [*crowd("api")[:10], *crowd("web")[10:]]

    def work(i: int, client: Client) -> Outcome:
        task = i % 4
        if task == 0:
            return client.create_batch(product_id, f"MOI-{i:02d}")
        if task == 1:
            return client.record_event(batch_id, f"đồng thời {i}")
        if task == 2:
            return client.create_serials(batch_id, 25)
        return client.create_batch(product_id, f"LAY-{i:02d}", [(source_id, Decimal("6"))])

    outcomes = run_together(clients, work)

    takers = [i for i in range(CLIENTS) if i % 4 == 3]
    for i, outcome in enumerate(outcomes):
        if i not in takers:
            assert outcome.ok, (i, outcome.status, outcome.message[:300])
    served = [i for i in takers if outcomes[i].ok]
    assert len(served) == 5  # 5 x 6 kg of a 30 kg lot: all served, the lot used up
    assert db.session.get(Batch, source_id).status == "consumed"
    lots = set(db.session.scalars(select(Batch.lot_code)))
    assert {f"MOI-{i:02d}" for i in range(0, CLIENTS, 4)} <= lots
    assert {f"LAY-{i:02d}" for i in served} <= lots
    notes = set(db.session.scalars(select(TraceEvent.note).where(TraceEvent.batch_id == batch_id)))
    assert notes == {f"đồng thời {i}" for i in range(1, CLIENTS, 4)}
    assert db.session.scalar(select(func.count(Item.id)).where(Item.batch_id == batch_id)) == 5 * 25
    assert_chain_intact()


@pytest.mark.parametrize("way", WAYS)
def test_a_recall_reaches_every_lot_taken_from_the_recalled_one_at_the_same_moment(
    way, crowd, make, tenants, db
):
    """One client recalls the harvest while nineteen take from the lot made of it: none escapes the recall."""
    own = tenants["daklak"]
    harvest = make.batch(own.product, lot_code="THU-HOACH", quantity=Decimal("200"))
    dried = make.batch(own.product, lot_code="SAY-KHO", quantity=Decimal("190"))
    add_inputs(
        dried,
        [{"batch_id": harvest.id, "quantity": Decimal("200")}],
        kind="transformation",
        actor=own.producer_user,
    )
    harvest_id, dried_id, product_id = harvest.id, dried.id, own.product.id
    db.session.commit()

    def work(i: int, client: Client) -> Outcome:
        if i == CLIENTS // 2:
            return client.recall(harvest_id, "Dư lượng thuốc bảo vệ thực vật vượt ngưỡng")
        return client.create_batch(product_id, f"GOI-{i:02d}", [(dried_id, Decimal("5"))])

    outcomes = run_together(crowd(way), work)

    assert outcomes[CLIENTS // 2].ok
    recall = db.session.scalars(select(Recall).where(Recall.batch_id == harvest_id)).one()
    reached = set(db.session.scalars(select(RecallBatch.batch_id).where(RecallBatch.recall_id == recall.id)))
    downstream = {harvest_id, *related_batch_ids(harvest_id, "downstream")}
    assert reached == downstream  # every lot made from the harvest, however late, is in the recall
    statuses = db.session.execute(select(Batch.lot_code, Batch.status).where(Batch.id.in_(downstream))).all()
    assert {status for _lot, status in statuses} == {"recalled"}, statuses
    for i, outcome in enumerate(outcomes):
        if i != CLIENTS // 2 and not outcome.ok:
            assert outcome.status == 422
            # The services and the API say why; the form says so too, or no longer offers the lot.
            said = "Lot SAY-KHO is recalled and cannot be used." in outcome.message
            assert said or (way == "web" and "Not a valid choice." in outcome.message), outcome.message
    assert_chain_intact()
