"""The centre's own work: its contracts, technology processes and S&T tasks, listed and recorded.

Centre staff and admins record their centre's; auditors and the ministry read
(the tenant scope decides which centres); producers have no access.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms import SelectChoice

from traceability.accounts.scope import get_scoped_or_404
from traceability.core.extensions import db
from traceability.http.web import perform, roles_required
from traceability.models.registry import Producer, Product
from traceability.models.reports import CentreContract, ScienceTask, TechnologyProcess
from traceability.reports.centre_work import (
    Record,
    delete_record,
    latest_records,
    save_contract,
    save_process,
    save_task,
)
from traceability.reports.forms import ContractForm, ProcessForm, TaskForm

bp = Blueprint("centre_work", __name__, url_prefix="/centre-work")

READERS = ("centre_admin", "centre_staff", "auditor", "ministry")
WRITERS = ("centre_admin", "centre_staff")
KIND_PATH = "<any(contracts, processes, tasks):kind>"
LIMIT = 500


@dataclass(frozen=True)
class RecordKind:
    """What differs between contracts, processes and tasks on these pages."""

    model: type[Record]
    form: type
    save: Callable[..., Any]
    new_title: Any
    edit_title: Any
    saved: Any
    deleted: Any
    order: tuple[Any, ...]


KINDS = {
    "contracts": RecordKind(
        CentreContract,
        ContractForm,
        lambda data, record: save_contract(data, actor=current_user, contract=record),
        _l("New contract"),
        _l("Edit contract"),
        _l("Contract saved."),
        _l("Contract deleted."),
        (CentreContract.signed_on.desc(), CentreContract.id.desc()),
    ),
    "processes": RecordKind(
        TechnologyProcess,
        ProcessForm,
        lambda data, record: save_process(data, actor=current_user, process=record),
        _l("New technology process"),
        _l("Edit technology process"),
        _l("Technology process saved."),
        _l("Technology process deleted."),
        (TechnologyProcess.mastered_on.desc(), TechnologyProcess.id.desc()),
    ),
    "tasks": RecordKind(
        ScienceTask,
        TaskForm,
        lambda data, record: save_task(data, actor=current_user, task=record),
        _l("New S&T task"),
        _l("Edit S&T task"),
        _l("S&T task saved."),
        _l("S&T task deleted."),
        (ScienceTask.starts_on.desc(), ScienceTask.id.desc()),
    ),
}


def _records(kind: str) -> list[Any]:
    spec = KINDS[kind]
    return latest_records(spec.model, spec.order, limit=LIMIT)


@bp.route("")
@roles_required(*READERS)
def index():
    """The centre's contracts, technology processes and S&T tasks."""
    return render_template(
        "reports/work/index.html",
        contracts=_records("contracts"),
        processes=_records("processes"),
        tasks=_records("tasks"),
        can_write=current_user.role in WRITERS,
        show_centre=current_user.role == "ministry",
    )


def _product_choices() -> list[SelectChoice]:
    """The products of the user's centre's producers, by producer."""
    rows = db.session.execute(
        select(Product.id, Product.name, Producer.name)
        .join(Producer, Producer.id == Product.producer_id)
        .where(Producer.centre_id == current_user.centre_id)
        .order_by(Producer.name, Product.name)
    )
    return [SelectChoice(product_id, name, optgroup=producer) for product_id, name, producer in rows]


def _form_page(kind: str, record: Any | None):
    """Show the form for a new or stored record; on a valid POST, save it and go back to the list."""
    spec = KINDS[kind]
    form = spec.form()
    form.product_ids.choices = _product_choices()
    if record is not None and not form.is_submitted():
        form.fill_from(record)
    if form.validate_on_submit():
        outcome = perform(spec.save, form.to_data(), record, show_on=form)
        if outcome.ok:
            flash(str(spec.saved), "success")
            return redirect(url_for("reports.centre_work.index", _anchor=kind))
    title = spec.edit_title if record is not None else spec.new_title
    page = render_template("reports/work/form.html", form=form, kind=kind, record=record, title=title)
    return page, 422 if form.errors else 200


@bp.route(f"/{KIND_PATH}/new", methods=["GET", "POST"])
@roles_required(*WRITERS)
def new(kind: str):
    """Record a contract, technology process or S&T task of the user's centre."""
    return _form_page(kind, None)


@bp.route(f"/{KIND_PATH}/<int:record_id>/edit", methods=["GET", "POST"])
@roles_required(*WRITERS)
def edit(kind: str, record_id: int):
    """Change a contract, technology process or S&T task of the user's centre."""
    return _form_page(kind, get_scoped_or_404(KINDS[kind].model, record_id))


@bp.route(f"/{KIND_PATH}/<int:record_id>/delete", methods=["POST"])
@roles_required(*WRITERS)
def delete(kind: str, record_id: int):
    """Delete a record entered by mistake; the audit log keeps it."""
    record = get_scoped_or_404(KINDS[kind].model, record_id)
    if perform(delete_record, record, actor=current_user).ok:
        flash(str(KINDS[kind].deleted), "success")
    return redirect(url_for("reports.centre_work.index", _anchor=kind))
