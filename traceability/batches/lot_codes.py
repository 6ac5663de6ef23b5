"""The lot-code rule: one rule and one hint for every lot, with or without a GTIN.

A lot code is printed on labels, typed by people and, for a product with a
GTIN, part of its GS1 Digital Link (AI 10). One rule keeps every lot code fit
for that: 1 to 20 characters of GS1's character set 82 (letters A-Z and a-z
without accents, digits and some signs; no spaces), so a product that gets a
GTIN later keeps its lot codes. The form's hint, the API schema, the service
and the field app's messages all read this module.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from marshmallow import ValidationError, validate

from traceability.gs1 import is_valid_ai_value

MAX_LOT_CODE_LENGTH = 20
#: The hint under every lot-code field.
LOT_CODE_HINT = _l(
    "Up to 20 characters: letters without accents, digits and - . / _ (no spaces), for example LO-2026-001."
)
#: The refusal of a lot code outside the rule.
LOT_CODE_RULE = _l(
    "A lot code has 1 to 20 characters: letters A-Z and a-z without accents, digits and "
    "! \" % & ' ( ) * + , - . / : ; < = > ? _ (no spaces)."
)


def is_valid_lot_code(lot_code: str) -> bool:
    """True when ``lot_code`` follows the lot-code rule (GS1 AI 10: set 82, 1 to 20 characters)."""
    return is_valid_ai_value(lot_code)


def lot_code_error(lot_code: Any) -> Any:
    """The refusal of ``lot_code`` (a translated message), or None when it follows the rule."""
    if not isinstance(lot_code, str) or not lot_code:
        return _l("This field is required.")
    return None if is_valid_lot_code(lot_code) else LOT_CODE_RULE


class LotCode(validate.Validator):
    """The lot-code rule as a marshmallow validator (the API's schemas, and the web forms through them)."""

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str) or not 1 <= len(value) <= MAX_LOT_CODE_LENGTH:
            return value  # the field's Length says what is wrong with the length, once
        error = lot_code_error(value)
        if error is not None:
            raise ValidationError(str(error))
        return value
