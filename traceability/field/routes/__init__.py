"""The field app's web views under /field: the app shell, its manifest and service worker, and its JSON."""

from flask import Blueprint

bp = Blueprint("field", __name__, url_prefix="/field")

# Each module declares its views on import.
from traceability.field.routes import shell, sync  # noqa: F401
