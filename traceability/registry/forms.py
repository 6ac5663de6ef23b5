"""Forms for products, their images and locations, and the product search."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Optional

from traceability.core.contracts import MAX_SEARCH_LENGTH
from traceability.core.provinces import PROVINCES
from traceability.http.forms import Form, NumberRange, SchemaForm, text_validators, without_blanks
from traceability.models.registry import Certification, Location, Product
from traceability.registry.claims import current_claim
from traceability.registry.contracts import (
    LATITUDE_REFUSAL,
    LONGITUDE_REFUSAL,
    MAX_DESCRIPTION_LENGTH,
    MAX_REVENUE_VND,
    LocationFieldsSchema,
    LocationInSchema,
    ProductFieldsSchema,
    ProductInSchema,
)

OCOP_GROUP_LABELS = {
    "food": _l("Food"),
    "beverage": _l("Beverages"),
    "herbal": _l("Medicinal herbs and their products"),
    "handicraft": _l("Handicrafts and textiles"),
    "ornamental": _l("Ornamental plants and animals"),
    "tourism": _l("Community and rural tourism services"),
}
OCOP_LEVEL_LABELS = {"province": _l("Province level"), "central": _l("Central level")}
LOCATION_KIND_LABELS = {
    "farm": _l("Farm"),
    "facility": _l("Production facility"),
    "warehouse": _l("Warehouse"),
    "other": _l("Other"),
}

OCOP_GROUP_CHOICES = [
    SelectChoice("", _l("Not OCOP")),
    *(SelectChoice(code, label) for code, label in OCOP_GROUP_LABELS.items()),
]
OCOP_STAR_CHOICES = [SelectChoice("", "-"), *(SelectChoice(str(n)) for n in (3, 4, 5))]
PROVINCE_CHOICES = [SelectChoice(code, name) for code, name in PROVINCES.items()]

# The product's own fields, as the service names them.
#: The shop links' textarea, a line per link (the service counts and checks the links themselves).
SHOP_LINKS_TEXT_LENGTH = 5000
PRODUCT_FIELDS = (
    "name",
    "name_en",
    "description",
    "category",
    "brand",
    "gtin",
    "standards",
    "tech_origin",
    "declared_revenue_vnd",
)


def _optional_int(value: Any) -> int | None:
    return int(value) if value not in (None, "") else None


def parse_shop_links(value: str | None) -> list[dict[str, str]]:
    """Shop links from a textarea, one per line: "name | url | price", "name | url" or just the url.

    The first part that starts with http:// or https:// is the address: the
    parts before it are the name, the one after it the price. Without such a
    part the last one is taken as the address, which the service then refuses
    with a message that says so.
    """
    links = []
    for line in (value or "").splitlines():
        if line.strip():
            parts = [part.strip() for part in line.split("|")]
            at = next(
                (i for i, part in enumerate(parts) if part.lower().startswith(("http://", "https://"))),
                len(parts) - 1,
            )
            links.append(
                {
                    "name": " | ".join(parts[:at]),
                    "url": parts[at],
                    "price_vnd": " ".join(parts[at + 1 :]),
                }
            )
    return links


def shop_links_text(links: list[dict[str, Any]]) -> str:
    """The textarea's lines for stored shop links, the inverse of parse_shop_links."""
    lines = []
    for link in links:
        price = link.get("price_vnd")
        lines.append(f"{link['name']} | {link['url']}" + (f" | {price:,}".replace(",", ".") if price else ""))
    return "\n".join(lines)


class OcopForm(Form):
    """The OCOP certificate: a part of the product form, its fields named ocop-group, ocop-stars..."""

    class Meta:
        csrf = False

    group = SelectField(_l("OCOP group"), choices=OCOP_GROUP_CHOICES, validators=[Optional()])
    stars = SelectField(
        _l("OCOP stars"), choices=OCOP_STAR_CHOICES, coerce=_optional_int, validators=[Optional()]
    )
    certificate_no = StringField(
        _l("OCOP certificate number"), validators=text_validators(Certification.number)
    )
    issued_on = DateField(_l("OCOP certificate issued on"), validators=[Optional()])
    expires_on = DateField(
        _l("OCOP certificate valid until"),
        validators=[Optional()],
        description=_l("Leave empty: 36 months after the issue date."),
    )


class ProductForm(SchemaForm):
    """A product's fields (``PATCH /products/{id}``'s contract); registering one also names its producer
    (NewProductForm)."""

    schema = ProductFieldsSchema
    schema_exclude = ("shop_links",)  # the textarea's lines are the service's to read (parse_shop_links)

    name = StringField(
        _l("Product name (Vietnamese)"), validators=text_validators(Product.name, required=True)
    )
    name_en = StringField(_l("Product name (English)"), validators=text_validators(Product.name_en))
    description = TextAreaField(
        _l("Description"), validators=text_validators(MAX_DESCRIPTION_LENGTH), render_kw={"rows": 5}
    )
    category = StringField(_l("Category"), validators=text_validators(Product.category))
    brand = StringField(_l("Brand"), validators=text_validators(Product.brand))
    gtin = StringField(
        _l("GTIN (barcode number)"),
        validators=text_validators(Product.gtin),
        description=_l("8, 12, 13 or 14 digits. Leave empty if the product has no barcode."),
    )
    standards = StringField(
        _l("Standards applied (TCVN/QCVN)"),
        validators=text_validators(Product.standards),
        description=_l("Separated by commas, for example: TCVN 5250:2015, QCVN 8-2:2011/BYT"),
    )
    shop_links = TextAreaField(
        _l("Where to buy"),
        validators=text_validators(SHOP_LINKS_TEXT_LENGTH),
        description=_l("One link per line: shop name | https://... address | price in đồng (optional)"),
        render_kw={"rows": 3},
    )
    is_flagship = BooleanField(
        _l("Flagship product of the province"),
        description=_l("Shown to the public once your centre confirms it."),
    )
    ocop = FormField(OcopForm, label=_l("OCOP"))
    ocop_document = FileField(
        _l("OCOP decision (PDF or photo)"),
        description=_l(
            "Your centre checks the rating against this document before it is shown to the public."
        ),
    )
    tech_origin = StringField(
        _l("Technology transfer or S&T task it came from"), validators=text_validators(Product.tech_origin)
    )
    declared_revenue_vnd = IntegerField(
        _l("Declared yearly revenue (VND)"), validators=[Optional(), NumberRange(min=0, max=MAX_REVENUE_VND)]
    )
    photo = FileField(
        _l("Photo of the product (optional)"),
        description=_l(
            "PNG, JPEG or WebP. It is resized for the web; location data in the photo is removed."
        ),
    )
    # The photo of a refused submit, kept for the next one (``http.kept_uploads``).
    kept_photo = HiddenField()
    # The OCOP decision of a refused submit, kept likewise.
    kept_ocop_document = HiddenField()

    def fill_from(self, product: Product) -> None:
        """Show a stored product's values (GET of the edit page)."""
        for name in PRODUCT_FIELDS:
            getattr(self, name).data = getattr(product, name)
        self.shop_links.data = shop_links_text(product.shop_links or [])
        ocop = current_claim(product, "ocop")
        if ocop is not None and ocop.status != "rejected":
            self.ocop.group.data = ocop.claim_ocop_group
            self.ocop.stars.data = ocop.claim_ocop_stars
            self.ocop.certificate_no.data = ocop.number
            self.ocop.issued_on.data = ocop.valid_from
            self.ocop.expires_on.data = ocop.valid_to
        flagship = current_claim(product, "flagship")
        self.is_flagship.data = flagship is not None and flagship.status in ("pending", "verified")

    def schema_input(self) -> dict[str, Any]:
        """The product's fields as the API's body, its OCOP rating as one object."""
        data: dict[str, Any] = {name: getattr(self, name).data for name in PRODUCT_FIELDS}
        data["is_flagship"] = self.is_flagship.data
        ocop = {name: value for name, value in self.ocop.data.items() if name != "csrf_token"}
        data["ocop"] = ocop if ocop["group"] or ocop["stars"] else None
        return without_blanks(data)

    def to_data(self, ocop_document: tuple[bytes | None, str | None] = (None, None)) -> dict[str, Any]:
        """The input of create_product and update_product; "Not OCOP" withdraws the OCOP claim.

        ``ocop_document``: the OCOP decision's bytes and name (``http.kept_uploads.Attachment.read``:
        the file chosen, or the one kept from the last refused submit).
        """
        data = {name: getattr(self, name).data for name in PRODUCT_FIELDS}
        data["is_flagship"] = self.is_flagship.data
        data["shop_links"] = parse_shop_links(self.shop_links.data)
        ocop = self.ocop.data
        data["ocop"] = {**ocop, "group": ocop["group"] or None} if ocop["group"] or ocop["stars"] else None
        document, document_name = ocop_document
        if data["ocop"] is not None and document is not None:
            data["ocop"]["document"] = document
            data["ocop"]["document_name"] = document_name
        return data


class NewProductForm(ProductForm):
    schema = ProductInSchema

    producer_id = SelectField(_l("Producer"), coerce=int)

    def schema_input(self) -> dict[str, Any]:
        return {**super().schema_input(), "producer_id": self.producer_id.data}

    def to_data(self, ocop_document: tuple[bytes | None, str | None] = (None, None)) -> dict[str, Any]:
        return {**super().to_data(ocop_document), "producer_id": self.producer_id.data}


class ProductImageForm(Form):
    file = FileField(
        _l("Add a photo"),
        validators=[FileRequired(_l("Choose an image file."))],
        description=_l(
            "PNG, JPEG or WebP. It is resized for the web; location data in the photo is removed."
        ),
    )


class ProductSearchForm(Form):
    """The filters of the product list, read from the query string."""

    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=text_validators(MAX_SEARCH_LENGTH))
    province = SelectField(
        _l("Province"), choices=[SelectChoice("", _l("All")), *PROVINCE_CHOICES], validators=[Optional()]
    )
    producer_id = SelectField(_l("Producer"), coerce=_optional_int, validators=[Optional()])
    ocop_group = SelectField(
        _l("OCOP group"),
        choices=[SelectChoice("", _l("All")), *OCOP_GROUP_CHOICES[1:]],
        validators=[Optional()],
    )
    ocop_stars = SelectField(
        _l("OCOP stars"),
        choices=[SelectChoice("", _l("All")), *OCOP_STAR_CHOICES[1:]],
        coerce=_optional_int,
        validators=[Optional()],
    )
    flagship = BooleanField(_l("Flagship products only"))

    def filters(self) -> dict[str, Any]:
        """The search_products arguments; a filter the form refused is left out."""
        names = ("q", "province", "producer_id", "ocop_group", "ocop_stars")
        filters = {name: None if self[name].errors else self[name].data or None for name in names}
        return {**filters, "flagship": True if self.flagship.data else None}


class LocationForm(SchemaForm):
    """A location's fields (``PATCH /locations/{id}``'s contract); adding one also names its producer
    (NewLocationForm)."""

    schema = LocationFieldsSchema
    schema_names = {"street": "address"}

    name = StringField(_l("Name"), validators=text_validators(Location.name, required=True))
    kind = SelectField(
        _l("Kind"), choices=[SelectChoice(code, label) for code, label in LOCATION_KIND_LABELS.items()]
    )
    province_code = SelectField(_l("Province"), choices=PROVINCE_CHOICES)
    ward = StringField(_l("Ward or commune"), validators=text_validators(Location.ward))
    street = StringField(_l("Street address or hamlet"), validators=text_validators(Location.street))
    gln = StringField(
        _l("GLN (GS1 location number)"),
        validators=text_validators(Location.gln),
        description=_l("13 digits, if the location has one. Without it the location gets an internal code."),
    )
    latitude = DecimalField(
        _l("Latitude"),
        places=None,
        validators=[Optional(), NumberRange(-90, 90, message=LATITUDE_REFUSAL)],
        description=_l("For example 12.6675"),
    )
    longitude = DecimalField(
        _l("Longitude"),
        places=None,
        validators=[Optional(), NumberRange(-180, 180, message=LONGITUDE_REFUSAL)],
        description=_l("For example 108.0378"),
    )

    FIELDS: tuple[str, ...] = (
        "name",
        "kind",
        "province_code",
        "ward",
        "street",
        "gln",
        "latitude",
        "longitude",
    )

    def fill_from(self, location: Any) -> None:
        """Show a stored location's values (GET of the edit page)."""
        for name in self.FIELDS:
            getattr(self, name).data = getattr(location, name)

    def to_data(self) -> dict[str, Any]:
        """The input of create_location and update_location."""
        return {name: getattr(self, name).data for name in self.FIELDS}


class NewLocationForm(LocationForm):
    schema = LocationInSchema

    producer_id = SelectField(_l("Producer"), coerce=int)

    def to_data(self) -> dict[str, Any]:
        return {**super().to_data(), "producer_id": self.producer_id.data}
