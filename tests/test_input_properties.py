"""Property-based tests of the validators and parsers outside gs1/ (tests/gs1 has its own).

Each says what a field accepts, in both directions: everything of the right
shape is taken, anything else is refused the way the form or API shows it,
and no input at all makes the parser raise anything else.
"""

from __future__ import annotations

import re
from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from traceability.api.schemas import MAX_PAGE, IdField, PageQuerySchema, QuantityField
from traceability.batches.lot_codes import is_valid_lot_code
from traceability.batches.service import UNIT_PATTERN, _quantity
from traceability.core.database import MAX_ID
from traceability.core.text import parse_vnd
from traceability.core.uploads import UploadRejected, sniff, store_document, store_image
from traceability.http.converters import IdConverter, digits_up_to, query_int
from traceability.registry.forms import parse_shop_links
from traceability.registry.producers import is_valid_tax_code

ASCII_DIGITS = "0123456789"
# Digits of other scripts that \d and int() take, and look-alikes that str.isdigit() takes.
FOREIGN_DIGITS = "٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹०१२३४५६७८९０１２３４５６７８９²³¹⁴"
digit_strings = st.text(alphabet=ASCII_DIGITS, min_size=1, max_size=14)
near_digits = st.text(alphabet=ASCII_DIGITS + FOREIGN_DIGITS + "-+ .,\x00\n", max_size=16)
anything = st.one_of(st.text(), near_digits, digit_strings)
# No deadline: a loaded CI machine is slow now and then. The marshmallow fields translate
# their messages, so those tests run in the app (a function fixture nothing changes).
SETTINGS = settings(deadline=None)
FIXTURES = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


# ---------------------------------------------------------------- tax codes


@SETTINGS
@given(
    st.text(alphabet=ASCII_DIGITS, min_size=10, max_size=10),
    st.none() | st.text(ASCII_DIGITS, min_size=3, max_size=3),
)
def test_every_tax_code_of_ten_digits_with_an_optional_branch_is_taken(head, branch):
    assert is_valid_tax_code(head if branch is None else f"{head}-{branch}")


@SETTINGS
@given(anything)
@example("٠١٢٣٤٥٦٧٨٩")  # Arabic-Indic digits, which \d matches
@example("0123456789\n")
@example("0123456789-12")
def test_a_tax_code_is_taken_only_in_its_ascii_shape(text):
    assert is_valid_tax_code(text) == bool(re.fullmatch(r"[0-9]{10}(-[0-9]{3})?", text, re.ASCII))


# ---------------------------------------------------------------- lot codes, units, quantities


@SETTINGS
@given(st.text(max_size=30))
@example("LOT\u202e1")  # a right-to-left override: invisible, reorders what is printed
@example("A\x01B")
@example(" LOT")
@example("NHÂN 2612")
def test_a_lot_code_is_1_to_20_characters_of_gs1_set_82_with_or_without_a_gtin(lot_code):
    # One rule for every lot: a product that gets a GTIN later keeps its lot codes.
    expected = 1 <= len(lot_code) <= 20 and all(
        character in "!\"%&'()*+,-./:;<=>?_" or (character.isascii() and character.isalnum())
        for character in lot_code
    )
    assert is_valid_lot_code(lot_code) == expected


@SETTINGS
@given(st.text(max_size=6))
def test_a_unit_taken_is_two_or_three_ascii_capitals_or_digits(unit):
    normalised = unit.strip().upper()  # as create_batch reads it
    if UNIT_PATTERN.fullmatch(normalised):
        assert re.fullmatch(r"[A-Z0-9]{2,3}", normalised, re.ASCII)


quantity_inputs = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.floats(),
    st.integers(),
    st.text(),
    st.sampled_from(["1e30", "1E+999999", "-0", "0.0005", "999999999999999.999", "1_000", "NaN", "sNaN"]),
)


@SETTINGS
@given(quantity_inputs)
def test_a_quantity_is_a_number_or_a_field_error_never_an_exception(value):
    errors: dict = {}
    quantity = _quantity(value, errors, "quantity")
    if quantity is None:
        assert set(errors) == {"quantity"}
    else:
        assert not errors
        assert quantity.is_finite() and 0 <= quantity < Decimal("1e15")
        assert quantity == quantity.quantize(Decimal("0.001"))


@SETTINGS
@given(st.decimals(min_value=0, max_value=Decimal("999999999999999.999"), places=3))
def test_every_quantity_of_at_most_three_decimals_below_1e15_is_taken(value):
    errors: dict = {}
    assert _quantity(str(value), errors, "quantity") == value
    assert not errors


@FIXTURES
@given(value=st.one_of(st.integers(), st.floats(), st.text(), st.booleans(), st.none()))
def test_the_api_quantity_field_loads_a_decimal_or_refuses(app, value):
    try:
        loaded = QuantityField().deserialize(value)
    except ValidationError:
        return
    assert isinstance(loaded, Decimal) and loaded.is_finite()
    assert not isinstance(value, bool)


# ---------------------------------------------------------------- amounts in đồng, shop links


@SETTINGS
@given(st.one_of(st.text(), near_digits, st.integers(min_value=0), st.booleans(), st.none()))
@example("1" * 5000)  # more digits than int() converts
@example("١٢٣")
def test_an_amount_in_dong_is_read_or_refused_never_an_exception(value):
    amount = parse_vnd(value)
    assert amount is None or (isinstance(amount, int) and not isinstance(amount, bool))
    if isinstance(value, str) and amount is not None:
        assert str(amount) == re.sub(r"[^0-9]", "", value).lstrip("0") or amount == 0


@SETTINGS
@given(
    st.integers(min_value=0, max_value=10**15),
    st.sampled_from([".", ",", " ", ""]),
    st.sampled_from(["", " đ", "VND"]),
)
def test_amounts_written_with_thousands_separators_are_read(amount, separator, suffix):
    grouped = f"{amount:,}".replace(",", separator)
    assert parse_vnd(grouped + suffix) == amount


@SETTINGS
@given(st.text())
def test_shop_links_are_one_per_nonblank_line(text):
    links = parse_shop_links(text)
    assert len(links) == sum(1 for line in text.splitlines() if line.strip())
    for link in links:
        assert link["url"] == link["url"].strip() and "|" not in link["url"]


# ---------------------------------------------------------------- numbers in URLs and queries


@SETTINGS
@given(st.integers(min_value=1, max_value=10**12))
def test_digits_up_to_matches_exactly_the_numbers_up_to_its_bound(bound):
    pattern = re.compile(digits_up_to(bound))
    for number in {0, 1, bound - 1, bound, bound + 1, bound * 10, bound // 10 + 1}:
        if number >= 0:
            assert bool(pattern.fullmatch(str(number))) == (number <= bound), (bound, number)


@SETTINGS
@given(st.integers(min_value=0, max_value=10**11))
def test_an_int_path_segment_matches_from_zero_to_max_id(number):
    assert bool(re.fullmatch(IdConverter.regex, str(number))) == (number <= MAX_ID)


@SETTINGS
@given(anything)
@example("1" * 5000)
@example("²")
@example("-0")
def test_a_query_number_is_an_int_the_database_holds_or_value_error(text):
    try:
        number = query_int(text)
    except ValueError:
        assert not re.fullmatch(r"-?[0-9]{1,10}", text.strip(), re.ASCII) or abs(int(text)) > MAX_ID
        return
    assert -MAX_ID <= number <= MAX_ID and number == int(text.strip())


@FIXTURES
@given(query=st.dictionaries(st.sampled_from(["page", "per_page", "other"]), anything))
def test_pagination_loads_in_range_or_refuses(app, query):
    try:
        loaded = PageQuerySchema().load({k: v for k, v in query.items() if k != "other"})
    except ValidationError as error:
        assert set(error.messages) <= {"page", "per_page"}
        return
    assert 1 <= loaded["page"] <= MAX_PAGE and 1 <= loaded["per_page"] <= 100


@FIXTURES
@given(value=st.one_of(st.integers(), anything, st.floats(), st.booleans()))
def test_an_id_in_a_body_or_query_is_within_the_database_or_refused(app, value):
    try:
        loaded = IdField().deserialize(value)
    except ValidationError:
        return
    assert 1 <= loaded <= MAX_ID


# ---------------------------------------------------------------- uploads

PREFIXES = [b"%PDF-", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"RIFF\x00\x00\x00\x00WEBP", b"GIF89a", b""]


@SETTINGS
@given(st.sampled_from(PREFIXES), st.binary(max_size=2048))
def test_random_bytes_are_sniffed_by_their_first_bytes_only(prefix, rest):
    data = prefix + rest
    kind = sniff(data)
    assert kind in (None, "pdf", "png", "jpeg", "webp")
    if kind is not None:
        assert (
            sniff(data[:12] + bytes(max(0, len(data) - 12))) == kind
        )  # what follows the header never counts


@SETTINGS
@given(prefix=st.sampled_from(PREFIXES), rest=st.binary(max_size=4096))
def test_random_bytes_are_stored_or_refused_with_a_reason(tmp_path_factory, prefix, rest):
    folder = tmp_path_factory.mktemp("uploads")
    for store in (store_image, store_document):
        try:
            store(prefix + rest, folder, max_bytes=3000)
        except UploadRejected as error:
            assert error.reason in {"empty", "too_large", "type", "damaged", "too_many_pixels"}
