"""Forms for registering products."""

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from traceability.forms import Form

OCOP_GROUP_CHOICES = [
    SelectChoice("", _l("Not OCOP")),
    SelectChoice("food", _l("Food")),
    SelectChoice("beverage", _l("Beverages")),
    SelectChoice("herbal", _l("Medicinal herbs and their products")),
    SelectChoice("handicraft", _l("Handicrafts and textiles")),
    SelectChoice("ornamental", _l("Ornamental plants and animals")),
    SelectChoice("tourism", _l("Community and rural tourism services")),
]


class ProductForm(Form):
    producer_id = SelectField(_l("Producer"), coerce=int)
    name = StringField(_l("Product name (Vietnamese)"), validators=[DataRequired(), Length(max=300)])
    name_en = StringField(_l("Product name (English)"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(_l("Description"), validators=[Optional(), Length(max=5000)])
    category = StringField(_l("Category"), validators=[Optional(), Length(max=100)])
    brand = StringField(_l("Brand"), validators=[Optional(), Length(max=200)])
    gtin = StringField(
        _l("GTIN (barcode number)"),
        validators=[Optional(), Length(max=14)],
        description=_l("8, 12, 13 or 14 digits. Leave empty if the product has no barcode."),
    )
    standards = StringField(_l("Standards applied (TCVN/QCVN)"), validators=[Optional(), Length(max=500)])
    is_flagship = BooleanField(_l("Flagship product of the province"))
    ocop_group = SelectField(_l("OCOP group"), choices=OCOP_GROUP_CHOICES, validators=[Optional()])
    ocop_stars = SelectField(
        _l("OCOP stars"),
        choices=[SelectChoice("", "-"), *(SelectChoice(str(n)) for n in (3, 4, 5))],
        validators=[Optional()],
    )
    ocop_certificate_no = StringField(_l("OCOP certificate number"), validators=[Optional(), Length(max=100)])
    ocop_issued_on = DateField(_l("OCOP certificate issued on"), validators=[Optional()])
    declared_revenue_vnd = IntegerField(
        _l("Declared yearly revenue (VND)"), validators=[Optional(), NumberRange(min=0)]
    )

    def to_data(self) -> dict:
        data = {
            name: getattr(self, name).data
            for name in (
                "producer_id",
                "name",
                "name_en",
                "description",
                "category",
                "brand",
                "gtin",
                "standards",
                "is_flagship",
                "declared_revenue_vnd",
            )
        }
        if self.ocop_group.data or self.ocop_stars.data:
            data["ocop"] = {
                "group": self.ocop_group.data or None,
                "stars": int(self.ocop_stars.data) if self.ocop_stars.data else None,
                "certificate_no": self.ocop_certificate_no.data or None,
                "issued_on": self.ocop_issued_on.data,
            }
        return data
