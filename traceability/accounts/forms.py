"""Forms for signing in and managing users."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length

from traceability.forms import Form
from traceability.vocabulary import ROLE_LABELS


class LoginForm(Form):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class UserForm(Form):
    """A new account: centre roles for a centre admin, producer users for a producer admin."""

    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("At least 8 characters. Give it to the person safely; they sign in with it."),
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
