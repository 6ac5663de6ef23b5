"""What each kind of notification says, in the language of whoever reads it.

A notification stores its kind and the facts (``params``: names, codes, dates,
a reason) and is worded when it is read or sent: the in-app list in the
reader's current language, the email in the recipient's (``User.locale``,
Vietnamese by default), so one row reads right in both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from traceability.core.provinces import province_name
from traceability.core.vocabulary import CERTIFICATION_TYPE_LABELS, STATUS_LABELS, label

# Settings page: each kind a user may choose to get by email, and who can receive it.
KIND_LABELS = {
    "producer_signed_up": _l("A producer of my centre's province signs up"),
    "producer_decided": _l("The centre approves, rejects or suspends my producer"),
    "certification_decided": _l("The centre verifies or rejects a certificate"),
    "claim_decided": _l("The centre verifies or rejects an OCOP rating or flagship designation"),
    "certification_expiring": _l("A certificate or OCOP rating expires within 30 days"),
    "recall": _l("A recall reaches my lots, or lots made from them"),
    "problem_report": _l("A consumer reports a problem with a product"),
}
KINDS_BY_ROLE = {
    "producer": (
        "producer_decided",
        "certification_decided",
        "claim_decided",
        "certification_expiring",
        "recall",
        "problem_report",
    ),
    "centre_admin": ("producer_signed_up", "problem_report"),
    "centre_staff": ("producer_signed_up", "problem_report"),
}
#: Lots a recall notification names; more are counted, not listed.
MAX_LISTED_LOTS = 20


@dataclass(frozen=True)
class Message:
    """A notification worded: its subject and its paragraphs."""

    subject: str
    paragraphs: list[str] = field(default_factory=list)


def _day(value: Any) -> str:
    try:
        return format_date(date.fromisoformat(str(value)), "dd/MM/yyyy")
    except ValueError:
        return str(value)


def _reason(params: dict[str, Any]) -> list[str]:
    reason = params.get("reason")
    return [_("Reason given: %(reason)s", reason=reason)] if reason else []


def _certificate(params: dict[str, Any]) -> str:
    """``VietGAP no. VG-123`` (the type in the reader's language)."""
    kind = label(CERTIFICATION_TYPE_LABELS, params.get("type"))
    number = params.get("number")
    return _("%(type)s no. %(number)s", type=kind, number=number) if number else kind


def producer_signed_up(params: dict[str, Any]) -> Message:
    producer = params.get("producer", "")
    return Message(
        _("New producer sign-up: %(producer)s", producer=producer),
        [
            _(
                "%(producer)s (%(province)s) signed up and waits for your centre's decision.",
                producer=producer,
                province=province_name(params.get("province")),
            ),
            _("Check its profile and its certificates, then approve or reject it."),
        ],
    )


def producer_decided(params: dict[str, Any]) -> Message:
    producer, decision = params.get("producer", ""), params.get("decision")
    if decision == "approved":
        subject = _("Your registration is approved: %(producer)s", producer=producer)
        text = _("You can now record products, lots and their events, and print labels.")
    elif decision == "reinstated":
        subject = _("The suspension is lifted: %(producer)s", producer=producer)
        text = _("You can record lots again.")
    elif decision == "suspended":
        subject = _("Your producer is suspended: %(producer)s", producer=producer)
        text = _("No new lots can be recorded, and your public pages carry a notice.")
    else:
        subject = _("Your registration was not approved: %(producer)s", producer=producer)
        text = _("Correct your profile as the reason says: the centre will look at it again.")
    status = label(STATUS_LABELS, "approved" if decision == "reinstated" else decision)
    return Message(subject, [_("Status: %(status)s", status=status), text, *_reason(params)])


def certification_decided(params: dict[str, Any]) -> Message:
    certificate = _certificate(params)
    subject_name = params.get("subject", "")
    if params.get("decision") == "verified":
        return Message(
            _("Certificate verified: %(certificate)s", certificate=certificate),
            [
                _("Status: %(status)s", status=label(STATUS_LABELS, "verified")),
                _(
                    "The centre verified %(certificate)s of %(subject)s: it now shows on the public pages.",
                    certificate=certificate,
                    subject=subject_name,
                ),
            ],
        )
    return Message(
        _("Certificate rejected: %(certificate)s", certificate=certificate),
        [
            _("Status: %(status)s", status=label(STATUS_LABELS, "rejected")),
            _(
                "The centre rejected %(certificate)s of %(subject)s. Correct it or attach the right "
                "document: it is then checked again.",
                certificate=certificate,
                subject=subject_name,
            ),
            *_reason(params),
        ],
    )


def _claim_name(params: dict[str, Any]) -> str:
    if params.get("claim") == "ocop":
        stars = params.get("stars")
        if stars:
            return _(
                "OCOP rating (%(stars)s stars) of %(product)s", stars=stars, product=params.get("product")
            )
        return _("OCOP rating of %(product)s", product=params.get("product"))
    return _("Flagship designation of %(product)s", product=params.get("product"))


def claim_decided(params: dict[str, Any]) -> Message:
    claim = _claim_name(params)
    if params.get("decision") == "verified":
        return Message(
            _("Verified: %(claim)s", claim=claim),
            [
                _("Status: %(status)s", status=label(STATUS_LABELS, "verified")),
                _("The centre verified it: it now shows on the product's public pages."),
            ],
        )
    return Message(
        _("Rejected: %(claim)s", claim=claim),
        [
            _("Status: %(status)s", status=label(STATUS_LABELS, "rejected")),
            _("The centre rejected it: it does not show on the public pages."),
            *_reason(params),
        ],
    )


def certification_expiring(params: dict[str, Any]) -> Message:
    day = _day(params.get("valid_to"))
    what = _claim_name(params) if params.get("claim") else _certificate(params)
    return Message(
        _("Expires on %(day)s: %(what)s", day=day, what=what),
        [
            _(
                "%(what)s of %(subject)s is valid until %(day)s.",
                what=what,
                subject=params.get("subject", ""),
                day=day,
            ),
            _(
                "Renew it and record the new one before then: after that day it no longer shows "
                "on the public pages."
            ),
        ],
    )


def recall(params: dict[str, Any]) -> Message:
    lots: list[dict[str, Any]] = params.get("lots") or []
    total = int(params.get("total") or len(lots))
    paragraphs = [
        ngettext(
            "A recall reaches %(num)d of your lots: do not sell or use it.",
            "A recall reaches %(num)d of your lots: do not sell or use them.",
            total,
        )
    ]
    for lot in lots[:MAX_LISTED_LOTS]:
        if lot.get("via_input"):
            line = _("Lot %(lot)s of %(product)s, made from a recalled input", **_lot(lot))
        else:
            line = _("Lot %(lot)s of %(product)s", **_lot(lot))
        paragraphs.append(f"- {line}")
    if total > min(len(lots), MAX_LISTED_LOTS):
        more = total - min(len(lots), MAX_LISTED_LOTS)
        paragraphs.append(ngettext("and %(num)d more lot.", "and %(num)d more lots.", more))
    paragraphs.extend(_reason(params))
    return Message(
        ngettext("Recall: %(num)d of your lots", "Recall: %(num)d of your lots", total),
        paragraphs,
    )


def _lot(lot: dict[str, Any]) -> dict[str, Any]:
    return {"lot": lot.get("lot", ""), "product": lot.get("product", "")}


def problem_report(params: dict[str, Any]) -> Message:
    return Message(
        _("Problem reported: %(product)s, lot %(lot)s", **_lot(params)),
        [
            _("A consumer reported a problem with lot %(lot)s of %(product)s:", **_lot(params)),
            f"“{params.get('message', '')}”",
        ],
    )


def report_reply(params: dict[str, Any]) -> Message:
    reference = params.get("reference")
    if not reference:  # queued before replies named the report's reference
        return Message(
            _("Answer to your report on %(product)s", product=params.get("product", "")),
            _report_reply_body(params),
        )
    return Message(
        _(
            "Answer to your report %(reference)s on %(product)s",
            reference=reference,
            product=params.get("product", ""),
        ),
        [
            _("Your report's reference: %(reference)s.", reference=reference),
            *_report_reply_body(params),
        ],
    )


def _report_reply_body(params: dict[str, Any]) -> list[str]:
    return [
        _(
            "On %(day)s you reported a problem with lot %(lot)s of %(product)s. The answer:",
            day=_day(params.get("reported_on")),
            **_lot(params),
        ),
        str(params.get("reply", "")),
    ]


RENDERERS = {
    "producer_signed_up": producer_signed_up,
    "producer_decided": producer_decided,
    "certification_decided": certification_decided,
    "claim_decided": claim_decided,
    "certification_expiring": certification_expiring,
    "recall": recall,
    "problem_report": problem_report,
    "report_reply": report_reply,
}


def render(kind: str, params: dict[str, Any]) -> Message:
    """The notification worded in the current language (``force_locale`` for another)."""
    return RENDERERS[kind](params or {})
