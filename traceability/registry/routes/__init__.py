"""The registry's web views under ``/manage``: the start page, products with their images, and locations.

Producers, certifications and GTIN disputes have blueprints of their own
under this one (``producers``, ``certifications``, ``gtin_disputes``). A
producer signs up on a public page (``traceability.public.routes.sign_up``).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from traceability.accounts.scope import (
    approval_refusal,
    get_scoped_or_404,
    producer_choices,
    producer_filter_choices,
    refuse_unapproved_producer,
    scoped_select,
)
from traceability.core.dates import vietnam_today
from traceability.core.extensions import db
from traceability.core.vocabulary import label
from traceability.http.converters import query_int
from traceability.http.kept_uploads import Attachment, saved
from traceability.http.web import Outcome, perform, writer_required
from traceability.models.batches import Batch
from traceability.models.registry import Location, Producer, Product, ProductImage
from traceability.registry.claims import claim_state, current_claim
from traceability.registry.forms import (
    LOCATION_KIND_LABELS,
    OCOP_GROUP_LABELS,
    OCOP_LEVEL_LABELS,
    LocationForm,
    NewLocationForm,
    NewProductForm,
    ProductForm,
    ProductImageForm,
    ProductSearchForm,
)
from traceability.registry.locations import create_location, list_locations, update_location
from traceability.registry.product_images import (
    add_product_image,
    create_product_with_photo,
    remove_product_image,
    set_main_product_image,
    update_product_with_photo,
)
from traceability.registry.products import GtinHeld, search_products
from traceability.registry.routes import certifications, gtin_disputes, producers, start

bp = Blueprint("registry", __name__, url_prefix="/manage")
bp.register_blueprint(producers.bp)
bp.register_blueprint(certifications.bp)
bp.register_blueprint(gtin_disputes.bp)
bp.register_blueprint(start.bp)

PRODUCTS_PER_PAGE = 20
LOCATIONS_PER_PAGE = 50


@bp.context_processor
def _labels() -> dict:
    return {
        "ocop_group_label": lambda code: label(OCOP_GROUP_LABELS, code),
        "ocop_level_label": lambda code: label(OCOP_LEVEL_LABELS, code),
        "location_kind_label": lambda code: label(LOCATION_KIND_LABELS, code),
        "claim_state": claim_state,
    }


@bp.app_context_processor
def _approval() -> dict:
    """What the pages need to offer only the writes a producer's status allows (see writable_producer)."""
    user = current_user
    own = getattr(user, "producer", None) if getattr(user, "role", None) == "producer" else None
    own_refusal = approval_refusal(own, user) if own is not None else None
    return {
        # Why the signed-in producer may not publish now, shown instead of the buttons it cannot use.
        "own_refusal": own_refusal,
        "can_publish": bool(getattr(user, "can_write", False)) and own_refusal is None,
        "approval_refusal": lambda producer: approval_refusal(producer, user),
    }


def _page() -> int:
    return max(request.args.get("page", 1, type=query_int), 1)


@bp.route("")
@login_required
def dashboard():
    """The signed-in user's start page: their producers, latest products and batches."""
    producers = db.session.scalars(scoped_select(Producer).order_by(Producer.name).limit(200)).all()
    products = db.session.scalars(scoped_select(Product).order_by(Product.created_at.desc()).limit(10)).all()
    product_count = db.session.scalar(select(func.count()).select_from(scoped_select(Product).subquery()))
    batches = db.session.scalars(scoped_select(Batch).order_by(Batch.created_at.desc()).limit(20)).all()
    return render_template(
        "registry/dashboard.html",
        producers=producers,
        products=products,
        product_count=product_count,
        batches=batches,
    )


# Products ---------------------------------------------------------------------


@bp.route("/products")
@login_required
def products():
    """The products the user may see: search without diacritics, filters and pages."""
    form = ProductSearchForm(formdata=request.args)
    form.producer_id.choices = producer_filter_choices()
    form.validate()
    filters = form.filters()
    query = search_products(**filters).options(selectinload(Product.producer), selectinload(Product.images))
    pagination = db.paginate(query, page=_page(), per_page=PRODUCTS_PER_PAGE, error_out=False)
    args = {key: value for key, value in request.args.items() if key != "page" and value}
    return render_template(
        "registry/products/list.html",
        form=form,
        pagination=pagination,
        args=args,
        filtered=any(value is not None for value in filters.values()),
    )


@bp.route("/products/new", methods=["GET", "POST"])
@writer_required
def product_new():
    """Register a new product."""
    if (refused := refuse_unapproved_producer(url_for("registry.dashboard"))) is not None:
        return refused
    form = NewProductForm()
    form.producer_id.choices = producer_choices(approved_only=True)
    if current_user.role == "producer":
        form.producer_id.data = current_user.producer_id
    photo, ocop_document = _attachments(form)
    outcome = None
    if form.validate_on_submit():
        outcome = perform(
            create_product_with_photo,
            form.to_data(ocop_document.read()),
            actor=current_user,
            photo=photo.read()[0],
            show_on=form,
        )
    if saved(outcome, photo, ocop_document):
        product = outcome.value
        flash(_("Product %(name)s saved.", name=product.name), "success")
        return redirect(url_for("registry.product_detail", product_id=product.id))
    dispute_gtin = _disputable_gtin(outcome)
    return render_template(
        "registry/product_form.html",
        form=form,
        dispute_gtin=dispute_gtin,
        kept_photo=photo.kept_name,
        kept_ocop_document=ocop_document.kept_name,
    ), 422 if form.errors else 200


def _disputable_gtin(outcome: Outcome[Any] | None) -> str | None:
    """The GTIN another producer's product holds, when that refused the save: the form offers a dispute."""
    if outcome is None or outcome.ok or not isinstance(outcome.error, GtinHeld):
        return None
    return outcome.error.gtin


def _attachments(form: ProductForm) -> tuple[Attachment, Attachment]:
    """The product form's photo and OCOP decision, or those kept from its last refused submit."""
    return (
        Attachment(form.photo, form.kept_photo, max_bytes=current_app.config["MAX_IMAGE_BYTES"]),
        Attachment(
            form.ocop_document, form.kept_ocop_document, max_bytes=current_app.config["MAX_DOCUMENT_BYTES"]
        ),
    )


def _product_page(product: Product, image_form: ProductImageForm, status: int = 200):
    batches = db.session.scalars(
        scoped_select(Batch).where(Batch.product_id == product.id).order_by(Batch.production_date.desc())
    ).all()
    page = render_template(
        "registry/product_detail.html",
        product=product,
        batches=batches,
        image_form=image_form,
        ocop_claim=current_claim(product, "ocop"),
        flagship_claim=current_claim(product, "flagship"),
        today=vietnam_today(),
    )
    return page, status


@bp.route("/products/<int:product_id>")
@login_required
def product_detail(product_id: int):
    """A product: its data, images and batches."""
    return _product_page(get_scoped_or_404(Product, product_id), ProductImageForm())


@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"])
@writer_required
def product_edit(product_id: int):
    """Change a product's data, OCOP certificate included."""
    product = get_scoped_or_404(Product, product_id)
    form = ProductForm()
    if not form.is_submitted():
        form.fill_from(product)
    photo, ocop_document = _attachments(form)
    outcome = None
    if form.validate_on_submit():
        outcome = perform(
            update_product_with_photo,
            product,
            form.to_data(ocop_document.read()),
            actor=current_user,
            photo=photo.read()[0],
            show_on=form,
        )
    if saved(outcome, photo, ocop_document):
        flash(_("Product %(name)s saved.", name=product.name), "success")
        return redirect(url_for("registry.product_detail", product_id=product.id))
    dispute_gtin = _disputable_gtin(outcome)
    return render_template(
        "registry/product_form.html",
        form=form,
        product=product,
        dispute_gtin=dispute_gtin,
        kept_photo=photo.kept_name,
        kept_ocop_document=ocop_document.kept_name,
    ), 422 if form.errors else 200


@bp.route("/products/<int:product_id>/images", methods=["POST"])
@writer_required
def product_image_add(product_id: int):
    """Upload a photo of a product."""
    product = get_scoped_or_404(Product, product_id)
    form = ProductImageForm()
    if form.validate_on_submit():
        # One byte over the limit is enough to refuse it; no need to read the rest.
        data = form.file.data.read(current_app.config["MAX_IMAGE_BYTES"] + 1)
        if perform(add_product_image, product, data, actor=current_user, show_on=form).ok:
            flash(_("Photo added."), "success")
            return redirect(url_for("registry.product_detail", product_id=product.id))
    return _product_page(product, form, 422)


def _image_or_404(product_id: int, image_id: int) -> ProductImage:
    image = get_scoped_or_404(ProductImage, image_id)
    if image.product_id != product_id:
        abort(404)
    return image


@bp.route("/products/<int:product_id>/images/<int:image_id>/main", methods=["POST"])
@writer_required
def product_image_main(product_id: int, image_id: int):
    """Make a photo the product's main image."""
    image = _image_or_404(product_id, image_id)
    if perform(set_main_product_image, image, actor=current_user).ok:
        flash(_("Main image changed."), "success")
    return redirect(url_for("registry.product_detail", product_id=product_id))


@bp.route("/products/<int:product_id>/images/<int:image_id>/delete", methods=["POST"])
@writer_required
def product_image_delete(product_id: int, image_id: int):
    """Delete a photo of a product."""
    image = _image_or_404(product_id, image_id)
    if perform(remove_product_image, image, actor=current_user).ok:
        flash(_("Photo deleted."), "success")
    return redirect(url_for("registry.product_detail", product_id=product_id))


# Locations --------------------------------------------------------------------


@bp.route("/locations")
@login_required
def locations():
    """Farms, facilities and warehouses of the user's producers."""
    producer_id = request.args.get("producer_id", type=query_int)
    query = list_locations(producer_id).options(selectinload(Location.producer))
    pagination = db.paginate(query, page=_page(), per_page=LOCATIONS_PER_PAGE, error_out=False)
    producers = [] if current_user.role == "producer" else producer_choices()
    return render_template(
        "registry/locations/list.html", pagination=pagination, producers=producers, producer_id=producer_id
    )


def _default_province() -> str | None:
    if current_user.producer is not None:
        return current_user.producer.province_code
    return current_user.centre.province_code if current_user.centre is not None else None


@bp.route("/locations/new", methods=["GET", "POST"])
@writer_required
def location_new():
    """Add a farm, facility or warehouse."""
    if (refused := refuse_unapproved_producer(url_for("registry.locations"))) is not None:
        return refused
    form = NewLocationForm()
    form.producer_id.choices = producer_choices(approved_only=True)
    if not form.is_submitted():
        form.province_code.data = _default_province()
        form.producer_id.data = request.args.get("producer_id", type=query_int)
    if current_user.role == "producer":
        form.producer_id.data = current_user.producer_id
    if form.validate_on_submit():
        outcome = perform(create_location, form.to_data(), actor=current_user, show_on=form)
        if outcome.ok:
            location = outcome.value
            flash(_("Location %(name)s saved.", name=location.name), "success")
            return redirect(url_for("registry.locations", producer_id=location.producer_id))
    return render_template("registry/locations/form.html", form=form), 422 if form.errors else 200


@bp.route("/locations/<int:location_id>/edit", methods=["GET", "POST"])
@writer_required
def location_edit(location_id: int):
    """Change a location's name, address, GLN or coordinates."""
    location = get_scoped_or_404(Location, location_id)
    form = LocationForm()
    if not form.is_submitted():
        form.fill_from(location)
    if form.validate_on_submit():
        outcome = perform(update_location, location, form.to_data(), actor=current_user, show_on=form)
        if outcome.ok:
            flash(_("Location %(name)s saved.", name=location.name), "success")
            return redirect(url_for("registry.locations", producer_id=location.producer_id))
    return (
        render_template("registry/locations/form.html", form=form, location=location),
        422 if form.errors else 200,
    )
