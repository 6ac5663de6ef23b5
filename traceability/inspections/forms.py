"""Forms for inspections: choosing the subject, the inspection with its checklist, the follow-up, the list's filters."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired, MultipleFileField
from werkzeug.datastructures import FileStorage
from wtforms import (
    DateField,
    FormField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Optional

from traceability.http.forms import Form, SchemaForm, text_validators, without_blanks
from traceability.inspections.checklists import ANSWER_LABELS, checklist_for, item_label
from traceability.inspections.contracts import AnswerSchema, CloseSchema, InspectionInSchema, ReopenSchema
from traceability.inspections.queries import OUTCOME_LABELS, SEVERITY_LABELS, STATUS_LABELS
from traceability.inspections.service import MAX_NOTE, MAX_TEXT
from traceability.models.inspections import INSPECTION_STATUSES, Inspection

ANSWER_CHOICES = [SelectChoice(code, label) for code, label in ANSWER_LABELS.items()]


def read_upload(upload: Any, max_bytes: int) -> bytes | None:
    """An uploaded file's bytes (one past the limit at most, so the service can refuse it), or None."""
    if not isinstance(upload, FileStorage) or not upload.filename:
        return None
    return upload.stream.read(max_bytes + 1)


class SubjectForm(Form):
    """The first step: what is inspected. A GET form: it only chooses."""

    class Meta:
        csrf = False

    # "kind:id", e.g. "batch:12": one choice names both the kind of subject and which one.
    subject = SelectField(_l("What is inspected"), validators=[DataRequired()])


class _SubForm(Form):
    class Meta:
        csrf = False  # a subform: the outer form carries the token


class InspectionForm(SchemaForm):
    """Recording an inspection: ``POST /inspections``' contract (the view names its subject), and photos."""

    schema = InspectionInSchema
    schema_partial = ("subject_kind", "subject_id")

    inspected_on = DateField(_l("Date of the inspection"), validators=[DataRequired()])
    inspector = StringField(
        _l("Inspector"),
        validators=text_validators(Inspection.inspector, required=True),
        description=_l("Who inspected; name everyone who took part."),
    )
    findings = TextAreaField(
        _l("Findings"),
        validators=text_validators(MAX_TEXT),
        description=_l("What was seen. For a nonconformity, say what must change: the producer answers it."),
    )
    outcome = RadioField(
        _l("Outcome"),
        choices=[SelectChoice(code, label) for code, label in OUTCOME_LABELS.items()],
        validators=[InputRequired(message=_l("Choose conforming or nonconformity."))],
    )
    severity = SelectField(
        _l("Severity of the nonconformity"),
        choices=[
            SelectChoice("", "-"),
            *(SelectChoice(code, label) for code, label in SEVERITY_LABELS.items()),
        ],
        validators=[Optional()],
        description=_l("Only for a nonconformity."),
    )
    follow_up_on = DateField(
        _l("Follow-up date"),
        validators=[Optional()],
        description=_l("Required for a nonconformity: the day by which the producer answers."),
    )
    photos = MultipleFileField(
        _l("Photos"),
        description=_l("JPEG, PNG or WebP photos taken at the inspection; you may choose several."),
    )

    def _checklist_items(self) -> list[str]:
        checklist = getattr(self, "checklist", None)
        return list(checklist.form._fields) if isinstance(checklist, FormField) else []

    def schema_input(self) -> dict[str, Any]:
        """The inspection as the API's body, its checklist in the form's order; the view names the subject."""
        data = {
            name: getattr(self, name).data
            for name in ("inspected_on", "inspector", "findings", "outcome", "severity", "follow_up_on")
        }
        data["checklist"] = [
            without_blanks({"item": code, "answer": self.checklist[code].data, "note": self.notes[code].data})
            for code in self._checklist_items()
        ]
        return without_blanks(data)

    def schema_field(self, path: tuple[Any, ...]) -> Any:
        """A refusal of the checklist's row ``n`` goes to that item's answer or note."""
        items = self._checklist_items()
        if path[0] == "checklist" and len(path) > 1 and isinstance(path[1], int) and path[1] < len(items):
            code = items[path[1]]
            return self.notes[code] if path[2:] == ("note",) else self.checklist[code]
        return super().schema_field(path)

    def checklist_data(self, kind: str) -> list[dict[str, Any]]:
        return [
            {"item": code, "answer": self.checklist[code].data, "note": self.notes[code].data}
            for code in checklist_for(kind)
        ]

    def to_data(self, kind: str, subject_id: int) -> dict[str, Any]:
        return {
            "subject_kind": kind,
            "subject_id": subject_id,
            "inspected_on": self.inspected_on.data,
            "inspector": self.inspector.data,
            "findings": self.findings.data,
            "outcome": self.outcome.data,
            "severity": self.severity.data or None,
            "follow_up_on": self.follow_up_on.data,
            "checklist": self.checklist_data(kind),
        }

    def photo_uploads(self, max_bytes: int) -> list[bytes]:
        uploads = (read_upload(upload, max_bytes) for upload in self.photos.data or [])
        return [data for data in uploads if data is not None]


def inspection_form(kind: str, **kwargs: Any) -> InspectionForm:
    """The inspection form with the checklist of ``kind``: an answer and a note for each item."""
    items = checklist_for(kind)
    answers = type(
        "ChecklistForm",
        (_SubForm,),
        {
            code: RadioField(
                item_label(code),
                choices=ANSWER_CHOICES,
                validators=[InputRequired(message=_l("Answer yes, no or not applicable."))],
            )
            for code in items
        },
    )
    notes = type(
        "ChecklistNotesForm",
        (_SubForm,),
        {code: StringField(_l("Note"), validators=text_validators(MAX_NOTE)) for code in items},
    )
    form_class = type(
        "KindInspectionForm",
        (InspectionForm,),
        {"checklist": FormField(answers, label=_l("Checklist")), "notes": FormField(notes)},
    )
    return form_class(**kwargs)


class AnswerForm(SchemaForm):
    schema = AnswerSchema

    response = TextAreaField(
        _l("Your answer"),
        validators=text_validators(MAX_TEXT, required=True),
        description=_l(
            "What you did about the nonconformity. The centre reads it and closes it or asks for more."
        ),
    )
    photo = FileField(
        _l("Photo (optional)"), description=_l("A JPEG, PNG or WebP photo showing the correction.")
    )


class CloseForm(SchemaForm):
    schema = CloseSchema

    note = TextAreaField(_l("Note (optional)"), validators=text_validators(MAX_TEXT))


class ReopenForm(SchemaForm):
    schema = ReopenSchema

    reason = TextAreaField(
        _l("Why it is reopened"),
        validators=text_validators(MAX_TEXT, required=True),
        description=_l("The producer sees this and answers again."),
    )
    follow_up_on = DateField(_l("New follow-up date (optional)"), validators=[Optional()])


class PhotoForm(Form):
    file = FileField(_l("Add a photo"), validators=[FileRequired()])


class InspectionFilterForm(Form):
    class Meta:
        csrf = False  # a GET search form changes nothing

    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("", _l("All")),
            *(SelectChoice(code, STATUS_LABELS[code]) for code in INSPECTION_STATUSES),
        ],
        validators=[Optional()],
    )
    outcome = SelectField(
        _l("Outcome"),
        choices=[
            SelectChoice("", _l("All")),
            *(SelectChoice(code, label) for code, label in OUTCOME_LABELS.items()),
        ],
        validators=[Optional()],
    )
    severity = SelectField(
        _l("Severity"),
        choices=[
            SelectChoice("", _l("All")),
            *(SelectChoice(code, label) for code, label in SEVERITY_LABELS.items()),
        ],
        validators=[Optional()],
    )
    producer_id = SelectField(_l("Producer"), validators=[Optional()])

    def filters(self) -> dict[str, str]:
        """The filters that hold a valid choice; the others are ignored."""
        self.validate()
        return {field.name: field.data for field in self if field.data and not field.errors}
