"""Forms for signing in and managing users."""

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length

from traceability.core.vocabulary import ROLE_LABELS
from traceability.http.forms import Form


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
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=200)],
        description=_l("At least 10 characters, not a common password and not your email."),
        render_kw={"autocomplete": "new-password"},
    )
    new_password_again = PasswordField(
        _l("New password again"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
