"""GTIN and GLN check digits and the AI 10/21/22 character set."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traceability.gs1 import (
    batch_uri,
    gtin_check_digit,
    is_valid_ai_value,
    is_valid_gln,
    is_valid_gtin,
    item_uri,
    normalise_gtin,
)


def test_check_digit_of_the_gs1_example():
    assert gtin_check_digit("0950600013435") == 2
    assert is_valid_gtin("09506000134352")


@pytest.mark.parametrize("code", ["96385074", "036000291452", "8935000000014", "08935000000014"])
def test_valid_gtins_of_every_length(code):
    assert is_valid_gtin(code)
    assert normalise_gtin(code) == code.zfill(14)


@pytest.mark.parametrize(
    "code", ["8935000000015", "893500000001", "abcdefghijklm", "", "893500000001４", "1" * 15]
)
def test_invalid_gtins(code):
    assert not is_valid_gtin(code)
    with pytest.raises(ValueError):
        normalise_gtin(code)


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_every_wrong_check_digit_is_caught(data):
    right = gtin_check_digit(data)
    for digit in range(10):
        assert is_valid_gtin(f"{data}{digit}") == (digit == right)


def test_gln():
    assert is_valid_gln("8935000000014")
    assert not is_valid_gln("8935000000010")
    assert not is_valid_gln("893500000001")


@pytest.mark.parametrize("value", ["LOT-2026/01", "A", "x" * 20, "%41", 'a"b', "_?:;<=>"])
def test_ai_values_inside_set_82(value):
    assert is_valid_ai_value(value)


@pytest.mark.parametrize("value", ["", "x" * 21, "LÔ1", "A B", "A#1", "a@b", "a~b"])
def test_ai_values_outside_set_82(value):
    assert not is_valid_ai_value(value)


def test_uris_percent_encode_outside_the_unreserved_set():
    assert (
        batch_uri("https://t.vn/", "08935000000014", "L/1%&")
        == "https://t.vn/01/08935000000014/10/L%2F1%25%26"
    )
    assert (
        item_uri("https://t.vn", "08935000000014", "L1", "S-1")
        == "https://t.vn/01/08935000000014/10/L1/21/S-1"
    )
