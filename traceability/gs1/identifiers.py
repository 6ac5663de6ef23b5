"""GTIN and GLN check digits and the GS1 AI 10/21/22 character rules."""

from __future__ import annotations

import re

# GS1 AI 10 (lot), 21 (serial) and 22 (variant): 1-20 characters of set 82.
AI_VALUE_PATTERN = re.compile(r'^[!"%-?A-Z_a-z]{1,20}$')
GTIN_LENGTHS = (8, 12, 13, 14)


def gtin_check_digit(data_digits: str) -> int:
    """The GS1 check digit (GTIN, GLN, SSCC) for the digits before it (weights 3,1,3,1... from the right)."""
    if not (data_digits.isascii() and data_digits.isdigit()):
        raise ValueError("digits 0-9 only")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(data_digits)))
    return (10 - total % 10) % 10


def _has_valid_check_digit(code: str) -> bool:
    return code.isascii() and code.isdigit() and gtin_check_digit(code[:-1]) == int(code[-1])


def is_valid_gtin(code: str) -> bool:
    """True for a GTIN-8, -12, -13 or -14 whose check digit is right."""
    return len(code) in GTIN_LENGTHS and _has_valid_check_digit(code)


def normalise_gtin(code: str) -> str:
    """The 14-digit form of a valid GTIN; ValueError when it is not one."""
    code = code.strip().replace(" ", "")
    if not is_valid_gtin(code):
        raise ValueError(code)
    return code.zfill(14)


def is_valid_gln(code: str) -> bool:
    """True for a 13-digit GLN whose check digit is right."""
    return len(code) == 13 and _has_valid_check_digit(code)


def is_valid_ai_value(value: str) -> bool:
    """True when ``value`` fits GS1 AI 10, 21 or 22 (set 82, 1-20 characters)."""
    return bool(AI_VALUE_PATTERN.fullmatch(value))
