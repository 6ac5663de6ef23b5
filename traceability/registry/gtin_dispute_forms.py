"""Forms for GTIN disputes: a producer's claim to a GTIN another holds, and the centre's decision."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import HiddenField, RadioField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired

from traceability.http.forms import SchemaForm, text_validators
from traceability.models.registry import GtinDispute
from traceability.registry.contracts import DecideSchema, GtinDisputeInSchema
from traceability.registry.gtin_disputes import MAX_NOTE_LENGTH, MAX_REASON_LENGTH

OUTCOME_CHOICES = [
    SelectChoice("claimant", _l("The claimant: move the GTIN to the claimant's product")),
    SelectChoice("holder", _l("The holder: the GTIN stays where it is")),
]


class DisputeForm(SchemaForm):
    """Claiming a GTIN: ``POST /gtin-disputes``' contract, and the evidence document."""

    schema = GtinDisputeInSchema

    gtin = StringField(_l("GTIN"), validators=text_validators(GtinDispute.gtin, required=True))
    product_id = SelectField(
        _l("Your product that should carry it"),
        coerce=int,
        validators=[DataRequired()],
        description=_l(
            "A product of yours without a GTIN and without batches; it takes the GTIN if granted."
        ),
    )
    gs1_membership_no = StringField(
        _l("GS1 Vietnam membership certificate number"),
        validators=text_validators(GtinDispute.gs1_membership_no),
    )
    gs1_company_prefix = StringField(
        _l("GS1 company prefix"),
        validators=text_validators(GtinDispute.gs1_company_prefix),
        description=_l("The digits your GTINs start with, as GS1 Vietnam assigned them, such as 8936045."),
    )
    note = TextAreaField(_l("Anything the centre should know"), validators=text_validators(MAX_NOTE_LENGTH))
    document = FileField(
        _l("Evidence document (PDF or photo)"),
        description=_l(
            "Your GS1 Vietnam membership certificate, for example: a PDF, or a JPEG, PNG or WebP photo."
        ),
    )
    # The document of a refused submit, kept for the next one (``http.kept_uploads``).
    kept_document = HiddenField()

    def to_data(self) -> dict[str, Any]:
        return {
            name: getattr(self, name).data
            for name in ("gtin", "product_id", "gs1_membership_no", "gs1_company_prefix", "note")
        }


class DecideForm(SchemaForm):
    """The centre's decision on a dispute: ``POST /gtin-disputes/{id}/decide``' contract."""

    schema = DecideSchema

    outcome = RadioField(_l("Who holds the GTIN"), choices=OUTCOME_CHOICES, validators=[DataRequired()])
    reason = TextAreaField(
        _l("Reason"),
        validators=text_validators(MAX_REASON_LENGTH, required=True),
        description=_l("Both producers see the reason."),
    )
