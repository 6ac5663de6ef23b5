"""Imports every model so the metadata (and Alembic) sees the whole schema."""

from traceability.http.rate_limits import RateLimitCounter
from traceability.models.accounts import ApiToken, User, UserSession
from traceability.models.audit import AuditCheckpoint, AuditEntry, AuditHead
from traceability.models.batches import Batch, BatchInput, Item, LabelJob, Recall, RecallBatch, TraceEvent
from traceability.models.epcis import EpcisCaptureJob, EpcisQueryEvent, EpcisQueryValue
from traceability.models.idempotency import IdempotentRequest
from traceability.models.inspections import Inspection, InspectionCheck, InspectionFollowUp, InspectionPhoto
from traceability.models.notifications import Notification, NotificationPreference
from traceability.models.public import (
    ProblemReport,
    ProblemReportReply,
    Scan,
    ScanDaily,
    ScanDailyCentre,
    ScanDailyProduct,
    ScanMonthlyProduct,
)
from traceability.models.registry import (
    Centre,
    Certification,
    GtinDispute,
    Location,
    Producer,
    Product,
    ProductImage,
)
from traceability.models.reports import CentreContract, ScienceTask, TechnologyProcess

__all__ = [
    "ApiToken",
    "AuditCheckpoint",
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
    "IdempotentRequest",
    "Inspection",
    "InspectionCheck",
    "InspectionFollowUp",
    "InspectionPhoto",
    "Item",
    "LabelJob",
    "Location",
    "Notification",
    "NotificationPreference",
    "ProblemReport",
    "ProblemReportReply",
    "Producer",
    "Product",
    "ProductImage",
    "RateLimitCounter",
    "Recall",
    "RecallBatch",
    "Scan",
    "ScanDaily",
    "ScanDailyCentre",
    "ScanDailyProduct",
    "ScanMonthlyProduct",
    "ScienceTask",
    "TechnologyProcess",
    "TraceEvent",
    "User",
    "UserSession",
]
