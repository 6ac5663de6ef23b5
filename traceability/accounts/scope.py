"""The tenant scope: the one place that decides which records a user may see.

A producer user reaches only its producer's records, centre users only their
centre's (their province's), the ministry everything. Every read of tenant
data goes through ``scoped_select`` or ``get_scoped_or_404``; every write
checks ``writable_producer``. Records outside the scope answer 404, so ids of
other tenants reveal nothing.
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask import abort, flash, redirect
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import ColumnElement, Select, false, select, true
from wtforms import SelectChoice

from traceability.core.database import HasId
from traceability.core.errors import Forbidden
from traceability.core.extensions import db
from traceability.core.ownership import owner_of
from traceability.models.accounts import User
from traceability.models.audit import AuditEntry
from traceability.models.batches import Batch
from traceability.models.epcis import EpcisCaptureJob, EpcisQueryEvent
from traceability.models.public import ScanDaily, ScanDailyCentre, ScanDailyProduct, ScanMonthlyProduct
from traceability.models.registry import (
    Centre,
    GtinDispute,
    Producer,
    Product,
)
from traceability.models.reports import CentreContract, ScienceTask, TechnologyProcess

M = TypeVar("M", bound=HasId)


def _user(user: Any = None) -> Any:
    return current_user if user is None else user


def producer_clause(user: Any = None) -> ColumnElement[bool]:
    """The condition on ``Producer`` rows that ``user`` may see."""
    user = _user(user)
    if not getattr(user, "is_authenticated", False):
        return false()
    if user.role == "ministry":
        return true()
    if user.role == "producer":
        return Producer.id == user.producer_id
    return Producer.centre_id == user.centre_id


def _producer_ids(user: Any) -> Select:
    return select(Producer.id).where(producer_clause(user))


def _product_ids(user: Any) -> Select:
    return select(Product.id).where(Product.producer_id.in_(_producer_ids(user)))


def _batch_ids(user: Any) -> Select:
    return select(Batch.id).where(Batch.product_id.in_(_product_ids(user)))


def tenant_clause(model: type, user: Any = None) -> ColumnElement[bool]:
    """The condition on ``model`` rows that ``user`` may see."""
    user = _user(user)
    if not getattr(user, "is_authenticated", False):
        return false()
    if model is EpcisCaptureJob:
        # A capture job is its sender's, and its centre's staff's: not the ministry's, not other tenants'.
        own = EpcisCaptureJob.owner_id == user.id
        if user.role in ("centre_admin", "centre_staff"):
            return own | (EpcisCaptureJob.centre_id == user.centre_id)
        return own
    if user.role == "ministry":
        return true()
    if model is Producer:
        return producer_clause(user)
    if model is EpcisQueryEvent:
        # Its producer and centre are on the row, so each role's events come in time order
        # from one index: the same rows as producer_clause, without the join.
        if user.role == "producer":
            return EpcisQueryEvent.producer_id == user.producer_id
        return EpcisQueryEvent.centre_id == user.centre_id
    if model in (ScanDaily, ScanDailyProduct, ScanMonthlyProduct):
        # The daily scan counts carry their producer and centre too: the same rows, without the joins.
        if user.role == "producer":
            return model.producer_id == user.producer_id
        return model.centre_id == user.centre_id
    if model is ScanDailyCentre:
        # A centre's sums mix all its producers: its staff's and the ministry's, not a producer's.
        if user.role == "producer":
            return false()
        return ScanDailyCentre.centre_id == user.centre_id
    owner = owner_of(model)
    if owner is not None:  # declared on the model (traceability.core.ownership)
        column = getattr(model, owner.column)
        if owner.kind == "producer":
            return column.in_(_producer_ids(user))
        if owner.kind == "product":
            return column.in_(_product_ids(user))
        return column.in_(_batch_ids(user))
    if model is Centre:
        if user.role == "producer":
            return Centre.id.in_(select(Producer.centre_id).where(Producer.id == user.producer_id))
        return Centre.id == user.centre_id
    if model is User:
        if user.role == "producer":
            return User.producer_id == user.producer_id
        return (User.centre_id == user.centre_id) | User.producer_id.in_(_producer_ids(user))
    if model is AuditEntry:
        # Centre staff and auditors read their province's log; producers do not read the log.
        if user.role == "producer":
            return false()
        return (AuditEntry.centre_id == user.centre_id) | AuditEntry.producer_id.in_(_producer_ids(user))
    if model is GtinDispute:
        # The claimant producer sees its own; each centre those of its province's producers, either side.
        if user.role == "producer":
            return GtinDispute.claimant_producer_id == user.producer_id
        return GtinDispute.claimant_producer_id.in_(_producer_ids(user)) | GtinDispute.holder_producer_id.in_(
            _producer_ids(user)
        )
    if model in (CentreContract, TechnologyProcess, ScienceTask):
        # A centre's own work (its yearly report): its centre's users read it, producers do not.
        if user.role == "producer":
            return false()
        return model.centre_id == user.centre_id
    raise TypeError(f"no tenant rule for {model.__name__}")


def scoped_select(model: type[M], user: Any = None) -> Select:
    """``select(model)`` limited to the rows ``user`` may see."""
    return select(model).where(tenant_clause(model, user))


def producer_choices(user: Any = None, *, approved_only: bool = False) -> list[SelectChoice]:
    """The producers ``user`` may see, by name, as the choices of a producer ``<select>``."""
    query = scoped_select(Producer, user).order_by(Producer.name)
    if approved_only:
        query = query.where(Producer.status == "approved")
    return [SelectChoice(str(producer.id), producer.name) for producer in db.session.scalars(query)]


def producer_filter_choices(user: Any = None) -> list[SelectChoice]:
    """The producer filter of a list page: "All", then the producers ``user`` may see, by name."""
    return [SelectChoice("", _("All")), *producer_choices(user)]


def get_scoped_or_404(model: type[M], object_id: int, user: Any = None) -> M:
    """The row with ``object_id`` if ``user`` may see it; 404 otherwise."""
    row = db.session.scalars(scoped_select(model, user).where(model.id == object_id)).first()
    if row is None:
        abort(404)
    return row


def writable_centre(user: Any = None) -> Centre:
    """The centre whose own records (contracts, processes, S&T tasks) ``user`` may write, or a refusal.

    Centre staff and admins write their own centre's; auditors, the ministry
    and producers do not.
    """
    user = _user(user)
    centre = db.session.get(Centre, user.centre_id) if user.centre_id is not None else None
    if user.role not in ("centre_admin", "centre_staff") or centre is None:
        raise Forbidden(_l("Only the centre's staff can record the centre's contracts, processes and tasks."))
    return centre


# A producer in these statuses is applying for approval: it completes what the centre needs.
APPLYING_STATUSES = ("pending", "rejected")
# What each status of a producer says when it may not publish, to its own users and to its centre.
_OWN_REFUSALS = {
    "pending": _l(
        "Your registration is waiting for the centre's approval: until then you can complete your "
        "profile and add your producer's own certificates for the centre to check, but not register "
        "products, locations, batches, events, items or labels."
    ),
    "rejected": _l(
        "Your registration was rejected, so you cannot register products, locations, batches or "
        "other records. Answer the centre's reason on your profile and it will look again."
    ),
    "suspended": _l(
        "Your producer is suspended, so you cannot register or change products, locations, batches "
        "or other records. Ask your centre why and what to do."
    ),
}
_CENTRE_REFUSALS = {
    "pending": _l("This producer is waiting for approval: approve the producer first, then add its records."),
    "rejected": _l(
        "This producer's registration was rejected: approve the producer first, then add its records."
    ),
    "suspended": _l("This producer is suspended: reinstate the producer first, then change its records."),
}


def approval_refusal(producer: Producer, user: Any = None) -> Any:
    """Why ``producer`` may not publish records now (None when it is approved), worded for ``user``.

    ``user`` None (the command line) gets the centre's wording.
    """
    if producer.status == "approved":
        return None
    refusals = _OWN_REFUSALS if getattr(user, "role", None) == "producer" else _CENTRE_REFUSALS
    return refusals.get(producer.status, refusals["pending"])


def refuse_unapproved_producer(back_to: str) -> Any:
    """For a producer user whose producer is not approved: flash why and redirect to ``back_to``.

    None for everyone else: the service still checks each write (``writable_producer``);
    this only spares the user a form it cannot submit.
    """
    producer = current_user.producer if current_user.role == "producer" else None
    refusal = approval_refusal(producer, current_user) if producer is not None else None
    if refusal is None:
        return None
    flash(str(refusal), "error")
    return redirect(back_to)


def owning_producer_id(model: type[HasId], row_id: int) -> int | None:
    """The producer a row belongs to, by the owners its model declares (None for an unknown row)."""
    if model is Producer:
        return row_id if db.session.get(Producer, row_id) is not None else None
    owner = owner_of(model)
    if owner is None:
        raise TypeError(f"{model.__name__} declares no owner")
    parent_id = db.session.scalar(select(getattr(model, owner.column)).where(model.id == row_id))
    if parent_id is None or owner.kind == "producer":
        return parent_id
    return owning_producer_id(Product if owner.kind == "product" else Batch, parent_id)


def writable_owner(
    model: type,
    row_id: int,
    user: Any = None,
    *,
    unknown: Any,
    refusal: Any = None,
    require_approved: bool = True,
) -> Producer:
    """The producer owning the ``model`` row ``row_id`` (a certificate's or an inspection's subject).

    As ``writable_producer`` for that producer; an unknown row, or another
    tenant's, is refused with ``unknown`` as the ``subject_id`` field's error
    (and ``refusal`` as the message, when given).
    """
    owner_id = owning_producer_id(model, row_id) or 0
    try:
        return writable_producer(owner_id, user, require_approved=require_approved)
    except Forbidden as error:
        if not error.fields:
            raise
        raise Forbidden(refusal or error.message, {"subject_id": unknown}) from None


def writable_producer(
    producer_id: int | None, user: Any = None, *, require_approved: bool = True
) -> Producer:
    """The producer ``user`` may write records for, or a refusal.

    A producer user writes for its own producer; centre staff for producers of
    their centre; auditors and the ministry only read. Only an approved
    producer publishes: products, locations, batches, events, items, labels,
    certifications and GTINs are refused for a pending, rejected or suspended
    one, whoever acts for it, with a message saying why and what to do.
    ``require_approved=False`` is for what a producer needs before or outside
    its approval: its own profile, the centre's inspections, recalls (a
    suspended producer still withdraws unsafe goods).
    """
    user = _user(user)
    if not user.can_write:
        raise Forbidden(_l("Your role can read these records but not change them."))
    if producer_id is None and user.role == "producer":
        producer_id = user.producer_id
    producer = db.session.scalars(
        select(Producer).where(Producer.id == producer_id, producer_clause(user))
    ).first()
    if producer is None:
        raise Forbidden(
            _l("You cannot add records for this producer."), {"producer_id": _l("Unknown producer.")}
        )
    if require_approved and (refusal := approval_refusal(producer, user)) is not None:
        raise Forbidden(refusal)
    return producer
