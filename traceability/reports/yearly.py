"""The centres' yearly report, as the ministry counts it, and the national roll-up.

What each figure of year Y counts (Y runs from 1 January to 31 December):

- **Products brought to market in Y**: products of the centre's producers
  whose *first batch* was produced in Y, that is the earliest production date
  among all the product's batches in the registry falls in Y. A batch is the
  registry's proof that goods with a traceability code left the producer; a
  product whose first batch is older was brought to market before Y and is
  not counted again, and a product without any batch is not on the market yet.
  Recalled batches count: the goods did reach the market.
- **Their declared revenue (VND)**: the sum of those products' declared
  yearly revenue (``Product.declared_revenue_vnd``; none declared counts 0).
  The registry keeps one figure per product, its latest declaration, so a
  report for a past year made again later shows the revenue declared now.
- **Of which from the centre's work**: those of the products above that one
  of the centre's contracts, technology processes or S&T tasks (of any year)
  names as a product it produced; each product counts once.
- **Contracts** (technology transfer, service, consulting): those *signed* in
  Y, their number and their value in VND, by kind.
- **Technology processes mastered**: those *mastered* (``mastered_on``) in Y.
- **S&T tasks carried out**: those whose implementation period, from
  ``starts_on`` to ``ends_on`` (still running when there is no end date),
  overlaps Y, whatever their status; **accepted** are those of them accepted
  (``status`` accepted) with their end date in Y.

The national roll-up runs the same grouped queries for every centre at once;
its total row is the sum of the centres' rows, so it equals the sum of the
centres' own reports exactly (integers, no rounding anywhere).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, exists, func, or_, select
from sqlalchemy.orm import selectinload

from traceability.core.extensions import db
from traceability.models.batches import Batch
from traceability.models.registry import Centre, Producer, Product
from traceability.models.reports import (
    CentreContract,
    ScienceTask,
    TechnologyProcess,
    centre_contract_product,
    science_task_product,
    technology_process_product,
)

FIRST_YEAR = 2000

CONTRACT_KIND_LABELS = {
    "technology_transfer": _l("Technology transfer"),
    "service": _l("Service"),
    "consulting": _l("Consulting"),
}
TASK_LEVEL_LABELS = {
    "national": _l("National"),
    "ministry": _l("Ministry"),
    "province": _l("Province"),
    "grassroots": _l("Grassroots"),
}
TASK_STATUS_LABELS = {
    "in_progress": _l("In progress"),
    "accepted": _l("Accepted"),
    "stopped": _l("Stopped"),
}


@dataclass
class Figures:
    """The yearly figures of one centre, or their sum."""

    products_to_market: int = 0
    products_revenue_vnd: int = 0
    products_from_centre_work: int = 0
    products_from_centre_work_revenue_vnd: int = 0
    technology_transfer_count: int = 0
    technology_transfer_value_vnd: int = 0
    service_count: int = 0
    service_value_vnd: int = 0
    consulting_count: int = 0
    consulting_value_vnd: int = 0
    processes_mastered: int = 0
    tasks_carried_out: int = 0
    tasks_accepted: int = 0

    def __add__(self, other: Figures) -> Figures:
        return Figures(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Indicator:
    """A line of the report: which figure, its label and its unit."""

    key: str
    label: Any
    unit: Any
    indent: bool = False  # a part of the line above it


VND = _l("VND")
INDICATORS = (
    Indicator("products_to_market", _l("Products brought to market"), _l("products")),
    Indicator("products_revenue_vnd", _l("Declared revenue of these products"), VND),
    Indicator("products_from_centre_work", _l("of which from the centre's work"), _l("products"), True),
    Indicator("products_from_centre_work_revenue_vnd", _l("their declared revenue"), VND, True),
    Indicator("technology_transfer_count", _l("Technology transfer contracts"), _l("contracts")),
    Indicator("technology_transfer_value_vnd", _l("Value of technology transfer contracts"), VND),
    Indicator("service_count", _l("Service contracts"), _l("contracts")),
    Indicator("service_value_vnd", _l("Value of service contracts"), VND),
    Indicator("consulting_count", _l("Consulting contracts"), _l("contracts")),
    Indicator("consulting_value_vnd", _l("Value of consulting contracts"), VND),
    Indicator("processes_mastered", _l("Technology processes mastered"), _l("processes")),
    Indicator("tasks_carried_out", _l("S&T tasks carried out"), _l("tasks")),
    Indicator("tasks_accepted", _l("of which accepted this year"), _l("tasks"), True),
)


def year_bounds(year: int) -> tuple[date, date]:
    return date(year, 1, 1), date(year, 12, 31)


# ---------------------------------------------------------------- the grouped queries


def _first_batches() -> Any:
    """Each product's first production date."""
    return (
        select(Batch.product_id, func.min(Batch.production_date).label("first_on"))
        .group_by(Batch.product_id)
        .subquery()
    )


def _from_centre_work() -> Any:
    """Whether one of the producer's centre's contracts, processes or tasks names the product."""
    links = (
        (centre_contract_product, centre_contract_product.c.centre_contract_id, CentreContract),
        (technology_process_product, technology_process_product.c.technology_process_id, TechnologyProcess),
        (science_task_product, science_task_product.c.science_task_id, ScienceTask),
    )
    return or_(
        *(
            exists().where(
                table.c.product_id == Product.id, owner_id == owner.id, owner.centre_id == Producer.centre_id
            )
            for table, owner_id, owner in links
        )
    )


def _integer_sum(value: Any) -> Any:
    return func.coalesce(func.sum(value), 0)


def _product_figures(centre_ids: list[int], start: date, end: date) -> dict[int, dict[str, int]]:
    first = _first_batches()
    revenue = func.coalesce(Product.declared_revenue_vnd, 0)
    from_work = _from_centre_work()
    query = (
        select(
            Producer.centre_id,
            func.count(Product.id),
            _integer_sum(revenue),
            _integer_sum(case((from_work, 1), else_=0)),
            _integer_sum(case((from_work, revenue), else_=0)),
        )
        .select_from(Product)
        .join(first, first.c.product_id == Product.id)
        .join(Producer, Producer.id == Product.producer_id)
        .where(Producer.centre_id.in_(centre_ids), first.c.first_on.between(start, end))
        .group_by(Producer.centre_id)
    )
    return {
        centre_id: {
            "products_to_market": int(count),
            "products_revenue_vnd": int(total),
            "products_from_centre_work": int(work_count),
            "products_from_centre_work_revenue_vnd": int(work_total),
        }
        for centre_id, count, total, work_count, work_total in db.session.execute(query)
    }


def _contract_figures(centre_ids: list[int], start: date, end: date) -> dict[int, dict[str, int]]:
    query = (
        select(
            CentreContract.centre_id,
            CentreContract.kind,
            func.count(CentreContract.id),
            _integer_sum(CentreContract.value_vnd),
        )
        .where(CentreContract.centre_id.in_(centre_ids), CentreContract.signed_on.between(start, end))
        .group_by(CentreContract.centre_id, CentreContract.kind)
    )
    result: dict[int, dict[str, int]] = {}
    for centre_id, kind, count, value in db.session.execute(query):
        result.setdefault(centre_id, {}).update(
            {f"{kind}_count": int(count), f"{kind}_value_vnd": int(value)}
        )
    return result


def _process_figures(centre_ids: list[int], start: date, end: date) -> dict[int, dict[str, int]]:
    query = (
        select(TechnologyProcess.centre_id, func.count(TechnologyProcess.id))
        .where(TechnologyProcess.centre_id.in_(centre_ids), TechnologyProcess.mastered_on.between(start, end))
        .group_by(TechnologyProcess.centre_id)
    )
    return {centre_id: {"processes_mastered": int(count)} for centre_id, count in db.session.execute(query)}


def _task_overlaps(start: date, end: date) -> Any:
    return and_(
        ScienceTask.starts_on <= end, or_(ScienceTask.ends_on.is_(None), ScienceTask.ends_on >= start)
    )


def _task_figures(centre_ids: list[int], start: date, end: date) -> dict[int, dict[str, int]]:
    accepted = and_(ScienceTask.status == "accepted", ScienceTask.ends_on.between(start, end))
    query = (
        select(ScienceTask.centre_id, func.count(ScienceTask.id), _integer_sum(case((accepted, 1), else_=0)))
        .where(ScienceTask.centre_id.in_(centre_ids), _task_overlaps(start, end))
        .group_by(ScienceTask.centre_id)
    )
    return {
        centre_id: {"tasks_carried_out": int(count), "tasks_accepted": int(accepted_count)}
        for centre_id, count, accepted_count in db.session.execute(query)
    }


def figures_by_centre(centre_ids: list[int], year: int) -> dict[int, Figures]:
    """The yearly figures of each centre in ``centre_ids``: four grouped queries whatever their number."""
    start, end = year_bounds(year)
    values: dict[int, dict[str, int]] = {centre_id: {} for centre_id in centre_ids}
    for part in (_product_figures, _contract_figures, _process_figures, _task_figures):
        for centre_id, found in part(centre_ids, start, end).items():
            values[centre_id].update(found)
    return {centre_id: Figures(**found) for centre_id, found in values.items()}


# ---------------------------------------------------------------- the reports


@dataclass(frozen=True)
class MarketProduct:
    """A product brought to market in the year, for the report's detail."""

    product: Product
    first_on: date
    from_centre_work: bool


@dataclass(frozen=True)
class CentreReport:
    """One centre's yearly report: its figures and the records behind them."""

    centre: Centre
    year: int
    figures: Figures
    products: list[MarketProduct] = field(default_factory=list)
    contracts: list[CentreContract] = field(default_factory=list)
    processes: list[TechnologyProcess] = field(default_factory=list)
    tasks: list[ScienceTask] = field(default_factory=list)


@dataclass(frozen=True)
class NationalReport:
    """Every centre's figures for the year and their sum."""

    year: int
    rows: list[tuple[Centre, Figures]]
    total: Figures


def _market_products(centre: Centre, start: date, end: date) -> list[MarketProduct]:
    first = _first_batches()
    query = (
        select(Product, first.c.first_on, _from_centre_work())
        .join(first, first.c.product_id == Product.id)
        .join(Producer, Producer.id == Product.producer_id)
        .options(selectinload(Product.producer))
        .where(Producer.centre_id == centre.id, first.c.first_on.between(start, end))
        .order_by(Producer.name, Product.name, Product.id)
    )
    return [
        MarketProduct(product, first_on, bool(linked))
        for product, first_on, linked in db.session.execute(query)
    ]


def centre_report(centre: Centre, year: int) -> CentreReport:
    """The yearly report of ``centre``: the figures and, behind them, each product, contract, process and task."""
    start, end = year_bounds(year)
    contracts = db.session.scalars(
        select(CentreContract)
        .options(selectinload(CentreContract.products))
        .where(CentreContract.centre_id == centre.id, CentreContract.signed_on.between(start, end))
        .order_by(CentreContract.kind, CentreContract.signed_on, CentreContract.id)
    ).all()
    processes = db.session.scalars(
        select(TechnologyProcess)
        .options(selectinload(TechnologyProcess.products))
        .where(TechnologyProcess.centre_id == centre.id, TechnologyProcess.mastered_on.between(start, end))
        .order_by(TechnologyProcess.mastered_on, TechnologyProcess.id)
    ).all()
    tasks = db.session.scalars(
        select(ScienceTask)
        .options(selectinload(ScienceTask.products))
        .where(ScienceTask.centre_id == centre.id, _task_overlaps(start, end))
        .order_by(ScienceTask.starts_on, ScienceTask.id)
    ).all()
    return CentreReport(
        centre=centre,
        year=year,
        figures=figures_by_centre([centre.id], year)[centre.id],
        products=_market_products(centre, start, end),
        contracts=list(contracts),
        processes=list(processes),
        tasks=list(tasks),
    )


def national_report(year: int) -> NationalReport:
    """Every centre's figures for ``year``, by province code, and the national total (their exact sum)."""
    centres = db.session.scalars(select(Centre).order_by(Centre.province_code)).all()
    figures = figures_by_centre([centre.id for centre in centres], year)
    rows = [(centre, figures[centre.id]) for centre in centres]
    total = sum((row for _centre, row in rows), Figures())
    return NationalReport(year=year, rows=rows, total=total)
