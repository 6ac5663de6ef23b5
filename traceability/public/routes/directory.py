"""The public directory of OCOP and flagship products: the list, a product's page, sitemap.xml, robots.txt.

Product pages live at ``/products/{id}-{slug}``: the id keeps the URL stable
when a product is renamed, the slug makes it readable; ``/products/{id}`` and
an outdated slug answer 301 to the current form. What a product's page shows
is in ``traceability.public.product_pages``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional

from traceability.core.dates import vietnam_today
from traceability.core.extensions import db
from traceability.http.converters import query_int
from traceability.http.forms import Form
from traceability.public.product_pages import absolute, product_page_context, product_path, template_helpers
from traceability.public.showcase import product_slug, search_directory, showcased_product, sitemap_entries
from traceability.registry.forms import OCOP_GROUP_LABELS, PROVINCE_CHOICES

bp = Blueprint("directory", __name__)

PRODUCTS_PER_PAGE = 24
SITEMAP_NAMESPACE = "http://www.sitemaps.org/schemas/sitemap/0.9"


class DirectoryFilterForm(Form):
    """The directory's filters, read from the query string (no CSRF: a GET search changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Search"),
        validators=[Optional(), Length(max=100)],
        filters=[lambda value: " ".join(value.split()) if value else value],
    )
    province = SelectField(
        _l("Province"),
        choices=[SelectChoice("", _l("All provinces")), *PROVINCE_CHOICES],
        validators=[Optional()],
    )
    group = SelectField(
        _l("OCOP group"),
        choices=[
            SelectChoice("", _l("All groups")),
            *(SelectChoice(c, n) for c, n in OCOP_GROUP_LABELS.items()),
        ],
        validators=[Optional()],
    )
    stars = SelectField(
        _l("OCOP stars"),
        choices=[
            SelectChoice("", _l("Any")),
            *(SelectChoice(str(n), _l("%(num)d stars", num=n)) for n in (3, 4, 5)),
        ],
        validators=[Optional()],
    )

    def filters(self) -> dict[str, Any]:
        """The search_directory arguments; a filter the form refused is left out."""
        valid = {
            name: None if self[name].errors else self[name].data or None
            for name in ("q", "province", "group", "stars")
        }
        return {
            "q": valid["q"],
            "province": valid["province"],
            "ocop_group": valid["group"],
            "ocop_stars": int(valid["stars"]) if valid["stars"] else None,
        }


@bp.context_processor
def _helpers() -> dict[str, Any]:
    return template_helpers()


@bp.route("/products")
def index():
    """The showcase: OCOP and flagship products, filtered by province, OCOP group and stars, searchable."""
    form = DirectoryFilterForm(formdata=request.args)
    valid = form.validate()
    filters = form.filters()
    page = request.args.get("page", 1, type=query_int)
    if page < 1:
        abort(404)
    pagination = db.paginate(
        search_directory(**filters), page=page, per_page=PRODUCTS_PER_PAGE, error_out=False
    )
    if page > 1 and page > pagination.pages:
        abort(404)
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template(
        "public/directory/list.html",
        form=form,
        pagination=pagination,
        args=args,
        filtered=any(value is not None for value in filters.values()),
        today=vietnam_today(),
        canonical_url=absolute(url_for("public.directory.index")),
    ), 200 if valid else 400


@bp.route("/products/<int:product_id>")
def product_by_id(product_id: int):
    """A product's short URL: on to its canonical page."""
    product = showcased_product(product_id) or abort(404)
    return redirect(product_path(product), 301)


@bp.route("/products/<int:product_id>-<slug>")
def product(product_id: int, slug: str):
    """A product's public page: producer, certifications in force, OCOP stars, shops, current lots."""
    product = showcased_product(product_id) or abort(404)
    canonical = product_path(product)
    if slug != product_slug(product.name):
        return redirect(canonical, 301)
    return render_template(
        "public/directory/product.html", **product_page_context(product, absolute(canonical))
    )


def _lastmod(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


@bp.route("/sitemap.xml")
def sitemap():
    """The directory and every product page in it, with when each last changed (sitemaps.org 0.9)."""
    entries = sitemap_entries()
    urls: list[tuple[str, datetime | None]] = []
    if entries:
        newest = max(entry.updated_at for entry in entries)
        urls.append((absolute(url_for("public.directory.index")), newest))
    else:
        urls.append((absolute(url_for("public.directory.index")), None))
    urls.extend(
        (
            absolute(url_for("public.directory.product", product_id=entry.product_id, slug=entry.slug)),
            entry.updated_at,
        )
        for entry in entries
    )
    lines = ['<?xml version="1.0" encoding="UTF-8"?>', f'<urlset xmlns="{SITEMAP_NAMESPACE}">']
    for location, changed in urls:
        lastmod = f"<lastmod>{_lastmod(changed)}</lastmod>" if changed else ""
        lines.append(f"<url><loc>{escape(location)}</loc>{lastmod}</url>")
    lines.append("</urlset>")
    response = Response("\n".join(lines) + "\n", mimetype="application/xml")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.route("/robots.txt")
def robots():
    """Crawlers may read the public pages and are pointed at the sitemap; the work pages are private."""
    lines = [
        "User-agent: *",
        "Allow: /",
        "Disallow: /manage",
        "Disallow: /api/",
        "Disallow: /login",
        "Disallow: /account",
        "Disallow: /lang/",
        f"Sitemap: {absolute(url_for('public.directory.sitemap'))}",
    ]
    response = Response("\n".join(lines) + "\n", mimetype="text/plain")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
