"""Recording a centre's own work: contracts, technology processes and S&T tasks.

Centre staff and admins write their own centre's records (``writable_centre``);
auditors and the ministry read them through the tenant scope; producers do
neither. Each record may name the products it produced, which must be
products of the centre's producers. Every change writes an audit entry with
the linked product ids; the route or API handler commits once.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from traceability.accounts.scope import scoped_select, writable_centre
from traceability.audit.service import record_audit, snapshot
from traceability.core.dates import vietnam_today
from traceability.core.errors import Conflict, Forbidden, InvalidInput
from traceability.core.extensions import db
from traceability.core.text import parse_vnd
from traceability.models.accounts import User
from traceability.models.registry import Centre, Producer, Product
from traceability.models.reports import (
    CONTRACT_KINDS,
    MAX_VALUE_VND,
    TASK_LEVELS,
    TASK_STATUSES,
    CentreContract,
    ScienceTask,
    TechnologyProcess,
)

MAX_DESCRIPTION = 5_000
MAX_PRODUCTS = 200
Record = CentreContract | TechnologyProcess | ScienceTask
RecordT = TypeVar("RecordT", CentreContract, TechnologyProcess, ScienceTask)


def _text(
    data: dict[str, Any], name: str, limit: int, errors: dict[str, Any], *, required: bool = True
) -> str:
    value = str(data.get(name) or "").strip()
    if required and not value:
        errors[name] = _l("This field is required.")
    elif len(value) > limit:
        errors[name] = _l("At most %(count)d characters.", count=limit)
    return value


def _date(data: dict[str, Any], name: str, errors: dict[str, Any], *, required: bool = True) -> date | None:
    value = data.get(name)
    if value in (None, ""):
        if required:
            errors[name] = _l("This field is required.")
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors[name] = _l("A date such as 2026-03-31.")
        return None


def _not_future(day: date | None, name: str, errors: dict[str, Any]) -> None:
    if day is not None and day > vietnam_today():
        errors[name] = _l("This date is in the future.")


def _choice(data: dict[str, Any], name: str, allowed: tuple[str, ...], errors: dict[str, Any]) -> str | None:
    value = data.get(name)
    if value not in allowed:
        errors[name] = _l("Choose one of the options.")
    return value


def _products(centre: Centre, data: dict[str, Any], errors: dict[str, Any]) -> list[Product]:
    """The products the record produced: products of the centre's producers, none twice."""
    given = data.get("product_ids") or []
    if not isinstance(given, list | tuple) or len(given) > MAX_PRODUCTS:
        errors["product_ids"] = _l("At most %(count)d products.", count=MAX_PRODUCTS)
        return []
    try:
        ids = sorted({int(product_id) for product_id in given})
    except (TypeError, ValueError):
        errors["product_ids"] = _l("Choose products from the list.")
        return []
    if not ids:
        return []
    products = db.session.scalars(
        select(Product)
        .join(Producer, Producer.id == Product.producer_id)
        .where(Product.id.in_(ids), Producer.centre_id == centre.id)
        .order_by(Product.name)
    ).all()
    if len(products) != len(ids):
        errors["product_ids"] = _l("Only products of this centre's producers can be linked.")
    return list(products)


def _own(record: Record, actor: User) -> Centre:
    """The actor's centre, when it owns ``record``."""
    centre = writable_centre(actor)
    if record.centre_id != centre.id:
        raise Forbidden(_l("Only the centre's staff can record the centre's contracts, processes and tasks."))
    return centre


def _state(record: Record) -> dict[str, Any]:
    return {**snapshot(record), "product_ids": sorted(product.id for product in record.products)}


def _taken(model: type[Record], column: Any, value: str, centre: Centre, record: Record | None) -> bool:
    query = select(model.id).where(model.centre_id == centre.id, column == value)
    if record is not None:
        query = query.where(model.id != record.id)
    return db.session.scalar(query) is not None


def _save(
    record: RecordT, values: dict[str, Any], products: list[Product], *, actor: User, centre: Centre
) -> RecordT:
    """Apply the cleaned values, flush and write the audit entry: create when the record is new."""
    is_new = record.id is None
    before = None if is_new else _state(record)
    for name, value in values.items():
        setattr(record, name, value)
    record.products = products
    if is_new:
        db.session.add(record)
    db.session.flush()
    action = "create" if is_new else "update"
    record_audit(action, record, before=before, after=_state(record), actor=actor, centre_id=centre.id)
    return record


def latest_records(model: type[RecordT], order: tuple[Any, ...], *, limit: int) -> list[RecordT]:
    """The first ``limit`` records of ``model`` in ``order`` that the user may see, with products and centre."""
    query = scoped_select(model).options(selectinload(model.products), selectinload(model.centre))
    return list(db.session.scalars(query.order_by(*order).limit(limit)))


def delete_record(record: Record, *, actor: User) -> None:
    """Remove a contract, process or task entered by mistake; the audit log keeps what it was."""
    centre = _own(record, actor)
    record_audit("delete", record, before=_state(record), after=None, actor=actor, centre_id=centre.id)
    db.session.delete(record)
    db.session.flush()


# ---------------------------------------------------------------- contracts


def _contract_values(data: dict[str, Any], errors: dict[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {
        "kind": _choice(data, "kind", CONTRACT_KINDS, errors),
        "number": _text(data, "number", 100, errors),
        "counterparty": _text(data, "counterparty", 300, errors),
        "signed_on": _date(data, "signed_on", errors),
        "value_vnd": parse_vnd(data.get("value_vnd")),
        "description": _text(data, "description", MAX_DESCRIPTION, errors, required=False),
    }
    _not_future(values["signed_on"], "signed_on", errors)
    if values["value_vnd"] is None or not 0 <= values["value_vnd"] <= MAX_VALUE_VND:
        errors["value_vnd"] = _l("The value in đồng, digits only, for example 150.000.000.")
    return values


def save_contract(
    data: dict[str, Any], *, actor: User, contract: CentreContract | None = None
) -> CentreContract:
    """Record a new contract of the actor's centre, or change ``contract``."""
    centre = writable_centre(actor) if contract is None else _own(contract, actor)
    errors: dict[str, Any] = {}
    values = _contract_values(data, errors)
    products = _products(centre, data, errors)
    if errors:
        raise InvalidInput(_l("Check the contract's fields."), errors)
    if _taken(CentreContract, CentreContract.number, values["number"], centre, contract):
        raise Conflict(
            _l("The centre already has a contract with this number."),
            {"number": _l("Already used by another contract of the centre.")},
        )
    record = contract or CentreContract(centre_id=centre.id)
    return _save(record, values, products, actor=actor, centre=centre)


# ---------------------------------------------------------------- technology processes


def save_process(
    data: dict[str, Any], *, actor: User, process: TechnologyProcess | None = None
) -> TechnologyProcess:
    """Record a technology process the centre mastered, or change ``process``."""
    centre = writable_centre(actor) if process is None else _own(process, actor)
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {
        "name": _text(data, "name", 300, errors),
        "mastered_on": _date(data, "mastered_on", errors),
        "description": _text(data, "description", MAX_DESCRIPTION, errors, required=False),
    }
    _not_future(values["mastered_on"], "mastered_on", errors)
    products = _products(centre, data, errors)
    if errors:
        raise InvalidInput(_l("Check the process's fields."), errors)
    if _taken(TechnologyProcess, TechnologyProcess.name, values["name"], centre, process):
        raise Conflict(
            _l("The centre already has a process with this name."),
            {"name": _l("Already used by another process of the centre.")},
        )
    record = process or TechnologyProcess(centre_id=centre.id)
    return _save(record, values, products, actor=actor, centre=centre)


# ---------------------------------------------------------------- S&T tasks


def save_task(data: dict[str, Any], *, actor: User, task: ScienceTask | None = None) -> ScienceTask:
    """Record a science and technology task of the centre, or change ``task``."""
    centre = writable_centre(actor) if task is None else _own(task, actor)
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {
        "name": _text(data, "name", 500, errors),
        "code": _text(data, "code", 50, errors),
        "level": _choice(data, "level", TASK_LEVELS, errors),
        "starts_on": _date(data, "starts_on", errors),
        "ends_on": _date(data, "ends_on", errors, required=False),
        "status": _choice(data, "status", TASK_STATUSES, errors),
    }
    starts_on, ends_on = values["starts_on"], values["ends_on"]
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = _l("The end date must not be before the start date.")
    if values["status"] == "accepted" and ends_on is None:
        errors["ends_on"] = _l("An accepted task needs its end date.")
    if values["status"] == "accepted":
        _not_future(ends_on, "ends_on", errors)
    products = _products(centre, data, errors)
    if errors:
        raise InvalidInput(_l("Check the task's fields."), errors)
    if _taken(ScienceTask, ScienceTask.code, values["code"], centre, task):
        raise Conflict(
            _l("The centre already has a task with this code."),
            {"code": _l("Already used by another task of the centre.")},
        )
    record = task or ScienceTask(centre_id=centre.id)
    return _save(record, values, products, actor=actor, centre=centre)
