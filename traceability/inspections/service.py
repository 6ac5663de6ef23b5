"""Inspections: the centre opens them, the producer answers a nonconformity, the centre closes or reopens it.

Who may do what:
- centre staff (centre_admin, centre_staff) of the producer's centre open an
  inspection, add photos, close or reopen a nonconformity;
- the producer's users answer an open nonconformity;
- auditors and the ministry read (the tenant scope decides what).
Every change writes an audit entry; the route or API handler commits once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l

from traceability.accounts.policy import STAFF_ROLES, is_centre_staff_of
from traceability.accounts.scope import writable_owner, writable_producer
from traceability.audit.service import record_audit, snapshot
from traceability.core.dates import vietnam_today
from traceability.core.errors import Conflict, Forbidden, InvalidInput
from traceability.core.extensions import db
from traceability.inspections import files
from traceability.inspections.checklists import checklist_for

# What the work list and dashboards count, offered here with the writes.
from traceability.inspections.queries import (
    OUTCOME_LABELS,
    SEVERITY_LABELS,
    STATUS_LABELS,
    nonconformity_counts,
    open_nonconformities,
)
from traceability.models.accounts import User
from traceability.models.batches import Batch
from traceability.models.inspections import (
    ANSWERS,
    OUTCOMES,
    SEVERITIES,
    SUBJECT_KINDS,
    Inspection,
    InspectionCheck,
    InspectionFollowUp,
    InspectionPhoto,
)
from traceability.models.registry import Location, Producer

__all__ = [
    "OUTCOME_LABELS",
    "SEVERITY_LABELS",
    "STATUS_LABELS",
    "add_photo",
    "answer_inspection",
    "can_answer",
    "can_decide",
    "close_inspection",
    "create_inspection",
    "nonconformity_counts",
    "open_nonconformities",
    "reopen_inspection",
]

MAX_PHOTOS = 20
MAX_TEXT = 10_000
MAX_NOTE = 2_000

# ---------------------------------------------------------------- who may do what


def can_answer(inspection: Inspection, user: Any) -> bool:
    """Whether ``user`` answers this inspection now: a user of the producer, the nonconformity open."""
    return (
        getattr(user, "role", None) == "producer"
        and user.producer_id == inspection.producer_id
        and inspection.outcome == "nonconformity"
        and inspection.status == "open"
    )


def can_decide(inspection: Inspection, user: Any) -> bool:
    """Whether ``user`` is staff of the centre that follows this inspection up."""
    return is_centre_staff_of(user, inspection.producer)


# ---------------------------------------------------------------- opening


def _subject(kind: Any, subject: Any, actor: User) -> tuple[Producer, int | None, int | None]:
    """The inspected producer (``actor``'s centre's) and the location or batch id."""
    if kind not in SUBJECT_KINDS:
        raise InvalidInput(
            _l("The inspection could not be saved."),
            {"subject_kind": _l("Must be one of: %(choices)s.", choices=", ".join(SUBJECT_KINDS))},
        )
    if getattr(actor, "role", None) not in STAFF_ROLES:
        raise Forbidden(_l("Only the centre's staff open inspections."))
    if not isinstance(subject, int) or isinstance(subject, bool):
        raise InvalidInput(
            _l("The inspection could not be saved."),
            {"subject_id": _l("Choose the producer, location or batch inspected.")},
        )
    model = {"producer": Producer, "location": Location, "batch": Batch}[kind]
    unknown = {
        "producer": _l("Unknown producer."),
        "location": _l("Unknown location."),
        "batch": _l("Unknown batch."),
    }[kind]
    # The centre inspects a producer before approving it, and a suspended one too.
    producer = writable_owner(
        model,
        subject,
        actor,
        unknown=unknown,
        refusal=_l("Your centre inspects only its own producers and their locations and batches."),
        require_approved=False,
    )
    location_id = subject if kind == "location" else None
    batch_id = subject if kind == "batch" else None
    return producer, location_id, batch_id


def _text(value: Any, name: str, limit: int, errors: dict[str, Any]) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors[name] = _l("Enter text.")
        return ""
    value = value.strip()
    if len(value) > limit:
        errors[name] = _l("At most %(max)s characters.", max=limit)
    return value


def _date(value: Any, name: str, errors: dict[str, Any], *, required: bool) -> date | None:
    if value is None or value == "":
        if required:
            errors[name] = _l("This field is required.")
        return None
    if not isinstance(value, date):
        errors[name] = _l("Enter a date.")
        return None
    return value


def _checklist(kind: str, answers: Any, errors: dict[str, Any]) -> list[InspectionCheck]:
    """The checklist rows for ``kind``, every item answered once, or the errors naming each item."""
    items = checklist_for(kind)
    if not isinstance(answers, list | tuple):
        errors["checklist"] = _l("Answer every item of the checklist.")
        return []
    given: dict[str, dict[str, Any]] = {}
    for entry in answers:
        code = entry.get("item") if isinstance(entry, dict) else None
        if code not in items:
            errors["checklist"] = _l(
                "Unknown checklist item %(item)s. This checklist has: %(items)s.",
                item=code,
                items=", ".join(items),
            )
            continue
        if code in given:
            errors[f"checklist.{code}"] = _l("This item is answered twice.")
        given[code] = entry
    checks = []
    for position, code in enumerate(items):
        entry = given.get(code)
        if entry is None:
            errors[f"checklist.{code}"] = _l("Answer yes, no or not applicable.")
            continue
        if entry.get("answer") not in ANSWERS:
            errors[f"checklist.{code}"] = _l("Answer yes, no or not applicable.")
            continue
        note = _text(entry.get("note"), f"notes.{code}", MAX_NOTE, errors)
        checks.append(InspectionCheck(item=code, position=position, answer=entry["answer"], note=note))
    return checks


def _outcome(data: dict[str, Any], inspected_on: date | None, errors: dict[str, Any]) -> tuple:
    outcome, severity = data.get("outcome"), data.get("severity") or None
    follow_up_on = _date(data.get("follow_up_on"), "follow_up_on", errors, required=False)
    if outcome not in OUTCOMES:
        errors["outcome"] = _l("Choose conforming or nonconformity.")
    elif outcome == "nonconformity":
        if severity not in SEVERITIES:
            errors["severity"] = _l("Choose how serious the nonconformity is: minor, major or critical.")
        if follow_up_on is None and "follow_up_on" not in errors:
            errors["follow_up_on"] = _l("A nonconformity needs a follow-up date.")
    elif severity is not None:
        errors["severity"] = _l("Severity applies only to a nonconformity; leave it empty.")
    if follow_up_on is not None and inspected_on is not None and follow_up_on < inspected_on:
        errors["follow_up_on"] = _l("The follow-up date cannot be before the inspection.")
    return outcome, severity, follow_up_on


def create_inspection(data: dict[str, Any], *, actor: User, photos: Sequence[bytes] = ()) -> Inspection:
    """Record an inspection of a producer, location or batch, with its checklist, findings and photos."""
    kind: str = data.get("subject_kind") or ""  # _subject refuses anything but a subject kind
    producer, location_id, batch_id = _subject(kind, data.get("subject_id"), actor)
    errors: dict[str, Any] = {}
    inspected_on = _date(data.get("inspected_on"), "inspected_on", errors, required=True)
    if inspected_on is not None and inspected_on > vietnam_today():
        errors["inspected_on"] = _l("The inspection cannot be in the future.")
    inspector = _text(data.get("inspector"), "inspector", 200, errors)
    if not inspector and "inspector" not in errors:
        errors["inspector"] = _l("Name who inspected.")
    findings = _text(data.get("findings"), "findings", MAX_TEXT, errors)
    outcome, severity, follow_up_on = _outcome(data, inspected_on, errors)
    if outcome == "nonconformity" and not findings and "findings" not in errors:
        errors["findings"] = _l("Describe what does not conform: the producer answers it.")
    checks = _checklist(kind, data.get("checklist"), errors)
    if len(photos) > MAX_PHOTOS:
        errors["photos"] = _l("At most %(n)s photos.", n=MAX_PHOTOS)
    if errors:
        raise InvalidInput(_l("The inspection could not be saved."), errors)
    inspection = Inspection(
        centre_id=producer.centre_id,
        producer_id=producer.id,
        subject_kind=kind,
        location_id=location_id,
        batch_id=batch_id,
        inspected_on=inspected_on,
        inspector=inspector,
        findings=findings,
        outcome=outcome,
        severity=severity,
        follow_up_on=follow_up_on,
        status="open" if outcome == "nonconformity" else "closed",
        created_by_id=actor.id,
        checks=checks,
    )
    inspection.producer = producer
    db.session.add(inspection)
    db.session.flush()
    for photo in photos:
        _add_photo(inspection, photo, actor=actor, field="photos")
    _audit("create", inspection, actor)
    return inspection


# ---------------------------------------------------------------- photos


def _add_photo(
    inspection: Inspection,
    data: bytes,
    *,
    actor: User,
    field: str,
    follow_up: InspectionFollowUp | None = None,
) -> InspectionPhoto:
    stored = files.store(data, field)
    photo = InspectionPhoto(
        inspection_id=inspection.id,
        follow_up=follow_up,
        filename=stored.filename,
        thumbnail_filename=stored.thumbnail_filename,
        width=stored.width,
        height=stored.height,
        sha256=stored.sha256,
        uploaded_by_id=actor.id,
    )
    with db.session.no_autoflush:  # the photo joins the session through the inspection's collection
        inspection.photos.append(photo)
    db.session.flush()
    return photo


def add_photo(inspection: Inspection, data: bytes, *, actor: User) -> InspectionPhoto:
    """The centre adds a photo to an inspection it carried out."""
    if not can_decide(inspection, actor):
        raise Forbidden(_l("Only staff of the producer's centre add photos to its inspections."))
    if len(inspection.photos) >= MAX_PHOTOS:
        raise InvalidInput(
            _l("An inspection has at most %(n)s photos.", n=MAX_PHOTOS), {"file": _l("Too many photos.")}
        )
    photo = _add_photo(inspection, data, actor=actor, field="file")
    record_audit(
        "create",
        photo,
        actor=actor,
        producer_id=inspection.producer_id,
        centre_id=inspection.producer.centre_id,
    )
    return photo


# ---------------------------------------------------------------- follow-up


def _audit(action: str, inspection: Inspection, actor: User, before: dict | None = None) -> None:
    db.session.flush()
    after = snapshot(inspection) | {
        "checklist": [{"item": c.item, "answer": c.answer, "note": c.note} for c in inspection.checks],
        "photos": [photo.sha256 for photo in inspection.photos],
        "follow_ups": [{"kind": f.kind, "text": f.text} for f in inspection.follow_ups],
    }
    record_audit(
        action,
        inspection,
        before=before,
        after=after,
        actor=actor,
        producer_id=inspection.producer_id,
        centre_id=inspection.producer.centre_id,
    )


def _before(inspection: Inspection) -> dict[str, Any]:
    return snapshot(inspection) | {"follow_ups": len(inspection.follow_ups)}


def _required_text(value: Any, name: str, message: Any) -> str:
    errors: dict[str, Any] = {}
    text = _text(value, name, MAX_TEXT, errors)
    if not text and not errors:
        errors[name] = _l("This field is required.")
    if errors:
        raise InvalidInput(message, errors)
    return text


def answer_inspection(
    inspection: Inspection, response: str | None, *, actor: User, photo: bytes | None = None
) -> Inspection:
    """The producer answers an open nonconformity: what it did, with an optional photo."""
    writable_producer(inspection.producer_id, actor, require_approved=False)
    if actor.role != "producer":
        raise Forbidden(_l("Only the inspected producer answers a nonconformity."))
    if inspection.outcome != "nonconformity":
        raise Conflict(_l("This inspection found everything conforming: there is nothing to answer."))
    if inspection.status != "open":
        raise Conflict(_l("This nonconformity is already answered; the centre reopens it if more is needed."))
    text = _required_text(response, "response", _l("Say what you did about the nonconformity."))
    before = _before(inspection)
    follow_up = InspectionFollowUp(kind="answer", text=text, author_id=actor.id)
    inspection.follow_ups.append(follow_up)
    inspection.status = "answered"
    db.session.flush()
    if photo:
        _add_photo(inspection, photo, actor=actor, field="photo", follow_up=follow_up)
    _audit("answer", inspection, actor, before)
    return inspection


def _check_decision(inspection: Inspection, actor: User) -> None:
    if not getattr(actor, "can_write", False) or not can_decide(inspection, actor):
        raise Forbidden(_l("Only staff of the producer's centre close or reopen its nonconformities."))
    if inspection.outcome != "nonconformity":
        raise Conflict(_l("This inspection found everything conforming: there is nothing to follow up."))


def close_inspection(inspection: Inspection, note: str | None = None, *, actor: User) -> Inspection:
    """The centre accepts the producer's answer and closes the nonconformity."""
    _check_decision(inspection, actor)
    if inspection.status != "answered":
        message = (
            _l("This nonconformity is already closed.")
            if inspection.status == "closed"
            else _l("The producer has not answered yet: a nonconformity is closed after its answer.")
        )
        raise Conflict(message)
    errors: dict[str, Any] = {}
    text = _text(note, "note", MAX_TEXT, errors)
    if errors:
        raise InvalidInput(_l("The note is too long."), errors)
    before = _before(inspection)
    inspection.follow_ups.append(InspectionFollowUp(kind="close", text=text, author_id=actor.id))
    inspection.status = "closed"
    _audit("close", inspection, actor, before)
    return inspection


def reopen_inspection(
    inspection: Inspection, reason: str | None, *, actor: User, follow_up_on: date | None = None
) -> Inspection:
    """The centre sends the nonconformity back to the producer, saying why, maybe with a new date."""
    _check_decision(inspection, actor)
    if inspection.status == "open":
        raise Conflict(_l("This nonconformity is open already: the producer has not answered yet."))
    text = _required_text(
        reason, "reason", _l("Say why the nonconformity is reopened: the producer sees it.")
    )
    errors: dict[str, Any] = {}
    new_date = _date(follow_up_on, "follow_up_on", errors, required=False)
    if new_date is not None and new_date < inspection.inspected_on:
        errors["follow_up_on"] = _l("The follow-up date cannot be before the inspection.")
    if errors:
        raise InvalidInput(_l("The nonconformity could not be reopened."), errors)
    before = _before(inspection)
    inspection.follow_ups.append(InspectionFollowUp(kind="reopen", text=text, author_id=actor.id))
    inspection.status = "open"
    if new_date is not None:
        inspection.follow_up_on = new_date
    _audit("reopen", inspection, actor, before)
    return inspection
