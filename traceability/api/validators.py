"""Marshmallow validators whose messages are translated at validation time.

They are defined once, with the input contracts, in ``traceability.core.contracts``:
the web forms word their refusals the same way.
"""

from __future__ import annotations

from traceability.core.contracts import Length, OneOf, Range

__all__ = ["Length", "OneOf", "Range"]
