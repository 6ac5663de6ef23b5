"""Forms for batches and key tracking events."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    DateField,
    DateTimeLocalField,
    DecimalField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from traceability.batches.models import UNITS
from traceability.forms import Form
from traceability.vocabulary import EVENT_TYPE_LABELS, UNIT_LABELS


class BatchForm(Form):
    product_id = SelectField(_l("Product"), coerce=int)
    lot_code = StringField(
        _l("Lot code"),
        validators=[DataRequired(), Length(max=20)],
        description=_l("Up to 20 characters, no spaces or accented letters, for example LO-2026-001."),
    )
    production_date = DateField(_l("Production date"), validators=[DataRequired()])
    expiry_date = DateField(_l("Expiry date"), validators=[Optional()])
    quantity = DecimalField(_l("Quantity"), places=3, validators=[DataRequired(), NumberRange(min=0)])
    unit = SelectField(_l("Unit"), choices=[SelectChoice(code, UNIT_LABELS[code]) for code in UNITS])
    location_id = SelectField(_l("Origin location"), coerce=lambda v: int(v) if v else None)


class EventForm(Form):
    type = SelectField(
        _l("What happened"), choices=[SelectChoice(code, label) for code, label in EVENT_TYPE_LABELS.items()]
    )
    time = DateTimeLocalField(_l("When (Vietnam time)"), validators=[DataRequired()])
    location_id = SelectField(_l("Where"), coerce=lambda v: int(v) if v else None)
    quantity = DecimalField(_l("Quantity"), places=3, validators=[Optional(), NumberRange(min=0)])
    note = TextAreaField(_l("Note"), validators=[Optional(), Length(max=2000)])
    counterparty = StringField(
        _l("Recipient or source"),
        validators=[Optional(), Length(max=300)],
        description=_l("For shipping and receiving: who the goods went to or came from."),
    )
    reference = StringField(_l("Reference document number"), validators=[Optional(), Length(max=100)])
