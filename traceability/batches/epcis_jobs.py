"""EPCIS capture jobs: ``POST /epcis/capture`` of the REST binding, run through ``capture_document``.

A job is created for a document the caller may capture (a document at all,
within ``MAX_CAPTURE_EVENTS``, from a role that writes) and runs at once, in
the request: the capture itself is ``capture_document``'s, in a savepoint, so
what it refuses writes nothing while the job row that says so is kept. With
``rollback`` (the default) one refused event refuses the document; with
``proceed`` the events refused are left out and the others captured again
(those that needed a refused one are refused in turn), at most
``PROCEED_ROUNDS`` times. The job's ``errors`` are RFC 7807 problems, one per
refused event (``instance`` points at it in the document) or for the document.
An EPCISQueryDocument is captured as the EPCISDocument of its events, as the
binding asks of ``/capture``.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from traceability.accounts.scope import tenant_clause
from traceability.batches.epcis_capture import MAX_CAPTURE_EVENTS, capture_document
from traceability.core.dates import VIETNAM_OFFSET, utcnow
from traceability.core.errors import DomainError, Forbidden, InvalidInput
from traceability.core.extensions import db
from traceability.gs1.epcis import event_time_fields
from traceability.models.accounts import User
from traceability.models.epcis import EpcisCaptureJob

PROCEED_ROUNDS = 5
VALIDATION = "epcisException:ValidationException"


class CaptureLimitExceeded(DomainError):
    """More events than one capture takes: the binding's 413 ``CaptureLimitExceededException``."""

    status = 413
    code = "capture_limit_exceeded"


def new_capture_id() -> str:
    """A captureID: 100 random bits, so jobs cannot be guessed."""
    return secrets.token_hex(13)[:25]


def _centre_id(user: User) -> int | None:
    if user.role == "producer":
        return user.producer.centre_id if user.producer is not None else None
    return user.centre_id


def _as_document(document: dict[str, Any]) -> dict[str, Any]:
    """An EPCISQueryDocument's events as an EPCISDocument; any other body as it came."""
    if document.get("type") != "EPCISQueryDocument":
        return document
    results = ((document.get("epcisBody") or {}).get("queryResults") or {}).get("resultsBody") or {}
    events = results.get("eventList")
    if not isinstance(events, list):
        return document  # capture says what is wrong with it
    return {
        "@context": document.get("@context"),
        "type": "EPCISDocument",
        "schemaVersion": document.get("schemaVersion", "2.0"),
        "creationDate": document.get("creationDate") or event_time_fields(datetime.now(UTC))["eventTime"],
        "epcisBody": {"eventList": events},
    }


def _problem(title: Any, messages: list[Any], instance: str | None) -> dict[str, Any]:
    problem: dict[str, Any] = {
        "type": VALIDATION,
        "title": str(title),
        "status": 400,
        "detail": " ".join(str(message) for message in messages),
    }
    if instance is not None:
        problem["instance"] = instance
    return problem


def _refusals(error: InvalidInput, positions: list[int]) -> tuple[list[dict[str, Any]], set[int], bool]:
    """The problems of a refusal, the positions (in the document sent) of the events refused, and
    whether the document as a whole was refused."""
    fields = error.fields or {}
    problems = []
    refused: set[int] = set()
    whole = not fields.get("events") or bool(fields.get("document"))
    if fields.get("document"):
        problems.append(_problem(error.message, list(fields["document"]), None))
    for index, messages in (fields.get("events") or {}).items():
        position = positions[int(index)]
        refused.add(position)
        problems.append(_problem(error.message, list(messages), f"#/epcisBody/eventList/{position}"))
    if not problems:
        problems.append(_problem(error.message, [], None))
    return problems, refused, whole


def run_capture_job(
    document: Any, *, actor: User, error_behaviour: str = "rollback", base_url: str | None = None
) -> EpcisCaptureJob:
    """Capture a document as a job of ``actor``'s: the job, finished, with what was captured or refused.

    What is not a capture at all is refused before any job: BadRequest (not a document),
    Forbidden (a role that reads only), CaptureLimitExceeded (too many events).
    """
    if not actor.can_write:
        raise Forbidden(_l("Your role can read these records but not change them."))
    document = _as_document(document)
    listed = (document.get("epcisBody") or {}).get("eventList") if isinstance(document, dict) else None
    events: list[Any] = listed if isinstance(listed, list) else []
    count = len(events)
    if count > MAX_CAPTURE_EVENTS:
        raise CaptureLimitExceeded(
            _l("Send at most %(count)s events in one capture: split the document.", count=MAX_CAPTURE_EVENTS)
        )
    job = EpcisCaptureJob(
        capture_id=new_capture_id(),
        owner_id=actor.id,
        centre_id=_centre_id(actor),
        error_behaviour=error_behaviour,
        event_count=count,
        event_ids=[],
        errors=[],
        created_at=utcnow(),  # when the capture began, not when its row is written
    )
    positions = list(range(count))
    problems: list[dict[str, Any]] = []
    for _round in range(PROCEED_ROUNDS):
        attempt = document
        if positions != list(range(count)):
            attempt = {**document, "epcisBody": {"eventList": [events[i] for i in positions]}}
        try:
            with db.session.begin_nested():
                result = capture_document(attempt, actor=actor, base_url=base_url)
        except InvalidInput as error:
            found, refused, whole = _refusals(error, positions)
            problems.extend(found)
            if error_behaviour == "rollback" or whole:
                break
            positions = [position for position in positions if position not in refused]
            if not positions:
                break
            continue
        job.captured, job.duplicates, job.ignored = result.captured, result.duplicates, result.ignored
        job.event_ids = list(result.event_ids)
        break
    job.errors = problems
    job.success = not problems
    job.running = False
    job.finished_at = utcnow()
    db.session.add(job)
    db.session.flush()
    return job


def capture_job_json(job: EpcisCaptureJob) -> dict[str, Any]:
    """A capture job as the binding's ``CaptureJob``, with what it captured."""
    answer: dict[str, Any] = {
        "captureID": job.capture_id,
        "createdAt": job.created_at.astimezone(VIETNAM_OFFSET).isoformat(timespec="milliseconds"),
        "running": job.running,
        "success": job.success,
        "captureErrorBehaviour": job.error_behaviour,
        "errors": list(job.errors or []),
        "eventCount": job.event_count,
        "captured": job.captured,
        "duplicates": job.duplicates,
        "ignored": job.ignored,
        "eventIDs": list(job.event_ids or []),
    }
    if job.finished_at is not None:
        answer["finishedAt"] = job.finished_at.astimezone(VIETNAM_OFFSET).isoformat(timespec="milliseconds")
    return answer


def visible_job(capture_id: str, user: User) -> EpcisCaptureJob | None:
    """The job with this captureID if ``user`` may read it (its sender, its centre's staff)."""
    return db.session.scalars(
        select(EpcisCaptureJob).where(
            EpcisCaptureJob.capture_id == capture_id, tenant_clause(EpcisCaptureJob, user)
        )
    ).first()


def own_jobs(user: User) -> Select:
    """The jobs ``user`` sent, newest first."""
    return (
        select(EpcisCaptureJob)
        .where(EpcisCaptureJob.owner_id == user.id)
        .order_by(EpcisCaptureJob.created_at.desc(), EpcisCaptureJob.id.desc())
    )
