"""Cross-check against biip, an independent GS1 implementation, on valid inputs.

biip and our module must agree on check digits, on the 14-digit form of a
GTIN, on the element string a Digital Link holds and on its canonical URI.
biip does not refuse a Digital Link whose GTIN has a wrong check digit (it
reports it on the side), so the refusals are checked on our side only,
except where biip refuses too.
"""

from __future__ import annotations

from urllib.parse import quote

import pytest
from biip import ParseError
from biip.checksums import gs1_standard_check_digit
from biip.gln import Gln
from biip.gs1_digital_link_uris import GS1DigitalLinkURI
from biip.gtin import Gtin
from hypothesis import given
from hypothesis import strategies as st

from tests.gs1.strategies import ai_values, glns, gs1_dates, gtins, invalid_ai_values, wrong_check_digit
from traceability.gs1 import DigitalLink, gtin_check_digit, item_uri, normalise_gtin

BASE = "https://trace.example.vn"


@given(st.text(alphabet="0123456789", min_size=1, max_size=17))
def test_check_digits_agree(digits):
    assert gtin_check_digit(digits) == gs1_standard_check_digit(digits)


@given(gtins())
def test_gtin_14_forms_agree(gtin):
    assert Gtin.parse(gtin).as_gtin_14() == normalise_gtin(gtin)


@given(gtins())
def test_both_refuse_a_gtin_with_a_wrong_check_digit(gtin):
    wrong = wrong_check_digit(gtin)
    with pytest.raises(ParseError):
        Gtin.parse(wrong)
    with pytest.raises(ValueError):
        normalise_gtin(wrong)


@given(glns)
def test_glns_agree(gln):
    assert Gln.parse(gln).as_gln() == gln
    with pytest.raises(ParseError):
        Gln.parse(wrong_check_digit(gln))


@given(
    gtins(),
    st.none() | ai_values,
    st.none() | ai_values,
    st.none() | ai_values,
    st.none() | gs1_dates,
    st.none() | gs1_dates,
)
def test_digital_links_agree(gtin, variant, lot, serial, production_date, expiry_date):
    link = DigitalLink(
        gtin=gtin,
        variant=variant,
        lot=lot,
        serial=serial,
        production_date=production_date,
        expiry_date=expiry_date,
    )
    theirs = GS1DigitalLinkURI.parse(link.uri(BASE))
    values = {element.ai.ai: element.value for element in theirs.element_strings}
    expected = {"01": gtin.zfill(14), "22": variant, "10": lot, "21": serial}
    expected |= {
        "11": production_date and f"{production_date:%y%m%d}",
        "17": expiry_date and f"{expiry_date:%y%m%d}",
    }
    assert values == {ai: value for ai, value in expected.items() if value is not None}
    assert theirs.as_canonical_uri() == link.canonical_uri()
    # The same element strings, in the same order.
    assert theirs.as_gs1_message().as_hri() == link.element_string()


@given(gtins(), ai_values, invalid_ai_values)
def test_biip_refuses_the_lots_and_serials_we_refuse(gtin, good, bad):
    with pytest.raises(ParseError):
        GS1DigitalLinkURI.parse(f"{BASE}/01/{gtin}/10/{quote(good, safe='')}/21/{quote(bad, safe='')}")


def test_a_known_item_uri_reads_the_same_in_biip():
    uri = item_uri(BASE, "9506000134352", "LO-26/03", "AB12CD34")
    assert uri == f"{BASE}/01/09506000134352/10/LO-26%2F03/21/AB12CD34"
    parsed = GS1DigitalLinkURI.parse(uri)
    assert parsed.as_gs1_message().value == "010950600013435210LO-26/03\x1d21AB12CD34"
