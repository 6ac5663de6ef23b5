"""Consumers' problem reports: sent from a public page, read and closed by the producer's centre.

Anyone who holds a package may report, without an account, so the form is
limited per client address: REPORT_LIMIT_PER_ADDRESS reports (``10 per
hour``). The counts live in the app's ``rate_limits``, as the sign-in
throttle's do: in the database by default (``database://``) or in Redis,
shared by every worker and server either way. Only reports
that are accepted count: a refused form costs the sender nothing.

A report reaches the work list of the centre of the batch's producer (the
tenant scope of ``ProblemReport``); the producer sees its own batches' reports and
the centre's staff close them. The audit log records both steps, without the
sender's contact: the log is kept for good, a phone number need not be.

Each report gets a reference the consumer can read out over the phone
(``PR-2612-7K4Q``: the month, then four characters without look-alikes) and a
secret token: only the token opens its status page, ``/report/status/{token}``,
where the replies of the centre's staff and the producer's users show. A reply
is emailed, in the language the consumer reported in, when the contact they
left holds an email address.
"""

from __future__ import annotations

import math
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from limits import parse
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload, selectinload

from traceability.accounts.policy import STAFF_ROLES, is_centre_staff, is_centre_staff_of
from traceability.accounts.scope import scoped_select
from traceability.audit.service import record_audit, snapshot
from traceability.core.contracts import column_length
from traceability.core.dates import utcnow
from traceability.core.errors import Conflict, Forbidden, InvalidInput, TooManyAttempts
from traceability.core.extensions import db
from traceability.http import rate_limits
from traceability.models.batches import Batch, Item
from traceability.models.public import (
    ProblemReport,
    ProblemReportReply,
    new_report_reference,
    new_status_token,
)
from traceability.models.registry import Product
from traceability.notifications import events as notify
from traceability.registry.worklists import Worklist

MESSAGE_MAX_LENGTH = 2000
CONTACT_MAX_LENGTH = column_length(ProblemReport.contact)
CLOSING_ROLES = STAFF_ROLES
# Who answers a consumer: the centre's staff and the producer's own users.
REPLYING_ROLES = (*STAFF_ROLES, "producer")
REPLY_MAX_LENGTH = 2000
# A report's conversation stays readable on a phone: past this many replies, call the consumer.
MAX_REPLIES_PER_REPORT = 20
# Kept out of the audit log (see the module docstring).
PRIVATE_FIELDS = ("contact",)


class ReportThrottle:
    """Reports accepted per client address, counted in the app's ``rate_limits``."""

    @staticmethod
    def _check(address: str) -> tuple[Any, str, str]:
        # Read at each use, so a changed setting needs no restart of the counters.
        return parse(current_app.config["REPORT_LIMIT_PER_ADDRESS"]), "problem-report", address

    def retry_after(self, address: str | None) -> int:
        """Seconds until ``address`` may send another report; 0 when it may now."""
        return rate_limits.current().retry_after([self._check(address)]) if address else 0

    def record(self, address: str | None) -> None:
        """Count one accepted report from ``address``."""
        if address:
            rate_limits.current().hit(*self._check(address))

    def reset(self) -> None:
        """Forget every count (tests)."""
        rate_limits.current().reset()


report_throttle = ReportThrottle()


def _clean(value: str | None) -> str:
    return (value or "").strip()


def _new_reference() -> str:
    """A reference of this month not given yet, such as ``PR-2612-7K4Q`` (810,000 a month)."""
    while True:
        reference = new_report_reference()
        if db.session.scalar(select(ProblemReport.id).where(ProblemReport.reference == reference)) is None:
            return reference


def status_path(report: ProblemReport) -> str:
    """The path of the report's status page, the consumer's only way to it."""
    return current_app.url_map.bind("localhost").build(
        "public.report_problem.status", {"token": report.status_token}
    )


def report_by_token(token: str) -> ProblemReport | None:
    """The report whose status page ``token`` opens; None for any other string."""
    if not token or len(token) != 32 or not token.isalnum():
        return None
    return db.session.scalar(
        select(ProblemReport)
        .options(selectinload(ProblemReport.replies))
        .where(ProblemReport.status_token == token.lower())
    )


def submit_report(
    batch: Batch,
    item: Item | None,
    message: str,
    contact: str = "",
    *,
    address: str | None,
    language: str | None = None,
) -> ProblemReport:
    """Record a consumer's report on a batch (or one of its items); refused while ``address`` is throttled."""
    wait = report_throttle.retry_after(address)
    if wait:
        raise TooManyAttempts(
            _l(
                "You have sent too many reports in a short time. Wait %(minutes)d minutes and try again.",
                minutes=max(1, math.ceil(wait / 60)),
            ),
            retry_after=wait,
        )
    message, contact = _clean(message), _clean(contact)
    errors: dict[str, Any] = {}
    if not message:
        errors["message"] = _l("Describe the problem.")
    elif len(message) > MESSAGE_MAX_LENGTH:
        errors["message"] = _l("Keep the description under %(max)d characters.", max=MESSAGE_MAX_LENGTH)
    if len(contact) > CONTACT_MAX_LENGTH:
        errors["contact"] = _l("Keep the contact under %(max)d characters.", max=CONTACT_MAX_LENGTH)
    if errors:
        raise InvalidInput(_l("The report was not sent: check the form."), errors)
    if item is not None and item.batch_id != batch.id:
        raise InvalidInput(_l("This item is not of this batch."))
    languages = current_app.config["LANGUAGES"]
    report = ProblemReport(
        batch_id=batch.id,
        item_id=item.id if item else None,
        message=message,
        contact=contact,
        reference=_new_reference(),
        status_token=new_status_token(),
        language=language if language in languages else languages[0],
    )
    db.session.add(report)
    db.session.flush()
    record_audit(
        "create",
        report,
        after=snapshot(report, exclude=PRIVATE_FIELDS),
        producer_id=batch.product.producer_id,
    )
    notify.problem_reported(report)
    report_throttle.record(address)
    return report


def may_reply(user: Any, report: ProblemReport) -> bool:
    """Whether ``user`` may answer ``report``: its producer's users, or the staff of the producer's centre."""
    producer = report.batch.product.producer
    if is_centre_staff_of(user, producer):
        return True
    return getattr(user, "role", None) == "producer" and getattr(user, "producer_id", None) == producer.id


def reply_to_report(report: ProblemReport, body: str, *, actor: Any) -> ProblemReportReply:
    """Answer a consumer's report: shown on its status page, and emailed when they left an email address."""
    if not may_reply(actor, report):
        raise Forbidden(_l("Only the producer and the staff of its centre can answer this report."))
    body = _clean(body)
    # The form sits in a list and the page is redirected to: the refusal is one message, not a field's.
    if not body:
        raise InvalidInput(_l("The answer was not sent: write the answer first."))
    if len(body) > REPLY_MAX_LENGTH:
        raise InvalidInput(
            _l("The answer was not sent: keep it under %(max)d characters.", max=REPLY_MAX_LENGTH)
        )
    if report.status != "open":
        raise Conflict(_l("This report is closed: it takes no more answers."))
    if len(report.replies) >= MAX_REPLIES_PER_REPORT:
        raise Conflict(
            _l(
                "This report already has %(count)d answers: call the consumer instead.",
                count=MAX_REPLIES_PER_REPORT,
            )
        )
    producer = report.batch.product.producer
    reply = ProblemReportReply(
        report=report,
        batch_id=report.batch_id,
        body=body,
        side="centre" if is_centre_staff(actor) else "producer",
        author_id=actor.id,
    )
    db.session.add(reply)
    db.session.flush()
    record_audit(
        "reply",
        report,
        actor=actor,
        after={"reply_id": reply.id, "side": reply.side, "body": body},
        producer_id=producer.id,
        centre_id=producer.centre_id,
    )
    notify.notify_report_reply(report, body, link=status_path(report), locale=report.language)
    return reply


def close_report(report: ProblemReport, note: str = "", *, actor: Any) -> ProblemReport:
    """Close a report once the centre has dealt with it; only the producer's centre's staff may."""
    producer = report.batch.product.producer
    if not is_centre_staff_of(actor, producer):
        raise Forbidden(_l("Only the staff of the producer's centre can close a problem report."))
    if report.status != "open":
        raise Conflict(_l("This report is already closed."))
    before = snapshot(report, exclude=PRIVATE_FIELDS)
    report.status = "closed"
    report.closed_at = utcnow()
    report.closed_by_id = actor.id
    report.close_note = _clean(note) or None
    db.session.flush()
    record_audit(
        "close",
        report,
        actor=actor,
        before=before,
        after=snapshot(report, exclude=PRIVATE_FIELDS),
        producer_id=producer.id,
        centre_id=producer.centre_id,
    )
    return report


def scoped_reports(user: Any, *, status: str | None = None, batch_id: int | None = None) -> Select:
    """The reports ``user`` may read, newest first, with their batch, product and producer loaded."""
    query = (
        scoped_select(ProblemReport, user)
        .options(
            joinedload(ProblemReport.batch).joinedload(Batch.product).joinedload(Product.producer),
            joinedload(ProblemReport.item),
            selectinload(ProblemReport.replies),
        )
        .order_by(ProblemReport.created_at.desc(), ProblemReport.id.desc())
    )
    if status:
        query = query.where(ProblemReport.status == status)
    if batch_id is not None:
        query = query.where(ProblemReport.batch_id == batch_id)
    return query


def open_reports(user: Any, *, limit: int = 100) -> Worklist:
    """The open reports in ``user``'s scope, newest first: a section of the centre's work list."""
    rows = db.session.execute(
        scoped_reports(user, status="open").add_columns(func.count().over().label("total")).limit(limit)
    ).all()
    return Worklist([row[0] for row in rows], rows[0].total if rows else 0)
