"""Strict parsing of Digital Link paths and the build → parse round trip."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traceability.gs1 import DigitalLink, DigitalLinkError, gtin_check_digit, parse_path

SET_82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
ai_values = st.text(alphabet=SET_82, min_size=1, max_size=20)
gtin14s = st.text(alphabet="0123456789", min_size=13, max_size=13).map(lambda d: d + str(gtin_check_digit(d)))


@given(gtin14s, st.none() | ai_values, st.none() | ai_values, st.none() | ai_values)
def test_build_then_parse_gives_back_the_same_identifiers(gtin, variant, lot, serial):
    link = DigitalLink(gtin=gtin, variant=variant, lot=lot, serial=serial)
    assert parse_path(link.path()) == link


def test_gtin_13_parses_and_is_marked_non_canonical():
    link = parse_path("/01/8935000000014/10/L1")
    assert not link.is_canonical_gtin
    assert link.path() == "/01/08935000000014/10/L1"


def test_percent_encoded_slash_stays_inside_the_lot():
    assert parse_path("/01/08935000000014/10/26%2F10").lot == "26/10"


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/01/8935000000015/10/L1", "gtin"),
        ("/01/893500000001/10/L1", "gtin"),
        ("/01/０8935000000014/10/L1", "gtin"),
        ("/01/08935000000014/10/L%C3%941", "value"),
        ("/01/08935000000014/10/" + "x" * 21, "value"),
        ("/01/08935000000014/10/A%20B", "value"),
        ("/01/08935000000014/21/S1/10/L1", "order"),
        ("/01/08935000000014/10/L1/10/L2", "order"),
        ("/01/08935000000014/17/270101", "order"),
        ("/01/08935000000014/10", "empty"),
        ("/01/08935000000014/10/", "empty"),
        ("/01/08935000000014/10/%FF", "encoding"),
    ],
)
def test_malformed_paths_are_refused_with_a_reason(path, reason):
    with pytest.raises(DigitalLinkError) as caught:
        parse_path(path)
    assert caught.value.reason == reason
