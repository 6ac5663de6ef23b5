"""The consumer page cache: served again until something on the page changes, ETags and 304s, shared backends.

Changes go through the services (or the session, as a service would) and are
committed; the next request must show them, on this worker or another one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask import Flask, current_app
from sqlalchemy import event

from tests.conftest import RequestIsolatedClient
from tests.factories import make_certification
from traceability import create_app
from traceability.batches.recalls import recall_batch
from traceability.batches.service import record_event
from traceability.core.config import TestConfig
from traceability.core.dates import VIETNAM_OFFSET
from traceability.models.batches import BatchInput
from traceability.registry.certifications import verify_certification
from traceability.registry.producers import update_producer
from traceability.registry.products import update_product

PHONE = (
    "Mozilla/5.0 (Linux; Android 15; SM-A556E) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/140.0 Mobile Safari/537.36"
)


def get(app: Flask, path: str, client=None, **headers: str):
    headers.setdefault("User-Agent", PHONE)
    headers.setdefault("Accept-Language", "en")
    return (client or app.test_client()).get(path, headers=headers)


def page_text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


@pytest.fixture
def lot(tenants, make, db):
    """A lot of the Đắk Lắk producer with one event, and its consumer URL."""
    own = tenants["daklak"]
    record_event(
        own.batch,
        {"type": "harvesting", "time": datetime(2026, 10, 1, 7, tzinfo=VIETNAM_OFFSET)},
        actor=own.producer_user,
    )
    db.session.commit()
    own.path = f"/t/{own.batch.public_code}"
    return own


@pytest.fixture
def count_queries(app) -> Iterator[Callable[[], int]]:
    """How many SELECTs the database has run since the fixture started."""
    from traceability.core.extensions import db

    selects: list[str] = []

    def remember(_conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            selects.append(statement)

    event.listen(db.engine, "before_cursor_execute", remember)
    yield lambda: len(selects)
    event.remove(db.engine, "before_cursor_execute", remember)


def test_a_lot_page_is_served_from_the_cache_without_rendering(app, lot, count_queries):
    first = get(app, lot.path)
    assert first.headers["X-Page-Cache"] == "miss"
    before = count_queries()
    second = get(app, lot.path)
    hit_queries = count_queries() - before
    assert second.headers["X-Page-Cache"] == "hit"
    assert page_text(second) == page_text(first)
    assert lot.product.name in page_text(second)
    # No query at all, not even the lookup of the lot behind the URL.
    assert hit_queries == 0 < before


def test_a_hit_answers_as_the_app_did(app, lot):
    """A hit is answered before Flask (no session, no routing): same page, same headers, HEAD and 304 too."""
    client = app.test_client()
    first, second = get(app, lot.path, client), get(app, lot.path, client)
    assert (first.headers["X-Page-Cache"], second.headers["X-Page-Cache"]) == ("miss", "hit")

    def headers(response) -> dict[str, str]:
        return {
            name: value
            for name, value in response.headers.items()
            if name not in ("X-Page-Cache", "Date", "X-Request-ID")
        }

    assert headers(second) == headers(first)
    # Each answer has its own request id, a hit too (to quote in a support call).
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]
    echoed = get(app, lot.path, client, **{"X-Request-ID": "scan-0042"})
    assert echoed.headers["X-Page-Cache"] == "hit" and echoed.headers["X-Request-ID"] == "scan-0042"
    assert "Content-Security-Policy" in second.headers and 'rel="linkset"' in second.headers["Link"]
    head = client.head(lot.path, headers={"User-Agent": PHONE, "Accept-Language": "en"})
    assert head.status_code == 200 and head.get_data() == b""
    assert head.headers["Content-Length"] == first.headers["Content-Length"]
    not_modified = get(app, lot.path, client, **{"If-None-Match": first.headers["ETag"]})
    assert not_modified.status_code == 304 and not_modified.headers["X-Page-Cache"] == "hit"
    assert (
        "Content-Type" not in not_modified.headers and not_modified.headers["ETag"] == first.headers["ETag"]
    )


def test_the_linkset_and_a_chosen_language_are_not_taken_for_the_cached_page(app, lot):
    get(app, lot.path, **{"Accept-Language": "vi"})
    assert get(app, lot.path, **{"Accept-Language": "vi"}).headers["X-Page-Cache"] == "hit"
    linkset = get(app, lot.path, Accept="application/linkset+json")
    assert linkset.mimetype == "application/linkset+json" and "linkset" in linkset.get_json()
    assert get(app, f"{lot.path}?linkType=linkset").mimetype == "application/linkset+json"
    # A reader who chose English on the page gets it, whatever the phone's language.
    client = app.test_client()
    client.get(f"/lang/en/page?next={lot.path}")
    english = get(app, lot.path, client, **{"Accept-Language": "vi"})
    assert '<html lang="en">' in page_text(english)


def test_a_lot_removed_by_retention_answers_404_not_its_cached_page(app, db, make, lot, runner):
    old = make.batch(
        lot.product,
        production_date=date(2019, 5, 1),
        expiry_date=date(2020, 5, 1),
        created_at=datetime(2019, 5, 1, 3, tzinfo=UTC),
    )
    db.session.commit()
    path = f"/t/{old.public_code}"
    get(app, path)
    assert get(app, path).headers["X-Page-Cache"] == "hit"
    result = runner.invoke(args=["retention", "purge", "--apply"])
    assert result.exit_code == 0, result.output
    assert get(app, path).status_code == 404
    assert get(app, lot.path).status_code == 200


def _edit_batch(lot, db) -> str:
    lot.batch.expiry_date = date(2028, 3, 31)  # a correction, through the session as a service does it
    return 'datetime="2028-03-31"'


def _edit_product(lot, db) -> str:
    update_product(lot.product, {"name": "Mật ong hoa cà phê Buôn Ma Thuột"}, actor=lot.producer_user)
    return "Mật ong hoa cà phê Buôn Ma Thuột"


def _edit_producer(lot, db) -> str:
    update_producer(lot.producer, {"name": "HTX Nông nghiệp Ea Tu"}, actor=lot.staff)
    return "HTX Nông nghiệp Ea Tu"


def _verify_certification(lot, db) -> str:
    certification = make_certification(
        lot.product, number="VG-PAGE-0042", status="pending", document_filename="page-cache-certificate.pdf"
    )
    db.session.commit()
    assert "VG-PAGE-0042" not in page_text(get(current_app, lot.path))  # pending: not shown, and cached again
    verify_certification(certification, actor=lot.staff)
    return "VG-PAGE-0042"


def _recall(lot, db) -> str:
    recall_batch(lot.batch, "Dư lượng kháng sinh vượt ngưỡng", actor=lot.producer_user)
    return "Dư lượng kháng sinh vượt ngưỡng"


def _new_event(lot, db) -> str:
    record_event(
        lot.batch,
        {
            "type": "packing",
            "time": datetime(2026, 10, 3, 9, tzinfo=VIETNAM_OFFSET),
            "note": "Đóng chai 500 ml",
        },
        actor=lot.producer_user,
    )
    return "Đóng chai 500 ml"


def _rename_centre(lot, db) -> str:
    lot.centre.name = "Trung tâm Ứng dụng Khoa học và Công nghệ Đắk Lắk"
    return "Trung tâm Ứng dụng Khoa học và Công nghệ Đắk Lắk"


@pytest.mark.parametrize(
    "change",
    [_edit_batch, _edit_product, _edit_producer, _verify_certification, _recall, _new_event, _rename_centre],
    ids=lambda change: change.__name__.strip("_"),
)
def test_any_change_on_the_page_shows_at_the_next_request(app, db, lot, change):
    get(app, lot.path)
    assert get(app, lot.path).headers["X-Page-Cache"] == "hit"
    expected = change(lot, db)
    db.session.commit()
    response = get(app, lot.path)
    assert response.headers["X-Page-Cache"] == "miss"
    assert expected in page_text(response)
    assert get(app, lot.path).headers["X-Page-Cache"] == "hit"


def test_a_recall_of_an_input_lot_shows_on_the_lot_made_from_it(app, db, lot, make):
    """The honey was bottled from another producer's lot; that lot's recall reaches the bottled lot's page."""
    other = make.producer(lot.centre, name="HTX Ong mật Krông Pắc")
    supplier = make.user("producer", producer=other)
    raw_honey = make.product(other, name="Mật ong thô")
    raw = make.batch(raw_honey, lot_code="THO-01")
    db.session.add(BatchInput(output_batch_id=lot.batch.id, input_batch_id=raw.id, quantity=Decimal("50")))
    db.session.commit()
    get(app, lot.path)
    assert get(app, lot.path).headers["X-Page-Cache"] == "hit"
    recall_batch(raw, "Nhiễm khuẩn E. coli ở lô nguyên liệu", actor=supplier)
    db.session.commit()
    page = page_text(get(app, lot.path))
    assert "Nhiễm khuẩn E. coli ở lô nguyên liệu" in page and "Mật ong thô" in page
    assert get(app, lot.path).headers["X-Page-Cache"] == "hit"
    # The page names the recalled input: renaming it (another producer's product) shows too.
    update_product(raw_honey, {"name": "Mật ong thô Krông Pắc"}, actor=supplier)
    db.session.commit()
    assert "Mật ong thô Krông Pắc" in page_text(get(app, lot.path))


def test_scans_do_not_invalidate_the_page(app, lot):
    get(app, lot.path)
    app.extensions["scan_buffer"].flush()
    assert get(app, lot.path).headers["X-Page-Cache"] == "hit"


def test_each_language_has_its_own_page(app, lot):
    english = get(app, lot.path, **{"Accept-Language": "en"})
    vietnamese = get(app, lot.path, **{"Accept-Language": "vi"})
    assert vietnamese.headers["X-Page-Cache"] == "miss"
    assert '<html lang="en">' in page_text(english) and '<html lang="vi">' in page_text(vietnamese)
    again = get(app, lot.path, **{"Accept-Language": "vi"})
    assert again.headers["X-Page-Cache"] == "hit" and '<html lang="vi">' in page_text(again)
    assert "Producer" in page_text(english) and "Producer" not in page_text(again)


def test_etag_and_304_until_the_page_changes(app, db, lot):
    client = app.test_client()  # one browser: its cookie comes back
    first = get(app, lot.path, client)
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and first.headers["Cache-Control"] == "private, no-cache"
    again = get(app, lot.path, client, **{"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag
    app.extensions["scan_buffer"].flush()
    from traceability.batches.service import scan_count

    assert scan_count(lot.batch) == 2  # opening the code again is a scan, answered 304 or not
    recall_batch(lot.batch, "Sai nhãn hạn dùng", actor=lot.producer_user)
    db.session.commit()
    changed = get(app, lot.path, client, **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert "Sai nhãn hạn dùng" in page_text(changed)


def test_an_item_page_is_filled_in_from_its_lots_shared_page_with_an_etag_per_scan(app, db, lot):
    from traceability.models.batches import Item

    item = Item(batch_id=lot.batch.id, serial="SERIAL0001", public_code="ITEMCODE0001")
    db.session.add(item)
    db.session.commit()
    client = app.test_client()
    first = get(app, "/t/ITEMCODE0001", client)
    assert first.headers["X-Page-Cache"] == "miss" and "SERIAL0001" in page_text(first)
    second = get(app, "/t/ITEMCODE0001", client, **{"If-None-Match": first.headers["ETag"]})
    # The item's own scan count changed with the first scan: a new page, not a 304.
    assert second.status_code == 200 and second.headers["ETag"] != first.headers["ETag"]
    assert second.headers["X-Page-Cache"] == "hit" and "SERIAL0001" in page_text(second)


def test_a_signed_in_user_neither_gets_nor_stores_the_shared_page(app, web, lot):
    assert get(app, lot.path).headers["X-Page-Cache"] == "miss"
    web.login(lot.producer_user.email)
    signed_in = web.client.get(lot.path, headers={"User-Agent": PHONE, "Accept-Language": "en"})
    assert signed_in.headers["X-Page-Cache"] == "off" and lot.product.name in page_text(signed_in)
    anonymous = get(app, lot.path)
    assert anonymous.headers["X-Page-Cache"] == "hit" and "Sign out" not in page_text(anonymous)


# --- several workers or machines: two apps on one database and one cache backend ----------------


@pytest.fixture
def two_apps(app, database_url) -> Iterator[Callable[[str], tuple[Flask, Flask]]]:
    made: list[Flask] = []

    def build(cache_url: str) -> tuple[Flask, Flask]:
        class WorkerConfig(TestConfig):
            DATABASE_URL = database_url
            PAGE_CACHE_URL = cache_url

        for _worker in range(2):
            worker = create_app(WorkerConfig)
            worker.test_client_class = RequestIsolatedClient
            made.append(worker)
        return made[-2], made[-1]

    yield build
    from traceability.core.extensions import db

    for worker in made:
        worker.extensions["scan_buffer"].flush()
        with worker.app_context():
            db.engine.dispose()


def _shared_cache_case(first: Flask, second: Flask, lot, db) -> None:
    assert get(first, lot.path).headers["X-Page-Cache"] == "miss"
    assert get(second, lot.path).headers["X-Page-Cache"] == "hit"  # rendered by the other worker
    assert get(second, lot.path).headers["X-Page-Cache"] == "hit"  # ...and now kept in the second's memory
    with first.app_context():  # the change is made on the first worker...
        from traceability.models.batches import Batch

        recall_batch(db.session.get(Batch, lot.batch.id), "Bao bì bị rò rỉ", actor=lot.producer_user)
        db.session.commit()
    response = get(second, lot.path)  # ...and shows at once on the second
    assert response.headers["X-Page-Cache"] == "miss"
    assert "Bao bì bị rò rỉ" in page_text(response)
    assert get(first, lot.path).headers["X-Page-Cache"] == "hit"


def test_two_workers_share_a_cache_folder(two_apps, db, lot, tmp_path):
    first, second = two_apps(str(tmp_path / "page-cache"))
    _shared_cache_case(first, second, lot, db)


def test_two_machines_share_a_redis_cache(two_apps, db, lot, redis_url):
    first, second = two_apps(redis_url)
    first.extensions["page_cache"].clear()
    _shared_cache_case(first, second, lot, db)


def test_a_page_kept_in_a_workers_memory_is_checked_again_after_any_change(tmp_path):
    """Each worker keeps pages it checked; a change made on another worker makes it check them again."""
    from cachelib import FileSystemCache

    from traceability.public.page_cache import PageCache

    first = PageCache(FileSystemCache(str(tmp_path)))
    second = PageCache(FileSystemCache(str(tmp_path)))  # another worker, the same folder
    scopes = ("all", "batch:7", "producer:3")
    first.put(
        "k", "<p>Lô 7</p>", scopes, first.generations(scopes), batch_id=7, entity_url="/t/A", timeout=600
    )
    first.add_headers("k", [("Content-Type", "text/html; charset=utf-8")])
    assert first.get("k").html == "<p>Lô 7</p>" and second.get("k") is not None
    second.bump(["batch:8"])  # another lot changed: the page is checked again, and still good
    assert first.get("k") is not None
    second.bump(["producer:3"])  # its producer changed
    assert first.get("k") is None and second.get("k") is None


def test_a_workers_memory_of_pages_is_bounded(tmp_path):
    from cachelib import FileSystemCache

    from traceability.public.page_cache import PageCache

    cache = PageCache(FileSystemCache(str(tmp_path)), memo_entries=2)
    for lot in range(5):
        scopes = ("all", f"batch:{lot}")
        cache.put(
            str(lot),
            f"<p>{lot}</p>",
            scopes,
            cache.generations(scopes),
            batch_id=lot,
            entity_url="",
            timeout=600,
        )
        cache.add_headers(str(lot), [("Content-Type", "text/html")])
        assert cache.get(str(lot)).html == f"<p>{lot}</p>"
    assert len(cache._memo) == 2
    assert [cache.get(str(lot)).html for lot in range(5)] == [f"<p>{lot}</p>" for lot in range(5)]
    assert len(cache._memo) == 2


def test_null_turns_the_cache_off(two_apps, lot):
    first, _second = two_apps("null")
    response = get(first, lot.path)
    assert response.headers["X-Page-Cache"] == "off" and "ETag" in response.headers
    assert get(first, lot.path).headers["X-Page-Cache"] == "off"
