"""The inspection checklists: a fixed set of items per kind of subject, defined here in code.

Item codes are stored with each answer and appear in the API, so they never
change; the labels are translated for display. Items follow what the centres
check on a visit: Decree 37/2026 Art. 23.5 (what a traceability record and its
label hold) and TCVN 12850:2019 (one step back, one step forward; who, what,
where, when and why for every key event).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

CHECKLIST_ITEMS = {
    "records_kept": _l("Production and sales records are kept and up to date"),
    "labels_art_23_5": _l(
        "Labels show what Decree 37/2026 Art. 23.5 requires: product, producer and address, origin, "
        "lot or serial, expiry date, standards applied"
    ),
    "certificates_valid": _l("Certificates are valid and cover what they are used for"),
    "hygiene": _l("Hygiene of premises, equipment and workers"),
    "storage": _l("Storage conditions: temperature, separation, protection from pests"),
    "trace_back": _l("Traceability one step back: the suppliers and inputs of each lot are recorded"),
    "trace_forward": _l("Traceability one step forward: the customers of each lot are recorded"),
    "recall_procedure": _l("A recall procedure exists and names who acts"),
    "inputs_recorded": _l("Inputs used (seed, fertiliser, plant protection products, feed) are recorded"),
    "lot_identified": _l("The lot code and expiry date on the packages match the record"),
    "qr_works": _l("The QR code on the package opens this lot's public page"),
    "events_complete": _l(
        "Key tracking events are recorded with who, what, where, when and why (TCVN 12850)"
    ),
    "quantity_balance": _l("Quantities balance: produced, used in other lots and shipped"),
}

CHECKLISTS: dict[str, tuple[str, ...]] = {
    "producer": (
        "records_kept",
        "labels_art_23_5",
        "certificates_valid",
        "hygiene",
        "storage",
        "trace_back",
        "trace_forward",
        "recall_procedure",
    ),
    "location": ("records_kept", "inputs_recorded", "certificates_valid", "hygiene", "storage"),
    "batch": (
        "lot_identified",
        "labels_art_23_5",
        "qr_works",
        "events_complete",
        "trace_back",
        "trace_forward",
        "quantity_balance",
        "storage",
    ),
}

ANSWER_LABELS = {"yes": _l("Yes"), "no": _l("No"), "na": _l("Not applicable")}


def checklist_for(subject_kind: str) -> tuple[str, ...]:
    """The item codes an inspection of ``subject_kind`` answers, in order."""
    return CHECKLISTS[subject_kind]


def item_label(code: str) -> str:
    """The translated text of a checklist item (the code itself if it is unknown)."""
    return str(CHECKLIST_ITEMS.get(code, code))
