"""Forms for certifications: recording, editing, the centre's decision, the list's filters."""

from __future__ import annotations

from typing import Any, ClassVar

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import DateField, HiddenField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional

from traceability.http.forms import Form, SchemaForm, text_validators, without_blanks
from traceability.models.registry import CLAIM_TYPES, Certification
from traceability.registry.certifications import (
    CERTIFICATION_SCOPE_LABELS,
    CERTIFICATION_TYPE_LABELS,
    MAX_REASON_LENGTH,
)
from traceability.registry.contracts import CertificationInSchema, RejectSchema

TYPE_CHOICES = [SelectChoice(code, label) for code, label in CERTIFICATION_TYPE_LABELS.items()]
# OCOP ratings and flagship designations are declared on the product (registry.product_claims).
NEW_TYPE_CHOICES = [choice for choice in TYPE_CHOICES if choice.value not in CLAIM_TYPES]
STATE_CHOICES = [
    SelectChoice("", _l("All")),
    SelectChoice("pending", _l("Waiting for verification")),
    SelectChoice("verified", _l("Verified")),
    SelectChoice("rejected", _l("Rejected")),
    SelectChoice("expired", _l("Expired")),
]


def _document_field() -> FileField:
    return FileField(
        _l("Certificate document (PDF or photo)"),
        description=_l(
            "A PDF, or a JPEG, PNG or WebP photo. The centre verifies the certificate against it."
        ),
    )


class CertificationDataForm(SchemaForm):
    """A certificate's own data (``POST /certifications``' contract without its subject): editing one."""

    schema = CertificationInSchema
    schema_only: ClassVar[tuple[str, ...] | None] = ("type", "number", "issuer", "valid_from", "valid_to")

    type = SelectField(_l("Type"), choices=NEW_TYPE_CHOICES, validators=[DataRequired()])
    number = StringField(
        _l("Certificate number"), validators=text_validators(Certification.number, required=True)
    )
    issuer = StringField(
        _l("Issued by"),
        validators=text_validators(Certification.issuer, required=True),
        description=_l("The certification body or authority named on the certificate."),
    )
    valid_from = DateField(_l("Valid from"), validators=[DataRequired()])
    valid_to = DateField(_l("Valid until"), validators=[DataRequired()])
    document = _document_field()
    # The document of a refused submit, kept for the next one (``http.kept_uploads``).
    kept_document = HiddenField()

    def to_data(self) -> dict[str, Any]:
        return {
            name: getattr(self, name).data for name in ("type", "number", "issuer", "valid_from", "valid_to")
        }

    def schema_input(self) -> dict[str, Any]:
        return without_blanks(self.to_data())


class CertificationForm(CertificationDataForm):
    """Recording a certificate: ``POST /certifications``' contract; the subject names scope and id."""

    schema_only = None

    # "scope:id", e.g. "product:12": one choice names both what is covered and which one.
    subject = SelectField(_l("What the certificate covers"), validators=[DataRequired()])

    def to_data(self) -> dict[str, Any]:
        scope, _sep, subject_id = (self.subject.data or "").partition(":")
        return {
            **super().to_data(),
            "scope": scope,
            "subject_id": int(subject_id) if subject_id.isdigit() else None,
        }

    def schema_field(self, path: tuple[Any, ...]) -> Any:
        if path[0] in ("scope", "subject_id"):  # both come from the one choice of subject
            return self.subject
        return super().schema_field(path)


class VerifyForm(Form):
    """Only the CSRF token: the decision is the button."""


class RejectForm(SchemaForm):
    schema = RejectSchema

    reason = TextAreaField(
        _l("Reason for rejection"),
        validators=text_validators(MAX_REASON_LENGTH, required=True),
        description=_l("The producer sees this reason."),
    )


class CertificationFilterForm(Form):
    class Meta:
        csrf = False  # a GET search form changes nothing

    state = SelectField(_l("Status"), choices=STATE_CHOICES, validators=[Optional()])
    type = SelectField(
        _l("Type"), choices=[SelectChoice("", _l("All")), *TYPE_CHOICES], validators=[Optional()]
    )
    scope = SelectField(
        _l("Covers"),
        choices=[
            SelectChoice("", _l("All")),
            *(SelectChoice(code, label) for code, label in CERTIFICATION_SCOPE_LABELS.items()),
        ],
        validators=[Optional()],
    )
    producer_id = SelectField(_l("Producer"), validators=[Optional()])

    def filters(self) -> dict[str, str]:
        """The filters that hold a valid choice; the others are ignored."""
        self.validate()
        return {field.name: field.data for field in self if field.data and not field.errors}
