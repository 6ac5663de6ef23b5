"""Registering producers, their profiles and their life cycle with the centre.

A producer signs up on its own (pending) or is registered by its centre's staff
(approved). The centre's admins and staff then decide:

    pending   --approve--> approved      pending   --reject--> rejected
    approved  --suspend--> suspended     suspended --reinstate--> approved
    rejected  --approve--> approved      (the centre changes its mind)

A rejected producer that edits its own profile goes back to pending: the edit
answers the reason it was given, so the centre sees it again in its work list.
Reject and suspend need a reason, which the producer sees on its profile.
Only an approved producer records batches.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from traceability.accounts.policy import STAFF_ROLES, is_centre_staff_of
from traceability.accounts.scope import writable_producer
from traceability.accounts.service import check_new_user, create_user, email_in_use, hash_password
from traceability.audit.service import record_audit, snapshot
from traceability.core.dates import utcnow
from traceability.core.errors import Conflict, Forbidden, InvalidInput
from traceability.core.extensions import db
from traceability.core.transactions import on_rollback
from traceability.core.uploads import UploadRejected, images_folder, remove, store_image
from traceability.core.vocabulary import STATUS_LABELS, label
from traceability.models.accounts import User
from traceability.models.registry import PRODUCER_KINDS, Centre, Producer
from traceability.notifications import events as notify
from traceability.registry.centres import centre_for_province
from traceability.registry.validation import check_province, optional_text, require, text

# Vietnamese tax codes (MST): 10 digits, or 10 digits, a dash and 3 for a branch.
# [0-9], not \d: \d would take Arabic-Indic and other Unicode digits too.
TAX_CODE_PATTERN = re.compile(r"[0-9]{10}(-[0-9]{3})?")
# Enterprises and cooperatives always have a tax code; a household business may not.
KINDS_NEEDING_TAX_CODE = ("enterprise", "cooperative")
PHONE_PATTERN = re.compile(r"^\+?[0-9][0-9 .\-()]{6,22}$")
MAX_REASON_LENGTH = 2000
PROFILE_FIELDS = (
    "name",
    "kind",
    "tax_code",
    "ward",
    "street",
    "phone",
    "email",
    "website",
    "previous_province_code",
    "previous_ward",
    "previous_street",
)
DECIDING_ROLES = STAFF_ROLES
# What the producer's users are told each decision made of it.
DECISIONS = {"approve": "approved", "reject": "rejected", "suspend": "suspended", "reinstate": "reinstated"}
LOGO_REFUSALS = {
    "empty": _l("The file is empty."),
    "type": _l("This is not a PNG, JPEG or WebP image."),
    "damaged": _l("The image is damaged or incomplete."),
    "too_many_pixels": _l(
        "The image has too many pixels: use one of at most 40 megapixels, or 16 for a PNG or WebP image."
    ),
}


def is_valid_tax_code(tax_code: str) -> bool:
    """A Vietnamese tax code: 10 ASCII digits, or 10 digits, a dash and 3 for a branch."""
    return TAX_CODE_PATTERN.fullmatch(tax_code) is not None


def _check_profile(values: dict[str, Any], errors: dict[str, Any]) -> None:
    """Note what is wrong in a producer's profile ``values`` (already stripped)."""
    if "name" in values and not values["name"]:
        errors["name"] = _l("This field is required.")
    if "kind" in values and values["kind"] not in PRODUCER_KINDS:
        errors["kind"] = _l("Kind must be one of: %(kinds)s.", kinds=", ".join(PRODUCER_KINDS))
    tax_code = values.get("tax_code")
    if tax_code and not is_valid_tax_code(tax_code):
        errors["tax_code"] = _l("A tax code has 10 digits, or 10 digits, a dash and 3 digits.")
    elif not tax_code and values.get("kind") in KINDS_NEEDING_TAX_CODE:
        errors["tax_code"] = _l("Enterprises and cooperatives must give their tax code.")
    if values.get("phone") and not PHONE_PATTERN.fullmatch(values["phone"]):
        errors["phone"] = _l("Enter a phone number of digits, for example 0262 3812 345.")
    if values.get("email") and "@" not in values["email"]:
        errors["email"] = _l("Enter a valid email address.")
    if values.get("website") and not values["website"].startswith(("https://", "http://")):
        errors["website"] = _l("A website address starts with https:// or http://.")
    check_province(values.get("previous_province_code"), errors, "previous_province_code")


def _profile_values(data: dict[str, Any], names: tuple[str, ...] = PROFILE_FIELDS) -> dict[str, Any]:
    """The profile fields present in ``data``, stripped; optional ones None when blank."""
    values: dict[str, Any] = {}
    for name in names:
        if name not in data:
            continue
        if name in ("tax_code", "previous_province_code", "previous_ward", "previous_street"):
            values[name] = optional_text(data, name)
        else:
            values[name] = text(data, name)
    return values


def _tax_code_taken(tax_code: str | None, *, other_than: int | None = None) -> bool:
    if not tax_code:
        return False
    query = select(Producer.id).where(Producer.tax_code == tax_code)
    if other_than is not None:
        query = query.where(Producer.id != other_than)
    return db.session.scalar(query) is not None


def _centre_of(province_code: str | None) -> Centre:
    centre = centre_for_province(province_code) if province_code else None
    if centre is None:
        raise InvalidInput(
            _l("No centre serves this province yet, so producers there cannot register here."),
            {"province_code": _l("No centre here yet.")},
        )
    return centre


def create_producer(data: dict[str, Any], *, actor: User | None) -> Producer:
    """Register a producer: approved when centre staff create it, pending on sign-up."""
    by_centre_staff = actor is not None and actor.role in DECIDING_ROLES
    if actor is not None and not by_centre_staff and actor.role != "ministry":
        raise Forbidden(_l("Only centre staff register producers; producers sign up themselves."))
    errors: dict[str, Any] = {}
    require(data, errors, "name", "kind", "province_code")
    check_province(data.get("province_code"), errors)
    if "province_code" not in errors:
        centre = _centre_of(data["province_code"])
        if by_centre_staff and actor is not None and actor.centre_id != centre.id:
            raise Forbidden(
                _l("You can register producers of your own province only."),
                {"province_code": _l("Outside your province.")},
            )
    values = _profile_values({**data, "street": data.get("street") or data.get("address")})
    _check_profile(values, errors)
    if errors:
        raise InvalidInput(_l("The producer could not be registered."), errors)
    if _tax_code_taken(values.get("tax_code")):
        raise Conflict(
            _l("A producer with this tax code is already registered."),
            {"tax_code": _l("Already registered.")},
        )
    producer = Producer(
        centre_id=centre.id,
        province_code=data["province_code"],
        status="approved" if by_centre_staff else "pending",
        **values,
    )
    db.session.add(producer)
    db.session.flush()
    record_audit("create", producer, actor=actor, centre_id=centre.id, producer_id=producer.id)
    if producer.status == "pending":
        notify.producer_signed_up(producer, actor=actor)
    return producer


def sign_up_producer(data: dict[str, Any]) -> tuple[Producer, User] | None:
    """A producer registers itself (pending) with its first user, its administrator.

    ``data`` holds the producer's fields and ``user_email``, ``user_password``,
    ``user_name``. Every problem is reported at once and nothing is stored
    unless both the producer and its user are valid.

    An email that already has an account is not one of the problems: the
    sign-up is public, and saying so would tell anyone who has an account.
    Nothing is stored then and None is returned; the caller answers exactly as
    for a registration that worked.
    """
    errors: dict[str, Any] = {}
    require(data, errors, "name", "kind", "province_code", "ward", "phone", "user_email", "user_password")
    check_province(data.get("province_code"), errors)
    values = _profile_values(data)
    _check_profile(values, errors)
    if "tax_code" not in errors and _tax_code_taken(values.get("tax_code")):
        errors["tax_code"] = _l("A producer with this tax code is already registered.")
    user_email = text(data, "user_email").lower()
    user_password = data.get("user_password") or ""
    user_errors: dict[str, Any] = {}
    check_new_user(user_email, user_password, user_errors, prefix="user_", check_in_use=False)
    errors = {**user_errors, **errors}  # "required" says more than "invalid" for an empty field
    if "province_code" not in errors and centre_for_province(data["province_code"]) is None:
        errors["province_code"] = _l(
            "No centre serves this province yet, so producers there cannot register here."
        )
    if errors:
        raise InvalidInput(_l("The registration could not be completed."), errors)
    if email_in_use(user_email):
        hash_password(user_password)  # as long as a registration that works takes
        current_app.logger.info("sign-up with an email that already has an account")
        return None
    if not values.get("email"):
        values["email"] = user_email
    producer = create_producer({**values, "province_code": data["province_code"]}, actor=None)
    user = create_user(
        email=user_email,
        password=user_password,
        role="producer",
        name=text(data, "user_name"),
        producer=producer,
        is_producer_admin=True,
    )
    return producer, user


def _writable_profile(producer: Producer, actor: User) -> None:
    """Refuse ``actor`` unless it is the producer's administrator or its centre's staff."""
    # The profile is what the centre approves: it stays editable in every status.
    writable_producer(producer.id, actor, require_approved=False)
    if actor.role == "producer" and not actor.is_producer_admin:
        raise Forbidden(_l("Only the producer's administrator changes its profile."))


def update_producer(producer: Producer, data: dict[str, Any], *, actor: User) -> Producer:
    """Change a producer's profile; the fields absent from ``data`` stay as they are.

    The province cannot change here: it would move the producer to another centre.
    """
    _writable_profile(producer, actor)
    errors: dict[str, Any] = {}
    if data.get("province_code") not in (None, producer.province_code):
        errors["province_code"] = _l(
            "The province cannot be changed here: it would move the producer to another centre. "
            "Ask your centre."
        )
    values = _profile_values(data)
    # Checked with the stored kind and tax code, so a kind needing a tax code gets one.
    merged = {**{name: getattr(producer, name) for name in ("name", "kind", "tax_code")}, **values}
    _check_profile(merged, errors)
    if "tax_code" not in errors and _tax_code_taken(merged.get("tax_code"), other_than=producer.id):
        errors["tax_code"] = _l("A producer with this tax code is already registered.")
    if errors:
        raise InvalidInput(_l("The profile could not be saved."), errors)
    changes = {name: value for name, value in values.items() if getattr(producer, name) != value}
    if not changes:
        return producer  # a form saved unchanged: nothing to record
    before = snapshot(producer)
    for name, value in changes.items():
        setattr(producer, name, value)
    if producer.status == "rejected" and actor.role == "producer":
        # The producer answered the reason it was given: the centre looks again.
        producer.status = "pending"
        producer.status_reason = None
        producer.status_changed_at = utcnow()
    db.session.flush()
    record_audit(
        "update",
        producer,
        actor=actor,
        before=before,
        centre_id=producer.centre_id,
        producer_id=producer.id,
    )
    return producer


def set_producer_logo(producer: Producer, data: bytes, *, actor: User) -> Producer:
    """Store an uploaded logo (re-encoded, at most 400 px) and show it on the profile."""
    _writable_profile(producer, actor)
    max_bytes = current_app.config["MAX_IMAGE_BYTES"]
    folder = images_folder()
    try:
        stored = store_image(data, folder, max_bytes=max_bytes)
    except UploadRejected as error:
        if error.reason == "too_large":
            size = f"{max_bytes // 2**20} MB" if max_bytes >= 2**20 else f"{max_bytes // 2**10} KB"
            message = _l("The image is too large: use a file of at most %(size)s.", size=size)
        else:
            message = LOGO_REFUSALS.get(error.reason, LOGO_REFUSALS["damaged"])
        raise InvalidInput(_l("The logo could not be saved."), {"logo": message}) from error
    # A logo is shown small: keep the thumbnail only.
    remove(folder, stored.filename)
    on_rollback(partial(remove, folder, stored.thumbnail_filename))
    before = snapshot(producer)
    producer.logo_filename = stored.thumbnail_filename
    db.session.flush()
    record_audit(
        "update",
        producer,
        actor=actor,
        before=before,
        centre_id=producer.centre_id,
        producer_id=producer.id,
    )
    return producer


def _check_decider(producer: Producer, actor: User) -> None:
    if not is_centre_staff_of(actor, producer):
        raise Forbidden(_l("Only the staff of the producer's own centre approve, reject or suspend it."))


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(
            _l("Give a reason: the producer will see it."),
            {"reason": _l("Say why, so the producer knows what to fix.")},
        )
    if len(reason) > MAX_REASON_LENGTH:
        raise InvalidInput(
            _l("The reason is too long."),
            {"reason": _l("Use at most %(n)d characters.", n=MAX_REASON_LENGTH)},
        )
    return reason


def _change_status(
    producer: Producer, action: str, status: str, reason: str | None, *, actor: User
) -> Producer:
    before = snapshot(producer)
    producer.status = status
    producer.status_reason = reason
    producer.status_changed_at = utcnow()
    db.session.flush()
    record_audit(
        action, producer, actor=actor, before=before, centre_id=producer.centre_id, producer_id=producer.id
    )
    notify.producer_decided(producer, DECISIONS[action], actor=actor)
    return producer


def _current_status(producer: Producer) -> str:
    return label(STATUS_LABELS, producer.status)


def approve_producer(producer: Producer, *, actor: User) -> Producer:
    """The centre approves a pending (or earlier rejected) producer: it may record batches."""
    _check_decider(producer, actor)
    if producer.status not in ("pending", "rejected"):
        raise Conflict(
            _l(
                "Only a pending or rejected producer can be approved (current status: %(status)s).",
                status=_current_status(producer),
            )
        )
    return _change_status(producer, "approve", "approved", None, actor=actor)


def reject_producer(producer: Producer, reason: str | None, *, actor: User) -> Producer:
    """The centre turns down a pending producer, saying why."""
    _check_decider(producer, actor)
    reason = _reason(reason)
    if producer.status != "pending":
        raise Conflict(
            _l(
                "Only a pending producer can be rejected (current status: %(status)s).",
                status=_current_status(producer),
            )
        )
    return _change_status(producer, "reject", "rejected", reason, actor=actor)


def suspend_producer(producer: Producer, reason: str | None, *, actor: User) -> Producer:
    """The centre suspends an approved producer: no new batches, a notice on its public pages."""
    _check_decider(producer, actor)
    reason = _reason(reason)
    if producer.status != "approved":
        raise Conflict(
            _l(
                "Only an approved producer can be suspended (current status: %(status)s).",
                status=_current_status(producer),
            )
        )
    return _change_status(producer, "suspend", "suspended", reason, actor=actor)


def reinstate_producer(producer: Producer, *, actor: User) -> Producer:
    """The centre lifts a suspension: the producer is approved again."""
    _check_decider(producer, actor)
    if producer.status != "suspended":
        raise Conflict(
            _l(
                "Only a suspended producer can be reinstated (current status: %(status)s).",
                status=_current_status(producer),
            )
        )
    return _change_status(producer, "reinstate", "approved", None, actor=actor)


def allowed_decisions(producer: Producer, actor: Any) -> tuple[str, ...]:
    """The decisions ``actor`` may take on ``producer`` now: approve, reject, suspend, reinstate."""
    if not is_centre_staff_of(actor, producer):
        return ()
    return {
        "pending": ("approve", "reject"),
        "rejected": ("approve",),
        "approved": ("suspend",),
        "suspended": ("reinstate",),
    }.get(producer.status, ())


def can_edit_profile(producer: Producer, actor: Any) -> bool:
    """Whether ``actor`` may change the producer's profile (for showing the edit link)."""
    if actor.role == "producer":
        return actor.producer_id == producer.id and actor.is_producer_admin
    return is_centre_staff_of(actor, producer)
