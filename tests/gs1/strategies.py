"""Hypothesis strategies for GS1 identifiers: valid GTINs and GLNs, set-82 values and their opposites."""

from __future__ import annotations

from datetime import date

from hypothesis import strategies as st

from traceability.gs1 import gtin_check_digit

# GS1 AI encodable character set 82, the only characters AI 10, 21 and 22 take.
SET_82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
TODAY = date(2026, 11, 22)


def with_check_digit(digits: str) -> str:
    return digits + str(gtin_check_digit(digits))


def gtins(lengths: tuple[int, ...] = (8, 12, 13, 14)) -> st.SearchStrategy[str]:
    """Valid GTINs of the given lengths (their check digit computed)."""
    return st.sampled_from(lengths).flatmap(
        lambda length: st.text(alphabet="0123456789", min_size=length - 1, max_size=length - 1).map(
            with_check_digit
        )
    )


def wrong_check_digit(code: str) -> str:
    """``code`` with its last digit changed to any other digit."""
    return code[:-1] + str((int(code[-1]) + 1) % 10)


glns = st.text(alphabet="0123456789", min_size=12, max_size=12).map(with_check_digit)
ai_values = st.text(alphabet=SET_82, min_size=1, max_size=20)
# One character GS1 refuses (a space, a Vietnamese letter, #, @, ~, an emoji...) inside a valid value.
outside_set_82 = st.characters(codec="utf-8").filter(lambda c: c not in SET_82)
invalid_ai_values = st.one_of(
    st.tuples(
        st.text(alphabet=SET_82, max_size=10), outside_set_82, st.text(alphabet=SET_82, max_size=9)
    ).map("".join),
    st.text(alphabet=SET_82, min_size=21, max_size=40),
    st.sampled_from(["LÔ 01", "Lô1", "A B", "A#1", "a@b", "a~b", "x" * 21]),
)
# Dates a YYMMDD can name around TODAY (GS1's window: 49 years back, 50 ahead).
gs1_dates = st.dates(min_value=date(1978, 1, 1), max_value=date(2076, 12, 31))
