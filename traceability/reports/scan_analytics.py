"""Consumers' scans of the QR codes, counted for the people who made the products.

A producer sees the scans of its own products, a centre's staff and auditors
those of their province's producers, the ministry every scan. Each figure is
one SQL ``GROUP BY`` through the tenant scope over a range of Vietnamese
calendar days, read from the daily counts (kept as the scans are written by
``public.scan_rollups``), never the raw scans: the coarsest table that answers
the figure (``_counts``): a centre's days for the scans per day, province,
language and device, a product's days for the rankings of products and
producers, a lot's only for a producer (its own few lots) and the ranking of
lots. Each returns a ``Chart`` (``chart_data``): the SVG, the table under it
and its CSV download are drawn from the same numbers.

The whole page (``scan_charts``) sums the scans per day, centre, language and
device in one statement (``scan_sums``: one pass over the centres' days on
PostgreSQL, ``GROUPING SETS``), and ranks the most scanned products from the
top of each month's counts (``_top_products``), so a year's page reads about
the same rows whatever the number of scans and of products.

The "where" chart depends on the reader: the ministry sees provinces, a
centre its producers, a producer its batches (lot codes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import CompoundSelect, Select, func, literal, null, or_, select, union_all

from traceability.accounts.scope import tenant_clause
from traceability.core.dates import month_start
from traceability.core.extensions import db
from traceability.models.batches import Batch
from traceability.models.public import (
    DEVICE_CLASSES,
    ScanDaily,
    ScanDailyCentre,
    ScanDailyProduct,
    ScanMonthlyProduct,
)
from traceability.models.registry import Centre, Producer, Product
from traceability.reports import charts
from traceability.reports.chart_data import Chart
from traceability.reports.chart_shapes import daily_chart, province_chart
from traceability.reports.periods import day_key

DEFAULT_DAYS = 30
MAX_DAYS = 366  # a year, leap day included: the per-day chart stays readable
TOP = 10  # the longest ranked lists show this many rows and one "others" row
# How deep the ranking reads each month's top counts: first, and at most before it sums every product.
RANKING_DEPTH = 2 * TOP
RANKING_MAX_DEPTH = 32 * TOP

LANGUAGE_LABELS = {"vi": _l("Vietnamese"), "en": _l("English")}
DEVICE_LABELS = {
    "mobile": _l("Phone"),
    "tablet": _l("Tablet"),
    "desktop": _l("Computer"),
    "other": _l("Other"),
    "bot": _l("Automated"),
}


@dataclass(frozen=True)
class Period:
    """Vietnamese calendar days from ``start`` to ``end``, both included."""

    start: date
    end: date

    @classmethod
    def ending(cls, today: date, days: int = DEFAULT_DAYS) -> Period:
        return cls(today - timedelta(days=days - 1), today)

    @property
    def length(self) -> int:
        """How many days the period counts."""
        return (self.end - self.start).days + 1

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=offset) for offset in range(self.length)]


@dataclass(frozen=True)
class ScanSums:
    """The user's scans of a period summed per day, centre, language and kind of device (no key: none)."""

    per_day: dict[date, int]
    per_centre: dict[int, int]
    per_language: dict[str, int]
    per_device: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.per_day.values())


def scan_sums(user: Any, period: Period) -> ScanSums:
    """The four sums of the page in one statement over the coarsest counts that answer them.

    On PostgreSQL one pass with ``GROUPING SETS`` (each row is the sum of one
    key, the other three NULL: every key column is NOT NULL); elsewhere a
    ``UNION ALL`` of the four ``GROUP BY``.
    """
    model = _counts(user, "centre")
    keys = (model.day, model.centre_id, model.language, model.device_class)
    if db.session.get_bind().dialect.name == "postgresql":
        query: Select | CompoundSelect = (
            _scans(user, period, model)
            .add_columns(*keys, func.sum(model.count))
            .group_by(func.grouping_sets(*keys))
        )
    else:
        query = union_all(
            *(
                _scans(user, period, model)
                .add_columns(
                    *(key if key is grouped else null().label(key.key) for key in keys),
                    func.sum(model.count),
                )
                .group_by(grouped)
                for grouped in keys
            )
        )
    sums: tuple[dict[Any, int], ...] = ({}, {}, {}, {})
    for row in db.session.execute(query):
        index = next(position for position, value in enumerate(row[:4]) if value is not None)
        sums[index][row[index]] = int(row[4])
    return ScanSums(*sums)


def _counts(user: Any, by: str) -> Any:
    """The daily counts table that answers a figure grouped ``by`` "centre" or "product" for ``user``.

    A producer reads its own lots' counts (few rows, and the centre's sums mix
    other producers); the centres and the ministry read the coarser tables.
    """
    if user.role == "producer":
        return ScanDaily
    return ScanDailyCentre if by == "centre" else ScanDailyProduct


def _scans(user: Any, period: Period, model: Any = ScanDaily) -> Select:
    """The condition shared by every figure: the daily counts of the user's scans within the period."""
    return select().where(
        tenant_clause(model, user),
        model.day >= period.start,
        model.day <= period.end,
    )


def _grouped(query: Select) -> list[tuple[Any, int]]:
    return [(key, int(count)) for key, count in db.session.execute(query)]


def _series(values: list[int]) -> list[charts.Series]:
    return [charts.Series(str(_l("Scans")), tuple(values))]


def _empty_message() -> str:
    return str(_l("No scans in this period."))


def _ranked(
    pairs: list[tuple[str, int]],
    key: str,
    title: Any,
    description: Any,
    header: Any,
    others: Any,
    rest: int | None = None,
) -> Chart:
    """A horizontal bar chart of the ``TOP`` largest counts, the rest summed in one last row.

    ``rest``, when given, is the sum of the counts that ``pairs`` leaves out.
    """
    pairs = sorted(pairs, key=lambda pair: (-pair[1], pair[0]))
    shown = pairs[:TOP]
    rest = sum(count for _, count in pairs[TOP:]) if rest is None else rest
    if rest:
        shown.append((str(others), rest))
    return Chart(
        key=key,
        title=str(title),
        description=str(description),
        category_header=str(header),
        categories=[name for name, _ in shown],
        series=_series([count for _, count in shown]),
        kind="hbar",
        empty_message=_empty_message(),
    )


def _total(user: Any, period: Period) -> int:
    """The user's scans within the period."""
    model = _counts(user, "centre")
    return int(db.session.scalar(_scans(user, period, model).add_columns(func.sum(model.count))) or 0)


def daily_counts(user: Any, period: Period) -> dict[str, int]:
    """The user's scans per Vietnamese day of the period, keyed by ``periods.day_key`` (no key: none)."""
    model = _counts(user, "centre")
    query = _scans(user, period, model).add_columns(model.day, func.sum(model.count)).group_by(model.day)
    return {day_key(day): count for day, count in _grouped(query)}


def per_day(user: Any, period: Period, sums: ScanSums | None = None) -> Chart:
    """Scans by day, in Vietnam time."""
    counts = (
        {day_key(day): count for day, count in sums.per_day.items()}
        if sums is not None
        else daily_counts(user, period)
    )
    return daily_chart(
        counts,
        period.days,
        key="per-day",
        title=_l("Scans per day"),
        description=_l("Consumers' scans of the QR codes, per day (Vietnam time)."),
        series_name=_l("Scans"),
        empty_message=_empty_message(),
    )


def _with_producer(user: Any) -> bool:
    """Products and batches are named with their producer for readers who see several producers."""
    return user.role != "producer"


def _whole_months(period: Period) -> tuple[date, date] | None:
    """The first day of the period's first whole month and of the month after its last; None without one."""
    first = period.start if period.start.day == 1 else month_start(period.start, 1)
    after = month_start(period.end + timedelta(days=1), 0)
    return (first, after) if first < after else None


def _per_product(user: Any, period: Period, products: set[int] | None = None) -> Select | CompoundSelect:
    """The user's scans per product (``owner_id``, ``scans``): whole months from the monthly counts, the rest by day.

    ``products`` (ids) counts only those.
    """
    whole = _whole_months(period)
    if whole is None:
        days = _scans(user, period, ScanDailyProduct)
    else:
        first, after = whole
        days = _scans(user, period, ScanDailyProduct).where(
            or_(ScanDailyProduct.day < first, ScanDailyProduct.day >= after)
        )
    if products is not None:
        days = days.where(ScanDailyProduct.product_id.in_(products))
    parts = [
        days.add_columns(
            ScanDailyProduct.product_id.label("owner_id"), func.sum(ScanDailyProduct.count).label("scans")
        ).group_by(ScanDailyProduct.product_id)
    ]
    if whole is not None:
        parts.append(
            select(
                ScanMonthlyProduct.product_id.label("owner_id"),
                func.sum(ScanMonthlyProduct.count).label("scans"),
            )
            .where(
                tenant_clause(ScanMonthlyProduct, user),
                ScanMonthlyProduct.month >= whole[0],
                ScanMonthlyProduct.month < whole[1],
                *([ScanMonthlyProduct.product_id.in_(products)] if products is not None else []),
            )
            .group_by(ScanMonthlyProduct.product_id)
        )
    return union_all(*parts) if len(parts) > 1 else parts[0]


def _counted_by(
    user: Any, period: Period, *columns: Any, lots: bool = False, products: set[int] | None = None
) -> Select:
    """The user's scans within the period counted by ``columns`` of their batch, product or producer.

    The counts are summed per lot (``lots``) or per product first, then named:
    the join touches one row per lot or product, not one per day. ``products``
    (ids, read from the product counts) counts only those.
    """
    model = ScanDaily if lots else _counts(user, "product")
    if model is ScanDailyProduct:
        summed = _per_product(user, period, products).subquery()
    else:
        owner = model.batch_id if lots else model.product_id
        summed = (
            _scans(user, period, model)
            .add_columns(owner.label("owner_id"), func.sum(model.count).label("scans"))
            .group_by(owner)
            .subquery()
        )
    query = select(*columns, func.sum(summed.c.scans)).select_from(summed)
    if lots:
        query = query.join(Batch, Batch.id == summed.c.owner_id).join(Product, Product.id == Batch.product_id)
    else:
        query = query.join(Product, Product.id == summed.c.owner_id)
    return query.join(Producer, Producer.id == Product.producer_id).group_by(*columns)


def _named_products(user: Any, period: Period, products: set[int] | None = None) -> list[tuple[str, int]]:
    """(name, scans) of the user's products scanned within the period (of ``products`` only, when given)."""
    query = _counted_by(user, period, Product.id, Product.name, Producer.name, products=products)
    named = _with_producer(user)
    return [
        (f"{product} ({producer})" if named else product, int(count))
        for _, product, producer, count in db.session.execute(query)
        if count
    ]


def _month_tops(user: Any, period: Period, depth: int) -> list[list[tuple[int, int]]]:
    """Each month the period touches: its ``depth`` products of the most scans, (product id, count), most first.

    One statement; each month's part reads an index in count order
    (``ix_scan_monthly_product_month_count``, or per centre) and stops at ``depth``.
    """
    months = []
    month = month_start(period.start, 0)
    while month <= period.end:
        months.append(month)
        month = month_start(month, 1)
    parts = [
        select(
            literal(number).label("part"),
            ScanMonthlyProduct.product_id.label("product_id"),
            ScanMonthlyProduct.count.label("scans"),
        )
        .where(tenant_clause(ScanMonthlyProduct, user), ScanMonthlyProduct.month == month)
        .order_by(ScanMonthlyProduct.count.desc())  # ties at the cut need no order: the bound holds
        .limit(depth)
        .subquery()
        for number, month in enumerate(months)
    ]
    query = union_all(*(select(part) for part in parts)) if len(parts) > 1 else select(parts[0])
    tops: list[list[tuple[int, int]]] = [[] for _ in months]
    for number, product_id, scans in db.session.execute(query):
        tops[number].append((product_id, int(scans)))
    for top in tops:
        top.sort(key=lambda pair: (-pair[1], pair[0]))
    return tops


def _top_products(user: Any, period: Period, total: int) -> tuple[list[tuple[str, int]], int]:
    """The ``TOP`` most scanned products of the period, named, and the scans of all the others.

    The threshold algorithm over the months' counts: the products at the top
    of each month the period touches are the candidates, counted exactly over
    the period; a product at no month's top has at most the sum of each
    month's last count read (``bound``), so once the ``TOP``-th candidate has
    more, no other product can reach the list, ties by name included.
    Otherwise each month is read deeper; past ``RANKING_MAX_DEPTH`` every
    product is counted. The others are ``total`` (the period's scans) less
    the list: every count table holds the same totals.
    """
    depth = RANKING_DEPTH
    while True:
        tops = _month_tops(user, period, depth)
        candidates = {product_id for top in tops for product_id, _ in top}
        pairs = sorted(_named_products(user, period, candidates), key=lambda pair: (-pair[1], pair[0]))
        bound = sum(top[-1][1] for top in tops if len(top) == depth)
        if bound == 0 or (len(pairs) >= TOP and pairs[TOP - 1][1] > bound):
            break
        if depth >= RANKING_MAX_DEPTH:
            pairs = sorted(_named_products(user, period), key=lambda pair: (-pair[1], pair[0]))
            break
        depth *= 4
    shown = pairs[:TOP]
    return shown, total - sum(count for _, count in shown)


def per_product(user: Any, period: Period, sums: ScanSums | None = None) -> Chart:
    """The most scanned products."""
    rest = None
    if user.role == "producer":  # its own few lots' counts
        pairs = _named_products(user, period)
    else:
        pairs, rest = _top_products(user, period, _total(user, period) if sums is None else sums.total)
    return _ranked(
        pairs,
        "per-product",
        _l("Most scanned products"),
        _l("Scans by product, the %(top)d most scanned first.", top=TOP),
        _l("Product"),
        _l("Other products"),
        rest,
    )


def per_province(user: Any, period: Period, sums: ScanSums | None = None) -> Chart:
    """Scans by the province of the producer's centre (the ministry's view)."""
    per_centre = (sums or scan_sums(user, period)).per_centre
    provinces: dict[str, int] = {}
    for centre_id, province in db.session.execute(
        select(Centre.id, Centre.province_code).where(Centre.id.in_(per_centre))
    ):
        provinces[province] = provinces.get(province, 0) + per_centre[centre_id]
    return province_chart(
        provinces,
        key="per-province",
        title=_l("Scans by province"),
        description=_l("Scans by the province of the producer's centre."),
        series_name=_l("Scans"),
        empty_message=_empty_message(),
    )


def per_producer(user: Any, period: Period, sums: ScanSums | None = None) -> Chart:
    """Scans by producer (a centre's view of its province)."""
    query = _counted_by(user, period, Producer.id, Producer.name)
    pairs = [(name, int(count)) for _, name, count in db.session.execute(query)]
    return _ranked(
        pairs,
        "per-producer",
        _l("Scans by producer"),
        _l("Scans by producer of the province, the %(top)d most scanned first.", top=TOP),
        _l("Producer"),
        _l("Other producers"),
    )


def per_batch(user: Any, period: Period, sums: ScanSums | None = None) -> Chart:
    """Scans by batch (a producer's view of its own lots)."""
    query = _counted_by(user, period, Batch.id, Batch.lot_code, Product.name, lots=True)
    pairs = [(f"{lot} · {product}", int(count)) for _, lot, product, count in db.session.execute(query)]
    return _ranked(
        pairs,
        "per-batch",
        _l("Most scanned batches"),
        _l("Scans by batch (lot code and product), the %(top)d most scanned first.", top=TOP),
        _l("Batch"),
        _l("Other batches"),
    )


def _by_scan_column(
    counts: dict[str, int],
    labels: dict[str, Any],
    always: tuple[str, ...],
    *,
    key: str,
    title: Any,
    description: Any,
    header: Any,
) -> Chart:
    """Scans counted by one of their own columns: the codes ``always`` shown first, then any other found."""
    codes = [*always, *sorted(code for code in counts if code not in always)]
    return Chart(
        key=key,
        title=str(title),
        description=str(description),
        category_header=str(header),
        categories=[str(labels.get(code, code)) for code in codes],
        series=_series([counts.get(code, 0) for code in codes]),
        empty_message=_empty_message(),
    )


def per_language(user: Any, period: Period, sums: ScanSums | None = None) -> Chart:
    """Scans by the language of the page the consumer read."""
    return _by_scan_column(
        (sums or scan_sums(user, period)).per_language,
        LANGUAGE_LABELS,
        ("vi", "en"),
        key="per-language",
        title=_l("Scans by language"),
        description=_l("The language of the page the consumer read."),
        header=_l("Language"),
    )


def per_device(user: Any, period: Period, sums: ScanSums | None = None) -> Chart:
    """Scans by the coarse device class read from the browser's User-Agent."""
    return _by_scan_column(
        (sums or scan_sums(user, period)).per_device,
        DEVICE_LABELS,
        tuple(kind for kind in DEVICE_CLASSES if kind != "bot"),  # crawlers are never counted
        key="per-device",
        title=_l("Scans by device"),
        description=_l("The kind of device the page was opened on, read from the browser."),
        header=_l("Device"),
    )


ChartBuilder = Callable[..., Chart]  # (user, period, sums=None)


def _where_chart(user: Any) -> tuple[str, ChartBuilder]:
    if user.role == "ministry":
        return "per-province", per_province
    if user.role == "producer":
        return "per-batch", per_batch
    return "per-producer", per_producer


def chart_builders(user: Any) -> dict[str, ChartBuilder]:
    """The charts ``user`` reads, by key, in the order the page shows them."""
    where_key, where = _where_chart(user)
    return {
        "per-day": per_day,
        "per-product": per_product,
        where_key: where,
        "per-language": per_language,
        "per-device": per_device,
    }


CHART_KEYS = (
    "per-day",
    "per-product",
    "per-province",
    "per-producer",
    "per-batch",
    "per-language",
    "per-device",
)


def scan_charts(user: Any, period: Period) -> list[Chart]:
    """Every chart of the scan analytics page for ``user``, their sums read once."""
    sums = scan_sums(user, period)
    return [build(user, period, sums) for build in chart_builders(user).values()]


def scan_chart(key: str, user: Any, period: Period) -> Chart | None:
    """One chart by its key; None when ``user`` does not read that chart."""
    build = chart_builders(user).get(key)
    return build(user, period) if build else None
