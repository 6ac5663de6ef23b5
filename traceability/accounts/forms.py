"""Forms for signing in and managing users."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo

from traceability.accounts.contracts import TokenRequestSchema
from traceability.accounts.passwords import MAX_PASSWORD_LENGTH
from traceability.core.contracts import column_length
from traceability.core.vocabulary import ROLE_LABELS
from traceability.http.forms import Form, Length, SchemaForm, text_validators
from traceability.models.accounts import User


class LoginForm(SchemaForm):
    """Signing in: the email and password of ``POST /api/v1/tokens``."""

    schema = TokenRequestSchema
    schema_only = ("email", "password")

    email = EmailField(
        _l("Email"), validators=[DataRequired(), Email(), Length(max=column_length(User.email))]
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])


class UserForm(Form):
    """A new account: centre roles for a centre admin, producer users for a producer admin."""

    name = StringField(_l("Full name"), validators=text_validators(User.name, required=True))
    email = EmailField(_l("Email"), validators=[*text_validators(User.email, required=True), Email()])
    password = PasswordField(
        _l("Password"),
        validators=text_validators(MAX_PASSWORD_LENGTH, required=True),
        description=_l(
            "At least 10 characters, not a common password. Give it to the person safely; they sign in with it."
        ),
    )
    role = SelectField(
        _l("Role"),
        choices=[
            SelectChoice(code, ROLE_LABELS[code]) for code in ("centre_staff", "auditor", "centre_admin")
        ],
    )
    is_producer_admin = BooleanField(_l("Can manage the producer's profile and users"))


class ToggleForm(Form):
    """A button that only needs its CSRF token (enable or disable an account)."""


class PasswordChangeForm(Form):
    """The user's own new password, confirmed with the current one."""

    current_password = PasswordField(
        _l("Current password"),
        validators=text_validators(MAX_PASSWORD_LENGTH, required=True),
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=text_validators(MAX_PASSWORD_LENGTH, required=True),
        description=_l("At least 10 characters, not a common password and not your email."),
        render_kw={"autocomplete": "new-password"},
    )
    new_password_again = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
