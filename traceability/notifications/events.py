"""Who is told what when something happens: one function per event, called by the service that does it.

Each is called inside the service's transaction, after its change is flushed,
and writes its notifications there (``service.notify``). Recipients stay within
the tenant: a producer's users hear about their own producer, certificates,
products and lots only; a centre's staff about their own province's producers.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import select

from traceability.core.dates import VIETNAM_OFFSET, vietnam_today
from traceability.core.extensions import db
from traceability.models.accounts import User
from traceability.models.batches import Batch, Recall, RecallBatch
from traceability.models.notifications import Notification
from traceability.models.public import ProblemReport
from traceability.models.registry import Certification, Producer, Product
from traceability.notifications.links import page_path, public_lot_path
from traceability.notifications.messages import MAX_LISTED_LOTS
from traceability.notifications.service import (
    centre_staff,
    default_locale,
    notify,
    notify_address,
    producer_users,
)

#: Of a consumer's report, what a notification quotes.
REPORT_EXCERPT = 500
#: The longest answer a reply's email carries; the replies' own service bounds what is stored.
MAX_REPLY_LENGTH = 5000
EMAIL_IN_TEXT = re.compile(r"[^\s<>(),;:\"']+@[^\s<>(),;:\"']+\.[^\s<>(),;:\"']+")


def _excerpt(text: str, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# ---------------------------------------------------------------- producers


def producer_signed_up(producer: Producer, *, actor: Any = None) -> list[Notification]:
    """A producer signed up (pending): its centre's staff decide."""
    return notify(
        "producer_signed_up",
        centre_staff(producer.centre_id),
        {"producer": producer.name, "province": producer.province_code},
        page_path("producer", producer_id=producer.id),
        actor=actor,
    )


def producer_decided(producer: Producer, decision: str, *, actor: Any) -> list[Notification]:
    """The centre approved, rejected, suspended or reinstated a producer: its users hear it."""
    return notify(
        "producer_decided",
        producer_users(producer.id),
        {"producer": producer.name, "decision": decision, "reason": producer.status_reason},
        page_path("producer", producer_id=producer.id),
        actor=actor,
    )


# ---------------------------------------------------------------- certificates and claims


def _subject_name(certification: Certification) -> str:
    if certification.scope == "location" and certification.location is not None:
        return certification.location.name
    if certification.scope == "product" and certification.product is not None:
        return certification.product.name
    return certification.producer.name


def _claim_params(certification: Certification) -> dict[str, Any]:
    product = certification.product
    return {
        "claim": certification.type,
        "product": product.name if product is not None else "",
        "stars": certification.claim_ocop_stars,
    }


def certification_decided(certification: Certification, *, claim: bool, actor: Any) -> list[Notification]:
    """The centre verified or rejected a certificate, or a product's OCOP or flagship claim."""
    decision = certification.status
    if claim and certification.product_id is not None:
        return notify(
            "claim_decided",
            producer_users(certification.producer_id),
            {**_claim_params(certification), "decision": decision, "reason": certification.status_reason},
            page_path("product", product_id=certification.product_id),
            actor=actor,
        )
    return notify(
        "certification_decided",
        producer_users(certification.producer_id),
        {
            "decision": decision,
            "type": certification.type,
            "number": certification.number,
            "subject": _subject_name(certification),
            "reason": certification.status_reason,
        },
        page_path("certification", certification_id=certification.id),
        actor=actor,
    )


def certification_expiring(certification: Certification, *, claim: bool) -> list[Notification]:
    """A certificate (or an OCOP rating, a flagship designation) ends soon: once per end date."""
    if certification.valid_to is None:
        return []
    params: dict[str, Any] = {
        "type": certification.type,
        "number": certification.number,
        "subject": _subject_name(certification),
        "valid_to": certification.valid_to.isoformat(),
    }
    if claim:
        params.update(_claim_params(certification))
    key = f"expiring:{certification.id}:{certification.valid_to.isoformat()}"
    already = set(db.session.scalars(select(Notification.user_id).where(Notification.dedupe_key == key)))
    users = [user for user in producer_users(certification.producer_id) if user.id not in already]
    return notify(
        "certification_expiring",
        users,
        params,
        page_path("certification", certification_id=certification.id),
        dedupe_key=key,
    )


# ---------------------------------------------------------------- recalls


def recall_opened(recall: Recall, *, actor: Any) -> list[Notification]:
    """A recall reached lots: each producer hears about its own lots, those made from a recalled input too."""
    rows = db.session.execute(
        select(Batch.id, Batch.lot_code, Product.name, Product.producer_id, RecallBatch.depth)
        .join(Batch, Batch.id == RecallBatch.batch_id)
        .join(Product, Product.id == Batch.product_id)
        .where(RecallBatch.recall_id == recall.id)
        .order_by(RecallBatch.depth, Batch.id)
    ).all()
    lots: dict[int, list[dict[str, Any]]] = defaultdict(list)
    totals: dict[int, int] = defaultdict(int)
    first: dict[int, int] = {}
    for batch_id, lot_code, product_name, producer_id, depth in rows:
        totals[producer_id] += 1
        first.setdefault(producer_id, batch_id)
        if len(lots[producer_id]) < MAX_LISTED_LOTS:
            lots[producer_id].append({"lot": lot_code, "product": product_name, "via_input": depth > 0})
    users_of: dict[int, list[User]] = defaultdict(list)
    for user in db.session.scalars(
        select(User)
        .where(User.producer_id.in_(list(totals)), User.role == "producer", User.active.is_(True))
        .order_by(User.id)
    ):
        users_of[user.producer_id or 0].append(user)
    notifications = []
    for producer_id, total in totals.items():
        notifications += notify(
            "recall",
            users_of[producer_id],
            {"reason": recall.reason, "lots": lots[producer_id], "total": total},
            page_path("batch", batch_id=first[producer_id]),
            actor=actor,
        )
    return notifications


# ---------------------------------------------------------------- consumers' problem reports


def problem_reported(report: ProblemReport) -> list[Notification]:
    """A consumer reported a problem with a lot: its producer's users and its centre's staff hear it."""
    batch = report.batch
    producer = batch.product.producer
    return notify(
        "problem_report",
        [*producer_users(producer.id), *centre_staff(producer.centre_id)],
        {
            "product": batch.product.name,
            "lot": batch.lot_code,
            "message": _excerpt(report.message, REPORT_EXCERPT),
        },
        page_path("problem_reports", batch_id=batch.id),
    )


def contact_email(contact: str | None) -> str | None:
    """The email address a consumer left in the report's contact, if any (it may be a phone number)."""
    for candidate in EMAIL_IN_TEXT.findall(contact or ""):
        try:
            return validate_email(candidate, check_deliverability=False).normalized
        except EmailNotValidError:
            continue
    return None


def notify_report_reply(
    report: ProblemReport, reply_text: str, *, link: str | None = None, locale: str | None = None
) -> Notification | None:
    """Email the answer to a consumer's problem report to the address they left; None when they left none.

    Call it in the transaction that stores the reply. ``link``: the page where
    the consumer reads the answer (default: the lot's public page);
    ``locale``: the consumer's language (default Vietnamese).
    """
    email = contact_email(report.contact)
    if email is None:
        return None
    batch = report.batch
    product = batch.product
    # The day the consumer sent it, as they would say it: Vietnam's.
    reported_on = (
        report.created_at.astimezone(VIETNAM_OFFSET).date() if report.created_at else vietnam_today()
    )
    return notify_address(
        "report_reply",
        email,
        {
            "reference": report.reference,
            "product": product.name,
            "lot": batch.lot_code,
            "reported_on": reported_on.isoformat(),
            "reply": _excerpt_keep_lines(reply_text, MAX_REPLY_LENGTH),
        },
        link or public_lot_path(product.gtin, batch.lot_code, batch.public_code),
        locale=locale or default_locale(),
    )


def _excerpt_keep_lines(text: str, limit: int) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
