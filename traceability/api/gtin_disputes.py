"""API: GTIN disputes, a producer's claim to a GTIN another producer's product holds, and the centre's decision."""

from __future__ import annotations

from typing import Any

from flask_login import current_user
from marshmallow import Schema, fields

from traceability.accounts.scope import get_scoped_or_404
from traceability.api.schemas import PageQuerySchema
from traceability.api.spec import operation, paginate
from traceability.api.validators import OneOf
from traceability.models.registry import GTIN_DISPUTE_STATUSES, GtinDispute
from traceability.registry import gtin_disputes as service
from traceability.registry.contracts import DecideSchema, GtinDisputeInSchema


class GtinDisputeSchema(Schema):
    id = fields.Integer()
    gtin = fields.String()
    status = fields.String()
    outcome = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    claimant_producer_id = fields.Integer()
    claimant_product_id = fields.Integer()
    holder_producer_id = fields.Integer()
    holder_product_id = fields.Integer()
    gs1_membership_no = fields.String(allow_none=True)
    gs1_company_prefix = fields.String(allow_none=True)
    note = fields.String()
    has_document = fields.Function(
        lambda dispute: dispute.document_filename is not None, metadata={"type": "boolean"}
    )
    document_sha256 = fields.String(allow_none=True)
    decided_by_id = fields.Integer(allow_none=True)
    decided_at = fields.AwareDateTime(allow_none=True)
    created_at = fields.AwareDateTime()


class GtinDisputeQuerySchema(PageQuerySchema):
    status = fields.String(validate=OneOf(GTIN_DISPUTE_STATUSES))


@operation(
    "/gtin-disputes",
    "POST",
    summary="Claim a GTIN another producer's product holds, with GS1 Vietnam evidence; the centre decides",
    tag="registry",
    body=GtinDisputeInSchema,
    response=GtinDisputeSchema,
    status=201,
    errors=(403, 409, 422),
)
def gtin_disputes_create(data: dict[str, Any]):
    return service.open_dispute(data, actor=current_user)


@operation(
    "/gtin-disputes",
    "GET",
    summary="GTIN disputes the caller may see: a producer its own, a centre its province's",
    tag="registry",
    query=GtinDisputeQuerySchema,
    response=GtinDisputeSchema,
    paginated=True,
    errors=(422,),
)
def gtin_disputes_list(args: dict[str, Any]):
    return paginate(service.visible_disputes(current_user, status=args.get("status")), args)


@operation(
    "/gtin-disputes/<int:dispute_id>",
    "GET",
    summary="A GTIN dispute, its evidence and the centre's decision",
    tag="registry",
    response=GtinDisputeSchema,
    errors=(404,),
)
def gtin_disputes_get(dispute_id: int):
    return get_scoped_or_404(GtinDispute, dispute_id)


@operation(
    "/gtin-disputes/<int:dispute_id>/decide",
    "POST",
    summary="Either producer's centre decides who holds the GTIN (`claimant` moves it), with a reason",
    tag="registry",
    body=DecideSchema,
    response=GtinDisputeSchema,
    errors=(403, 404, 409, 422),
)
def gtin_disputes_decide(data: dict[str, Any], dispute_id: int):
    dispute = get_scoped_or_404(GtinDispute, dispute_id)
    return service.decide_dispute(dispute, data["outcome"], data["reason"], actor=current_user)
