"""API: the chain spreadsheet of a batch, as CSV and XLSX."""

from __future__ import annotations

from flask_babel import get_locale

from traceability.accounts.scope import get_scoped_or_404
from traceability.api.spec import operation
from traceability.batches.chain_export import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, chain_response
from traceability.models.batches import Batch


@operation(
    "/batches/<int:batch_id>/chain.csv",
    "GET",
    summary="The whole chain (upstream and downstream) as a CSV spreadsheet, one row per event "
    "(FSMA 204 key data elements; header in the Accept-Language, Vietnamese by default)",
    tag="batches",
    media_type=CSV_MEDIA_TYPE,
    errors=(404,),
)
def batch_chain_csv(batch_id: int):
    return chain_response(get_scoped_or_404(Batch, batch_id), "csv", get_locale())


@operation(
    "/batches/<int:batch_id>/chain.xlsx",
    "GET",
    summary="The whole chain (upstream and downstream) as an XLSX sheet, one row per event, "
    "with filters on every column",
    tag="batches",
    media_type=XLSX_MEDIA_TYPE,
    errors=(404,),
)
def batch_chain_xlsx(batch_id: int):
    return chain_response(get_scoped_or_404(Batch, batch_id), "xlsx", get_locale())
