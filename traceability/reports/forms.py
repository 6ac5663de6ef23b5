"""Forms for the centre's contracts, technology processes and S&T tasks, and the scans' date range."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectChoice, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Optional, ValidationError

from traceability.core.dates import vietnam_today
from traceability.http.forms import Form, Length, text_validators
from traceability.models.reports import (
    CONTRACT_KINDS,
    TASK_LEVELS,
    TASK_STATUSES,
    CentreContract,
    ScienceTask,
    TechnologyProcess,
)
from traceability.reports.centre_work import MAX_DESCRIPTION
from traceability.reports.scan_analytics import MAX_DAYS, Period
from traceability.reports.yearly import (
    CONTRACT_KIND_LABELS,
    FIRST_YEAR,
    TASK_LEVEL_LABELS,
    TASK_STATUS_LABELS,
)

#: The contract's value as typed, with its dots ("150.000.000"); the column holds the number.
VALUE_TEXT_LENGTH = 30
PRODUCTS_HELP = _l("The products this produced, if any. Hold Ctrl (or ⌘) to choose several.")


def _choices(codes: tuple[str, ...], labels: dict[str, Any]) -> list[SelectChoice]:
    return [SelectChoice(code, labels[code]) for code in codes]


class _CentreWorkForm(Form):
    """The common part: the linked products, and copying values in and out."""

    FIELDS: tuple[str, ...] = ()

    product_ids = SelectMultipleField(
        _l("Products"), coerce=int, validators=[Optional()], description=PRODUCTS_HELP
    )

    def fill_from(self, record: Any) -> None:
        """Show a stored record's values (GET of the edit page)."""
        for name in self.FIELDS:
            getattr(self, name).data = getattr(record, name)
        self.product_ids.data = [product.id for product in record.products]

    def to_data(self) -> dict[str, Any]:
        """The input of the service's save function."""
        return {
            **{name: getattr(self, name).data for name in self.FIELDS},
            "product_ids": self.product_ids.data or [],
        }


class ContractForm(_CentreWorkForm):
    FIELDS = ("kind", "number", "counterparty", "signed_on", "value_vnd", "description")

    kind = SelectField(
        _l("Kind"), choices=_choices(CONTRACT_KINDS, CONTRACT_KIND_LABELS), validators=[DataRequired()]
    )
    number = StringField(
        _l("Contract number"), validators=text_validators(CentreContract.number, required=True)
    )
    counterparty = StringField(
        _l("Counterparty"),
        validators=text_validators(CentreContract.counterparty, required=True),
        description=_l("The enterprise, cooperative or agency the contract is with."),
    )
    signed_on = DateField(_l("Signed on"), validators=[DataRequired()])
    value_vnd = StringField(
        _l("Value (VND)"),
        validators=[DataRequired(), Length(max=VALUE_TEXT_LENGTH)],
        description=_l("In đồng, for example 150.000.000."),
    )
    description = TextAreaField(_l("Description (optional)"), validators=text_validators(MAX_DESCRIPTION))

    def fill_from(self, record: Any) -> None:
        super().fill_from(record)
        self.value_vnd.data = format_decimal(record.value_vnd)


class ProcessForm(_CentreWorkForm):
    FIELDS = ("name", "mastered_on", "description")

    name = StringField(
        _l("Technology process"), validators=text_validators(TechnologyProcess.name, required=True)
    )
    mastered_on = DateField(
        _l("Mastered on"),
        validators=[DataRequired()],
        description=_l("When the centre mastered the process."),
    )
    description = TextAreaField(_l("Description (optional)"), validators=text_validators(MAX_DESCRIPTION))


class TaskForm(_CentreWorkForm):
    FIELDS = ("name", "code", "level", "starts_on", "ends_on", "status")

    name = StringField(_l("Task name"), validators=text_validators(ScienceTask.name, required=True))
    code = StringField(
        _l("Task code"),
        validators=text_validators(ScienceTask.code, required=True),
        description=_l("The code in the decision approving it."),
    )
    level = SelectField(
        _l("Level"), choices=_choices(TASK_LEVELS, TASK_LEVEL_LABELS), validators=[DataRequired()]
    )
    starts_on = DateField(_l("Start"), validators=[DataRequired()])
    ends_on = DateField(
        _l("End (optional)"),
        validators=[Optional()],
        description=_l("Leave empty while the task is running."),
    )
    status = SelectField(
        _l("Status"), choices=_choices(TASK_STATUSES, TASK_STATUS_LABELS), validators=[DataRequired()]
    )


class ScanPeriodForm(Form):
    """The scan analytics' date range, read from the query string; both days included.

    Without dates it is the last 30 days; with only a start, from it to today;
    with only an end, the 30 days ending on it.
    """

    class Meta:
        csrf = False  # a GET filter changes nothing

    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])

    def validate_date_from(self, field: DateField) -> None:
        _check_scan_day(field.data)

    def validate_date_to(self, field: DateField) -> None:
        _check_scan_day(field.data)
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date cannot be before the start date."))

    def _chosen(self) -> Period:
        today = vietnam_today()
        start, end = self.date_from.data, self.date_to.data
        if start is None:
            return Period.ending(end or today)
        return Period(start, end or today)

    def period(self) -> Period | None:
        """The chosen days, or None (with the errors on the form) when the dates are not valid."""
        if not self.validate():
            return None
        period = self._chosen()
        if period.length > MAX_DAYS:
            self.date_from.errors = [
                *self.date_from.errors,
                _l("Choose at most %(days)d days.", days=MAX_DAYS),
            ]
            return None
        return period


def _check_scan_day(day: date | None) -> None:
    """A day scans can have happened on: from the first year of the registry to today."""
    if day is None:
        return
    if day > vietnam_today():
        raise ValidationError(_l("Choose a day no later than today."))
    if day.year < FIRST_YEAR:
        raise ValidationError(_l("Choose a day from %(year)d on.", year=FIRST_YEAR))
