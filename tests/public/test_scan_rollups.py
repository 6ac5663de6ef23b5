"""The daily scan counts (per lot, per product, per centre) equal the raw scans, whoever writes them, across the Vietnamese midnight."""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext
from sqlalchemy import func, select

from traceability.core.dates import VIETNAM_OFFSET, vietnam_midnight, vietnam_today
from traceability.models.batches import Batch
from traceability.models.public import Scan, ScanDaily, ScanDailyCentre, ScanDailyProduct, ScanMonthlyProduct
from traceability.models.registry import Producer, Product
from traceability.public.scan_buffer import ScanBuffer
from traceability.public.scan_rollups import rebuild_daily_counts
from traceability.reports.scan_analytics import (
    TOP,
    Period,
    daily_counts,
    per_device,
    per_language,
    per_producer,
    per_product,
    per_province,
)

TODAY = vietnam_today()


def _raw_counts(db) -> dict[tuple, int]:
    """What the rollups should say, counted here in Python from the raw rows."""
    counts: dict[tuple, int] = {}
    rows = db.session.execute(
        select(Scan.scanned_at, Scan.batch_id, Scan.language, Scan.device_class, Product.id, Producer.id)
        .join(Batch, Batch.id == Scan.batch_id)
        .join(Product, Product.id == Batch.product_id)
        .join(Producer, Producer.id == Product.producer_id)
    )
    for moment, batch_id, language, device, product_id, producer_id in rows:
        key = (moment.astimezone(VIETNAM_OFFSET).date(), batch_id, product_id, producer_id, language, device)
        counts[key] = counts.get(key, 0) + 1
    return counts


def _coarser_raw(db) -> tuple[dict[tuple, int], dict[tuple, int], dict[tuple, int]]:
    """The product, centre and monthly product counts the coarser tables should hold, from the raw rows."""
    products: dict[tuple, int] = {}
    centres: dict[tuple, int] = {}
    months: dict[tuple, int] = {}
    rows = db.session.execute(
        select(Scan.scanned_at, Scan.language, Scan.device_class, Product.id, Producer.centre_id)
        .join(Batch, Batch.id == Scan.batch_id)
        .join(Product, Product.id == Batch.product_id)
        .join(Producer, Producer.id == Product.producer_id)
    )
    for moment, language, device, product_id, centre_id in rows:
        day = moment.astimezone(VIETNAM_OFFSET).date()
        products[(day, product_id)] = products.get((day, product_id), 0) + 1
        centres[(day, centre_id, language, device)] = centres.get((day, centre_id, language, device), 0) + 1
        months[(day.replace(day=1), product_id)] = months.get((day.replace(day=1), product_id), 0) + 1
    return products, centres, months


def _coarser(db) -> tuple[dict[tuple, int], dict[tuple, int], dict[tuple, int]]:
    products = {(row.day, row.product_id): row.count for row in db.session.scalars(select(ScanDailyProduct))}
    centres = {
        (row.day, row.centre_id, row.language, row.device_class): row.count
        for row in db.session.scalars(select(ScanDailyCentre))
    }
    months = {
        (row.month, row.product_id): row.count for row in db.session.scalars(select(ScanMonthlyProduct))
    }
    return products, centres, months


def _rollups(db) -> dict[tuple, int]:
    return {
        (row.day, row.batch_id, row.product_id, row.producer_id, row.language, row.device_class): row.count
        for row in db.session.scalars(select(ScanDaily))
    }


def _mixed_scans(tenants) -> list[dict]:
    """Scans of two provinces over several days, around the Vietnamese midnight, in both languages."""
    daklak, nghean = tenants["daklak"].batch, tenants["nghean"].batch
    rows = []
    for days_ago in range(4):
        midnight = vietnam_midnight(TODAY - timedelta(days=days_ago))
        for batch, language, device, minutes in (
            (daklak, "vi", "mobile", -30),  # 23:30 the day before
            (daklak, "vi", "mobile", 30),  # 00:30: another day
            (daklak, "en", "tablet", 30),
            (nghean, "vi", "desktop", 60 * 9),
            (nghean, "en", "mobile", -1),
        ):
            rows.append(
                {
                    "batch_id": batch.id,
                    "scanned_at": midnight + timedelta(minutes=minutes),
                    "language": language,
                    "device_class": device,
                }
            )
    return rows


def test_counts_written_with_the_scans_equal_the_raw_rows(app, db, tenants):
    rows = _mixed_scans(tenants)
    db.session.commit()  # on SQLite the test's read transaction would keep the writer waiting
    buffer = ScanBuffer(db.engine, interval=3600)
    try:
        for row in rows[:12]:
            buffer.add(row)
        assert buffer.flush() == 12
    finally:
        buffer.close()
    for row in rows[12:]:  # the same scans through the ORM session (demo data, a restore)
        db.session.add(Scan(**row))
    db.session.commit()

    assert db.session.scalar(select(func.count()).select_from(Scan)) == len(rows) == 20
    assert _rollups(db) == _raw_counts(db)
    assert _coarser(db) == _coarser_raw(db)
    # 23:30 and 00:30 Vietnam time are two days: today has its 00:30 only, yesterday its own
    # 00:30 and the 23:30 before today's midnight.
    daklak = tenants["daklak"].batch

    def phone_scans_in_vietnamese(day: date) -> int | None:
        return db.session.scalar(
            select(ScanDaily.count).where(
                ScanDaily.batch_id == daklak.id,
                ScanDaily.day == day,
                ScanDaily.language == "vi",
                ScanDaily.device_class == "mobile",
            )
        )

    assert phone_scans_in_vietnamese(TODAY) == 1
    assert phone_scans_in_vietnamese(TODAY - timedelta(days=1)) == 2


def test_the_figures_of_the_reports_are_the_raw_counts(app, db, tenants):
    for row in _mixed_scans(tenants):
        db.session.add(Scan(**row))
    db.session.commit()
    period = Period(TODAY - timedelta(days=5), TODAY + timedelta(days=1))
    ministry = tenants["ministry"]

    per_day = daily_counts(ministry, period)
    raw_per_day: dict[str, int] = {}
    for moment in db.session.scalars(select(Scan.scanned_at)):
        key = moment.astimezone(VIETNAM_OFFSET).date().isoformat()
        raw_per_day[key] = raw_per_day.get(key, 0) + 1
    assert per_day == raw_per_day
    assert sum(per_day.values()) == 20

    languages = per_language(ministry, period)
    assert languages.series[0].values == (12, 8)  # Vietnamese, English
    devices = per_device(ministry, period)
    assert devices.series[0].values == (12, 4, 4, 0)  # phone, tablet, computer, other
    provinces = per_province(ministry, period)
    assert sorted(provinces.series[0].values, reverse=True)[:2] == [12, 8]
    # A centre reads its own province only, from the same rows.
    centre = daily_counts(tenants["nghean"].staff, period)
    assert sum(centre.values()) == 8
    # The rankings read the product counts: the same totals as the raw scans, named.
    daklak = tenants["daklak"]
    products = per_product(ministry, period)
    assert dict(zip(products.categories, products.series[0].values, strict=True)) == {
        f"{daklak.product.name} ({daklak.producer.name})": 12,
        f"{tenants['nghean'].product.name} ({tenants['nghean'].producer.name})": 8,
    }
    producers = per_producer(daklak.staff, period)
    assert dict(zip(producers.categories, producers.series[0].values, strict=True)) == {
        daklak.producer.name: 12
    }
    # A producer reads its own lots' counts, never the centre's sums.
    own = daily_counts(daklak.producer_user, period)
    assert sum(own.values()) == 12
    assert per_language(daklak.producer_user, period).series[0].values == (8, 4)


def test_a_product_with_several_lots_and_producers_with_several_products_sum_in_the_rankings(
    app, db, tenants, make
):
    daklak = tenants["daklak"]
    second_lot = make.batch(daklak.product)
    other_product = make.product(daklak.producer)
    third_lot = make.batch(other_product)
    db.session.commit()
    moment = vietnam_midnight(TODAY) + timedelta(hours=8)
    for batch, count in ((daklak.batch, 3), (second_lot, 4), (third_lot, 5)):
        for _ in range(count):
            db.session.add(Scan(batch_id=batch.id, scanned_at=moment, language="vi", device_class="mobile"))
    db.session.commit()
    period = Period.ending(TODAY, 7)
    products = per_product(daklak.staff, period)
    assert sorted(products.series[0].values) == [5, 7]  # one product's two lots count together
    producers = per_producer(daklak.staff, period)
    assert producers.series[0].values == (12,)
    assert (
        db.session.scalar(
            select(ScanDailyProduct.count).where(ScanDailyProduct.product_id == daklak.product.id)
        )
        == 7
    )
    assert _coarser(db) == _coarser_raw(db)


def test_rebuild_gives_the_same_counts_and_keeps_days_before_the_oldest_scan(app, db, tenants):
    for row in _mixed_scans(tenants):
        db.session.add(Scan(**row))
    db.session.commit()
    expected = _rollups(db)
    db.session.execute(ScanDaily.__table__.update().values(count=999))  # damaged counts
    db.session.execute(ScanDailyProduct.__table__.update().values(count=999))
    db.session.execute(ScanDailyCentre.__table__.delete())
    db.session.execute(ScanMonthlyProduct.__table__.update().values(count=5))
    db.session.commit()

    rebuilt = rebuild_daily_counts()
    db.session.commit()
    assert _rollups(db) == expected == _raw_counts(db)
    assert _coarser(db) == _coarser_raw(db)
    assert rebuilt.scans == 20

    # Counts of a day whose raw scans are gone (retention) are kept by a rebuild from any day.
    old_day = date(2020, 1, 1)
    db.session.add(
        ScanDaily(
            day=old_day,
            batch_id=tenants["daklak"].batch.id,
            product_id=tenants["daklak"].product.id,
            producer_id=tenants["daklak"].producer.id,
            centre_id=tenants["daklak"].centre.id,
            language="vi",
            device_class="mobile",
            count=7,
        )
    )
    db.session.commit()
    assert rebuild_daily_counts(date(2019, 1, 1)).since == min(expected)[0]
    db.session.commit()
    assert db.session.scalar(select(ScanDaily.count).where(ScanDaily.day == old_day)) == 7


def test_rebuild_daily_command(app, db, tenants, runner):
    for row in _mixed_scans(tenants):
        db.session.add(Scan(**row))
    db.session.commit()
    db.session.execute(ScanDaily.__table__.delete())
    db.session.commit()
    since = (TODAY - timedelta(days=1)).isoformat()
    result = runner.invoke(args=["scans", "rebuild-daily", "--since", since])
    assert result.exit_code == 0, result.output
    assert since in result.output
    db.session.expire_all()
    counted = db.session.scalar(select(func.sum(ScanDaily.count)))
    raw = db.session.scalar(
        select(func.count())
        .select_from(Scan)
        .where(Scan.scanned_at >= vietnam_midnight(TODAY - timedelta(days=1)))
    )
    assert counted == raw and raw > 0


def test_the_api_scan_count_of_a_lot_reads_the_counts(app, db, tenants):
    from traceability.batches.service import scan_count

    for row in _mixed_scans(tenants):
        db.session.add(Scan(**row))
    db.session.commit()
    assert scan_count(tenants["daklak"].batch) == 12
    assert scan_count(tenants["nghean"].batch) == 8


def test_rankings_over_months_read_whole_months_and_the_days_around_them(app, db, tenants):
    """A period of partial and whole months counts each scan of its days once, and none outside it."""
    daklak, nghean = tenants["daklak"], tenants["nghean"]
    start = date(TODAY.year, TODAY.month, 1) - timedelta(days=75)  # some day of the month before last, or so
    moments = [start + timedelta(days=offset) for offset in (0, 10, 20, 31, 45, 60, 74, 76)]
    for number, day in enumerate(moments):
        batch = daklak.batch if number % 3 else nghean.batch
        db.session.add(
            Scan(
                batch_id=batch.id,
                scanned_at=vietnam_midnight(day) + timedelta(hours=12),
                language="vi",
                device_class="mobile",
            )
        )
    db.session.commit()
    assert _coarser(db) == _coarser_raw(db)
    ministry = tenants["ministry"]
    for first, last in (
        (start, moments[-1]),  # from a month's middle to another's
        (start + timedelta(days=5), moments[-2]),  # leaves out the first and the last scan
        (date(start.year, start.month, 1), moments[-1]),  # from a month's first day
    ):
        period = Period(first, last)
        expected: dict[str, int] = {}
        for number, day in enumerate(moments):
            if first <= day <= last:
                tenant = daklak if number % 3 else nghean
                name = f"{tenant.product.name} ({tenant.producer.name})"
                expected[name] = expected.get(name, 0) + 1
        chart = per_product(ministry, period)
        assert dict(zip(chart.categories, chart.series[0].values, strict=True)) == expected, period
        assert sum(daily_counts(ministry, period).values()) == sum(expected.values())


def _ranked_from_raw(db, period: Period, *, centre_id: int | None = None) -> dict[str, int]:
    """The most scanned products of the period as the page shows them, counted here from the raw scans."""
    counts: dict[str, int] = {}
    rows = db.session.execute(
        select(Scan.scanned_at, Product.name, Producer.name, Producer.centre_id)
        .join(Batch, Batch.id == Scan.batch_id)
        .join(Product, Product.id == Batch.product_id)
        .join(Producer, Producer.id == Product.producer_id)
    )
    for moment, product, producer, centre in rows:
        day = moment.astimezone(VIETNAM_OFFSET).date()
        if period.start <= day <= period.end and centre_id in (None, centre):
            name = f"{product} ({producer})"
            counts[name] = counts.get(name, 0) + 1
    ranked = sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))
    shown = dict(ranked[:TOP])
    if len(ranked) > TOP:
        shown[str(lazy_gettext("Other products"))] = sum(count for _, count in ranked[TOP:])
    return shown


def test_the_ranking_of_many_products_over_months_is_the_raw_scans_ranking(
    app, db, tenants, make, monkeypatch
):
    """The top of each month's counts finds the same ranking as counting every product, ties included."""
    import random

    from traceability.reports import scan_analytics

    rng = random.Random(18)
    lots = [(tenants["daklak"].batch, 1), (tenants["nghean"].batch, 1)]
    for number in range(16):
        tenant = tenants["daklak" if number % 2 else "nghean"]
        product = make.product(tenant.producer, name=f"Sản phẩm {number:02d}")
        lots.append((make.batch(product), rng.choice((1, 2, 3, 5, 8, 8))))
    db.session.commit()
    first = date(TODAY.year, TODAY.month, 1) - timedelta(days=100)
    for batch, weight in lots:
        for _ in range(weight * 3):
            day = first + timedelta(days=rng.randrange((TODAY - first).days + 1))
            db.session.add(
                Scan(
                    batch_id=batch.id,
                    scanned_at=vietnam_midnight(day) + timedelta(hours=rng.randrange(24)),
                    language=rng.choice(("vi", "en")),
                    device_class=rng.choice(("mobile", "desktop")),
                )
            )
    db.session.commit()
    ministry, daklak = tenants["ministry"], tenants["daklak"]
    periods = [
        Period(first, TODAY),
        Period(first + timedelta(days=17), TODAY - timedelta(days=9)),
        Period.ending(TODAY, 30),
        Period(date(first.year, first.month, 1), TODAY),
    ]
    # Read from the first depth, deeper, and past the deepest (every product counted): one answer.
    for depth, deepest in ((20, 320), (1, 4), (1, 1)):
        monkeypatch.setattr(scan_analytics, "RANKING_DEPTH", depth)
        monkeypatch.setattr(scan_analytics, "RANKING_MAX_DEPTH", deepest)
        for period in periods:
            chart = per_product(ministry, period)
            shown = dict(zip(chart.categories, chart.series[0].values, strict=True))
            assert shown == _ranked_from_raw(db, period), (depth, period)
            assert list(shown) == chart.categories  # in the order of the raw ranking
            own = per_product(daklak.staff, period)
            assert dict(zip(own.categories, own.series[0].values, strict=True)) == _ranked_from_raw(
                db, period, centre_id=daklak.centre.id
            )


def test_the_page_reads_every_sum_once_and_they_are_the_raw_counts(app, db, tenants):
    from traceability.reports.scan_analytics import scan_charts

    for row in _mixed_scans(tenants):
        db.session.add(Scan(**row))
    db.session.commit()
    period = Period(TODAY - timedelta(days=5), TODAY + timedelta(days=1))
    for user, expected in (
        (
            tenants["ministry"],
            {"per-day": 20, "per-province": 20, "per-language": (12, 8), "per-device": (12, 4, 4, 0)},
        ),
        (
            tenants["nghean"].staff,
            {"per-day": 8, "per-producer": 8, "per-language": (4, 4), "per-device": (4, 0, 4, 0)},
        ),
        (
            tenants["daklak"].producer_user,
            {"per-day": 12, "per-batch": 12, "per-language": (8, 4), "per-device": (8, 4, 0, 0)},
        ),
    ):
        charts = {chart.key: chart for chart in scan_charts(user, period)}
        for key, figure in expected.items():
            values = charts[key].series[0].values
            assert (sum(values) if isinstance(figure, int) else values) == figure, (user.role, key)
        assert sum(charts["per-product"].series[0].values) == expected["per-day"]
