"""Checks shared by the registry's services."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l

from traceability.core.provinces import PROVINCES


def require(data: dict[str, Any], errors: dict[str, Any], *names: str) -> None:
    """Note each of ``names`` that is missing or blank in ``data``."""
    for name in names:
        value = data.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors[name] = _l("This field is required.")


def check_province(code: Any, errors: dict[str, Any], field: str = "province_code") -> None:
    """Note an unknown province statistics code."""
    if code is not None and code not in PROVINCES:
        errors[field] = _l("Unknown province code.")


def text(data: dict[str, Any], name: str) -> str:
    """A text field stripped, empty when missing."""
    return (data.get(name) or "").strip()


def optional_text(data: dict[str, Any], name: str) -> str | None:
    """A text field stripped, None when missing or blank."""
    return text(data, name) or None
