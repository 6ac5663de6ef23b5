"""One page, one URL, one cache entry: other spellings of a lot's URL answer 301, and the folder cache is bounded.

The finding: percent-encoded spellings of one lot code (``%42OT2603A`` for
``BOT2603A``) and ``/t/`` codes in any letter case each made a separate cache
entry and a full render (271 of 273 variants missed, about 4 KB each), with
no bound on the folder: anonymous clients could fill the disk and go around
the cache.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import RequestIsolatedClient
from traceability import create_app
from traceability.core.config import TestConfig
from traceability.gs1 import parse_path
from traceability.public.canonical_paths import canonical_page_path
from traceability.public.page_cache import BoundedFolderCache

GTIN = "09506000134352"
LOT = "BOT2603A"
PHONE = "Mozilla/5.0 (Linux; Android 15; SM-A556E) AppleWebKit/537.36 Chrome/140.0 Mobile Safari/537.36"


def get(app: Flask, path: str, **headers: str):
    headers.setdefault("User-Agent", PHONE)
    headers.setdefault("Accept-Language", "en")
    return app.test_client().get(path, headers=headers)


def cache_files(app: Flask) -> int:
    return sum(1 for path in Path(app.extensions["page_cache"].backend._path).iterdir() if path.is_file())


@pytest.fixture
def lots(tenants, make, db):
    """A lot with a GTIN (a Digital Link) and one without (a ``/t/`` code)."""
    own = tenants["daklak"]
    product = make.product(own.producer, gtin=GTIN)
    with_gtin = make.batch(product, lot_code=LOT)
    db.session.commit()
    own.link_path = f"/01/{GTIN}/10/{LOT}"
    own.code_path = f"/t/{own.batch.public_code}"
    own.code = own.batch.public_code
    own.with_gtin = with_gtin
    return own


def encoded_spellings(text: str, limit: int = 40) -> list[str]:
    """Spellings of ``text`` with some of its characters percent-encoded, in upper and lower hex."""
    spellings = []
    for count in (1, 2, len(text)):
        for positions in itertools.combinations(range(len(text)), count):
            for hex_case in (str.upper, str.lower):
                spelt = "".join(
                    hex_case(f"%{ord(char):02X}") if index in positions else char
                    for index, char in enumerate(text)
                )
                spellings.append(spelt)
    return list(dict.fromkeys(spellings))[:limit]


def test_encoded_spellings_of_a_lot_answer_301_to_the_canonical_url_and_share_its_entry(app, lots):
    assert get(app, lots.link_path).headers["X-Page-Cache"] == "miss"
    files = cache_files(app)
    variants = [f"/01/{GTIN}/10/{spelt}" for spelt in encoded_spellings(LOT)]
    variants += [f"/%30%31/{GTIN}/10/{LOT}", f"/01/{GTIN}/%31%30/{LOT}", f"/01/{GTIN}/10/{LOT}/"]
    for variant in variants:
        response = get(app, variant)
        assert response.status_code == 301, variant
        assert response.headers["Location"] == lots.link_path, variant
        assert "X-Page-Cache" not in response.headers
    assert cache_files(app) == files  # no entry, no render
    assert get(app, lots.link_path).headers["X-Page-Cache"] == "hit"


def test_the_redirect_keeps_the_query(app, lots):
    response = get(app, f"/01/{GTIN}/10/%42OT2603A?linkType=linkset&utm_source=zalo")
    assert response.status_code == 301
    assert response.headers["Location"] == f"{lots.link_path}?linkType=linkset&utm_source=zalo"
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_a_short_code_in_another_case_answers_301_to_upper_case(app, lots):
    assert get(app, lots.code_path).headers["X-Page-Cache"] == "miss"
    files = cache_files(app)
    code = lots.code
    # A code may start with a digit (base32 has 2 to 7): lower the first letter, wherever it is.
    at = next(index for index, character in enumerate(code) if character.isalpha())
    one_lower = code[:at] + code[at].lower() + code[at + 1 :]
    variants = [f"/t/{code.lower()}", f"/t/{one_lower}", f"/t/%{ord(code[0]):02X}{code[1:]}"]
    variants.append("/%74/" + code)
    for variant in variants:
        response = get(app, variant)
        assert response.status_code == 301, variant
        assert response.headers["Location"] == lots.code_path
    assert cache_files(app) == files
    assert get(app, lots.code_path).headers["X-Page-Cache"] == "hit"


def test_the_fast_path_never_answers_another_spelling_from_the_cache(app, lots):
    assert get(app, lots.code_path).headers["X-Page-Cache"] == "miss"
    assert get(app, lots.code_path).headers["X-Page-Cache"] == "hit"  # learnt its headers: the fast path now
    response = get(app, f"/t/{lots.code.lower()}")
    assert response.status_code == 301


def test_unknown_and_malformed_spellings_make_no_entry(app, lots):
    files = cache_files(app)
    for path in ("/t/zzzzzzzzzzzzzzzz", "/t/%FF%FE", f"/01/{GTIN}/10/%FF", f"/01/{GTIN}/10/NOSUCHLOT"):
        assert get(app, path).status_code in (200, 400, 404), path
    assert cache_files(app) == files


def test_canonical_paths():
    assert canonical_page_path(f"/01/{GTIN}/10/%42OT2603A") == f"/01/{GTIN}/10/{LOT}"
    assert canonical_page_path(f"/01/9506000134352/10/{LOT}") == f"/01/{GTIN}/10/{LOT}"
    assert canonical_page_path(f"/01/{GTIN}/10/A%2fB") == f"/01/{GTIN}/10/A%2FB"
    assert canonical_page_path(f"/01/{GTIN}/10/A!B") == f"/01/{GTIN}/10/A%21B"
    assert canonical_page_path("/t/abcdefgh23") == "/t/ABCDEFGH23"
    assert canonical_page_path("/t/ABC/extra") is None
    assert canonical_page_path("/t/%00") is None
    assert canonical_page_path("/01/123/10/A") is None
    assert canonical_page_path("/products") is None
    for path in ("/01/09506000134352/10/A%2FB", "/01/09506000134352/21/X"):
        assert canonical_page_path(path) == parse_path(path).path() == path


def test_the_folder_cache_holds_at_most_its_bound(tmp_path):
    cache = BoundedFolderCache(str(tmp_path), max_entries=50)
    for index in range(500):
        cache.set(f"page:{index}", b"x" * 100, timeout=3600)
        assert sum(1 for _ in tmp_path.iterdir()) <= 50
    assert cache.get("page:499") == b"x" * 100  # the newest stay


def test_the_bound_keeps_generations_before_pages(tmp_path):
    cache = BoundedFolderCache(str(tmp_path), max_entries=50)
    cache.set("gen:all", "g1", timeout=2 * 24 * 3600)
    for index in range(200):
        cache.set(f"page:{index}", b"x", timeout=3600)
    assert cache.get("gen:all") == "g1"


def test_the_bound_holds_across_workers_sharing_a_folder(tmp_path):
    workers = [BoundedFolderCache(str(tmp_path), max_entries=200) for _ in range(3)]
    for index in range(1500):
        workers[index % 3].set(f"page:{index}", b"x", timeout=3600)
    # Each worker counts every 2 of its writes: at most 200 + 3 × 2 files between counts.
    assert sum(1 for _ in tmp_path.iterdir()) <= 206


def test_the_app_reads_its_bound_from_the_configuration(tmp_path, database_url):
    class BoundedConfig(TestConfig):
        DATABASE_URL = database_url
        PAGE_CACHE_URL = str(tmp_path / "pages")
        PAGE_CACHE_MAX_ENTRIES = 30

    worker = create_app(BoundedConfig)
    worker.test_client_class = RequestIsolatedClient
    backend = worker.extensions["page_cache"].backend
    assert isinstance(backend, BoundedFolderCache) and backend.max_entries == 30
