"""schema.org JSON-LD of a product, for search engines and shared links: no Flask, no database.

The caller passes the absolute URLs and the day validity is read against; the
builder never describes an expired or unverified certificate, whatever it is
given. A product's own record has no price, so ``offers`` only lists the shop
links that give one (``shop_offers``): schema.org's Offer without a price is
not useful and search engines flag it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from traceability.core.provinces import province_name

if TYPE_CHECKING:
    from traceability.models.registry import Certification, Producer, Product

SCHEMA_CONTEXT = "https://schema.org"
CERTIFICATION_ACTIVE = "https://schema.org/CertificationActive"
# Names of the schemes themselves: proper names, the same in every language.
CERTIFICATION_NAMES = {
    "vietgap": "VietGAP",
    "globalgap": "GLOBALG.A.P.",
    "organic": "TCVN 11041 (organic)",
    "iso22000": "ISO 22000",
    "haccp": "HACCP",
    "iso9001": "ISO 9001",
    "ocop": "OCOP",
}


def _web_address(url: str | None) -> str | None:
    return url if url and url.startswith(("https://", "http://")) else None


def _without_empty(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value not in (None, "", [], {})}


def postal_address(holder: Producer) -> dict[str, Any]:
    """A Vietnamese address (street, ward, province) as a schema.org PostalAddress."""
    return _without_empty(
        {
            "@type": "PostalAddress",
            "streetAddress": holder.street,
            "addressLocality": holder.ward,
            "addressRegion": province_name(holder.province_code),
            "addressCountry": "VN",
        }
    )


def organization_jsonld(producer: Producer) -> dict[str, Any]:
    """The producer as a schema.org Organization with its PostalAddress."""
    return _without_empty(
        {
            "@type": "Organization",
            "name": producer.name,
            "taxID": producer.tax_code,
            "address": postal_address(producer),
            "telephone": producer.phone,
            "email": producer.email,
            "url": _web_address(producer.website),
        }
    )


def certification_jsonld(certification: Certification) -> dict[str, Any]:
    """A verified certificate as a schema.org Certification."""
    name = CERTIFICATION_NAMES.get(certification.type, certification.number)
    if certification.scope == "location" and certification.location is not None:
        name = f"{name} ({certification.location.name})"
    return _without_empty(
        {
            "@type": "Certification",
            "name": name,
            "certificationIdentification": certification.number,
            "issuedBy": {"@type": "Organization", "name": certification.issuer},
            "validFrom": certification.valid_from.isoformat() if certification.valid_from else None,
            "expires": certification.valid_to.isoformat() if certification.valid_to else None,
            "certificationStatus": CERTIFICATION_ACTIVE,
        }
    )


def ocop_jsonld(product: Product) -> dict[str, Any]:
    """The product's OCOP certificate, its stars as the rating."""
    return _without_empty(
        {
            "@type": "Certification",
            "name": f"OCOP {product.ocop_stars}★",
            "certificationIdentification": product.ocop_certificate_no,
            "certificationRating": {
                "@type": "Rating",
                "ratingValue": product.ocop_stars,
                "bestRating": 5,
                "worstRating": 1,
            },
            "validFrom": product.ocop_issued_on.isoformat() if product.ocop_issued_on else None,
            "expires": product.ocop_expires_on.isoformat() if product.ocop_expires_on else None,
            "certificationStatus": CERTIFICATION_ACTIVE,
        }
    )


def shop_offers(shop_links: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The shop links that give a price in đồng (``price_vnd``) as schema.org Offers."""
    offers = []
    for link in shop_links:
        url, price = _web_address(link.get("url")), link.get("price_vnd")
        if url is None or isinstance(price, bool) or not isinstance(price, int) or price <= 0:
            continue
        offers.append(
            _without_empty(
                {
                    "@type": "Offer",
                    "url": url,
                    "price": str(price),
                    "priceCurrency": "VND",
                    "seller": {"@type": "Organization", "name": link["name"]} if link.get("name") else None,
                }
            )
        )
    return offers


def product_jsonld(
    product: Product,
    *,
    url: str,
    today: date,
    image_urls: Sequence[str] = (),
    certifications: Sequence[Certification] = (),
    schema_type: str = "Product",
) -> dict[str, Any]:
    """A product as schema.org JSON-LD: manufacturer, address, certifications valid on ``today``.

    ``schema_type`` lets a batch page describe its lot as ``SomeProducts`` and
    a serialised item as ``IndividualProduct`` with the same fields.
    """
    valid = [certification for certification in certifications if certification.is_valid_on(today)]
    certificates = [certification_jsonld(certification) for certification in valid]
    if product.ocop_valid_on(today):
        certificates.insert(0, ocop_jsonld(product))
    return _without_empty(
        {
            "@context": SCHEMA_CONTEXT,
            "@type": schema_type,
            "@id": url,
            "url": url,
            "name": product.name,
            "alternateName": product.name_en,
            "description": product.description,
            "image": list(image_urls),
            "category": product.category,
            "brand": {"@type": "Brand", "name": product.brand} if product.brand else None,
            "gtin14": product.gtin,
            "manufacturer": organization_jsonld(product.producer),
            "hasCertification": certificates,
        }
    )
