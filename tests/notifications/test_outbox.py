"""The email outbox: a mail outage loses nothing, nothing is sent twice, a refused change notifies nobody."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.notifications.helpers import only_one, settle
from traceability.batches.recalls import recall_batch
from traceability.core.dates import utcnow
from traceability.core.errors import Conflict
from traceability.http.web import perform
from traceability.jobs import job_queue
from traceability.models.notifications import Notification
from traceability.notifications import delivery
from traceability.notifications.delivery import backoff, check_settings, sweep_outbox
from traceability.registry.producers import approve_producer, reject_producer, suspend_producer


def statuses(db) -> dict[str, str]:
    db.session.expire_all()
    return {row.email_to: row.email_status for row in db.session.scalars(select(Notification))}


def test_a_mail_outage_delays_the_emails_and_loses_none(app, db, jobs, inbox, smtp, people):
    people.producer.status = "pending"
    db.session.commit()
    smtp.stop()  # the mail server is down

    approve_producer(people.producer, actor=people.staff)
    settle(db, jobs)  # the worker tries at once, and fails
    assert inbox.received == []
    rows = db.session.scalars(select(Notification).order_by(Notification.id)).all()
    # The first try failed; the other waits for the next pass, as the server was unreachable.
    assert [row.email_status for row in rows] == ["retrying", "queued"]
    assert rows[0].email_attempts == 1
    assert "ConnectionRefusedError" in rows[0].email_error
    started = utcnow()

    # Two minutes later the sweep tries again, the one not tried yet first: still down.
    assert sweep_outbox(started + timedelta(minutes=2)) == 0
    assert set(statuses(db).values()) == {"retrying"}

    # Meanwhile another decision is made: queued behind the others, nothing lost.
    suspend_producer(people.producer, "Nhãn thiếu hạn sử dụng.", actor=people.staff)
    settle(db, jobs)
    assert inbox.received == []

    smtp.start()  # back, an hour later
    assert sweep_outbox(started + timedelta(hours=1)) == 4
    assert sorted(m.subject for m in inbox.to("hoa@htxeatu.vn")) == [
        "Your producer is suspended: HTX Cà phê Ea Tu",
        "Your registration is approved: HTX Cà phê Ea Tu",
    ]
    assert len(inbox.to("lan@htxeatu.vn")) == 2
    assert set(statuses(db).values()) == {"sent"}

    # Every later pass, job or sweep, sends nothing again.
    job_queue(app).enqueue("notifications.sweep")
    jobs.run_pending()
    ids = list(db.session.scalars(select(Notification.id)))
    assert delivery.deliver(ids, now=started + timedelta(hours=2)) == 0
    assert sweep_outbox(started + timedelta(days=2)) == 0
    assert len(inbox.received) == 4


def test_a_message_is_given_up_after_the_retry_days(app, db, jobs, inbox, smtp, people, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_RETRY_DAYS", 2)
    people.producer.status = "pending"
    db.session.commit()
    smtp.stop()
    approve_producer(people.producer, actor=people.staff)
    settle(db, jobs)
    started = utcnow()
    assert sweep_outbox(started + timedelta(days=1)) == 0  # Lan's first try
    assert sweep_outbox(started + timedelta(days=2, minutes=1)) == 0  # Hoa's second: past two days
    assert statuses(db) == {"hoa@htxeatu.vn": "failed", "lan@htxeatu.vn": "retrying"}
    smtp.start()
    assert sweep_outbox(started + timedelta(days=2, minutes=2)) == 1  # a try that works still sends
    assert sweep_outbox(started + timedelta(days=3)) == 0  # a message given up is not tried again
    assert statuses(db) == {"hoa@htxeatu.vn": "failed", "lan@htxeatu.vn": "sent"}
    assert [m.to for m in inbox.received] == ["lan@htxeatu.vn"]


def test_the_retries_back_off_up_to_six_hours():
    assert [backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert backoff(9) == timedelta(minutes=256)
    assert backoff(10) == backoff(40) == timedelta(hours=6)


def test_a_refused_address_fails_at_once_and_the_others_go(db, jobs, inbox, people):
    inbox.refused.add("hoa@htxeatu.vn")
    people.producer.status = "pending"
    approve_producer(people.producer, actor=people.staff)
    settle(db, jobs)
    assert statuses(db) == {"hoa@htxeatu.vn": "failed", "lan@htxeatu.vn": "sent"}
    assert sweep_outbox(utcnow() + timedelta(hours=1)) == 0  # a permanent refusal is not retried
    assert [m.recipients for m in inbox.received] == [["lan@htxeatu.vn"]]


def test_a_worker_that_died_while_sending_is_replaced_after_the_lease(db, jobs, inbox, people):
    people.producer.status = "pending"
    approve_producer(people.producer, actor=people.staff)
    db.session.commit()
    jobs.discard_all()  # the delivery job was lost with the worker...
    first = db.session.scalar(select(Notification.id).order_by(Notification.id))
    now = utcnow()
    assert delivery._claim(first, now) is not None  # ...which had claimed one row and died
    assert sweep_outbox(now + timedelta(minutes=1)) == 1  # the other; the claimed one is held
    assert sweep_outbox(now + timedelta(minutes=11)) == 1  # the claim expired: sent by another
    assert sweep_outbox(now + timedelta(minutes=30)) == 0
    assert sorted(m.to for m in inbox.received) == ["hoa@htxeatu.vn", "lan@htxeatu.vn"]


def test_two_workers_on_the_same_rows_send_each_once(app, db, jobs, inbox, people):
    people.producer.status = "pending"
    approve_producer(people.producer, actor=people.staff)
    db.session.commit()
    waiting = jobs.waiting("notifications.deliver")
    assert len(waiting) == 1
    ids = waiting[0][0]
    # The job, a second copy of it and the sweep all reach the same rows.
    job_queue(app).enqueue("notifications.deliver", ids)
    job_queue(app).enqueue("notifications.sweep")
    jobs.run_pending()
    assert sorted(m.to for m in inbox.received) == ["hoa@htxeatu.vn", "lan@htxeatu.vn"]


def test_a_refused_change_notifies_nobody(app, db, jobs, inbox, people, web):
    producer = people.producer
    producer.status = "pending"
    db.session.commit()

    # Refused by the service: no reason given.
    web.login(people.staff.email)
    response = web.post_form(
        f"/manage/producers/{producer.id}/reject", {"reason": ""}, form_url=f"/manage/producers/{producer.id}"
    )
    assert response.status_code in (302, 422)
    assert db.session.get(type(producer), producer.id).status == "pending"

    # Refused after the notifications were written, in the same request: rolled back with the change.
    def approve_then_refuse():
        approve_producer(producer, actor=people.staff)
        assert db.session.scalar(select(func.count()).select_from(Notification)) == 2
        raise Conflict("refused after the approval")

    with app.test_request_context():
        assert not perform(approve_then_refuse).ok

    assert db.session.scalar(select(func.count()).select_from(Notification)) == 0
    assert jobs.waiting("notifications.deliver") == []
    jobs.run_pending()
    assert sweep_outbox(utcnow() + timedelta(hours=1)) == 0
    assert inbox.received == []


def test_switching_a_kind_off_keeps_it_in_app_only(db, jobs, inbox, people, web, make):
    web.login(people.owner.email)
    page = web.client.get("/manage/notifications/settings")
    assert page.status_code == 200
    # Every kind but the producer's own decisions, in Vietnamese now.
    kinds = ["certification_decided", "claim_decided", "certification_expiring", "recall", "problem_report"]
    response = web.post_form("/manage/notifications/settings", {"emailed": kinds, "locale": "vi"})
    assert response.status_code == 302

    people.producer.status = "pending"
    reject_producer(people.producer, "Thiếu giấy phép.", actor=people.staff)
    settle(db, jobs)
    assert inbox.to("hoa@htxeatu.vn") == []  # switched off: no email...
    assert len(inbox.to("lan@htxeatu.vn")) == 1  # ...for that user only
    assert (
        db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.user_id == people.owner.id)
        )
        == 1
    )  # ...and still in the list

    batch = make.batch(make.product(people.producer), lot_code="RB-1")
    db.session.commit()
    recall_batch(batch, "Nấm mốc.", actor=people.staff)
    settle(db, jobs)
    recall = only_one(inbox, "hoa@htxeatu.vn")  # the other kinds still come...
    assert recall.language == "vi"  # ...in the language chosen with them
    assert "RB-1" in recall.body


def test_mail_settings_that_cannot_work_stop_the_app():
    with pytest.raises(RuntimeError, match="MAIL_USE_SSL"):
        check_settings({"MAIL_SERVER": "smtp.example.vn", "MAIL_USE_SSL": True, "MAIL_USE_STARTTLS": True})
    with pytest.raises(RuntimeError, match="MAIL_FROM"):
        check_settings({"MAIL_SERVER": "smtp.example.vn", "MAIL_FROM": "hộp thư"})
    check_settings({"MAIL_SERVER": "smtp.example.vn", "PUBLIC_BASE_URL": "https://trace.example.vn"})
