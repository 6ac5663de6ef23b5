"""Forms for producers: sign-up, profile, the centre's decisions and the list's filters."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import EmailField, PasswordField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, EqualTo, Optional

from traceability.accounts.passwords import MAX_PASSWORD_LENGTH
from traceability.core.contracts import MAX_SEARCH_LENGTH
from traceability.core.provinces import PROVINCES
from traceability.core.text import fold
from traceability.core.vocabulary import STATUS_LABELS
from traceability.http.forms import Form, SchemaForm, text_validators
from traceability.models.accounts import User
from traceability.models.registry import PRODUCER_STATUSES, Producer
from traceability.registry.contracts import ProducerInSchema, ProducerUpdateSchema, ReasonSchema
from traceability.registry.producers import MAX_REASON_LENGTH

KIND_LABELS = {
    "enterprise": _l("Enterprise"),
    "cooperative": _l("Cooperative (HTX)"),
    "household": _l("Household business"),
}

TAX_CODE_HELP = _l(
    "10 digits, or 10 digits, a dash and 3 digits for a branch. "
    "Required for enterprises and cooperatives; optional for households."
)
WARD_HELP = _l("The ward or commune, as named since 1 July 2025.")
PREVIOUS_ADDRESS_HELP = _l(
    "The address before the 2025 boundary changes, if it differed. Labels printed with the old "
    "address stay lawful for two years after the change, so it is kept beside the current one."
)


def kind_choices() -> list[SelectChoice]:
    return [SelectChoice(code, text) for code, text in KIND_LABELS.items()]


def province_choices(blank: Any) -> list[SelectChoice]:
    """The 34 provinces in alphabetical order (ignoring diacritics), after a blank choice."""
    ordered = sorted(PROVINCES.items(), key=lambda item: fold(item[1]))
    return [SelectChoice("", blank), *(SelectChoice(code, name) for code, name in ordered)]


class SignUpForm(SchemaForm):
    """A producer registers itself and its first user: ``POST /producers``'s contract, and the user."""

    schema = ProducerInSchema
    schema_names = {"street": "address"}

    name = StringField(
        _l("Legal name"),
        validators=text_validators(Producer.name, required=True),
        description=_l("As on the business registration, for example HTX Cà phê Ea Tu."),
    )
    kind = SelectField(_l("Kind"), choices=kind_choices())
    tax_code = StringField(
        _l("Tax code (MST)"), validators=text_validators(Producer.tax_code), description=TAX_CODE_HELP
    )
    province_code = SelectField(
        _l("Province"), choices=province_choices(_l("Choose a province")), validators=[DataRequired()]
    )
    # A sign-up needs its ward and phone (sign_up_producer), which the API leaves to the centre's staff.
    ward = StringField(
        _l("Ward or commune"),
        validators=text_validators(Producer.ward, required=True, min_length=0),
        description=WARD_HELP,
    )
    street = StringField(_l("Street address"), validators=text_validators(Producer.street))
    phone = StringField(_l("Phone"), validators=text_validators(Producer.phone, required=True, min_length=0))
    email = EmailField(
        _l("Contact email"),
        validators=[*text_validators(Producer.email), Email()],
        description=_l("Leave empty to use your sign-in email."),
    )
    user_name = StringField(_l("Your full name"), validators=text_validators(User.name, required=True))
    user_email = EmailField(
        _l("Your email (to sign in)"), validators=[*text_validators(User.email, required=True), Email()]
    )
    user_password = PasswordField(
        _l("Password"),
        validators=text_validators(MAX_PASSWORD_LENGTH, required=True),
        description=_l("At least 10 characters, not a common password."),
    )
    user_password_again = PasswordField(
        _l("Password again"),
        validators=[DataRequired(), EqualTo("user_password", message=_l("The passwords differ."))],
    )

    def to_data(self) -> dict[str, Any]:
        return {
            field.name: field.data
            for field in self
            if field.name not in ("csrf_token", "user_password_again")
        }


class ProducerProfileForm(SchemaForm):
    """A producer's profile: ``PATCH /producers/{id}``'s contract, and its logo."""

    schema = ProducerUpdateSchema
    schema_names = {"street": "address"}

    name = StringField(_l("Legal name"), validators=text_validators(Producer.name, required=True))
    kind = SelectField(_l("Kind"), choices=kind_choices())
    tax_code = StringField(
        _l("Tax code (MST)"), validators=text_validators(Producer.tax_code), description=TAX_CODE_HELP
    )
    ward = StringField(
        _l("Ward or commune"), validators=text_validators(Producer.ward), description=WARD_HELP
    )
    street = StringField(_l("Street address"), validators=text_validators(Producer.street))
    phone = StringField(_l("Phone"), validators=text_validators(Producer.phone))
    email = EmailField(_l("Contact email"), validators=[*text_validators(Producer.email), Email()])
    website = StringField(
        _l("Website"),
        validators=text_validators(Producer.website),
        description=_l("Starting with https://"),
    )
    previous_province_code = SelectField(
        _l("Previous province"),
        choices=province_choices(_l("No previous address")),
        validators=[Optional()],
        description=PREVIOUS_ADDRESS_HELP,
    )
    previous_ward = StringField(
        _l("Previous ward or commune"), validators=text_validators(Producer.previous_ward)
    )
    previous_street = StringField(
        _l("Previous street address"), validators=text_validators(Producer.previous_street)
    )
    logo = FileField(
        _l("Logo"),
        description=_l("A PNG, JPEG or WebP image; leave empty to keep the current logo."),
    )

    def to_data(self) -> dict[str, Any]:
        return {field.name: field.data for field in self if field.name not in ("csrf_token", "logo")}


class DecisionForm(SchemaForm):
    """The centre's decision on a producer; the reason that rejecting and suspending need (``ReasonSchema``)."""

    # Approving and reinstating take no reason: its absence is the service's to refuse.
    schema = ReasonSchema
    schema_partial = True

    reason = TextAreaField(
        _l("Reason"),
        validators=text_validators(MAX_REASON_LENGTH, min_length=1),
        description=_l("Required to reject or suspend: the producer sees it on its profile."),
    )


class ProducerFilterForm(Form):
    """The list's filters, read from the query string (a GET form: no CSRF token)."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Search"),
        validators=text_validators(MAX_SEARCH_LENGTH),
        description=_l("Name or tax code; accents are optional."),
    )
    province = SelectField(
        _l("Province"), choices=province_choices(_l("All provinces")), validators=[Optional()]
    )
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice("", _l("All kinds")), *kind_choices()], validators=[Optional()]
    )
    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("", _l("All statuses")),
            *(SelectChoice(code, STATUS_LABELS[code]) for code in PRODUCER_STATUSES),
        ],
        validators=[Optional()],
    )
