"""Imports every model so the metadata (and Alembic) sees the whole schema."""

from traceability.accounts.models import ApiToken, User, UserSession
from traceability.audit.models import AuditEntry, AuditHead
from traceability.batches.epcis_models import EpcisCaptureJob, EpcisQueryEvent, EpcisQueryValue
from traceability.batches.models import Batch, BatchInput, Item, LabelJob, Recall, RecallBatch, TraceEvent
from traceability.inspections.models import Inspection, InspectionCheck, InspectionFollowUp, InspectionPhoto
from traceability.public.models import Report, Scan
from traceability.rate_limits import RateLimitCounter
from traceability.registry.models import (
    Centre,
    Certification,
    GtinDispute,
    Location,
    Producer,
    Product,
    ProductImage,
)
from traceability.reports.models import CentreContract, ScienceTask, TechnologyProcess

__all__ = [
    "ApiToken",
    "AuditEntry",
    "AuditHead",
    "Batch",
    "BatchInput",
    "Centre",
    "CentreContract",
    "Certification",
    "EpcisCaptureJob",
    "EpcisQueryEvent",
    "EpcisQueryValue",
    "GtinDispute",
    "Inspection",
    "InspectionCheck",
    "InspectionFollowUp",
    "InspectionPhoto",
    "Item",
    "LabelJob",
    "Location",
    "Producer",
    "Product",
    "ProductImage",
    "RateLimitCounter",
    "Recall",
    "RecallBatch",
    "Report",
    "Scan",
    "ScienceTask",
    "TechnologyProcess",
    "TraceEvent",
    "User",
    "UserSession",
]
