"""GS1 Digital Link compression (``traceability.gs1.compression``): GS1's vectors, round trips, refusals.

The vectors are reproduced from GS1's material (Apache-2.0, none of it vendored):

- digital-link.js (gs1/digital-link.js, npm 1.4.3), ``tests/index.js``: its ``DATA``
  and its ``Compression`` tests;
- GS1DigitalLinkCompressionPrototype, ``src-decompression-only/demo-minimal3.html``
  (the compressed input) with the answer of its ``src/GS1DigitalLinkToolkit.js``;
- GS1_DigitalLink_Resolver_CE, ``tests/setup_test.py`` (a lot compressed without
  optimisations);
- a GTIN with lot, serial and expiry date (the ``1A`` optimisation), compressed
  by the prototype's ``src/GS1DigitalLinkToolkit.js``.

Where this module and GS1's toolkit part on purpose, a test says so:
``test_digits_only_values_keep_their_leading_zeros`` and
``test_ai_235_and_7040_follow_the_general_specifications``.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.gs1.strategies import SET_82, TODAY, ai_values, gs1_dates, gtins
from traceability.gs1 import DigitalLink, DigitalLinkError
from traceability.gs1.compression import (
    BASE64URL,
    MAX_COMPRESSED_LENGTH,
    CompressionError,
    components,
    compress,
    decode,
    decompress,
    encode,
    expand,
)
from traceability.gs1.compression_tables import FORMATS, OPTIMISATIONS

# (compressed segment, the uncompressed path and query, optimised by GS1's default)
GS1_VECTORS = [
    # digital-link.js tests/index.js, "should compress a Digital Link URI" (its input uses the short names)
    ("HxHKVAdpQgZzjr-hCDKigI", "/01/09780345418913/10/231/21/345345?15=120820", True),
    # ... "should compress a Digital Link URI with a custom path"
    ("DBHKVAdpQgowOQ", "/01/09780345418913/21/12345", True),
    # ... "should use optimisations and compress other key-value pairs by default"
    ("DBHKVAdpQgqrCvBv0UMG21W", "/01/09780345418913/21/43786?foo=bar", True),
    # ... "should allow not using optimisations" (foo=bar left in the query, uncompressed)
    ("ARHKVAdpQkIKqwo", "/01/09780345418913/21/43786", False),
    # ... "should transparently validate a valid compressed URI"
    ("ARHKVAdpQg", "/01/09780345418913", False),
    # ... DATA.compressedWebUri and its toWebUriString
    (
        "HxHKVAdpQhCTxbrOF_yEFcx_4a2GeAh1mFOZkChg6Z8pgcEMEWpMganmIfESxTyJ5UvMJa9Za",
        "/01/09780345418913/10/38737643/21/58943?15=230911&thngId=U5mQKGDpnymBwQwRakyBqeYh&linkType=test",
        True,
    ),
    # GS1DigitalLinkCompressionPrototype src-decompression-only/demo-minimal3.html
    ("DgnYUc1gmji3NU0IREGFDTK2LJm", "/01/05412345000013/10/ABC%26%2B123?7003=1903061658", True),
    # GS1_DigitalLink_Resolver_CE tests/setup_test.py
    ("ARFKk4XB0CDKWcnpq", "/01/09506000134376/10/LOT01", False),
    # The prototype's src/GS1DigitalLinkToolkit.js: 1A is (01, 10, 21, 17)
    ("GhFKk4XBoMhZyerElqg-Kg", "/01/09506000134352/10/LOT1/21/S1?17=270101", True),
]


def bits_of(segment: str) -> str:
    return "".join(f"{BASE64URL.index(character):06b}" for character in segment)


def segment_of(bits: str) -> str:
    bits += "0" * (-len(bits) % 6)
    return "".join(BASE64URL[int(bits[start : start + 6], 2)] for start in range(0, len(bits), 6))


@pytest.mark.parametrize(("segment", "uncompressed", "optimised"), GS1_VECTORS)
def test_gs1_vectors_decompress(segment, uncompressed, optimised):
    assert expand(f"https://example.org/{segment}").reference() == uncompressed


@pytest.mark.parametrize(("segment", "uncompressed", "optimised"), GS1_VECTORS)
def test_gs1_vectors_compress_to_the_same_string(segment, uncompressed, optimised):
    expanded = expand(f"/{segment}")
    assert encode(expanded.elements, expanded.extensions, optimise=optimised) == segment


def test_a_digital_link_compresses_as_gs1s_toolkit_does():
    link = DigitalLink(gtin="9780345418913", lot="231", serial="345345")
    assert compress(link, attributes={"15": "120820"}) == "HxHKVAdpQgZzjr-hCDKigI"
    assert (
        compress(DigitalLink(gtin="9780345418913", serial="43786"), extensions={"foo": "bar"})
        == "DBHKVAdpQgqrCvBv0UMG21W"
    )
    assert (
        compress(link, base_url="https://trace.example.vn/") == f"https://trace.example.vn/{compress(link)}"
    )


def test_decompress_reads_the_dates_of_the_string_and_of_the_query():
    link = DigitalLink(gtin="09506000134352", lot="LOT1", serial="S1", expiry_date=TODAY)
    compressed = compress(link, base_url="https://trace.example.vn")
    assert decompress(compressed, today=TODAY) == link
    produced = decompress(f"{compressed}?11=260301&linkType=gs1:pip", today=TODAY)
    assert produced.production_date is not None and produced.production_date.isoformat() == "2026-03-01"


def test_partially_compressed_links_keep_the_gtin_in_clear():
    """``/01/{gtin}/{compressed}``: the primary key uncompressed (the toolkit's ``uncompressedPrimary``)."""
    qualifiers = encode([("10", "LOT01"), ("17", "270101")])
    expanded = expand(f"https://example.org/01/9506000134376/{qualifiers}")
    assert expanded.reference() == "/01/09506000134376/10/LOT01?17=270101"
    with pytest.raises(CompressionError, match="primary keys"):
        expand(f"/01/09506000134376/{encode([('01', '09506000134376')])}")


links = st.builds(
    DigitalLink,
    gtin=gtins(),
    variant=st.none() | ai_values,
    lot=st.none() | ai_values,
    serial=st.none() | ai_values,
    production_date=st.none() | gs1_dates,
    expiry_date=st.none() | gs1_dates,
)
tpx_links = st.builds(DigitalLink, gtin=gtins(), tpx=st.text(alphabet=SET_82, min_size=1, max_size=28))
extension_keys = st.text(alphabet=BASE64URL, min_size=1, max_size=12).filter(lambda key: not key.isdigit())
printable = st.characters(min_codepoint=32, max_codepoint=126)
extensions = st.dictionaries(extension_keys, st.text(alphabet=printable, max_size=30), max_size=3)


def normalised(link: DigitalLink) -> DigitalLink:
    return DigitalLink(
        gtin=link.gtin14,
        variant=link.variant,
        lot=link.lot,
        serial=link.serial,
        tpx=link.tpx,
        production_date=link.production_date,
        expiry_date=link.expiry_date,
    )


@given(links | tpx_links, st.booleans())
def test_every_digital_link_survives_compress_then_decompress(link, optimise):
    assert decompress(f"/{compress(link, optimise=optimise)}", today=TODAY) == normalised(link)


@given(links, extensions)
def test_other_key_value_pairs_survive_too(link, pairs):
    expanded = expand(compress(link, extensions=pairs, base_url="https://trace.example.vn"))
    assert dict(expanded.extensions) == pairs
    assert expanded.path == link.path()


def format_values(ai: str) -> st.SearchStrategy[str]:
    """Valid values of an AI's format: digits or GS1 set 82 characters, each component within its length."""
    parts = []
    for position, component in enumerate(components(ai)):
        alphabet = "0123456789" if component.kind == "N" else SET_82
        minimum = component.length if not component.variable else (1 if position == 0 else 0)
        parts.append(st.text(alphabet=alphabet, min_size=minimum, max_size=component.length))
    return st.tuples(*parts).map("".join)


element_lists = st.lists(st.sampled_from(sorted(FORMATS)), min_size=1, max_size=5, unique=True).flatmap(
    lambda ais: st.tuples(*(st.tuples(st.just(ai), format_values(ai)) for ai in ais))
)


@given(element_lists, st.booleans())
def test_every_ai_of_gs1s_table_survives_encode_then_decode(elements, optimise):
    segment = encode(elements, optimise=optimise)
    assert dict(decode(segment).elements) == dict(elements)


def test_digits_only_values_keep_their_leading_zeros():
    """GS1's toolkit reads ``0012`` back as ``12`` (and ``30=0007`` as ``7``); the encoded length says four digits."""
    link = DigitalLink(gtin="09506000134352", lot="0012", serial="007")
    assert decompress(compress(link, base_url="https://x.example")) == link
    assert dict(decode(encode([("30", "0007")])).elements) == {"30": "0007"}


def test_ai_235_and_7040_follow_the_general_specifications():
    """235 (TPX) is X..28, not N3+X..28 as the toolkit's table has it; 7040 is N1+X3, whose X3 the toolkit drops."""
    assert dict(decode(encode([("235", "TPX-0001")])).elements) == {"235": "TPX-0001"}
    assert dict(decode(encode([("7040", "1ABC")])).elements) == {"7040": "1ABC"}


def test_the_optimisations_are_gs1s_in_gs1s_order():
    assert OPTIMISATIONS["1A"] == ("01", "10", "21", "17")
    assert OPTIMISATIONS["0B"] == ("01", "10")
    # A GTIN and its lot: the 0B sequence, then the lot's length and characters.
    assert bits_of(encode([("01", "09506000134352"), ("10", "A")])).startswith("00001011")


# --- Refusals -------------------------------------------------------------------------------------

GTIN_AND_LOT = encode([("01", "09506000134352"), ("10", "LOT01")], optimise=False)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "not URI-safe base64"),
        ("ARFKk4XB0CDK+cnpq", "not URI-safe base64"),
        ("A" * (MAX_COMPRESSED_LENGTH + 1), "at most 512"),
        (GTIN_AND_LOT[:-3], "ends inside a value"),
        (GTIN_AND_LOT + "A", "ends inside a value|left over"),  # 6 more bits: not GS1's padding
        (segment_of("0001" + "0100" + "0" * 40), "no AI starts with 14"),
        (segment_of("1011" + "0101" + "0" * 40), "no AI or optimisation has the code B5"),
        (segment_of("0010" + "0011" + "0001" + "0" * 40), "AI 231 has no compression format"),
        (segment_of("0001" + "0000" + "100" + "11111" + "0" * 40), "31 characters, at most 20"),
        (segment_of("0001" + "0000" + "100" + "00001" + "0000001"), "outside GS1 set 82"),
        (segment_of("0001" + "0000" + "100" + "00000"), "empty value"),
        (segment_of("0001" + "0000" + "101" + "00001" + "0" * 40), "unknown character encoding"),
        (segment_of("0001" + "0001" + "1" * 20), "a number of 1048575 in a field of 6 digits"),
        (segment_of(("0001" + "0000" + "010" + "00001" + "1010") * 2), "AI 10 twice"),  # lot "A" twice
        (segment_of(bits_of(GTIN_AND_LOT) + "1"), "left over|ends inside"),
    ],
)
def test_strings_that_are_no_compressed_link_are_refused_with_the_reason(text, reason):
    with pytest.raises(CompressionError, match=reason):
        decode(text)


@pytest.mark.parametrize(
    ("elements", "reason"),
    [
        ([("10", "LOT01")], "0 primary keys"),
        ([("00", "095060001343520003")], "primary key is AI 00, not a GTIN"),
        ([("01", "09506000134352"), ("414", "9506000134352")], "2 primary keys"),
    ],
)
def test_a_compressed_link_holds_one_gtin(elements, reason):
    with pytest.raises(CompressionError, match=reason):
        expand("/" + encode(elements))


def test_a_compressed_link_with_an_invalid_gtin_or_date_is_refused_as_its_uncompressed_form():
    with pytest.raises(DigitalLinkError) as error:
        decompress("/" + encode([("01", "09506000134359")]))  # check digit 2
    assert error.value.reason == "gtin"
    with pytest.raises(DigitalLinkError) as error:
        decompress("/" + encode([("01", "09506000134352"), ("17", "271399")]), today=TODAY)
    assert error.value.reason == "date"


@pytest.mark.parametrize(
    ("call", "reason"),
    [
        (lambda: encode([("10", "LÔ1")]), "outside GS1 set 82"),
        (lambda: encode([("10", "A" * 21)]), "21 characters, at most 20"),
        (lambda: encode([("17", "2701")]), "shorter than its format"),
        (lambda: encode([("17", "27010101")]), "longer than its format"),
        (lambda: encode([("3103", "12345a")]), "not digits"),
        (lambda: encode([("716", "X")]), "no compression format"),
        (lambda: encode([("10", "")]), "empty value"),
        (lambda: encode([("01", "09506000134352")], [("link type", "x")]), "the key"),
        (lambda: encode([("01", "09506000134352")], [("123", "x")]), "not only digits"),
        (lambda: encode([("01", "09506000134352")], [("k", "x" * 128)]), "at most 127"),
        (lambda: encode([("01", "09506000134352")], [("k", "a\nb")]), "printable ASCII"),
        (lambda: encode([("91", "A" * 90)], [(f"k{i}", "~" * 127) for i in range(5)]), "at most 512"),
    ],
)
def test_what_gs1s_algorithm_cannot_write_is_refused_with_the_reason(call, reason):
    with pytest.raises(CompressionError, match=reason):
        call()


def test_compress_refuses_an_invalid_link_or_attribute():
    with pytest.raises(DigitalLinkError):
        compress(DigitalLink(gtin="09506000134353", lot="A"))
    with pytest.raises(DigitalLinkError):
        compress(DigitalLink(gtin="09506000134352"), attributes={"21": "S1"})  # a qualifier, not an attribute
    with pytest.raises(DigitalLinkError):
        expand("/" + "A" * 3000)
