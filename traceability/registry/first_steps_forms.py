"""The start page's form: the product, its photo, its place and its certificate at once.

Each part is the form of its own page (the product's fields, ``LocationForm``,
``CertificationDataForm``), under a prefix (``product-name``,
``place-ward``, ``certificate-number``) and validated through the same API
schema; ``StartForm`` carries the CSRF token, the photo, the choice of an
existing place and what the certificate covers. ``start_form()`` builds them
together; a refusal's field ``product.name`` finds its field as
``start.product.name`` (``http.web.show_errors``).
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import HiddenField, SelectChoice, SelectField

from traceability.http.forms import Form, SchemaForm
from traceability.registry.certification_forms import CertificationDataForm
from traceability.registry.contracts import ProductInSchema
from traceability.registry.forms import LocationForm, ProductForm

#: The value of "a new place" in the choice of place.
NEW_PLACE = 0

COVERS_CHOICES = [
    SelectChoice("location", _l("The farm or facility")),
    SelectChoice("product", _l("The product")),
]


class FirstProductForm(SchemaForm):
    """The product's name and category: the rest can wait for the product's own page."""

    schema = ProductInSchema
    schema_only = ("name", "category")

    name = ProductForm.name
    category = ProductForm.category

    def to_data(self) -> dict[str, Any]:
        return {"name": self.name.data, "category": self.category.data}


class FirstPlaceForm(LocationForm):
    """A new place: its name, kind and address (GLN and coordinates on its own page later)."""

    FIELDS: tuple[str, ...] = ("name", "kind", "province_code", "ward", "street")
    schema_only = ("name", "kind", "province_code", "ward", "address")


class StartForm(Form):
    photo = FileField(
        _l("A photo of the product"),
        description=_l("PNG, JPEG or WebP. Consumers see it when they scan the QR code."),
    )
    # The photo of a refused submit, kept for the next one (``http.kept_uploads``).
    kept_photo = HiddenField()
    place_id = SelectField(_l("Where it is made"), coerce=int)
    covers = SelectField(_l("What the certificate covers"), choices=COVERS_CHOICES)

    product: FirstProductForm
    place: FirstPlaceForm
    certificate: CertificationDataForm

    def wants_certificate(self) -> bool:
        """Whether any of the certificate's own fields was filled in (its type has a default)."""
        part = self.certificate
        upload = part.document.data
        return bool(
            part.number.data
            or part.issuer.data
            or (part.valid_from.raw_data and part.valid_from.raw_data[0])
            or (part.valid_to.raw_data and part.valid_to.raw_data[0])
            or getattr(upload, "filename", None)
            or part.kept_document.data
        )

    def validate_parts(self) -> bool:
        """Validate the start form and each part it needs; every part's errors are shown at once."""
        if not self.is_submitted():
            return False
        valid = self.validate()
        valid = self.product.validate() and valid
        if self.place_id.data == NEW_PLACE:
            valid = self.place.validate() and valid
        if self.wants_certificate():
            valid = self.certificate.validate() and valid
        return valid

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.product.errors or self.place.errors or self.certificate.errors)


def start_form(places: list[tuple[int, str]]) -> StartForm:
    """The start form with its parts, offering ``places`` (id, name) besides a new one."""
    form = StartForm()
    parts_meta = {"csrf": False}
    form.product = FirstProductForm(prefix="product", meta=parts_meta)
    form.place = FirstPlaceForm(prefix="place", meta=parts_meta)
    form.certificate = CertificationDataForm(prefix="certificate", meta=parts_meta)
    form.place_id.choices = [
        SelectChoice(NEW_PLACE, _l("A new place (below)")),
        *(SelectChoice(place_id, name) for place_id, name in places),
    ]
    return form
