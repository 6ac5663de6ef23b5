"""GTIN disputes: a producer claims a GTIN that another producer's product holds; the centre decides.

A GTIN is unique in the registry, so the first product to register one holds
it. When that is the wrong producer (a squatter, or a mistake), the producer
the GS1 number belongs to registers its product without the GTIN and opens a
dispute with its evidence: its GS1 Vietnam membership certificate number, its
GS1 company prefix (which the GTIN must start with) and, optionally, a
document (the certificate, as a PDF or image, stored like a certification's).

Who sees and decides: the claimant producer sees its own disputes; the staff
of the centres of *both* producers see them in their work list, and either
centre may decide (whichever acts first: the dispute is then decided and the
other centre sees the outcome). The ministry reads them all.

Deciding:

- ``holder``: nothing moves; the claimant reads the reason.
- ``claimant``: the GTIN moves. The product holding it loses it and the
  claimant's product takes it, each change with its own audit entry. The
  claimant's product must still have no batches (a product's GTIN never changes
  once its lots carry one, see ``update_product``). The holder's batches keep
  all their records and their ``/t/{code}`` addresses, but the GS1 Digital Link
  QR codes already printed on them now lead to the claimant's product (the
  walk-up page, which says an unknown lot is not registered and offers a
  report): a GTIN names the brand owner's product, so codes printed with
  someone else's GTIN must not keep vouching for the wrong producer. The
  centre sees how many batches the holder has before it decides.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from traceability.accounts.policy import STAFF_ROLES, is_centre_staff
from traceability.accounts.scope import approval_refusal, scoped_select, writable_producer
from traceability.audit.service import record_audit, snapshot
from traceability.core.dates import utcnow
from traceability.core.errors import Conflict, Forbidden, InvalidInput
from traceability.core.extensions import db
from traceability.gs1 import normalise_gtin
from traceability.models.accounts import User
from traceability.models.batches import Batch
from traceability.models.registry import GTIN_DISPUTE_OUTCOMES, GtinDispute, Product
from traceability.registry.certifications import _original_name, _store
from traceability.registry.validation import optional_text, text

DECIDING_ROLES = STAFF_ROLES
MAX_REASON_LENGTH = 2000
MAX_NOTE_LENGTH = 2000
# A GS1 company prefix has 4 to 12 digits, the GS1 prefix (893 for Vietnam) included.
COMPANY_PREFIX = re.compile(r"[0-9]{4,12}")


def gtin_holder(gtin: str | None, *, other_than: Product | None = None) -> Product | None:
    """The product that holds ``gtin`` (14 digits), if any, other than ``other_than``."""
    if not gtin:
        return None
    query = select(Product).where(Product.gtin == gtin)
    if other_than is not None and other_than.id is not None:
        query = query.where(Product.id != other_than.id)
    return db.session.scalars(query).first()


def batch_count(product: Product) -> int:
    """How many batches (lots) a product has: their printed codes carry its GTIN."""
    return db.session.scalar(select(func.count(Batch.id)).where(Batch.product_id == product.id)) or 0


def _evidence(data: dict[str, Any], gtin: str | None, errors: dict[str, Any]) -> dict[str, Any]:
    membership_no = optional_text(data, "gs1_membership_no")
    prefix = optional_text(data, "gs1_company_prefix")
    note = text(data, "note")
    if membership_no and len(membership_no) > 100:
        errors["gs1_membership_no"] = _l("At most %(max)s characters.", max=100)
    if prefix and not COMPANY_PREFIX.fullmatch(prefix):
        errors["gs1_company_prefix"] = _l("A GS1 company prefix has 4 to 12 digits, such as 8936045.")
    elif prefix and gtin and not gtin[1:].startswith(prefix):
        # A GTIN-13 (padded to 14 with a leading zero) starts with its owner's company prefix.
        errors["gs1_company_prefix"] = _l("The GTIN does not start with this company prefix.")
    if not membership_no and not prefix:
        errors["gs1_membership_no"] = _l(
            "Give your GS1 Vietnam membership certificate number or your GS1 company prefix."
        )
    if len(note) > MAX_NOTE_LENGTH:
        errors["note"] = _l("At most %(max)s characters.", max=MAX_NOTE_LENGTH)
    return {"gs1_membership_no": membership_no, "gs1_company_prefix": prefix, "note": note}


def _audit(action: str, dispute: GtinDispute, actor: User, before: dict | None = None) -> None:
    record_audit(
        action,
        dispute,
        actor=actor,
        before=before,
        producer_id=dispute.claimant_producer_id,
        centre_id=dispute.claimant_producer.centre_id,
    )


def open_dispute(
    data: dict[str, Any], *, actor: User, document: bytes | None = None, document_name: str | None = None
) -> GtinDispute:
    """Claim a GTIN another producer's product holds, for the claimant's own product ``product_id``.

    Only an approved producer (or its centre's staff acting for it) claims a
    GTIN, like registering one. The claimant's product is the one that takes
    the GTIN if the centre agrees: it must have no batches yet.
    """
    product_id = data.get("product_id")
    product = db.session.get(Product, product_id) if isinstance(product_id, int) else None
    try:
        # An unknown product and another tenant's get the same answer from writable_producer.
        producer = writable_producer(product.producer_id if product is not None else 0, actor)
    except Forbidden as error:
        if not error.fields:
            raise  # the producer is not approved, or the role only reads: the message says so
        raise Forbidden(error.message, {"product_id": _l("Unknown product.")}) from None
    if product is None:  # writable_producer refused it already; this tells the type checker
        raise Forbidden(_l("You cannot add records for this producer."))
    errors: dict[str, Any] = {}
    gtin = None
    try:
        gtin = normalise_gtin((data.get("gtin") or "").strip())
    except ValueError:
        errors["gtin"] = _l("A GTIN has 8, 12, 13 or 14 digits and a correct check digit.")
    evidence = _evidence(data, gtin, errors)
    if errors:
        raise InvalidInput(_l("The dispute could not be opened."), errors)
    holder = gtin_holder(gtin)
    if holder is None:
        raise InvalidInput(
            _l("No product holds this GTIN: give it to your product directly."),
            {"gtin": _l("Not registered here.")},
        )
    if holder.producer_id == producer.id:
        raise InvalidInput(
            _l("Your own product %(name)s holds this GTIN: change it there.", name=holder.name),
            {"gtin": _l("Held by your own product.")},
        )
    if product.gtin is not None:
        raise Conflict(
            _l(
                "This product already has the GTIN %(gtin)s: claim the GTIN for a product without one.",
                gtin=product.gtin,
            ),
            {"product_id": _l("Already has a GTIN.")},
        )
    if batch_count(product):
        raise Conflict(
            _l(
                "This product already has batches, and a product's GTIN cannot change once its lots "
                "carry codes: claim the GTIN for a product without batches."
            ),
            {"product_id": _l("Has batches.")},
        )
    already = db.session.scalar(
        select(GtinDispute.id).where(
            GtinDispute.gtin == gtin,
            GtinDispute.claimant_producer_id == producer.id,
            GtinDispute.status == "open",
        )
    )
    if already is not None:
        raise Conflict(
            _l("You already have an open dispute about this GTIN: the centre is looking at it."),
            {"gtin": _l("Already disputed.")},
        )
    dispute = GtinDispute(
        gtin=gtin,
        claimant_producer_id=producer.id,
        claimant_product_id=product.id,
        holder_producer_id=holder.producer_id,
        holder_product_id=holder.id,
        opened_by_id=actor.id,
        status="open",
        **evidence,
    )
    if document is not None:
        stored = _store(document)
        dispute.document_filename = stored.filename
        dispute.document_sha256 = stored.sha256
        dispute.document_content_type = stored.content_type
        dispute.document_size = stored.size
        dispute.document_original_name = _original_name(document_name)
    dispute.claimant_producer = producer
    db.session.add(dispute)
    db.session.flush()
    _audit("create", dispute, actor)
    return dispute


def can_decide(dispute: GtinDispute, actor: Any) -> bool:
    """Staff of either producer's centre decide (whichever acts first); nobody else."""
    return is_centre_staff(actor) and actor.centre_id in (
        dispute.claimant_producer.centre_id,
        dispute.holder_producer.centre_id,
    )


def _move_gtin(dispute: GtinDispute, actor: User) -> None:
    """Give the disputed GTIN to the claimant's product, taking it from whichever product holds it now."""
    claimant_product = dispute.claimant_product
    if batch_count(claimant_product):
        raise Conflict(
            _l(
                "The claimant's product %(name)s has batches since the dispute was opened, and a "
                "product's GTIN cannot change once its lots carry codes. Ask the claimant for a "
                "product without batches.",
                name=claimant_product.name,
            )
        )
    refusal = approval_refusal(dispute.claimant_producer, actor)
    if refusal is not None:
        raise Conflict(refusal)
    holder = gtin_holder(dispute.gtin, other_than=claimant_product)
    if holder is not None:
        before = snapshot(holder)
        holder.gtin = None
        db.session.flush()  # the GTIN is unique: free it before the claimant takes it
        record_audit(
            "update",
            holder,
            actor=actor,
            before=before,
            producer_id=holder.producer_id,
            centre_id=holder.producer.centre_id,
        )
    before = snapshot(claimant_product)
    claimant_product.gtin = dispute.gtin
    db.session.flush()
    record_audit(
        "update",
        claimant_product,
        actor=actor,
        before=before,
        producer_id=claimant_product.producer_id,
        centre_id=dispute.claimant_producer.centre_id,
    )


def decide_dispute(dispute: GtinDispute, outcome: Any, reason: Any, *, actor: User) -> GtinDispute:
    """The centre decides who the GTIN belongs to, with a reason both producers' records keep."""
    if not can_decide(dispute, actor):
        raise Forbidden(_l("Only the staff of either producer's centre decide a GTIN dispute."))
    if dispute.status != "open":
        raise Conflict(_l("This dispute is already decided."))
    errors: dict[str, Any] = {}
    if outcome not in GTIN_DISPUTE_OUTCOMES:
        errors["outcome"] = _l("Choose who the GTIN belongs to: the claimant or the holder.")
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        errors["reason"] = _l("Say why: both producers see the reason.")
    elif len(reason) > MAX_REASON_LENGTH:
        errors["reason"] = _l("At most %(max)s characters.", max=MAX_REASON_LENGTH)
    if errors:
        raise InvalidInput(_l("The dispute could not be decided."), errors)
    if outcome == "claimant":
        _move_gtin(dispute, actor)
    before = snapshot(dispute)
    dispute.status = "decided"
    dispute.outcome = outcome
    dispute.reason = reason
    dispute.decided_by_id = actor.id
    dispute.decided_at = utcnow()
    db.session.flush()
    _audit("decide", dispute, actor, before)
    return dispute


def visible_disputes(user: Any, *, status: str | None = None) -> Select:
    """The disputes ``user`` may see, newest first (open ones oldest first in the work list)."""
    query = scoped_select(GtinDispute, user)
    if status:
        query = query.where(GtinDispute.status == status)
    return query.order_by(GtinDispute.created_at.desc(), GtinDispute.id.desc())


def open_disputes(user: Any) -> Select:
    """Open disputes for the centre's work list, oldest first."""
    return (
        scoped_select(GtinDispute, user)
        .where(GtinDispute.status == "open")
        .order_by(GtinDispute.created_at, GtinDispute.id)
    )
