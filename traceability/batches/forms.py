"""Forms for batches and key tracking events."""

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    DateTimeLocalField,
    DecimalField,
    FieldList,
    FormField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Optional

from traceability.batches.contracts import (
    MAX_NOTE_LENGTH,
    MAX_REASON_LENGTH,
    BatchInSchema,
    BatchUpdateSchema,
    EventCorrectionSchema,
    EventInSchema,
    RecallCloseSchema,
    RecallInSchema,
)
from traceability.batches.lot_codes import LOT_CODE_HINT
from traceability.core.dates import VIETNAM_OFFSET
from traceability.core.vocabulary import EVENT_TYPE_LABELS, RECALL_OUTCOME_LABELS, UNIT_LABELS
from traceability.http.forms import Form, NumberRange, SchemaForm, text_validators
from traceability.models.batches import EVENT_TYPES, UNITS, Batch, TraceEvent


class InputForm(Form):
    """One input batch of a new batch and the quantity taken from it."""

    class Meta:
        csrf = False  # a subform: the outer form carries the token

    batch_id = SelectField(_l("Input batch"), coerce=lambda v: int(v) if v else None)
    quantity = DecimalField(_l("Quantity taken"), places=3, validators=[Optional(), NumberRange(min=0)])


class BatchForm(SchemaForm):
    """Registering a batch: ``POST /batches``' contract; the input rows are the service's to check."""

    schema = BatchInSchema
    schema_only = (
        "product_id",
        "lot_code",
        "production_date",
        "expiry_date",
        "quantity",
        "unit",
        "location_id",
        "input_kind",
    )

    product_id = SelectField(_l("Product"), coerce=int)
    lot_code = StringField(
        _l("Lot code"),
        validators=text_validators(Batch.lot_code, required=True),
        description=LOT_CODE_HINT,
    )
    production_date = DateField(_l("Production date"), validators=[DataRequired()])
    expiry_date = DateField(_l("Expiry date"), validators=[Optional()])
    quantity = DecimalField(_l("Quantity"), places=3, validators=[DataRequired(), NumberRange(min=0)])
    unit = SelectField(_l("Unit"), choices=[SelectChoice(code, UNIT_LABELS[code]) for code in UNITS])
    location_id = SelectField(_l("Origin location"), coerce=lambda v: int(v) if v else None)
    input_kind = SelectField(
        _l("How the inputs were used"),
        default="transformation",
        choices=[
            SelectChoice("transformation", _l("Processed into this batch")),
            SelectChoice("aggregation", _l("Grouped into this shipment")),
            SelectChoice("split", _l("Split off into this batch")),
        ],
    )
    inputs = FieldList(FormField(InputForm), min_entries=3, max_entries=10)

    def input_entries(self) -> list[dict]:
        """The filled input rows as service data."""
        return [
            {"batch_id": entry.batch_id.data, "quantity": entry.quantity.data}
            for entry in self.inputs
            if entry.batch_id.data
        ]


class BatchEditForm(SchemaForm):
    """Changing a lot: ``PATCH /batches/{id}``'s contract (the lot code only until its first labels)."""

    schema = BatchUpdateSchema

    # Optional in PATCH's contract; an emptied code is refused by the service, on this field.
    lot_code = StringField(
        _l("Lot code"), validators=text_validators(Batch.lot_code), description=LOT_CODE_HINT
    )
    production_date = DateField(_l("Production date"), validators=[DataRequired()])
    expiry_date = DateField(_l("Expiry date"), validators=[Optional()])
    quantity = DecimalField(_l("Quantity"), places=3, validators=[DataRequired(), NumberRange(min=0)])
    unit = SelectField(_l("Unit"), choices=[SelectChoice(code, UNIT_LABELS[code]) for code in UNITS])
    location_id = SelectField(_l("Origin location"), coerce=lambda v: int(v) if v else None)

    #: The lot code is fixed (labels printed) or left as it was: neither checked nor sent.
    keep_lot_code = False

    def schema_input(self) -> dict[str, Any]:
        data = super().schema_input()
        if self.keep_lot_code:
            data.pop("lot_code", None)
        return data

    def changes(self) -> dict[str, Any]:
        """The lot's fields as service data: an emptied expiry date removes it; a kept code is not sent."""
        names = ("production_date", "expiry_date", "quantity", "unit", "location_id")
        data = {name: self[name].data for name in names}
        if not self.keep_lot_code:
            data["lot_code"] = self.lot_code.data
        return data


class EventForm(SchemaForm):
    """Recording a key tracking event: ``POST /batches/{id}/events``' contract, and its photo."""

    schema = EventInSchema

    type = SelectField(
        _l("What happened"),
        # Associations (sensors, devices) come only from EPCIS capture, with their identifiers.
        choices=[
            SelectChoice(code, label) for code, label in EVENT_TYPE_LABELS.items() if code in EVENT_TYPES
        ],
    )
    time = DateTimeLocalField(
        _l("When (Vietnam time)"),
        validators=[DataRequired()],
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"],
    )
    location_id = SelectField(_l("Where"), coerce=lambda v: int(v) if v else None)
    quantity = DecimalField(_l("Quantity"), places=3, validators=[Optional(), NumberRange(min=0)])
    note = TextAreaField(_l("Note"), validators=text_validators(MAX_NOTE_LENGTH))
    counterparty = StringField(
        _l("Recipient or source"),
        validators=text_validators(TraceEvent.counterparty),
        description=_l("For shipping and receiving: who the goods went to or came from."),
    )
    reference_type = SelectField(
        _l("Reference document"),
        choices=[
            SelectChoice("", "-"),
            SelectChoice("invoice", _l("Invoice")),
            SelectChoice("delivery_note", _l("Delivery note")),
            SelectChoice("purchase_order", _l("Purchase order")),
            SelectChoice("test_report", _l("Test report")),
            SelectChoice("other", _l("Other document")),
        ],
        validators=[Optional()],
    )
    reference = StringField(
        _l("Reference document number"), validators=text_validators(TraceEvent.reference_number)
    )
    photo = FileField(_l("Photo"), description=_l("Optional: a PNG, JPEG or WebP photo of this step."))

    def event_data(self) -> dict:
        """The event fields as service data (the time is Vietnam time)."""
        data = {
            name: getattr(self, name).data
            for name in (
                "type",
                "location_id",
                "quantity",
                "note",
                "counterparty",
                "reference_type",
                "reference",
            )
        }
        data["time"] = self.time.data.replace(tzinfo=VIETNAM_OFFSET)
        return data

    def schema_input(self) -> dict[str, Any]:
        """The event as the API's body: its time in Vietnam time, with the offset."""
        data = super().schema_input()
        if "time" in data:
            data["time"] = data["time"].replace(tzinfo=VIETNAM_OFFSET)
        return data

    def photo_bytes(self) -> bytes | None:
        upload = self.photo.data
        return upload.read() if upload and getattr(upload, "filename", "") else None


class CorrectionForm(EventForm):
    schema = EventCorrectionSchema

    reason = TextAreaField(
        _l("Why is it corrected?"), validators=text_validators(MAX_REASON_LENGTH, required=True)
    )


class ReasonForm(SchemaForm):
    """Why a batch is recalled, or an event withdrawn: ``RecallInSchema``, as ``EventRetractionSchema``."""

    schema = RecallInSchema

    reason = TextAreaField(_l("Reason"), validators=text_validators(MAX_REASON_LENGTH, required=True))


class RecallCloseForm(SchemaForm):
    """Closing a recall: how it ended and why (``close_recall``, as the API's ``{note, outcome}``)."""

    schema = RecallCloseSchema

    outcome = RadioField(
        _l("How the recall ended"),
        choices=[SelectChoice(code, label) for code, label in RECALL_OUTCOME_LABELS.items()],
        validators=[InputRequired(message=_l("Choose how the recall ended."))],
    )
    note = TextAreaField(
        _l("What was found and done"),
        # Always asked here; the API needs it only to return the lots to sale (close_recall).
        validators=text_validators(MAX_NOTE_LENGTH, required=True, min_length=0),
        description=_l("When the lots return to sale, their public pages show this note."),
    )
