"""GS1's digital-link.js (npm, test-only, pinned in package.json) as an oracle: compression and DL syntax.

``digital_link_js_oracle.js`` runs under node once per batch of cases; the
package comes from ``node_modules`` (``make test`` runs ``npm ci``). Without
node or the package the tests skip, and fail with ``CI=true``, like the
accessibility test's axe-core.

digital-link.js 1.4.3 bundles an older copy of GS1's compression toolkit than
the one ``traceability.gs1.compression`` reproduces (gs1/GS1DigitalLinkCompressionPrototype,
2025). Where the two part, this registry follows GS1's current toolkit, the GS1
General Specifications and the Digital Link standard; each difference is a
test below (``test_disagreement_*``):

1. the ``1A`` sequence (GTIN, lot, serial, expiry date) and ``9D`` (GLN and its
   extension): digital-link.js writes their values in sorted AI order (01, 10,
   17, 21), because its toolkit sorts GS1's table in place; GS1's toolkit (and
   gs1-compression, Trust Codes' Python port) writes them in the table's order
   (01, 10, 21, 17). Neither reads the other's string right. GS1's own
   ``index.html`` example (``GhFJpRhNutGu2_HPXdJE6A267b8c9d-e0-6ag``) was
   written the old way: digital-link.js reads it, this registry refuses it;
2. a digits-only value of 16 digits or more: digital-link.js reads it with
   ``parseInt`` and loses digits past 2^53, so it compresses another number;
3. a digits-only value with leading zeros: both compress it alike; digital-link.js
   decompresses ``0012`` as ``12``;
4. ``:;<=>?`` in a lot or serial: GS1 set 82 has them; digital-link.js's AI
   table does not and refuses to compress the link;
5. AI 235 (TPX): unknown to digital-link.js's tables and grammar;
6. Digital Link syntax (``isValid``): digital-link.js checks its ABNF grammar
   only, so it accepts an empty segment (``//``), a repeated attribute and
   impossible dates (``?17=271399``, ``?17=270230``), and refuses
   percent-encoded letters (``%41BC``), which the DL URI syntax 1.6 normalises.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest

from tests.gs1.strategies import SET_82, TODAY, with_check_digit
from traceability.gs1 import DigitalLink, DigitalLinkError, parse_uri
from traceability.gs1.compression import compress, decode, decompress, expand
from traceability.gs1.compression_tables import AI_LENGTHS, FORMATS, OPTIMISATIONS

NODE_MODULES = Path(__file__).resolve().parents[2] / "node_modules"
ORACLE = Path(__file__).with_name("digital_link_js_oracle.js")
BASE = "https://trace.example.vn"
GTIN = "09506000134352"
# Characters of GS1 set 82 that digital-link.js's AI table lacks (disagreement 4).
NOT_IN_DIGITAL_LINK_JS = set(":;<=>?")


def node_command() -> list[str]:
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None or not (NODE_MODULES / "digital-link.js" / "package.json").is_file():
        message = (
            "node or digital-link.js is missing: install npm (apt-get install npm) and run "
            "`make test` or `npm ci`"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return [node, str(ORACLE), str(NODE_MODULES)]


def ask(requests: list[dict]) -> list[dict]:
    """digital-link.js's answers to a batch of requests (one node process)."""
    completed = subprocess.run(
        node_command(), input=json.dumps(requests), capture_output=True, text=True, timeout=120, check=True
    )
    answers = json.loads(completed.stdout)
    assert len(answers) == len(requests)
    return answers


def ok(answer: dict):
    assert "error" not in answer, answer
    return answer["ok"]


def their_link(uri: str) -> tuple[DigitalLink, dict[str, str]]:
    """Our reading of a URI digital-link.js wrote: the link, and its other query pairs."""
    others = {key: value for key, value in parse_qsl(urlsplit(uri).query) if not key.isdigit()}
    return parse_uri(uri, today=TODAY), others


# --- Compression of ordinary links: the same strings both ways -----------------------------------


def ordinary_value(rng: random.Random) -> str:
    """A lot or serial digital-link.js handles as GS1 does (no disagreement 2, 3 or 4)."""
    length = rng.randint(1, 20)
    alphabet = rng.choice(
        [
            "0123456789",
            "0123456789ABCDEF",
            "0123456789abcdef",
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
            "".join(sorted(set(SET_82) - NOT_IN_DIGITAL_LINK_JS)),
        ]
    )
    value = "".join(rng.choice(alphabet) for _ in range(length))
    if value.isdigit():
        value = str(rng.randint(1, 9)) + value[1:15]  # no leading zero, at most 15 digits
    return value


def ordinary_cases(count: int) -> list[tuple[DigitalLink, dict[str, str], dict[str, str]]]:
    rng = random.Random(15)
    cases = []
    for _ in range(count):
        link = DigitalLink(
            gtin=with_check_digit("".join(rng.choice("0123456789") for _ in range(13))),
            variant=ordinary_value(rng) if rng.random() < 0.2 else None,
            lot=ordinary_value(rng) if rng.random() < 0.8 else None,
            serial=ordinary_value(rng) if rng.random() < 0.5 else None,
            production_date=TODAY - timedelta(days=rng.randint(0, 900)) if rng.random() < 0.3 else None,
            expiry_date=TODAY + timedelta(days=rng.randint(0, 2000)) if rng.random() < 0.4 else None,
        )
        if link.lot and link.serial and link.expiry_date:
            link = DigitalLink(gtin=link.gtin, lot=link.lot, serial=link.serial)  # not 1A: disagreement 1
        attributes = {"3103": f"{rng.randint(0, 999999):06d}"} if rng.random() < 0.2 else {}
        if rng.random() < 0.2:
            attributes["15"] = f"{TODAY + timedelta(days=rng.randint(0, 500)):%y%m%d}"
        extensions = (
            {"linkType": rng.choice(["gs1:pip", "gs1:epcis", "linkset"])} if rng.random() < 0.3 else {}
        )
        cases.append((link, attributes, extensions))
    return cases


def uncompressed_uri(link: DigitalLink, attributes: dict[str, str], extensions: dict[str, str]) -> str:
    query = "&".join(
        filter(None, (link.query(), *(f"{k}={v}" for k, v in {**attributes, **extensions}.items())))
    )
    return link.uri(BASE).split("?")[0] + (f"?{query}" if query else "")


def test_compression_agrees_on_ordinary_links():
    """300 links: digital-link.js compresses each to our string, and each side reads the other's back."""
    cases = ordinary_cases(300)
    ours = [compress(link, attributes=a, extensions=e, base_url=BASE) for link, a, e in cases]
    answers = ask(
        [
            {"op": "compress", "uri": uncompressed_uri(*case), "optimise": True, "others": True}
            for case in cases
        ]
        + [{"op": "decompress", "uri": uri} for uri in ours]
    )
    theirs, their_readings = answers[: len(cases)], answers[len(cases) :]
    for (link, attributes, extensions), our_uri, their_uri, reading in zip(
        cases, ours, theirs, their_readings, strict=True
    ):
        assert ok(their_uri) == our_uri, link
        read_link, others = their_link(ok(reading))
        assert read_link == link == decompress(our_uri, today=TODAY)
        assert others == extensions
        assert dict(expand(our_uri).elements) == {
            **{"01": link.gtin14},
            **dict(link.qualifiers()),
            **{
                ai: f"{day:%y%m%d}"
                for ai, day in (("11", link.production_date), ("17", link.expiry_date))
                if day
            },
            **attributes,
        }


def test_compression_without_optimisations_agrees_too():
    cases = ordinary_cases(60)
    answers = ask(
        [
            {"op": "compress", "uri": uncompressed_uri(link, a, {}), "optimise": False, "others": True}
            for link, a, _e in cases
        ]
    )
    for (link, attributes, _extensions), answer in zip(cases, answers, strict=True):
        assert ok(answer) == compress(link, attributes=attributes, base_url=BASE, optimise=False)


def test_the_tables_are_gs1s():
    """Every AI, prefix and optimisation digital-link.js's toolkit knows is ours, alike (but disagreement 1)."""
    [answer] = ask([{"op": "tables"}])
    tables = ok(answer)

    def notation(parts: list[dict]) -> str:
        return "+".join(part["E"] + (part["L"] if "L" in part else ".." + part["M"]) for part in parts)

    assert {ai: notation(parts) for ai, parts in tables["tableF"].items()} == {
        ai: FORMATS[ai] for ai in tables["tableF"]
    }
    assert tables["tableP"] == {prefix: AI_LENGTHS[prefix] for prefix in tables["tableP"]}
    assert set(AI_LENGTHS) - set(tables["tableP"]) == {"43"}  # 4300-4326, newer AIs
    sorted_in_place = {
        code for code, sequence in OPTIMISATIONS.items() if list(sequence) != tables["tableOpt"][code]
    }
    assert sorted_in_place == {"1A", "9D"}
    assert all(tables["tableOpt"][code] == sorted(OPTIMISATIONS[code]) for code in sorted_in_place)
    assert set(tables["tableOpt"]) == set(OPTIMISATIONS)


# --- Where digital-link.js 1.4.3 and GS1's current toolkit part ------------------------------------


def test_disagreement_1_the_order_of_the_1a_sequence():
    link = DigitalLink(gtin=GTIN, lot="LOT1", serial="S1", expiry_date=date(2027, 1, 1))
    ours = compress(link, base_url=BASE)
    assert ours == f"{BASE}/GhFKk4XBoMhZyerElqg-Kg"  # GS1's prototype writes this string
    legacy_example = "https://example.org/GhFJpRhNutGu2_HPXdJE6A267b8c9d-e0-6ag"  # GS1's index.html
    their_uri, their_reading, their_example = ask(
        [
            {"op": "compress", "uri": link.uri(BASE), "optimise": True, "others": True},
            {"op": "decompress", "uri": ours},
            {"op": "decompress", "uri": legacy_example},
        ]
    )
    assert ok(their_uri) != ours and ok(their_uri).startswith(f"{BASE}/Gh")  # 1A, values in another order
    [their_own] = ask([{"op": "decompress", "uri": ok(their_uri)}])
    assert their_link(ok(their_own))[0] == link  # each reads its own string...
    assert f"/21/S1?17={link.expiry_date:%y%m%d}" not in ok(their_reading)  # ... and misreads the other's
    assert ok(their_example) == (
        "https://example.org/01/09504000059101/10/1234567p/21/123456789p901?17=141120"
    )
    with pytest.raises(DigitalLinkError):
        decompress(legacy_example)
    # Without the expiry date there is no 1A: the same string both ways.
    plain = DigitalLink(gtin=GTIN, lot="LOT1", serial="S1")
    [answer] = ask([{"op": "compress", "uri": plain.uri(BASE), "optimise": True, "others": True}])
    assert ok(answer) == compress(plain, base_url=BASE)


def test_disagreement_2_long_digit_strings():
    link = DigitalLink(gtin=GTIN, lot="12345678901234567")  # past 2^53
    ours = compress(link, base_url=BASE)
    [theirs] = ask([{"op": "compress", "uri": link.uri(BASE), "optimise": True, "others": True}])
    assert ok(theirs) != ours
    assert decompress(ours) == link
    assert decompress(ok(theirs)) != link  # the number digital-link.js compressed is another one


def test_disagreement_3_leading_zeros():
    link = DigitalLink(gtin=GTIN, lot="0012", serial="007")
    ours = compress(link, base_url=BASE)
    theirs, reading = ask(
        [
            {"op": "compress", "uri": link.uri(BASE), "optimise": True, "others": True},
            {"op": "decompress", "uri": ours},
        ]
    )
    assert ok(theirs) == ours
    assert their_link(ok(reading))[0] == DigitalLink(gtin=GTIN, lot="12", serial="7")
    assert decompress(ours) == link


@pytest.mark.parametrize("lot", ["A:1", "A;1", "A<1", "A=1", "A>1", "A?1"])
def test_disagreement_4_set_82_characters(lot):
    link = DigitalLink(gtin=GTIN, lot=lot)
    [theirs] = ask([{"op": "compress", "uri": link.uri(BASE), "optimise": True, "others": True}])
    assert "error" in theirs
    assert decompress(compress(link, base_url=BASE)) == link


def test_disagreement_5_tpx():
    link = DigitalLink(gtin=GTIN, tpx="TPX0001")
    [theirs, valid] = ask(
        [
            {"op": "compress", "uri": link.uri(BASE), "optimise": True, "others": True},
            {"op": "valid", "uri": link.uri(BASE)},
        ]
    )
    assert "error" in theirs and ok(valid) is False
    assert decompress(compress(link, base_url=BASE)) == link


# --- Digital Link syntax: our parser and digital-link.js's isValid ---------------------------------

# (path and query, valid for us, valid for digital-link.js)
SYNTAX_CASES = [
    (f"/01/{GTIN}/10/ABC", True, True),
    (f"/01/{GTIN}/10/ABC/", True, True),  # one trailing slash tolerated
    (f"/01/{GTIN}/22/V1/10/ABC/21/S", True, True),
    (f"/01/{GTIN}/10/ABC?17=271231&11=260301&3103=001250&foo=bar", True, True),
    (f"/01/{GTIN}/10/ABC?linkType=gs1:pip", True, True),
    (f"/01/{GTIN[:-1]}3/10/ABC", False, False),  # check digit
    (f"/01/{GTIN}/21/S/10/ABC", False, False),  # qualifiers out of order
    (f"/01/{GTIN}/10/ABC?17=2613", False, False),
    (f"/01/{GTIN}/10/ABC?21=S1", False, False),  # a key qualifier in the query
    (f"/01/{GTIN}/10/ABC?3103=12", False, False),
    (f"/01/{GTIN}/10/%0A", False, False),
    (f"/01/{GTIN}/10/A%20B", False, False),
    (f"/01/{GTIN}/10/{'A' * 21}", False, False),
    (f"/01/{GTIN}/235/A/10/B", False, False),
    # Disagreement 6: the grammar alone.
    (f"/01/{GTIN}//10/ABC", False, True),  # an empty segment
    (f"/01/{GTIN}/10/ABC?17=270131&17=270131", False, True),  # a repeated attribute
    (f"/01/{GTIN}/10/ABC?17=271399", False, True),  # month 13
    (f"/01/{GTIN}/10/ABC?17=270230", False, True),  # 30 February
    (f"/01/{GTIN}/10/%41BC", True, False),  # percent-encoding normalises (DL URI syntax 1.6)
    (f"/01/{GTIN}/235/TPX0001", True, False),  # disagreement 5
]


def test_digital_link_syntax_against_digital_link_js():
    answers = ask([{"op": "valid", "uri": BASE + path} for path, _ours, _theirs in SYNTAX_CASES])
    answers += ask([{"op": "valid", "uri": BASE + path} for path in (f"/01/{GTIN}/10/L%G1", "/01/")])
    for (path, ours, theirs), answer in zip(SYNTAX_CASES, answers, strict=False):
        try:
            parse_uri(BASE + path, today=TODAY)
            accepted = True
        except DigitalLinkError:
            accepted = False
        assert accepted is ours, path
        assert ok(answer) is theirs, path
    # Malformed percent-encoding and a missing GTIN: digital-link.js throws, we refuse.
    assert all("error" in answer for answer in answers[len(SYNTAX_CASES) :])


def test_compressed_links_are_valid_for_both():
    link = DigitalLink(gtin=GTIN, lot="BOT2603A")
    [valid] = ask([{"op": "valid", "uri": compress(link, base_url=BASE)}])
    assert ok(valid) is True and decode(compress(link)).elements == (("01", GTIN), ("10", "BOT2603A"))
