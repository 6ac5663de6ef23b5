"""Property-based tests: every valid identifier survives build → parse; every invalid one is refused."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.gs1.strategies import (
    SET_82,
    TODAY,
    ai_values,
    glns,
    gs1_dates,
    gtins,
    invalid_ai_values,
    wrong_check_digit,
)
from traceability.gs1 import (
    DigitalLink,
    DigitalLinkError,
    batch_uri,
    canonical_uri,
    gs1_date,
    is_valid_ai_value,
    is_valid_gln,
    is_valid_gtin,
    item_uri,
    normalise_gtin,
    parse_path,
    parse_uri,
)

BASE = "https://trace.example.vn"
ENCODED_SEGMENT = re.compile(r"^(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})+$")


@given(gtins())
def test_every_valid_gtin_normalises_to_14_digits_with_the_same_number(gtin):
    assert is_valid_gtin(gtin)
    normalised = normalise_gtin(gtin)
    assert len(normalised) == 14
    assert normalised.lstrip("0") == gtin.lstrip("0")
    assert is_valid_gtin(normalised)


@given(gtins())
def test_a_wrong_check_digit_is_refused_at_every_length(gtin):
    wrong = wrong_check_digit(gtin)
    assert not is_valid_gtin(wrong)
    with pytest.raises(ValueError):
        normalise_gtin(wrong)
    with pytest.raises(DigitalLinkError) as caught:
        batch_uri(BASE, wrong, "L1")
    assert caught.value.reason == "gtin"
    with pytest.raises(DigitalLinkError) as caught:
        parse_path(f"/01/{wrong}/10/L1")
    assert caught.value.reason == "gtin"


@given(glns)
def test_glns_check_digit(gln):
    assert is_valid_gln(gln)
    assert not is_valid_gln(wrong_check_digit(gln))
    assert not is_valid_gln(gln[1:])


@given(ai_values)
def test_set_82_values_are_valid(value):
    assert is_valid_ai_value(value)


@given(invalid_ai_values)
def test_values_outside_set_82_or_too_long_are_invalid(value):
    assert not is_valid_ai_value(value)


@given(gtins(), ai_values, ai_values)
def test_build_then_parse_gives_back_the_lot_and_serial(gtin, lot, serial):
    for uri, expected in (
        (batch_uri(BASE, gtin, lot), DigitalLink(gtin=gtin.zfill(14), lot=lot)),
        (item_uri(BASE, gtin, lot, serial), DigitalLink(gtin=gtin.zfill(14), lot=lot, serial=serial)),
    ):
        assert uri.startswith(f"{BASE}/01/{gtin.zfill(14)}/10/")
        assert parse_uri(uri) == expected
        # Every value segment holds unreserved characters and percent-escapes only.
        assert all(ENCODED_SEGMENT.fullmatch(segment) for segment in uri[len(BASE) + 1 :].split("/"))


@given(
    gtins(),
    st.none() | ai_values,
    st.none() | ai_values,
    st.none() | ai_values,
    st.none() | gs1_dates,
    st.none() | gs1_dates,
)
def test_every_link_survives_the_round_trip_through_its_canonical_form(
    gtin, variant, lot, serial, production_date, expiry_date
):
    link = DigitalLink(
        gtin=gtin,
        variant=variant,
        lot=lot,
        serial=serial,
        production_date=production_date,
        expiry_date=expiry_date,
    )
    canonical = link.canonical_uri()
    assert canonical.startswith(f"https://id.gs1.org/01/{gtin.zfill(14)}")
    parsed = parse_uri(canonical, today=TODAY)
    assert parsed == DigitalLink(
        gtin=gtin.zfill(14),
        variant=variant,
        lot=lot,
        serial=serial,
        production_date=production_date,
        expiry_date=expiry_date,
    )
    # The canonical form is a fixed point, whatever domain and GTIN length the link came with.
    assert canonical_uri(canonical, today=TODAY) == canonical
    assert canonical_uri(link.uri("http://brand.example/some/prefix"), today=TODAY) == canonical


@given(gtins(), ai_values, invalid_ai_values)
def test_an_invalid_lot_or_serial_is_refused_never_truncated(gtin, good, bad):
    for build in (
        lambda: batch_uri(BASE, gtin, bad),
        lambda: item_uri(BASE, gtin, good, bad),
        lambda: item_uri(BASE, gtin, bad, good),
    ):
        with pytest.raises(DigitalLinkError) as caught:
            build()
        assert caught.value.reason == "value"
    # The same value arriving percent-encoded in a path is refused too.
    for path in (
        f"/01/{gtin}/10/{quote(bad, safe='')}",
        f"/01/{gtin}/10/{quote(good, safe='')}/21/{quote(bad, safe='')}",
    ):
        with pytest.raises(DigitalLinkError) as caught:
            parse_path(path)
        assert caught.value.reason == "value"


@given(gs1_dates)
def test_gs1_dates_round_trip_inside_the_century_window(day):
    assert gs1_date(f"{day:%y%m%d}", TODAY) == day


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("270315", (2027, 3, 15)),
        ("760101", (2076, 1, 1)),  # 50 years ahead: still this century
        ("770101", (1977, 1, 1)),  # 51 years ahead: the last century
        ("260200", (2026, 2, 28)),  # day 00: the last day of the month
        ("280200", (2028, 2, 29)),
    ],
)
def test_gs1_date_century_and_day_zero(text, expected):
    assert gs1_date(text, TODAY).timetuple()[:3] == expected


@pytest.mark.parametrize("text", ["271301", "270431", "27031", "2703155", "27O315", "２70315", ""])
def test_gs1_date_refuses_what_is_not_a_date(text):
    with pytest.raises(ValueError):
        gs1_date(text, TODAY)


@pytest.mark.parametrize(
    ("uri", "reason"),
    [
        ("https://t.vn/01/09506000134352/10/A?17=271301", "date"),
        ("https://t.vn/01/09506000134352/10/A?17=270101&17=270102", "date"),
        ("https://t.vn/01/09506000134352/10/A?11=", "date"),
        ("ftp://t.vn/01/09506000134352", "uri"),
        ("/01/09506000134352", "uri"),
        ("https://t.vn/02/09506000134352", "order"),
        ("https://t.vn/01/09506000134353/10/A", "gtin"),
    ],
)
def test_full_uris_are_parsed_strictly(uri, reason):
    with pytest.raises(DigitalLinkError) as caught:
        parse_uri(uri, today=TODAY)
    assert caught.value.reason == reason


def test_resolver_parameters_are_not_identifiers():
    link = parse_uri("https://t.vn/01/9506000134352/10/A%2F1?linkType=gs1:epcis&17=270101", today=TODAY)
    assert link.gtin == "9506000134352" and link.lot == "A/1"
    assert link.expiry_date is not None and link.expiry_date.isoformat() == "2027-01-01"
    assert link.canonical_uri() == "https://id.gs1.org/01/09506000134352/10/A%2F1?17=270101"


def test_set_82_is_exactly_the_design_regex():
    printable = [chr(code) for code in range(32, 127)]
    assert "".join(c for c in printable if is_valid_ai_value(c)) == SET_82
