"""Forms for serialised items and label sheets."""

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, SelectChoice, SelectField
from wtforms.validators import InputRequired, Optional

from traceability.batches.contracts import LabelQuerySchema, SerialsInSchema
from traceability.batches.label_sheets import MAX_COPIES
from traceability.batches.serials import MAX_SERIALS_PER_REQUEST
from traceability.http.forms import NumberRange, SchemaForm
from traceability.labels.sheets import TEMPLATES

TEMPLATE_LABELS = {
    "a4-3x8": _l("A4 sheet, 3 × 8 labels of 63.5 × 33.9 mm (Avery L7159)"),
    "a4-4x10": _l("A4 sheet, 4 × 10 labels of 45.7 × 25.4 mm (Avery L7654)"),
    "a4-5x13": _l("A4 sheet, 5 × 13 labels of 38.1 × 21.2 mm (Avery L7651)"),
    "roll-50x30": _l("Label roll, 50 × 30 mm, one label per page"),
}


# The QR code's error correction level, in words a producer uses: how much damage it survives.
ERROR_CORRECTION_LABELS = {
    "M": _l("Normal: still reads with small scratches or stains (recommended)"),
    "H": _l("Strong: still reads with bigger scratches or tears; needs bigger labels"),
}


def _template_choices() -> list[SelectChoice]:
    return [SelectChoice(name, TEMPLATE_LABELS[name]) for name in TEMPLATES]


def template_label(name: str) -> str:
    """A label template as people know it ("A4 sheet, 4 × 10 labels ..."), not its code ("a4-4x10")."""
    return str(TEMPLATE_LABELS.get(name, name))


def error_correction_label(level: str) -> str:
    """An error correction level in plain words."""
    return str(ERROR_CORRECTION_LABELS.get(level, level))


def _ec_field() -> SelectField:
    return SelectField(
        _l("How well the code survives scratches"),
        default="M",
        choices=[SelectChoice(level, label) for level, label in ERROR_CORRECTION_LABELS.items()],
        description=_l(
            "A stronger code still scans when part of it is scratched, torn or dirty, but it needs more room."
        ),
    )


class LabelSheetForm(SchemaForm):
    """Print a label sheet of a batch: its items, or copies of its code (``LabelQuerySchema``)."""

    schema = LabelQuerySchema

    template = SelectField(_l("Label template"), choices=_template_choices())
    ec = _ec_field()
    copies = IntegerField(
        _l("Copies"),
        validators=[Optional(), NumberRange(min=1, max=MAX_COPIES)],
        description=_l(
            "For a batch without serialised items: how many labels of its code (a full sheet if empty)."
        ),
    )


class SerialsForm(SchemaForm):
    """Create serialised items of a batch (``SerialsInSchema``), and optionally print their labels at once."""

    schema = SerialsInSchema

    count = IntegerField(
        _l("Number of items"),
        validators=[InputRequired(), NumberRange(min=1, max=MAX_SERIALS_PER_REQUEST)],
        description=_l("From 1 to 10,000 per request; each gets its own serial number and QR code."),
    )
    template = SelectField(
        _l("Print their labels on"),
        choices=[SelectChoice("", _l("Do not print now")), *_template_choices()],
    )
    ec = _ec_field()
