"""A read replica for the public pages (DATABASE_REPLICA_URL): reads there, every write on the primary.

On PostgreSQL the "replica" is the test database itself opened read-only
(``default_transaction_read_only=on`` in the connection's options): a write
through it fails, so a write that succeeds went to the primary, and the
statements each engine runs show which one served a page. The database is
not in recovery, so it counts as caught up; replication lag is simulated by
replacing the one function that reads the replica's replay position.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import datetime

import pytest
from flask import Flask
from sqlalchemy import event, func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests.conftest import ApiHelper, RequestIsolatedClient, WebHelper, database_kind
from traceability import create_app
from traceability.batches.service import new_public_code, record_event
from traceability.core import replica
from traceability.core.config import TestConfig
from traceability.core.dates import VIETNAM_OFFSET
from traceability.core.extensions import db as _db
from traceability.gs1 import gtin_check_digit
from traceability.models.batches import Batch, Item, TraceEvent
from traceability.models.public import ProblemReport, Scan

PHONE = (
    "Mozilla/5.0 (Linux; Android 15; SM-A556E) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/140.0 Mobile Safari/537.36"
)
GTIN14 = ("893000000912" + str(gtin_check_digit("893000000912"))).zfill(14)
PRODUCT_NAME = "Mật ong hoa cà phê Đắk Lắk"


# --- without PostgreSQL --------------------------------------------------------------------------


def test_a_replica_is_refused_on_sqlite(tmp_path):
    class SqliteWithReplica(TestConfig):
        DATABASE_URL = f"sqlite:///{tmp_path / 'primary.sqlite3'}"
        DATABASE_REPLICA_URL = "postgresql+psycopg://trace@replica.example/trace"

    with pytest.raises(RuntimeError, match="DATABASE_REPLICA_URL needs PostgreSQL"):
        create_app(SqliteWithReplica)

    class SqliteReplica(TestConfig):
        DATABASE_URL = "postgresql+psycopg://trace@primary.example/trace"
        DATABASE_REPLICA_URL = f"sqlite:///{tmp_path / 'replica.sqlite3'}"

    with pytest.raises(RuntimeError, match="must be a PostgreSQL URL"):
        create_app(SqliteReplica)


def test_without_a_replica_there_is_one_engine(app, db):
    assert app.config["DATABASE_REPLICA_URL"] is None
    assert list(db.engines) == [None] and replica.EXTENSION not in app.extensions


def test_the_replica_url_takes_the_psycopg_driver(monkeypatch):
    from traceability.core.config import _replica_url

    monkeypatch.setenv("DATABASE_REPLICA_URL", "postgres://trace:secret@replica.example/trace")
    assert _replica_url() == "postgresql+psycopg://trace:secret@replica.example/trace"
    monkeypatch.delenv("DATABASE_REPLICA_URL")
    assert _replica_url() is None


# --- on PostgreSQL -------------------------------------------------------------------------------


@pytest.fixture
def replica_app(app, database_url, tmp_path) -> Iterator[Flask]:
    """An app whose replica is the test database opened read-only, with a page cache of its own."""
    if database_kind() != "postgresql":
        pytest.skip("a read replica is a PostgreSQL feature: run with TEST_DATABASE_URL=postgresql://...")
    read_only = make_url(database_url).update_query_dict({"options": "-c default_transaction_read_only=on"})

    class ReplicaConfig(TestConfig):
        DATABASE_URL = database_url
        DATABASE_REPLICA_URL = read_only.render_as_string(hide_password=False)
        PAGE_CACHE_URL = str(tmp_path / "page-cache")

    worker = create_app(ReplicaConfig)
    worker.test_client_class = RequestIsolatedClient
    yield worker
    worker.extensions["scan_buffer"].flush()
    with worker.app_context():
        _db.engine.dispose()
        replica.replica_engine().dispose()


@pytest.fixture
def statements(replica_app) -> Iterator[dict[str, list[str]]]:
    """The SQL each of the replica app's engines runs, by engine: ``primary`` and ``replica``."""
    seen: dict[str, list[str]] = {"primary": [], "replica": []}
    with replica_app.app_context():
        engines = {"primary": _db.engines[None], "replica": replica.replica_engine()}
    listeners = []
    for name, engine in engines.items():

        def remember(_conn, _cursor, statement, *_args, name=name) -> None:
            seen[name].append(statement)

        event.listen(engine, "before_cursor_execute", remember)
        listeners.append((engine, remember))
    yield seen
    for engine, remember in listeners:
        event.remove(engine, "before_cursor_execute", remember)


def selects(statements: list[str]) -> list[str]:
    return [statement for statement in statements if statement.lstrip().upper().startswith("SELECT")]


@pytest.fixture
def lot(tenants, make, db):
    """A flagship GTIN product of Đắk Lắk with one lot (one event) and one serialised item."""
    own = tenants["daklak"]
    own.product = make.product(own.producer, name=PRODUCT_NAME, gtin=GTIN14, is_flagship=True)
    own.batch = make.batch(own.product, lot_code="MO-2026-07")
    record_event(
        own.batch,
        {"type": "harvesting", "time": datetime(2026, 10, 1, 7, tzinfo=VIETNAM_OFFSET)},
        actor=own.producer_user,
    )
    own.item = Item(batch_id=own.batch.id, serial="SER0001", public_code=new_public_code())
    db.session.add(own.item)
    db.session.commit()
    own.path = f"/01/{GTIN14}/10/MO-2026-07"
    return own


def get(app: Flask, path: str, **headers: str):
    headers.setdefault("User-Agent", PHONE)
    headers.setdefault("Accept-Language", "en")
    return app.test_client().get(path, headers=headers)


def test_the_public_pages_read_from_the_replica(replica_app, lot, statements):
    batch_id, product_id = lot.batch.id, lot.product.id
    with replica_app.app_context():  # the setup is a real read-only replica
        engine = replica.replica_engine()
    with pytest.raises(DBAPIError, match="read-only"), engine.begin() as connection:
        connection.execute(insert(Scan), {"batch_id": batch_id, "language": "vi"})
    statements["primary"].clear()
    statements["replica"].clear()
    pages = {
        lot.path: PRODUCT_NAME,
        f"/t/{lot.batch.public_code}": PRODUCT_NAME,
        f"{lot.path}/21/SER0001": "SER0001",
        f"{lot.path}?linkType=linkset": '"linkset"',
        f"{lot.path}?linkType=gs1:epcis": "EPCISDocument",
        "/products": PRODUCT_NAME,
        f"/products/{product_id}": "",
        "/sitemap.xml": f"/products/{product_id}-",
    }
    for path, shown in pages.items():
        response = get(replica_app, path)
        assert response.status_code in (200, 301), (path, response.status_code)
        if response.status_code == 301:
            response = get(replica_app, response.headers["Location"])
            assert response.status_code == 200
            shown = PRODUCT_NAME
        assert shown in response.get_data(as_text=True), path
    assert len(selects(statements["replica"])) > 2 * len(pages)
    assert selects(statements["primary"]) == []


def test_scans_go_to_the_primary(replica_app, lot, db):
    assert get(replica_app, lot.path).status_code == 200
    assert get(replica_app, lot.path).headers["X-Page-Cache"] == "hit"  # before Flask: the fast path
    assert get(replica_app, f"{lot.path}/21/SER0001").status_code == 200
    assert replica_app.extensions["scan_buffer"].flush() == 3
    db.session.commit()
    scans = db.session.execute(select(Scan.batch_id, Scan.item_id).order_by(Scan.id)).all()
    assert scans == [(lot.batch.id, None), (lot.batch.id, None), (lot.batch.id, lot.item.id)]


def test_problem_reports_manage_and_api_writes_go_to_the_primary(replica_app, lot, db):
    client = replica_app.test_client()
    form = client.get(f"/report/{lot.batch.public_code}", headers={"Accept-Language": "en"})
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.get_data(as_text=True)).group(1)
    sent = client.post(
        f"/report/{lot.batch.public_code}",
        data={"message": "Nắp hộp bị bóc.", "contact": "", "csrf_token": token},
    )
    assert sent.status_code == 302
    assert db.session.scalar(select(func.count(ProblemReport.id))) == 1

    web = WebHelper(replica_app.test_client())
    assert web.login(lot.producer_user.email).status_code == 302  # a sign-in writes its audit entry
    page = f"/manage/batches/{lot.batch.id}"
    recorded = web.post_form(page, {"type": "packing", "time": "2026-10-03T08:00", "quantity": "10"})
    assert recorded.status_code == 302

    api = ApiHelper(replica_app.test_client())
    answer = api.post(
        f"/batches/{lot.batch.id}/events",
        lot.producer_user,
        json={"type": "shipping", "time": "2026-10-04T09:00:00+07:00"},
    )
    assert answer.status_code == 201, answer.get_json()
    db.session.commit()
    events = db.session.scalars(select(TraceEvent.type).where(TraceEvent.batch_id == lot.batch.id)).all()
    assert sorted(events) == ["harvesting", "packing", "shipping"]


def recall_on_the_primary(replica_app: Flask, lot, reason: str) -> None:
    api = ApiHelper(replica_app.test_client())
    answer = api.post(f"/batches/{lot.batch.id}/recall", lot.producer_user, json={"reason": reason})
    assert answer.status_code == 201, answer.get_json()


def test_a_change_shows_at_once_and_the_page_is_stored_again(replica_app, lot):
    assert get(replica_app, lot.path).headers["X-Page-Cache"] == "miss"
    assert get(replica_app, lot.path).headers["X-Page-Cache"] == "hit"
    recall_on_the_primary(replica_app, lot, "Bao bì bị rò rỉ")
    response = get(replica_app, lot.path)
    assert response.headers["X-Page-Cache"] == "miss"  # a replica that has the recall: stored
    assert "Bao bì bị rò rỉ" in response.get_data(as_text=True)
    assert get(replica_app, lot.path).headers["X-Page-Cache"] == "hit"


@pytest.fixture
def replica_position(monkeypatch) -> Callable[[int | None], None]:
    """Set what the replica reports as replayed (the one seam: the database stays real)."""

    def set_position(position: int | None) -> None:
        monkeypatch.setattr(replica, "replica_replay_lsn", lambda _connection: position)

    return set_position


def primary_position(replica_app: Flask) -> int:
    with replica_app.app_context():
        return replica.primary_wal_position()


def test_a_lagging_replica_is_not_stored_the_primary_serves_the_page(
    replica_app, lot, statements, replica_position
):
    # A standby that has replayed everything so far, but the cache knows no positions yet:
    # the first reader records the primary's (a safe bound), the next one stores the page.
    replica_position(primary_position(replica_app))
    assert get(replica_app, lot.path).headers["X-Page-Cache"] == "off"
    replica_position(primary_position(replica_app))  # the server's WAL moves on: other databases write too
    assert get(replica_app, lot.path).headers["X-Page-Cache"] == "miss"
    assert get(replica_app, lot.path).headers["X-Page-Cache"] == "hit"

    replayed_before = primary_position(replica_app)
    recall_on_the_primary(replica_app, lot, "Nhiễm nấm mốc")
    replica_position(replayed_before)  # the replica has not replayed the recall yet
    statements["primary"].clear()
    for _attempt in range(2):
        response = get(replica_app, lot.path)
        assert response.headers["X-Page-Cache"] == "off"  # rendered, never stored
        assert "Nhiễm nấm mốc" in response.get_data(as_text=True)  # from the primary
    assert any("trace_event" in statement for statement in selects(statements["primary"]))

    replica_position(primary_position(replica_app))  # caught up
    response = get(replica_app, lot.path)
    assert response.headers["X-Page-Cache"] == "miss"  # the recall's position was recorded with it
    assert "Nhiễm nấm mốc" in response.get_data(as_text=True)
    assert get(replica_app, lot.path).headers["X-Page-Cache"] == "hit"


def test_a_standby_that_replayed_nothing_is_behind(replica_app, lot, replica_position):
    replica_position(0)
    for _attempt in range(2):
        assert get(replica_app, lot.path).headers["X-Page-Cache"] == "off"
    replica_position(None)  # not in recovery: a primary has everything
    assert get(replica_app, lot.path).headers["X-Page-Cache"] == "miss"


def test_the_lag_rule_reads_real_positions(replica_app, lot):
    with replica_app.app_context(), replica.replica_engine().connect() as connection:
        assert replica.replica_replay_lsn(connection) is None  # the test server is not in recovery
    batch_id, first = lot.batch.id, primary_position(replica_app)
    with replica_app.app_context():
        _db.session.get(Batch, batch_id).quantity += 1
        _db.session.commit()
    assert primary_position(replica_app) > first
