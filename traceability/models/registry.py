"""Centres, producers, locations, products and certifications."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    Text,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from traceability.core.database import UTCDateTime
from traceability.core.dates import utcnow
from traceability.core.extensions import Model
from traceability.core.ownership import producer_owned, product_owned
from traceability.core.provinces import province_name, sql_in_list
from traceability.core.text import fold

if TYPE_CHECKING:
    from traceability.models.batches import Batch

PRODUCER_KINDS = ("enterprise", "cooperative", "household")
PRODUCER_STATUSES = ("pending", "approved", "rejected", "suspended")
LOCATION_KINDS = ("farm", "facility", "warehouse", "other")
OCOP_GROUPS = ("food", "beverage", "herbal", "handicraft", "ornamental", "tourism")
# The province certifies 3 and 4 stars, the central council 5 (Decision 1489/QĐ-TTg, 2025).
OCOP_LEVELS = ("province", "central")
CERTIFICATION_TYPES = (
    "vietgap",
    "globalgap",
    "organic",
    "iso22000",
    "haccp",
    "iso9001",
    "ocop",
    "flagship",
    "other",
)
# A product's claims: its OCOP rating and its flagship designation. Each is a certification
# of the product, verified by its centre like any other; the product's public OCOP and
# flagship columns copy the verified claim (``registry.claims.publish_claims``).
CLAIM_TYPES = ("ocop", "flagship")
CERTIFICATION_SCOPES = ("producer", "location", "product")
CERTIFICATION_STATUSES = ("pending", "verified", "rejected")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Centre(Model):
    """A provincial technology application and transfer centre, one per province."""

    __tablename__ = "centre"
    __table_args__ = (CheckConstraint(f"province_code IN ({sql_in_list()})", name="province_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    province_code: Mapped[str] = mapped_column(String(2), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    address: Mapped[str] = mapped_column(String(500), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def province_name(self) -> str:
        return province_name(self.province_code)


class AddressMixin:
    """A Vietnamese address since 1 July 2025: province, ward, street."""

    province_code: Mapped[str] = mapped_column(String(2))
    ward: Mapped[str] = mapped_column(String(200), default="")
    street: Mapped[str] = mapped_column(String(300), default="")

    @property
    def province_name(self) -> str:
        return province_name(self.province_code)

    @property
    def address_line(self) -> str:
        return ", ".join(part for part in (self.street, self.ward, self.province_name) if part)


class Producer(AddressMixin, Model):
    """An enterprise, cooperative (HTX) or household registered with a centre."""

    __tablename__ = "producer"
    __table_args__ = (
        CheckConstraint(_in("kind", PRODUCER_KINDS), name="kind"),
        CheckConstraint(_in("status", PRODUCER_STATUSES), name="status"),
        CheckConstraint(f"province_code IN ({sql_in_list()})", name="province_code"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    centre_id: Mapped[int] = mapped_column(ForeignKey("centre.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    tax_code: Mapped[str | None] = mapped_column(String(14), unique=True)
    # The address before a boundary change: labels printed with it stay lawful
    # for two years (Decree 37/2026 Art. 98.5).
    previous_province_code: Mapped[str | None] = mapped_column(String(2))
    previous_ward: Mapped[str | None] = mapped_column(String(200))
    previous_street: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    website: Mapped[str] = mapped_column(String(500), default="")
    logo_filename: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Folded name and tax code for search without diacritics (kept by an event below).
    search_text: Mapped[str] = mapped_column(String(700), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    centre: Mapped[Centre] = relationship()
    products: Mapped[list[Product]] = relationship(back_populates="producer")
    locations: Mapped[list[Location]] = relationship(back_populates="producer")


class Location(AddressMixin, Model):
    """A farm, facility or warehouse of a producer."""

    __tablename__ = "location"
    __owner__ = producer_owned()
    __table_args__ = (
        CheckConstraint(_in("kind", LOCATION_KINDS), name="kind"),
        CheckConstraint(f"province_code IN ({sql_in_list()})", name="province_code"),
        CheckConstraint("latitude IS NULL OR (latitude BETWEEN -90 AND 90)", name="latitude"),
        CheckConstraint("longitude IS NULL OR (longitude BETWEEN -180 AND 180)", name="longitude"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    producer_id: Mapped[int] = mapped_column(ForeignKey("producer.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(20))
    gln: Mapped[str | None] = mapped_column(String(13), unique=True)
    internal_code: Mapped[str] = mapped_column(String(32), unique=True)
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    producer: Mapped[Producer] = relationship(back_populates="locations")

    @property
    def trace_code(self) -> str:
        """The location trace code: its GLN when it has one, else the internal code."""
        return self.gln or self.internal_code


class Product(Model):
    """A product of a producer, with its GTIN and its published flagship flag and OCOP rating.

    The OCOP and flagship columns are what the public sees: they hold only what the
    producer's centre verified (the claims are certifications of the product, see
    ``registry.claims``), and nothing a producer types reaches them directly.
    """

    __tablename__ = "product"
    __owner__ = producer_owned()
    __table_args__ = (
        CheckConstraint("gtin IS NULL OR length(gtin) = 14", name="gtin_length"),
        CheckConstraint(f"ocop_group IS NULL OR {_in('ocop_group', OCOP_GROUPS)}", name="ocop_group"),
        CheckConstraint(f"ocop_level IS NULL OR {_in('ocop_level', OCOP_LEVELS)}", name="ocop_level_value"),
        CheckConstraint("ocop_stars IS NULL OR (ocop_stars BETWEEN 3 AND 5)", name="ocop_stars"),
        CheckConstraint(
            "ocop_stars IS NULL OR (ocop_stars = 5 AND ocop_level = 'central') "
            "OR (ocop_stars IN (3, 4) AND ocop_level = 'province')",
            name="ocop_level",
        ),
        CheckConstraint(
            "ocop_expires_on IS NULL OR ocop_issued_on IS NULL OR ocop_expires_on > ocop_issued_on",
            name="ocop_dates",
        ),
        CheckConstraint("declared_revenue_vnd IS NULL OR declared_revenue_vnd >= 0", name="revenue"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    producer_id: Mapped[int] = mapped_column(ForeignKey("producer.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    name_en: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(100), default="")
    brand: Mapped[str] = mapped_column(String(200), default="")
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True)
    standards: Mapped[str] = mapped_column(String(500), default="")  # TCVN/QCVN codes
    is_flagship: Mapped[bool] = mapped_column(Boolean, default=False)
    flagship_expires_on: Mapped[date | None] = mapped_column(Date)
    ocop_group: Mapped[str | None] = mapped_column(String(20))
    ocop_stars: Mapped[int | None] = mapped_column(Integer)
    ocop_level: Mapped[str | None] = mapped_column(String(10))
    ocop_certificate_no: Mapped[str | None] = mapped_column(String(100))
    ocop_issued_on: Mapped[date | None] = mapped_column(Date)
    ocop_expires_on: Mapped[date | None] = mapped_column(Date)
    shop_links: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    tech_origin: Mapped[str | None] = mapped_column(String(500))  # transfer or S&T task
    declared_revenue_vnd: Mapped[int | None] = mapped_column(BigInteger)
    # Folded names, brand and category for search without diacritics (kept by an event below).
    search_text: Mapped[str] = mapped_column(String(1200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    producer: Mapped[Producer] = relationship(back_populates="products")
    batches: Mapped[list[Batch]] = relationship(back_populates="product")
    images: Mapped[list[ProductImage]] = relationship(
        back_populates="product", order_by="ProductImage.position", cascade="all, delete-orphan"
    )
    # Its OCOP and flagship claims, the newest first: for reading a product's answer (a list loads
    # them for every product at once); the services that change claims query them afresh.
    claims: Mapped[list[Certification]] = relationship(
        primaryjoin="and_(Certification.product_id == Product.id, Certification.scope == 'product', "
        "Certification.type.in_(('ocop', 'flagship')))",
        order_by="Certification.id.desc()",
        viewonly=True,
    )

    @property
    def image(self) -> ProductImage | None:
        """The main image: the first one."""
        return self.images[0] if self.images else None

    def ocop_valid_on(self, day: date) -> bool:
        """Whether its OCOP stars are backed by a certificate in force on ``day`` (dates known)."""
        return (
            self.ocop_stars is not None
            and self.ocop_expires_on is not None
            and (self.ocop_issued_on is None or self.ocop_issued_on <= day)
            and day <= self.ocop_expires_on
        )

    def flagship_on(self, day: date) -> bool:
        """Whether its verified flagship designation is in force on ``day``."""
        return self.is_flagship and (self.flagship_expires_on is None or day <= self.flagship_expires_on)


class ProductImage(Model):
    """An uploaded product image, stored resized, with its thumbnail."""

    __tablename__ = "product_image"
    __owner__ = product_owned()
    __table_args__ = (CheckConstraint("width > 0 AND height > 0", name="size"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(100), unique=True)
    thumbnail_filename: Mapped[str] = mapped_column(String(100), unique=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    product: Mapped[Product] = relationship(back_populates="images")


class Certification(Model):
    """A certificate (VietGAP, organic, OCOP...) of a producer, location or product."""

    __tablename__ = "certification"
    __owner__ = producer_owned()
    __table_args__ = (
        CheckConstraint(_in("scope", CERTIFICATION_SCOPES), name="scope"),
        CheckConstraint(_in("type", CERTIFICATION_TYPES), name="type"),
        CheckConstraint(_in("status", CERTIFICATION_STATUSES), name="status"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="validity"),
        CheckConstraint("scope != 'location' OR location_id IS NOT NULL", name="location_scope"),
        CheckConstraint("scope != 'product' OR product_id IS NOT NULL", name="product_scope"),
        # A claim may be declared before its decision date is known; a certificate may not.
        CheckConstraint("valid_from IS NOT NULL OR type IN ('ocop', 'flagship')", name="valid_from"),
        CheckConstraint(
            f"claim_ocop_group IS NULL OR {_in('claim_ocop_group', OCOP_GROUPS)}", name="ocop_group"
        ),
        CheckConstraint("claim_ocop_stars IS NULL OR (claim_ocop_stars BETWEEN 3 AND 5)", name="ocop_stars"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The owning producer, always set: tenancy follows it whatever the scope.
    producer_id: Mapped[int] = mapped_column(ForeignKey("producer.id"), index=True)
    scope: Mapped[str] = mapped_column(String(20))
    location_id: Mapped[int | None] = mapped_column(ForeignKey("location.id"), index=True)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.id"), index=True)
    type: Mapped[str] = mapped_column(String(20))
    number: Mapped[str] = mapped_column(String(100))
    issuer: Mapped[str] = mapped_column(String(300))
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    # An OCOP claim's rating (type "ocop", scope "product"); the level follows the stars.
    claim_ocop_group: Mapped[str | None] = mapped_column(String(20))
    claim_ocop_stars: Mapped[int | None] = mapped_column(Integer)
    document_filename: Mapped[str | None] = mapped_column(String(100), unique=True)
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    document_content_type: Mapped[str | None] = mapped_column(String(50))
    document_size: Mapped[int | None] = mapped_column(Integer)
    document_original_name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    status_reason: Mapped[str | None] = mapped_column(Text)
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    producer: Mapped[Producer] = relationship()
    location: Mapped[Location | None] = relationship()
    product: Mapped[Product | None] = relationship()

    def is_valid_on(self, day: date) -> bool:
        """Verified and inside its validity dates: the only kind shown as valid."""
        return (
            self.status == "verified"
            and self.valid_from is not None
            and self.valid_from <= day
            and (self.valid_to is None or day <= self.valid_to)
        )


@event.listens_for(Producer, "before_insert")
@event.listens_for(Producer, "before_update")
def _producer_search_text(_mapper: object, _connection: object, producer: Producer) -> None:
    producer.search_text = fold(" ".join(filter(None, (producer.name, producer.tax_code))))[:700]


@event.listens_for(Product, "before_insert")
@event.listens_for(Product, "before_update")
def _product_search_text(_mapper: object, _connection: object, product: Product) -> None:
    parts = (product.name, product.name_en, product.brand, product.category, product.gtin)
    product.search_text = fold(" ".join(filter(None, parts)))[:1200]


GTIN_DISPUTE_STATUSES = ("open", "decided")
# Who the centre found holds the right to the GTIN: the producer that claimed it, or the one holding it.
GTIN_DISPUTE_OUTCOMES = ("claimant", "holder")


class GtinDispute(Model):
    """A producer's claim to a GTIN that another producer's product holds; the centre decides.

    The claimant gives its evidence (its GS1 Vietnam membership certificate,
    its GS1 company prefix, a document); the holder's side is what the
    registry holds about its product. See ``traceability/registry/gtin_disputes.py``.
    """

    __table_args__ = (
        CheckConstraint(_in("status", GTIN_DISPUTE_STATUSES), name="status"),
        CheckConstraint(f"outcome IS NULL OR {_in('outcome', GTIN_DISPUTE_OUTCOMES)}", name="outcome"),
        CheckConstraint("(status = 'open') = (outcome IS NULL)", name="outcome_when_decided"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    gtin: Mapped[str] = mapped_column(String(14), index=True)
    claimant_producer_id: Mapped[int] = mapped_column(ForeignKey("producer.id"), index=True)
    claimant_product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    holder_producer_id: Mapped[int] = mapped_column(ForeignKey("producer.id"), index=True)
    holder_product_id: Mapped[int] = mapped_column(ForeignKey("product.id"), index=True)
    gs1_membership_no: Mapped[str | None] = mapped_column(String(100))
    gs1_company_prefix: Mapped[str | None] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")
    document_filename: Mapped[str | None] = mapped_column(String(100), unique=True)
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    document_content_type: Mapped[str | None] = mapped_column(String(50))
    document_size: Mapped[int | None] = mapped_column(Integer)
    document_original_name: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(20), default="open")
    outcome: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(Text)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    claimant_producer: Mapped[Producer] = relationship(foreign_keys=[claimant_producer_id])
    claimant_product: Mapped[Product] = relationship(foreign_keys=[claimant_product_id])
    holder_producer: Mapped[Producer] = relationship(foreign_keys=[holder_producer_id])
    holder_product: Mapped[Product] = relationship(foreign_keys=[holder_product_id])
