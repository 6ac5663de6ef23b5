"""Translated labels of the codes stored in the database (roles, statuses, event types)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ROLE_LABELS = {
    "ministry": _l("Ministry"),
    "centre_admin": _l("Centre administrator"),
    "centre_staff": _l("Centre staff"),
    "auditor": _l("Auditor"),
    "producer": _l("Producer"),
}

STATUS_LABELS = {
    "pending": _l("Pending"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
    "suspended": _l("Suspended"),
    "verified": _l("Verified"),
    "active": _l("Active"),
    "recalled": _l("Recalled"),
    "expired": _l("Expired"),
    "consumed": _l("Consumed"),
    "open": _l("Open"),
    "closed": _l("Closed"),
}

# Certificate types (registry.certifications); notifications name them too.
CERTIFICATION_TYPE_LABELS = {
    "vietgap": _l("VietGAP"),
    "globalgap": _l("GlobalG.A.P."),
    "organic": _l("Organic (TCVN 11041)"),
    "iso22000": _l("ISO 22000"),
    "haccp": _l("HACCP"),
    "iso9001": _l("ISO 9001"),
    "ocop": _l("OCOP"),
    "flagship": _l("Flagship product of the province"),
    "other": _l("Other certificate"),
}

RECALL_OUTCOME_LABELS = {
    "returned_to_sale": _l("Returned to sale: the lots are safe to use"),
    "withdrawn": _l("Withdrawn: the lots stay recalled, do not use"),
}

EVENT_TYPE_LABELS = {
    "growing": _l("Growing"),
    "harvesting": _l("Harvesting"),
    "processing": _l("Processing"),
    "packing": _l("Packing"),
    "storing": _l("Storing"),
    "shipping": _l("Shipping"),
    "receiving": _l("Receiving"),
    "inspecting": _l("Inspecting"),
    "selling": _l("Selling"),
    "other": _l("Other"),
    "association": _l("Sensors or devices attached"),
}

UNIT_LABELS = {
    "KGM": _l("kilogram (KGM)"),
    "GRM": _l("gram (GRM)"),
    "TNE": _l("tonne (TNE)"),
    "LTR": _l("litre (LTR)"),
    "MLT": _l("millilitre (MLT)"),
    "H87": _l("piece (H87)"),
    "XBX": _l("box (XBX)"),
    "XBO": _l("bottle (XBO)"),
    "XPK": _l("package (XPK)"),
    "XBG": _l("bag (XBG)"),
}


# Short unit names shown after a quantity ("1.600 túi"); the UN/ECE code stays in data and exports.
UNIT_SYMBOLS = {
    "KGM": _l("kg"),
    "GRM": _l("g"),
    "TNE": _l("t"),
    "LTR": _l("l"),
    "MLT": _l("ml"),
    "H87": _l("pcs"),
    "XBX": _l("boxes"),
    "XBO": _l("bottles"),
    "XPK": _l("packages"),
    "XBG": _l("bags"),
}


def label(labels: dict, code: str | None) -> str:
    """The translated label of ``code``, or the code itself when it has none."""
    return str(labels.get(code, code or ""))
