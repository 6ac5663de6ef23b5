"""Imports every model so the metadata (and Alembic) sees the whole schema."""

from traceability.accounts.models import ApiToken, User
from traceability.audit.models import AuditEntry
from traceability.batches.models import Batch, BatchInput, Item, Recall, RecallBatch, TraceEvent
from traceability.public.models import Report, Scan
from traceability.registry.models import Centre, Certification, Location, Producer, Product, ProductImage

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Batch",
    "BatchInput",
    "Centre",
    "Certification",
    "Item",
    "Location",
    "Producer",
    "Product",
    "ProductImage",
    "Recall",
    "RecallBatch",
    "Report",
    "Scan",
    "TraceEvent",
    "User",
]
