"""Reading inspections: labels, what was inspected, deadlines, and the open nonconformities a centre follows.

``open_nonconformities`` and ``nonconformity_counts`` are what the work list and
the dashboards count; both go through the tenant scope.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import joinedload

from traceability.accounts.scope import scoped_select
from traceability.core.dates import vietnam_today
from traceability.core.extensions import db
from traceability.inspections.checklists import item_label
from traceability.models.batches import Batch
from traceability.models.inspections import SEVERITIES, Inspection
from traceability.registry.worklists import Worklist

LIMIT = 100

OUTCOME_LABELS = {"conforming": _l("Conforming"), "nonconformity": _l("Nonconformity")}
SEVERITY_LABELS = {"minor": _l("Minor"), "major": _l("Major"), "critical": _l("Critical")}
STATUS_LABELS = {
    "open": _l("Waiting for the producer's answer"),
    "answered": _l("Answered, waiting for the centre"),
    "closed": _l("Closed"),
}
SUBJECT_LABELS = {"producer": _l("Producer"), "location": _l("Location"), "batch": _l("Batch")}
FOLLOW_UP_LABELS = {
    "answer": _l("Producer's answer"),
    "close": _l("Closed by the centre"),
    "reopen": _l("Reopened by the centre"),
}


def subject_name(inspection: Inspection) -> str:
    """What was inspected, in words: the producer, the location, or the product and lot."""
    if inspection.subject_kind == "location" and inspection.location is not None:
        return inspection.location.name
    if inspection.subject_kind == "batch" and inspection.batch is not None:
        return f"{inspection.batch.product.name} · {inspection.batch.lot_code}"
    return inspection.producer.name


def subject_id(inspection: Inspection) -> int:
    """The id of what was inspected, as the API takes it."""
    if inspection.subject_kind == "location":
        return inspection.location_id  # type: ignore[return-value]
    if inspection.subject_kind == "batch":
        return inspection.batch_id  # type: ignore[return-value]
    return inspection.producer_id


def is_overdue(inspection: Inspection, today: date | None = None) -> bool:
    """An open nonconformity whose follow-up date has passed without the producer's answer."""
    today = today or vietnam_today()
    return (
        inspection.status == "open"
        and inspection.follow_up_on is not None
        and inspection.follow_up_on < today
    )


def with_subjects(query: Select) -> Select:
    """``query`` on inspections loading the producer, location, batch and product in the same query."""
    return query.options(
        joinedload(Inspection.producer),
        joinedload(Inspection.location),
        joinedload(Inspection.batch).joinedload(Batch.product),
    )


def open_nonconformities(actor: Any, *, limit: int = LIMIT) -> Worklist:
    """Nonconformities not yet closed that ``actor`` may see, the earliest follow-up date first."""
    query = (
        with_subjects(scoped_select(Inspection, actor))
        .where(Inspection.outcome == "nonconformity", Inspection.status != "closed")
        .order_by(Inspection.follow_up_on, Inspection.id)
    )
    rows = db.session.execute(query.add_columns(func.count().over().label("total")).limit(limit)).all()
    return Worklist([row[0] for row in rows], rows[0].total if rows else 0)


def nonconformity_counts(actor: Any, *, today: date | None = None) -> dict[str, int]:
    """How many nonconformities are not closed: in all, by status, overdue and by severity."""
    today = today or vietnam_today()
    open_ones = scoped_select(Inspection, actor).where(
        Inspection.outcome == "nonconformity", Inspection.status != "closed"
    )
    subquery = open_ones.subquery()

    def count_where(condition: Any) -> Any:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    row = db.session.execute(
        select(
            func.count().label("total"),
            count_where(subquery.c.status == "open").label("open"),
            count_where(subquery.c.status == "answered").label("answered"),
            count_where((subquery.c.status == "open") & (subquery.c.follow_up_on < today)).label("overdue"),
            *(count_where(subquery.c.severity == severity).label(severity) for severity in SEVERITIES),
        ).select_from(subquery)
    ).one()
    return {key: int(value) for key, value in row._mapping.items()}


def checklist_rows(inspection: Inspection) -> list[dict[str, Any]]:
    """The checklist as shown and sent: item code, its text, the answer and the note."""
    return [
        {"item": check.item, "label": item_label(check.item), "answer": check.answer, "note": check.note}
        for check in inspection.checks
    ]


def worklist_context(actor: Any, *, today: date | None = None) -> dict[str, Any]:
    """What the centre's work list shows of inspections: open nonconformities, their counts, labels."""
    return {
        "open_nonconformities": open_nonconformities(actor),
        "nonconformity_counts": nonconformity_counts(actor, today=today),
        "inspection_subject": subject_name,
        "severity_label": lambda code: str(SEVERITY_LABELS.get(code, code)),
        "inspection_status_label": lambda code: str(STATUS_LABELS.get(code, code)),
        "is_overdue": is_overdue,
    }
