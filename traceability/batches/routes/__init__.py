"""The batches' web views under ``/manage``: lots, their events, chain and QR codes.

Serialised items and labels, recalls, the data quality page and the chain
spreadsheets have blueprints of their own under this one (``labels``,
``recalls``, ``quality``, ``exports``).
"""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import SelectChoice

from traceability.accounts.scope import get_scoped_or_404, refuse_unapproved_producer, scoped_select
from traceability.batches.event_photos import event_photo_response
from traceability.batches.forms import BatchEditForm, BatchForm, CorrectionForm, EventForm, ReasonForm
from traceability.batches.lots import labels_printed, lot_search, products_in_scope, update_batch
from traceability.batches.qr_images import batch_qr_response, item_qr_response, qr_options_from_query
from traceability.batches.recalls import recalls_affecting
from traceability.batches.routes import exports, labels, quality, recalls
from traceability.batches.routes.labels import label_context
from traceability.batches.service import (
    correct_event,
    create_batch,
    local_time,
    public_url,
    quantities_remaining,
    quantity_remaining,
    record_event,
    retract_event,
)
from traceability.batches.trace import chain_steps, trace
from traceability.core.dates import VIETNAM_OFFSET, utcnow
from traceability.core.extensions import db
from traceability.core.vocabulary import EVENT_TYPE_LABELS, UNIT_SYMBOLS, label
from traceability.http.converters import query_int
from traceability.http.web import perform, writer_required
from traceability.models.batches import EVENT_TYPES, Batch, BatchInput, Item, TraceEvent
from traceability.models.registry import Location, Producer, Product

bp = Blueprint("batches", __name__, url_prefix="/manage")
bp.register_blueprint(labels.bp)
bp.register_blueprint(recalls.bp)
bp.register_blueprint(quality.bp)
bp.register_blueprint(exports.bp)

BATCH_FIELDS = ("product_id", "lot_code", "production_date", "expiry_date", "quantity", "unit", "location_id")


def _location_choices(producer_id: int | None) -> list[SelectChoice]:
    query = scoped_select(Location).order_by(Location.name)
    if producer_id is not None:
        query = query.where(Location.producer_id == producer_id)
    return [SelectChoice("", "-")] + [
        SelectChoice(str(loc.id), loc.name) for loc in db.session.scalars(query)
    ]


def _input_choices(exclude_product_id: int | None = None) -> list[SelectChoice]:
    """Batches the user may take inputs from: active, in scope, with something left."""
    batches = db.session.scalars(
        scoped_select(Batch)
        .options(joinedload(Batch.product))
        .where(Batch.status == "active")
        .order_by(Batch.created_at.desc())
        .limit(300)
    ).all()
    remaining = quantities_remaining(batches)
    choices = [SelectChoice("", "-")]
    for batch in batches:
        left = remaining[batch.id]
        if left > 0:
            # The lot code and what is left first, so a narrow phone's picker cuts only the product's name.
            unit = label(UNIT_SYMBOLS, batch.unit)
            text = f"{batch.lot_code} · {format_decimal(left)} {unit} · {batch.product.name}"
            choices.append(SelectChoice(str(batch.id), text))
    return choices


#: Lots per page of the "Lots" list.
LOTS_PER_PAGE = 25


def _query_date(name: str, errors: dict[str, str]) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = _("Enter a date such as 2026-12-31.")
        return None


@bp.route("/batches")
@login_required
def batch_list():
    """The lots the user may see, newest first: search by lot code, product and production dates."""
    errors: dict[str, str] = {}
    query = (request.args.get("q") or "").strip()[:100]
    product_id = request.args.get("product_id", type=query_int)
    produced_from, produced_to = _query_date("from", errors), _query_date("to", errors)
    statement = lot_search(
        current_user,
        query=query,
        product_id=product_id,
        produced_from=produced_from,
        produced_to=produced_to,
    )
    pagination = db.paginate(
        statement, page=request.args.get("page", 1, type=query_int), per_page=LOTS_PER_PAGE, error_out=False
    )
    remaining = quantities_remaining(pagination.items)
    searched = bool(query or product_id or produced_from or produced_to)
    return render_template(
        "batches/index.html",
        pagination=pagination,
        rows=[(batch, remaining[batch.id]) for batch in pagination.items],
        products=products_in_scope(current_user),
        query=query,
        product_id=product_id,
        produced_from=request.args.get("from", ""),
        produced_to=request.args.get("to", ""),
        searched=searched,
        errors=errors,
    ), 422 if errors else 200


@bp.route("/batches/new", methods=["GET", "POST"])
@writer_required
def batch_new():
    """Register a new production batch, with the batches it was made from."""
    if (refused := refuse_unapproved_producer(url_for("registry.dashboard"))) is not None:
        return refused
    form = BatchForm()
    products = db.session.scalars(
        scoped_select(Product).join(Producer).where(Producer.status == "approved").order_by(Product.name)
    ).all()
    form.product_id.choices = [SelectChoice(str(p.id), p.name) for p in products]
    requested = request.args.get("product_id", type=query_int) if request.method == "GET" else None
    if requested:
        form.product_id.data = requested
    source = request.args.get("input", type=query_int) if request.method == "GET" else None
    if source:  # "Make a lot from this one": the lot is the first input, with all that is left of it
        input_batch = db.session.scalar(scoped_select(Batch).where(Batch.id == source))
        if input_batch is not None:
            form.inputs[0].batch_id.data = input_batch.id
            form.inputs[0].quantity.data = quantity_remaining(input_batch)
    chosen = next((p for p in products if p.id == form.product_id.data), None)
    form.location_id.choices = _location_choices(chosen.producer_id if chosen else None)
    if request.method == "GET" and len(form.location_id.choices) == 2:  # "-" and the one farm: that farm
        form.location_id.data = int(form.location_id.choices[1].value)
    elif request.method == "GET" and (chosen_location := request.args.get("location_id", type=query_int)):
        form.location_id.data = chosen_location
    failed = False
    input_choices = _input_choices()
    for entry in form.inputs:
        entry.batch_id.choices = input_choices
    if form.validate_on_submit():
        data = {name: form[name].data for name in BATCH_FIELDS}
        data["inputs"] = form.input_entries()
        data["input_kind"] = form.input_kind.data
        outcome = perform(create_batch, data, actor=current_user, show_on=form)
        if outcome.ok:
            batch = outcome.value
            flash(_("Batch %(lot)s saved.", lot=batch.lot_code), "success")
            return redirect(url_for("batches.batch_detail", batch_id=batch.id))
        failed = True
    return render_template("batches/batch_form.html", form=form), 422 if failed or form.errors else 200


#: The quick-add buttons at the top of a lot's page, in the order of a lot's life.
QUICK_EVENT_TYPES = ("harvesting", "processing", "packing", "storing", "inspecting", "shipping", "selling")


def _next_type(batch: Batch) -> str:
    """The step a lot's next event most likely is: the one after its latest, in the order of a lot's life."""
    latest = next((event.type for event in reversed(batch.events) if not event.is_retraction), None)
    if latest not in QUICK_EVENT_TYPES:
        return QUICK_EVENT_TYPES[0]
    position = QUICK_EVENT_TYPES.index(latest)
    return QUICK_EVENT_TYPES[min(position + 1, len(QUICK_EVENT_TYPES) - 1)]


def _event_defaults(form: EventForm, batch: Batch) -> None:
    """A fresh event form: now (Vietnam time), at the lot's origin, of the type a quick-add chose
    (else the step after the lot's latest event)."""
    form.time.data = utcnow().astimezone(VIETNAM_OFFSET).replace(second=0, microsecond=0, tzinfo=None)
    form.location_id.data = batch.origin_location_id
    chosen = request.args.get("type")
    form.type.data = chosen if chosen in EVENT_TYPES else _next_type(batch)


@bp.route("/batches/<int:batch_id>", methods=["GET", "POST"])
@login_required
def batch_detail(batch_id: int):
    """A batch: its key tracking events (recorded at the top), QR code, lineage, recalls and labels."""
    batch = get_scoped_or_404(Batch, batch_id)
    form = EventForm()
    form.location_id.choices = _location_choices(batch.product.producer_id)
    form.quantity.label.text = _("Quantity (%(unit)s)", unit=label(UNIT_SYMBOLS, batch.unit))
    failed = False
    if request.method == "POST":
        if not current_user.can_write:
            abort(403)
        if form.validate_on_submit():
            outcome = perform(
                record_event,
                batch,
                form.event_data(),
                actor=current_user,
                photo=form.photo_bytes(),
                show_on=form,
            )
            if outcome.ok:
                event = outcome.value
                what = EVENT_TYPE_LABELS.get(event.type, event.type)
                flash(_("Event recorded: %(what)s.", what=what), "success")
                # Back where the user was: the event entry, ready for the next one, the new event below it.
                return redirect(url_for("batches.batch_detail", batch_id=batch.id, _anchor="record"))
        failed = True
    else:
        _event_defaults(form, batch)
    inputs = db.session.scalars(
        select(BatchInput).where(BatchInput.output_batch_id == batch.id).order_by(BatchInput.id)
    ).all()
    outputs = db.session.scalars(
        select(BatchInput).where(BatchInput.input_batch_id == batch.id).order_by(BatchInput.id)
    ).all()
    context = {
        "batch": batch,
        "form": form,
        "quick_types": [(code, EVENT_TYPE_LABELS[code]) for code in QUICK_EVENT_TYPES],
        "unit_name": label(UNIT_SYMBOLS, batch.unit),
        "public_url": public_url(current_app.config["PUBLIC_BASE_URL"], batch),
        "inputs": inputs,
        "outputs": outputs,
        "remaining": quantity_remaining(batch),
        "lot_code_fixed": labels_printed(batch),
        "recalls": recalls_affecting(batch),
        "recall_form": ReasonForm(prefix="recall"),
        "voided_ids": {event.voids_event_id for event in batch.events if event.voids_event_id},
        **label_context(batch),  # serialised items and label sheets
    }
    return render_template("batches/batch_detail.html", **context), 422 if failed or form.errors else 200


@bp.route("/batches/<int:batch_id>/edit", methods=["GET", "POST"])
@writer_required
def batch_edit(batch_id: int):
    """Change a lot: its code until its first labels are printed, its other fields at any time."""
    batch = get_scoped_or_404(Batch, batch_id)
    fixed = labels_printed(batch)
    form = BatchEditForm(obj=batch if request.method == "GET" else None)
    form.location_id.choices = _location_choices(batch.product.producer_id)
    if request.method == "GET":
        form.location_id.data = batch.origin_location_id
    if fixed:  # not sent by the browser (disabled), and not changed
        form.lot_code.data = batch.lot_code
        form.lot_code.validators = []
        form.lot_code.render_kw = {"disabled": True}
    # A fixed or unchanged code is not sent to the service: an older code outside today's rule stays.
    form.keep_lot_code = fixed or form.lot_code.data == batch.lot_code
    if request.method == "POST" and form.validate_on_submit():
        changes = form.changes()
        outcome = perform(update_batch, batch, changes, actor=current_user, show_on=form)
        if outcome.ok:
            flash(_("Lot %(lot)s saved.", lot=batch.lot_code), "success")
            return redirect(url_for("batches.batch_detail", batch_id=batch.id))
    status = 422 if form.errors else 200
    return render_template("batches/batch_edit.html", batch=batch, form=form, lot_code_fixed=fixed), status


def _batch_event(batch_id: int, event_id: int) -> TraceEvent:
    batch = get_scoped_or_404(Batch, batch_id)
    event = db.session.get(TraceEvent, event_id)
    if event is None or event.batch_id != batch.id:
        abort(404)
    return event


@bp.route("/batches/<int:batch_id>/events/<int:event_id>/correct", methods=["GET", "POST"])
@writer_required
def event_correct(batch_id: int, event_id: int):
    """Correct an event: a new event replaces it and says why; or withdraw it."""
    event = _batch_event(batch_id, event_id)
    form = CorrectionForm()
    form.location_id.choices = _location_choices(event.batch.product.producer_id)
    retract_form = ReasonForm(prefix="retract")
    if request.method == "GET":
        # The form's time is Vietnam's (EventForm.event_data), whatever offset the event came with.
        local = local_time(event).astimezone(VIETNAM_OFFSET)
        form.type.data, form.time.data = event.type, local.replace(tzinfo=None)
        form.location_id.data, form.quantity.data = event.location_id, event.quantity
        form.note.data, form.counterparty.data = event.note, event.counterparty
        form.reference_type.data, form.reference.data = event.reference_type or "", event.reference_number
    elif form.validate_on_submit():
        outcome = perform(
            correct_event,
            event,
            form.event_data(),
            form.reason.data,
            actor=current_user,
            photo=form.photo_bytes(),
            show_on=form,
        )
        if outcome.ok:
            flash(_("Event corrected; the original stays in the history, marked as replaced."), "success")
            return redirect(url_for("batches.batch_detail", batch_id=batch_id))
    status = 422 if form.errors else 200
    return render_template(
        "batches/event_correct.html", event=event, form=form, retract_form=retract_form
    ), status


@bp.route("/batches/<int:batch_id>/events/<int:event_id>/retract", methods=["POST"])
@writer_required
def event_retract(batch_id: int, event_id: int):
    """Withdraw an event recorded by mistake."""
    event = _batch_event(batch_id, event_id)
    form = ReasonForm(prefix="retract")
    if not form.validate_on_submit():
        flash(_("Say why the event is withdrawn."), "error")
        return redirect(url_for("batches.event_correct", batch_id=batch_id, event_id=event_id))
    if perform(retract_event, event, form.reason.data, actor=current_user).ok:
        flash(_("Event withdrawn; it stays in the history, marked as withdrawn."), "success")
    return redirect(url_for("batches.batch_detail", batch_id=batch_id))


@bp.route("/batches/<int:batch_id>/events/<int:event_id>/photo")
@login_required
def event_photo(batch_id: int, event_id: int):
    """An event's photo (``?thumbnail=1`` for the small one), withdrawn or not, for who may see the batch."""
    return event_photo_response(
        _batch_event(batch_id, event_id), thumbnail=request.args.get("thumbnail") == "1"
    )


@bp.route("/batches/<int:batch_id>/chain")
@login_required
def chain(batch_id: int):
    """The whole chain of a batch, each lot once by steps: its inputs back to the origins, what was made from it."""
    batch = get_scoped_or_404(Batch, batch_id)
    upstream, downstream = trace(batch, "upstream"), trace(batch, "downstream")
    return render_template(
        "batches/chain.html",
        batch=batch,
        sections=[(upstream, chain_steps(upstream)), (downstream, chain_steps(downstream))],
    )


@bp.route("/batches/<int:batch_id>/qr.png")
@login_required
def batch_qr_png(batch_id: int):
    """The batch's QR code as a PNG (``?size=`` pixels, ``?ec=M|H``)."""
    return batch_qr_response(get_scoped_or_404(Batch, batch_id), "png", *qr_options_from_query("png"))


@bp.route("/batches/<int:batch_id>/qr.svg")
@login_required
def batch_qr_svg(batch_id: int):
    """The batch's QR code as an SVG for print (``?size=`` pixels, ``?ec=M|H``)."""
    return batch_qr_response(get_scoped_or_404(Batch, batch_id), "svg", *qr_options_from_query("svg"))


@bp.route("/items/<int:item_id>/qr.png")
@login_required
def item_qr_png(item_id: int):
    """A serialised item's QR code as a PNG (``?size=`` pixels, ``?ec=M|H``)."""
    return item_qr_response(get_scoped_or_404(Item, item_id), "png", *qr_options_from_query("png"))


@bp.route("/items/<int:item_id>/qr.svg")
@login_required
def item_qr_svg(item_id: int):
    """A serialised item's QR code as an SVG for print (``?size=`` pixels, ``?ec=M|H``)."""
    return item_qr_response(get_scoped_or_404(Item, item_id), "svg", *qr_options_from_query("svg"))
