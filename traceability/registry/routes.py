"""Producers' and centres' pages for products."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from wtforms import SelectChoice

from traceability.accounts.scope import get_scoped_or_404, scoped_select
from traceability.batches.models import Batch
from traceability.errors import DomainError
from traceability.extensions import db
from traceability.registry.forms import ProductForm
from traceability.registry.models import Producer, Product
from traceability.registry.products import create_product
from traceability.web import show_errors, writer_required

bp = Blueprint("registry", __name__)


@bp.route("/manage")
@login_required
def dashboard():
    """The signed-in user's start page: their producers and products."""
    producers = db.session.scalars(scoped_select(Producer).order_by(Producer.name).limit(200)).all()
    products = db.session.scalars(scoped_select(Product).order_by(Product.created_at.desc()).limit(200)).all()
    batches = db.session.scalars(scoped_select(Batch).order_by(Batch.created_at.desc()).limit(20)).all()
    return render_template("registry/dashboard.html", producers=producers, products=products, batches=batches)


def _producer_choices() -> list[SelectChoice]:
    producers = db.session.scalars(
        scoped_select(Producer).where(Producer.status == "approved").order_by(Producer.name)
    ).all()
    return [SelectChoice(str(p.id), p.name) for p in producers]


@bp.route("/manage/products/new", methods=["GET", "POST"])
@writer_required
def product_new():
    """Register a new product."""
    form = ProductForm()
    form.producer_id.choices = _producer_choices()
    if current_user.role == "producer":
        form.producer_id.data = current_user.producer_id
    if form.validate_on_submit():
        try:
            product = create_product(form.to_data(), actor=current_user)
        except DomainError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(_("Product %(name)s saved.", name=product.name), "success")
            return redirect(url_for("registry.product_detail", product_id=product.id))
    return render_template("registry/product_form.html", form=form), 422 if form.errors else 200


@bp.route("/manage/products/<int:product_id>")
@login_required
def product_detail(product_id: int):
    """A product and its batches."""
    product = get_scoped_or_404(Product, product_id)
    batches = db.session.scalars(
        scoped_select(Batch).where(Batch.product_id == product.id).order_by(Batch.production_date.desc())
    ).all()
    return render_template("registry/product_detail.html", product=product, batches=batches)
