"""Idempotency-Key on the API's writes: a repeat answers the first answer and stores nothing twice.

Runs on SQLite and PostgreSQL. Concurrent doubles: clients with the same key
at once, on both; on PostgreSQL also the exact case of a repeat arriving while
the first request still runs (it waits on the key's unique index, then
replays), made certain by holding the audit chain's lock until both wait.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask, has_app_context
from sqlalchemy import create_engine, func, select, text

from tests.conftest import database_kind
from traceability.audit.service import _ADVISORY_LOCK_KEY
from traceability.core.dates import utcnow
from traceability.core.extensions import db as _db
from traceability.idempotency import purge_expired
from traceability.models.batches import TraceEvent
from traceability.models.idempotency import IdempotentRequest

EVENT = {"type": "harvesting", "time": "2026-11-02T08:00:00+07:00", "quantity": 120, "note": "Hái đợt 1"}


def events_of(db, batch) -> list[TraceEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(TraceEvent).where(TraceEvent.batch_id == batch.id)))


def post_event(api, user, batch, body: dict[str, Any], key: str | None):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return api.post(f"/batches/{batch.id}/events", user, json=body, headers=headers)


def test_a_repeat_answers_the_first_answer_and_stores_nothing_twice(api, tenants, db):
    farm = tenants["daklak"]
    key = str(uuid.uuid4())
    first = post_event(api, farm.producer_user, farm.batch, EVENT, key)
    assert first.status_code == 201
    assert "Idempotent-Replayed" not in first.headers
    again = post_event(api, farm.producer_user, farm.batch, {**EVENT}, key)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert again.headers["Content-Type"] == "application/json"
    [event] = events_of(db, farm.batch)
    assert event.id == first.get_json()["id"] and event.note == "Hái đợt 1"
    # The same body without a key, or with another key, is another event.
    assert post_event(api, farm.producer_user, farm.batch, EVENT, None).status_code == 201
    assert post_event(api, farm.producer_user, farm.batch, EVENT, str(uuid.uuid4())).status_code == 201
    assert len(events_of(db, farm.batch)) == 3


def test_the_key_is_read_by_value_not_by_spelling_of_the_json(api, client, tenants, db):
    farm = tenants["daklak"]
    key = "7f0c2d5e-field-phone-0001"
    assert post_event(api, farm.producer_user, farm.batch, EVENT, key).status_code == 201
    token = api.token(farm.producer_user)
    reordered = (
        '{"note": "Hái đợt 1",   "quantity": 120, "time": "2026-11-02T08:00:00+07:00", "type": "harvesting"}'
    )
    response = client.post(
        f"/api/v1/batches/{farm.batch.id}/events",
        data=reordered,
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f'"{key}"'},
    )
    assert response.status_code == 201 and response.headers["Idempotent-Replayed"] == "true"
    assert len(events_of(db, farm.batch)) == 1


def test_a_key_reused_for_another_request_is_refused_and_changes_nothing(api, tenants, db):
    farm = tenants["daklak"]
    key = str(uuid.uuid4())
    first = post_event(api, farm.producer_user, farm.batch, EVENT, key)
    other_body = post_event(api, farm.producer_user, farm.batch, {**EVENT, "quantity": 121}, key)
    assert other_body.status_code == 422
    error = other_body.get_json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert "yêu cầu khác" in error["message"]  # in the caller's language: Vietnamese by default
    same = post_event(api, farm.producer_user, farm.batch, EVENT, key)
    assert same.status_code == 201 and same.headers["Idempotent-Replayed"] == "true"
    other_path = api.post(
        "/locations",
        farm.producer_user,
        json={"producer_id": farm.producer.id, "name": "Kho mới", "kind": "warehouse", "province_code": "66"},
        headers={"Idempotency-Key": key},
    )
    assert other_path.status_code == 422
    assert other_path.get_json()["error"]["code"] == "idempotency_key_reused"
    assert [event.id for event in events_of(db, farm.batch)] == [first.get_json()["id"]]


def test_keys_belong_to_their_caller(api, tenants, db):
    farm, staff = tenants["daklak"], tenants["daklak"].staff
    key = "shared-by-chance"
    mine = post_event(api, farm.producer_user, farm.batch, EVENT, key)
    theirs = post_event(api, staff, farm.batch, EVENT, key)
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert mine.get_json()["id"] != theirs.get_json()["id"]
    assert len(events_of(db, farm.batch)) == 2


def test_a_refused_write_keeps_no_key_so_its_repeat_is_judged_again(api, tenants, db):
    farm = tenants["daklak"]
    key = str(uuid.uuid4())
    farm.producer.status = "suspended"
    db.session.commit()
    refused = post_event(api, farm.producer_user, farm.batch, EVENT, key)
    assert refused.status_code == 403
    assert db.session.scalar(select(func.count()).select_from(IdempotentRequest)) == 0
    farm.producer.status = "approved"
    db.session.commit()
    accepted = post_event(api, farm.producer_user, farm.batch, EVENT, key)
    assert accepted.status_code == 201 and "Idempotent-Replayed" not in accepted.headers
    replayed = post_event(api, farm.producer_user, farm.batch, EVENT, key)
    assert replayed.status_code == 201 and replayed.get_json() == accepted.get_json()
    assert len(events_of(db, farm.batch)) == 1


@pytest.mark.parametrize("key", ["", " ", "x" * 129, "khóa-tiếng-việt", "two words", '""'])
def test_a_malformed_key_is_refused_before_anything_runs(api, tenants, db, key):
    farm = tenants["daklak"]
    response = post_event(api, farm.producer_user, farm.batch, EVENT, key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.get_json()["error"]["message"]
    assert events_of(db, farm.batch) == []


def test_a_key_of_128_characters_is_taken(api, tenants, db):
    farm = tenants["daklak"]
    key = "K" * 128
    assert post_event(api, farm.producer_user, farm.batch, EVENT, key).status_code == 201
    assert (
        post_event(api, farm.producer_user, farm.batch, EVENT, key).headers["Idempotent-Replayed"] == "true"
    )
    assert len(events_of(db, farm.batch)) == 1


def test_keys_expire_and_the_worker_purges_them(app, api, tenants, db, jobs, monkeypatch):
    farm = tenants["daklak"]
    old, fresh = "kept-too-long", "still-kept"
    assert post_event(api, farm.producer_user, farm.batch, EVENT, old).status_code == 201
    assert post_event(api, farm.producer_user, farm.batch, {**EVENT, "note": "2"}, fresh).status_code == 201
    row = db.session.scalar(select(IdempotentRequest).where(IdempotentRequest.key == old))
    row.created_at = utcnow() - timedelta(hours=app.config["IDEMPOTENCY_KEEP_HOURS"], minutes=1)
    db.session.commit()
    # Expired but not purged yet: as good as gone, the request runs again.
    again = post_event(api, farm.producer_user, farm.batch, EVENT, old)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert len(events_of(db, farm.batch)) == 3
    row = db.session.scalar(select(IdempotentRequest).where(IdempotentRequest.key == old))
    row.created_at = utcnow() - timedelta(days=30)
    db.session.commit()
    assert purge_expired() == 1
    assert db.session.scalars(select(IdempotentRequest.key)).all() == [fresh]
    assert jobs.queue.scheduled("idempotency.purge")


def test_the_openapi_document_names_the_header_on_every_write(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert "Idempotency-Key" in document["info"]["description"]
    parameter = document["components"]["parameters"]["IdempotencyKey"]
    assert parameter["in"] == "header" and parameter["name"] == "Idempotency-Key"
    assert parameter["schema"]["maxLength"] == 128
    writes = reads = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            names = [p.get("$ref", "") for p in operation.get("parameters", [])]
            has_key = "#/components/parameters/IdempotencyKey" in names
            if method == "get" or operation["security"] == []:
                assert not has_key, (method, path)
                reads += 1
                continue
            writes += 1
            assert has_key, (method, path)
            assert "422" in operation["responses"], (method, path)
            success = next(code for code in operation["responses"] if code.startswith("2"))
            assert "Idempotent-Replayed" in operation["responses"][success]["headers"]
    assert writes > 30 and reads > 30


# --- concurrent doubles ---------------------------------------------------------------------------


def _send_together(app: Flask, token: str, batch_id: int, key: str, clients: int) -> list[Any]:
    """``clients`` threads POST the same event with the same key at once; their (status, body, replayed)."""
    if has_app_context():
        _db.session.commit()  # the test's own transaction holds no lock while the clients write
    barrier = threading.Barrier(clients)
    answers: list[Any] = [None] * clients

    def run(index: int) -> None:
        http = app.test_client()
        barrier.wait()
        response = http.post(
            f"/api/v1/batches/{batch_id}/events",
            json=EVENT,
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key, "Accept-Language": "en"},
        )
        answers[index] = (
            response.status_code,
            response.get_json(),
            response.headers.get("Idempotent-Replayed") == "true",
        )

    threads = [threading.Thread(target=run, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_doubles_sent_at_once_store_one_event(app, api, tenants, db):
    farm = tenants["daklak"]
    token = api.token(farm.producer_user)
    answers = _send_together(app, token, farm.batch.id, str(uuid.uuid4()), clients=6)
    assert [status for status, _body, _replayed in answers] == [201] * 6, answers
    assert len({body["id"] for _status, body, _replayed in answers}) == 1
    assert sum(1 for *_rest, replayed in answers if not replayed) == 1
    assert len(events_of(db, farm.batch)) == 1
    assert db.session.scalar(select(func.count()).select_from(IdempotentRequest)) == 1


def test_a_repeat_sent_while_the_first_runs_waits_for_it_then_replays(app, api, tenants, db, database_url):
    if database_kind() != "postgresql":
        pytest.skip(
            "waiting on the key's unique index is PostgreSQL's: run with TEST_DATABASE_URL=postgresql://..."
        )
    farm = tenants["daklak"]
    token, batch_id = api.token(farm.producer_user), farm.batch.id
    db.session.commit()
    holder = create_engine(database_url)
    try:
        with holder.connect() as connection:
            # Every write that audits takes its chain's lock first (here the lot's centre's): holding
            # it stops the first request after it claimed its key, so the second certainly arrives
            # while the first runs.
            chain = {"key": _ADVISORY_LOCK_KEY, "chain": farm.producer.centre_id}
            connection.execute(text("SELECT pg_advisory_lock(:key, :chain)"), chain)
            answers: list[Any] = []
            sender = threading.Thread(
                target=lambda: answers.extend(_send_together(app, token, batch_id, "held", clients=2))
            )
            sender.start()
            deadline = time.monotonic() + 20
            waiting: dict[str, int] = {}
            while time.monotonic() < deadline:
                # pg_stat_activity is read once per transaction unless told to forget it.
                connection.execute(text("SELECT pg_stat_clear_snapshot()"))
                waiting = dict(
                    connection.execute(
                        text(
                            "SELECT CASE WHEN query ILIKE '%pg_advisory_xact_lock%' THEN 'audit lock' "
                            "WHEN query ILIKE 'INSERT INTO idempotent_request%' THEN 'key' ELSE 'other' END, "
                            "count(*) FROM pg_stat_activity WHERE datname = current_database() "
                            "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid() GROUP BY 1"
                        )
                    ).all()
                )
                if waiting.get("audit lock") == 1 and waiting.get("key") == 1:
                    break
                time.sleep(0.05)
            connection.execute(text("SELECT pg_advisory_unlock(:key, :chain)"), chain)
            connection.commit()
            sender.join(timeout=60)
    finally:
        holder.dispose()
    # One waited for the audit lock (having claimed the key), the other for the first one's key.
    assert waiting == {"audit lock": 1, "key": 1}
    assert sorted(replayed for *_rest, replayed in answers) == [False, True]
    assert [status for status, *_rest in answers] == [201, 201]
    assert answers[0][1] == answers[1][1]
    assert len(events_of(db, farm.batch)) == 1
