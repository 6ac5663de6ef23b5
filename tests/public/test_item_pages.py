"""A serialised item's page from its lot's shared item page: its own scans, counted once each, even at once."""

from __future__ import annotations

import html
import random
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from cachelib import NullCache
from flask import template_rendered
from flask_babel import force_locale, ngettext
from sqlalchemy import event, select

from tests.public.honey import honey_lot
from tests.public.test_consumer_page import PHONE, get, tr
from traceability.batches.recalls import recall_batch
from traceability.core.extensions import db as _db
from traceability.models.public import ItemScan, Scan
from traceability.public.copied_codes import CopiedCodeRule, ScanMark, copied_code_signal
from traceability.public.item_scans import count_item_scan, item_by_id, read_item_tally, tally_engine
from traceability.public.page_cache import PageCache

TABLET = "Mozilla/5.0 (iPad; CPU OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1"
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"


@pytest.fixture
def honey(make, db):
    lot = honey_lot(make, db)
    db.session.commit()
    return lot


def scans_shown(page: str) -> str:
    return re.search(r'<p class="scan-count">(.*?)</p>', page, re.DOTALL).group(1)


def scans_before(language: str, count: int, first: str) -> str:
    with force_locale(language):
        return html.escape(
            ngettext(
                "This code was scanned %(num)d time before, first on %(first)s.",
                "This code was scanned %(num)d times before, first on %(first)s.",
                count,
                first=first,
            )
        )


def stored_scans(db, item) -> int:
    db.session.commit()
    return len(db.session.scalars(select(Scan).where(Scan.item_id == item.id)).all())


@pytest.fixture
def renders(app):
    seen: list[str] = []

    def record(_sender, template, **_extra):
        seen.append(template.name)

    template_rendered.connect(record, app)
    yield seen
    template_rendered.disconnect(record, app)


@pytest.fixture
def statements(app):
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    engines = (_db.engine, tally_engine(_db.engine))  # the request's and the tallies'
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    yield seen
    for engine in engines:
        event.remove(engine, "before_cursor_execute", record)


@pytest.mark.parametrize("language", ["vi", "en"])
def test_each_scan_shows_the_scans_before_it_in_vietnam_time(app, db, honey, renders, language):
    first = get(app, honey.item_path, language)
    assert first.headers["X-Page-Cache"] == "miss"
    assert scans_shown(first.get_data(as_text=True)) == tr(language, "This is the first scan of this code.")
    [tally] = db.session.scalars(select(ItemScan)).all()
    first_at = datetime.fromtimestamp(tally.latest_ms / 1000, tz=UTC)
    shown_first = (first_at + timedelta(hours=7)).strftime("%d/%m/%Y %H:%M")
    renders.clear()
    for count in (1, 2):
        response = get(app, honey.item_path, language)
        assert response.headers["X-Page-Cache"] == "hit"
        assert scans_shown(response.get_data(as_text=True)) == scans_before(language, count, shown_first)
    assert renders == []  # from the shared page: no template drawn
    app.extensions["scan_buffer"].flush()
    assert stored_scans(db, honey.item) == 3  # one scan stored per page served


def test_an_item_page_from_the_cache_is_the_full_render_and_costs_two_statements(
    app, db, honey, renders, statements
):
    get(app, honey.item_path)  # the lot's shared item page is drawn and kept
    get(app, honey.item_path)  # its headers are learnt
    renders.clear()
    statements.clear()
    cached = get(app, honey.item_path)
    assert cached.headers["X-Page-Cache"] == "hit" and renders == []
    assert len(statements) <= 2, statements  # the tally's UPDATE (and BEGIN on SQLite)
    cache = app.extensions["page_cache"]
    app.extensions["page_cache"] = PageCache(NullCache())
    try:
        rendered = get(app, honey.item_path)
    finally:
        app.extensions["page_cache"] = cache
    assert rendered.headers["X-Page-Cache"] == "off" and renders == ["public/batch.html"]

    def without_count(page: str) -> str:
        return re.sub(r'<p class="scan-count">.*?</p>', "", page)

    assert without_count(cached.get_data(as_text=True)) == without_count(rendered.get_data(as_text=True))
    assert cached.headers["Link"] == rendered.headers["Link"] and honey.item.serial in cached.headers["Link"]


def test_a_crawler_reads_the_item_page_without_counting(app, db, honey):
    get(app, honey.item_path)
    page = get(app, honey.item_path, "en", **{"User-Agent": BOT}).get_data(as_text=True)
    assert scans_shown(page).startswith("This code was scanned 1 time before")
    page = get(app, honey.item_path, "en").get_data(as_text=True)
    assert scans_shown(page).startswith("This code was scanned 1 time before")


def test_another_item_of_the_lot_shows_its_own_serial_and_code(app, db, honey, make):
    from traceability.batches.service import new_public_code
    from traceability.models.batches import Item

    other = Item(batch_id=honey.batch.id, serial="ZZ99", public_code=new_public_code())
    db.session.add(other)
    db.session.commit()
    get(app, honey.item_path)
    get(app, f"/t/{other.public_code}")  # the short code of a serialised item
    page = get(app, f"/t/{other.public_code}").get_data(as_text=True)
    assert '<dd class="serial">ZZ99</dd>' in page and honey.item.serial not in page
    assert f'href="/report/{other.public_code}"' in page


def test_an_items_first_scan_is_served_from_its_lots_shared_page(app, db, honey, renders, statements):
    """Once one item drew the lot's shared page, another item's very first scan needs no render and no app."""
    from traceability.batches.service import new_public_code
    from traceability.models.batches import Item

    other = Item(batch_id=honey.batch.id, serial="FIRST01", public_code=new_public_code())
    db.session.add(other)
    db.session.commit()
    path, first_serial = f"/t/{other.public_code}", honey.item.serial
    get(app, honey.item_path, "en")  # draws the shared page
    get(app, honey.item_path, "en")  # its headers are learnt
    renders.clear()
    statements.clear()
    response = get(app, path, "en")
    # The item's tally started there, in one statement after the UPDATE found none: it was never scanned.
    assert [
        statement.split()[0] for statement in statements if statement.split()[0] not in ("BEGIN", "SET")
    ] == [
        "UPDATE",
        "INSERT",
    ]
    page = response.get_data(as_text=True)
    assert response.headers["X-Page-Cache"] == "hit" and renders == []
    assert '<dd class="serial">FIRST01</dd>' in page and first_serial not in page
    assert scans_shown(page) == "This is the first scan of this code."
    again = get(app, path, "en").get_data(as_text=True)
    assert scans_shown(again).startswith("This code was scanned 1 time before")
    app.extensions["scan_buffer"].flush()
    assert stored_scans(db, other) == 2


def test_a_serial_with_other_gs1_characters_is_rendered_whole_and_escaped(app, db, make):
    lot = honey_lot(make, db, serial="A&B<1")
    path = "/01/" + lot.item_path.split("/01/", 1)[1].replace("&", "%26").replace("<", "%3C")
    response = get(app, path)
    assert response.status_code == 200 and response.headers["X-Page-Cache"] == "off"
    assert '<dd class="serial">A&amp;B&lt;1</dd>' in response.get_data(as_text=True)


def test_a_recall_shows_on_the_item_page_at_once(app, db, honey):
    get(app, honey.item_path)
    assert get(app, honey.item_path).headers["X-Page-Cache"] == "hit"
    recall_batch(honey.batch, "Phát hiện tồn dư kháng sinh", actor=honey.user)
    db.session.commit()
    response = get(app, honey.item_path, "en")
    page = response.get_data(as_text=True)
    assert "Recalled: do not use this batch." in page
    assert scans_shown(page).startswith("This code was scanned 2 times before")


def test_the_copied_code_warning_from_the_tally(app, db, honey, monkeypatch):
    monkeypatch.setitem(app.config, "COPIED_CODE_SCANS", 3)
    for _ in range(3):
        assert 'id="copied-code"' not in get(app, honey.item_path, "en").get_data(as_text=True)
    page = get(app, honey.item_path, "en").get_data(as_text=True)
    warning = re.search(r'id="copied-code">(.*?)</section>', page, re.DOTALL).group(1)
    assert "It has been scanned 3 times." in warning
    assert f'href="/report/{honey.item.public_code}"' in warning
    # a phone then a tablet within minutes: two packages with one code
    monkeypatch.setitem(app.config, "COPIED_CODE_SCANS", 100)
    get(app, honey.item_path, "en", **{"User-Agent": TABLET})
    page = get(app, honey.item_path, "en").get_data(as_text=True)
    assert "It was scanned on different kinds of device within a few minutes." in page


def test_the_tally_in_sql_keeps_the_copied_code_rule(app, db, honey):
    """Random scans folded by the UPDATE give, at each scan, the rule's answer on the scans before it."""
    rule = CopiedCodeRule(max_scans=15, max_days=4, window=timedelta(minutes=10))
    db.session.commit()  # the item is stored, and the test's session holds no lock on SQLite
    item_id = honey.item.id
    db.session.commit()
    generator = random.Random(18)
    moment = datetime(2026, 11, 2, 16, 0, tzinfo=UTC)
    earlier: list[ScanMark] = []
    for _ in range(40):
        moment += timedelta(minutes=generator.choice([1, 4, 9, 11, 60, 400, 1500]))
        mark = ScanMark(moment, generator.choice(["mobile", "mobile", "tablet", "desktop", "other"]))
        with db.engine.begin() as connection:
            counted = count_item_scan(connection, item_by_id(item_id), mark, rule.window)
        assert counted.tally.count == len(earlier)
        assert counted.tally.first_at == (earlier[0].scanned_at if earlier else None)
        assert counted.tally.signal(rule) == copied_code_signal(earlier, rule)
        earlier.append(mark)
    with db.engine.connect() as connection:
        everything = read_item_tally(connection, item_by_id(item_id), rule.window)
    assert everything.tally.count == 40 and everything.tally.signal(rule) == copied_code_signal(earlier, rule)


def test_a_tally_starts_from_the_scans_stored_before_it(app, db, honey):
    start = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    for n in range(3):
        db.session.add(
            Scan(
                batch_id=honey.batch.id,
                item_id=honey.item.id,
                scanned_at=start + timedelta(hours=n),
                device_class="mobile",
            )
        )
    db.session.commit()
    page = get(app, honey.item_path, "en").get_data(as_text=True)
    assert scans_shown(page) == scans_before("en", 3, "20/11/2026 10:00")


def scans_at_once(app, path: str, threads: int, *, cache: str | None = None) -> list[str]:
    """``threads`` scans of ``path`` released together, each on its own client; the scans each page shows."""
    shown: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def scan() -> None:
        try:
            client = app.test_client()
            barrier.wait()
            response = client.get(path, headers={"User-Agent": PHONE, "Accept-Language": "en"})
            assert response.status_code == 200
            assert cache is None or response.headers["X-Page-Cache"] == cache
            shown.append(scans_shown(response.get_data(as_text=True)))
        except BaseException as error:  # noqa: BLE001 (reported below, in the test's thread)
            errors.append(error)

    workers = [threading.Thread(target=scan) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    return shown


@pytest.mark.parametrize("threads", [12])
def test_parallel_scans_of_one_code_each_count_once(app, db, honey, threads):
    """N scans at once, each on its own connection: the tally ends at N, each page shows another count."""
    get(app, honey.item_path)  # the shared page is drawn; then every scan is a cached one
    shown = scans_at_once(app, honey.item_path, threads)
    counts = sorted(int(re.search(r"scanned (\d+) time", text).group(1)) for text in shown)
    assert counts == list(range(1, threads + 1))
    firsts = {re.search(r"first on ([\d/: ]+)\.", text).group(1) for text in shown}
    assert len(firsts) == 1  # the first scan stays the first
    db.session.commit()
    [tally] = db.session.scalars(select(ItemScan)).all()
    assert tally.scan_count == threads  # the earlier scans of the latest one
    app.extensions["scan_buffer"].flush()
    assert stored_scans(db, honey.item) == threads + 1


@pytest.mark.parametrize("threads", [12])
def test_parallel_first_scans_of_a_new_code_each_count_once(app, db, honey, threads):
    """The first scans of a code never scanned, all at once: one starts its tally, the others fold into it."""
    from traceability.batches.service import new_public_code
    from traceability.models.batches import Item

    other = Item(batch_id=honey.batch.id, serial="NEW0001", public_code=new_public_code())
    db.session.add(other)
    db.session.commit()
    path, other_id = f"/t/{other.public_code}", other.id
    get(app, honey.item_path, "en")  # the lot's shared item page is drawn...
    get(app, honey.item_path, "en")  # ...and its headers learnt: the new code's scans are all cache hits
    shown = scans_at_once(app, path, threads, cache="hit")
    firsts = [text for text in shown if text == "This is the first scan of this code."]
    counts = sorted(
        int(re.search(r"scanned (\d+) time", text).group(1)) for text in shown if text not in firsts
    )
    assert len(firsts) == 1 and counts == list(range(1, threads))
    db.session.commit()
    tally = db.session.get(ItemScan, other_id)
    assert tally.scan_count + 1 == threads
    app.extensions["scan_buffer"].flush()
    db.session.commit()  # a new snapshot, after the scans were written
    assert len(db.session.scalars(select(Scan).where(Scan.item_id == other_id)).all()) == threads
