"""Data quality warnings for centres: records that are possible but suspicious.

Each check is one query over the batches and events the user may see, and
returns the batches concerned with what is wrong. Only the events that stand
count: a voided event is replaced by its correction, and a retraction entry
(dated when it was made) is no event at all. Dates are compared
in Vietnam time, as the batches' dates are Vietnamese dates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    Date,
    and_,
    cast,
    distinct,
    exists,
    extract,
    false,
    func,
    literal_column,
    select,
)
from sqlalchemy.orm import aliased

from traceability.accounts.scope import tenant_clause
from traceability.core.dates import VIETNAM_OFFSET, utcnow
from traceability.core.extensions import db
from traceability.core.vocabulary import EVENT_TYPE_LABELS, UNIT_SYMBOLS, label
from traceability.models.batches import Batch, TraceEvent
from traceability.models.registry import CLAIM_TYPES, Certification, Product

COPIED_MIN_BATCHES = 5  # the same note, quantity and type on this many batches looks copied
GAP_DAYS = 180  # longer between two events of a batch is a gap worth a look
EARLY_DAYS = 366  # the service refuses events more than a year before production
VIETNAM_ZONE = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class Finding:
    """A batch a check flags, and what is wrong with it."""

    batch_id: int
    lot_code: str
    product_name: str
    detail: str


@dataclass(frozen=True)
class QualityCheck:
    """One kind of warning and the batches it flags."""

    code: str
    title: str
    explanation: str
    findings: list[Finding] = field(default_factory=list)

    @property
    def batch_count(self) -> int:
        return len({finding.batch_id for finding in self.findings})


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _vietnam_date(moment: Any) -> ColumnElement:
    """The calendar date in Vietnam of a stored UTC instant."""
    if _dialect() == "sqlite":
        return func.date(moment, "+7 hours")
    return cast(func.timezone(VIETNAM_ZONE, moment), Date)


def _days_before(day: Any, days: int) -> ColumnElement:
    """The date ``days`` before a date column."""
    if _dialect() == "sqlite":
        return func.date(day, f"-{int(days)} days")
    return day - literal_column(str(int(days)))


def _days_between(earlier: Any, later: Any) -> ColumnElement:
    """The days (with fractions) from one stored instant to a later one."""
    if _dialect() == "sqlite":
        return func.julianday(later) - func.julianday(earlier)
    return extract("epoch", later - earlier) / 86400


def _live() -> ColumnElement[bool]:
    """Events that stand: not voided by a correction, and not a retraction entry themselves."""
    correction = aliased(TraceEvent)
    return and_(
        TraceEvent.is_retraction == false(),
        ~exists(select(correction.id).where(correction.voids_event_id == TraceEvent.id)),
    )


def _events(user: Any, *columns: Any):
    """``select(columns)`` over the live events the user may see, with their batch and product."""
    return (
        select(Batch.id, Batch.lot_code, Product.name, *columns)
        .select_from(TraceEvent)
        .join(Batch, Batch.id == TraceEvent.batch_id)
        .join(Product, Product.id == Batch.product_id)
        .where(tenant_clause(Batch, user), _live())
    )


def _quantity(value: Decimal | None, unit: str | None) -> str:
    """A quantity as people read it: ``5.000 kg``, the unit by name in the reader's language."""
    return f"{format_decimal(value)} {label(UNIT_SYMBOLS, unit)}".strip() if value is not None else ""


def copied_events(user: Any = None) -> list[Finding]:
    """Events with the same non-empty note, quantity and type on many batches: likely copied."""
    batch_count = func.count(distinct(TraceEvent.batch_id))
    groups = (
        select(TraceEvent.type, TraceEvent.note, TraceEvent.quantity, batch_count.label("batches"))
        .join(Batch, Batch.id == TraceEvent.batch_id)
        .where(tenant_clause(Batch, user), _live(), TraceEvent.note != "", TraceEvent.quantity.is_not(None))
        .group_by(TraceEvent.type, TraceEvent.note, TraceEvent.quantity)
        .having(batch_count >= COPIED_MIN_BATCHES)
        .subquery()
    )
    same = and_(
        TraceEvent.type == groups.c.type,
        TraceEvent.note == groups.c.note,
        TraceEvent.quantity == groups.c.quantity,
    )
    query = (
        _events(
            user, TraceEvent.type, TraceEvent.note, TraceEvent.quantity, TraceEvent.unit, groups.c.batches
        )
        .join(groups, same)
        .distinct()
        .order_by(TraceEvent.note, TraceEvent.type, TraceEvent.quantity, Batch.id)
    )
    return [
        Finding(
            batch_id,
            lot,
            product,
            str(
                _l(
                    "%(event)s, %(quantity)s, note “%(note)s”: the same on %(count)d batches.",
                    event=label(EVENT_TYPE_LABELS, event_type),
                    quantity=_quantity(quantity, unit),
                    note=note,
                    count=count,
                )
            ),
        )
        for batch_id, lot, product, event_type, note, quantity, unit, count in db.session.execute(query)
    ]


def overshipped(user: Any = None) -> list[Finding]:
    """Batches whose shipping events add up to more than the batch's quantity."""
    shipped = func.sum(TraceEvent.quantity)
    query = (
        _events(user, Batch.quantity, Batch.unit, shipped)
        .where(
            TraceEvent.type == "shipping",
            TraceEvent.quantity.is_not(None),
            # Another unit can't be compared with the batch's quantity.
            (TraceEvent.unit.is_(None)) | (TraceEvent.unit == Batch.unit),
        )
        .group_by(Batch.id, Batch.lot_code, Product.name, Batch.quantity, Batch.unit)
        .having(shipped > Batch.quantity)
        .order_by(Batch.id)
    )
    findings = []
    for batch_id, lot, product, quantity, unit, total in db.session.execute(query):
        detail = _l(
            "Shipped %(shipped)s, but the batch is %(quantity)s.",
            shipped=_quantity(total, unit),
            quantity=_quantity(quantity, unit),
        )
        findings.append(Finding(batch_id, lot, product, str(detail)))
    return findings


def events_after_expiry(user: Any = None) -> list[Finding]:
    """Events dated after the batch's expiry date."""
    day = _vietnam_date(TraceEvent.event_time)
    query = (
        _events(user, TraceEvent.type, TraceEvent.event_time, Batch.expiry_date)
        .where(Batch.expiry_date.is_not(None), day > Batch.expiry_date)
        .order_by(Batch.id, TraceEvent.event_time)
    )
    return [
        Finding(
            batch_id,
            lot,
            product,
            str(
                _l(
                    "%(event)s on %(date)s, after the expiry date %(expiry)s.",
                    event=label(EVENT_TYPE_LABELS, event_type),
                    date=_vietnam_day(moment),
                    expiry=expiry.strftime("%d/%m/%Y"),
                )
            ),
        )
        for batch_id, lot, product, event_type, moment, expiry in db.session.execute(query)
    ]


def expiry_before_production(user: Any = None) -> list[Finding]:
    """Batches whose expiry date is before their production date (the database refuses new ones)."""
    query = (
        select(Batch.id, Batch.lot_code, Product.name, Batch.production_date, Batch.expiry_date)
        .join(Product, Product.id == Batch.product_id)
        .where(tenant_clause(Batch, user), Batch.expiry_date < Batch.production_date)
        .order_by(Batch.id)
    )
    return [
        Finding(
            batch_id,
            lot,
            product,
            str(
                _l(
                    "Expires on %(expiry)s, before its production date %(production)s.",
                    expiry=expiry.strftime("%d/%m/%Y"),
                    production=production.strftime("%d/%m/%Y"),
                )
            ),
        )
        for batch_id, lot, product, production, expiry in db.session.execute(query)
        if expiry is not None  # always, by the query's condition
    ]


def unverified_claims(user: Any = None) -> list[Finding]:
    """Batches of products whose OCOP rating or flagship designation waits for the centre's decision."""
    query = (
        select(Batch.id, Batch.lot_code, Product.name, Certification.type, Certification.claim_ocop_stars)
        .join(Product, Product.id == Batch.product_id)
        .join(Certification, Certification.product_id == Product.id)
        .where(
            tenant_clause(Batch, user),
            Certification.scope == "product",
            Certification.type.in_(CLAIM_TYPES),
            Certification.status == "pending",
            (Certification.type == "flagship") | Certification.claim_ocop_stars.is_not(None),
        )
        .order_by(Batch.id, Certification.id)
    )
    return [
        Finding(
            batch_id,
            lot,
            product,
            str(
                _l("OCOP %(stars)s★ declared, not yet verified: the public sees no stars.", stars=stars)
                if kind == "ocop"
                else _l("Flagship product declared, not yet verified: the public does not see it.")
            ),
        )
        for batch_id, lot, product, kind, stars in db.session.execute(query)
    ]


def long_gaps(user: Any = None) -> list[Finding]:
    """Batches with more than ``GAP_DAYS`` days between two consecutive events: the longest gap of each."""
    previous = func.lag(TraceEvent.event_time).over(
        partition_by=TraceEvent.batch_id, order_by=(TraceEvent.event_time, TraceEvent.id)
    )
    steps = _events(user, TraceEvent.event_time.label("moment"), previous.label("previous")).subquery()
    gap = _days_between(steps.c.previous, steps.c.moment)
    query = (
        select(steps.c.id, steps.c.lot_code, steps.c.name, func.max(gap))
        .where(gap > GAP_DAYS)
        .group_by(steps.c.id, steps.c.lot_code, steps.c.name)
        .order_by(steps.c.id)
    )
    return [
        Finding(
            batch_id,
            lot,
            product,
            str(_l("%(days)d days without any event.", days=int(days))),
        )
        for batch_id, lot, product, days in db.session.execute(query)
    ]


def future_events(user: Any = None) -> list[Finding]:
    """Events dated after now."""
    query = (
        _events(user, TraceEvent.type, TraceEvent.event_time)
        .where(TraceEvent.event_time > utcnow())
        .order_by(Batch.id, TraceEvent.event_time)
    )
    return [
        Finding(
            batch_id,
            lot,
            product,
            str(
                _l(
                    "%(event)s dated %(date)s, in the future.",
                    event=label(EVENT_TYPE_LABELS, event_type),
                    date=_vietnam_day(moment),
                )
            ),
        )
        for batch_id, lot, product, event_type, moment in db.session.execute(query)
    ]


def early_events(user: Any = None) -> list[Finding]:
    """Events more than a year before the batch's production date."""
    day = _vietnam_date(TraceEvent.event_time)
    query = (
        _events(user, TraceEvent.type, TraceEvent.event_time, Batch.production_date)
        .where(day < _days_before(Batch.production_date, EARLY_DAYS))
        .order_by(Batch.id, TraceEvent.event_time)
    )
    return [
        Finding(
            batch_id,
            lot,
            product,
            str(
                _l(
                    "%(event)s on %(date)s, more than a year before production (%(production)s).",
                    event=label(EVENT_TYPE_LABELS, event_type),
                    date=_vietnam_day(moment),
                    production=production.strftime("%d/%m/%Y"),
                )
            ),
        )
        for batch_id, lot, product, event_type, moment, production in db.session.execute(query)
    ]


def _vietnam_day(moment: datetime) -> str:
    return moment.astimezone(VIETNAM_OFFSET).strftime("%d/%m/%Y")


CHECKS: tuple[tuple[str, Any, Any, Callable[[Any], list[Finding]]], ...] = (
    (
        "copied",
        _l("Notes and quantities copied across batches"),
        _l("The same event type, quantity and note on %(count)d or more batches.", count=COPIED_MIN_BATCHES),
        copied_events,
    ),
    (
        "overshipped",
        _l("Shipped more than was produced"),
        _l("The shipping events of a batch add up to more than its quantity."),
        overshipped,
    ),
    (
        "expiry_before_production",
        _l("Expiry before production"),
        _l("The expiry date is before the production date."),
        expiry_before_production,
    ),
    (
        "after_expiry",
        _l("Events after the expiry date"),
        _l("An event is dated after the batch expired."),
        events_after_expiry,
    ),
    (
        "unverified_claims",
        _l("Claims waiting for the centre"),
        _l("The product's OCOP rating or flagship designation is declared but not verified yet."),
        unverified_claims,
    ),
    (
        "long_gap",
        _l("Long gaps between events"),
        _l("More than %(days)d days between two events of a batch.", days=GAP_DAYS),
        long_gaps,
    ),
    (
        "future",
        _l("Events in the future"),
        _l("An event is dated after today."),
        future_events,
    ),
    (
        "early",
        _l("Events long before production"),
        _l("An event is dated more than a year before the batch's production date."),
        early_events,
    ),
)


def quality_report(user: Any = None) -> list[QualityCheck]:
    """Every check, in the order the page shows them, with the batches each flags."""
    return [
        QualityCheck(code, str(title), str(explanation), check(user))
        for code, title, explanation, check in CHECKS
    ]
