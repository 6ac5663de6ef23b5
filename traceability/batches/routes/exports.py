"""The chain spreadsheet downloads of the batch pages (``/manage/batches/{id}/chain.csv``, ``.xlsx``)."""

from __future__ import annotations

from flask import Blueprint
from flask_babel import get_locale
from flask_login import login_required

from traceability.accounts.scope import get_scoped_or_404
from traceability.batches.chain_export import chain_response
from traceability.models.batches import Batch

bp = Blueprint("exports", __name__, url_prefix="/batches/<int:batch_id>")


@bp.route("/chain.csv")
@login_required
def chain_csv(batch_id: int):
    """The batch's whole chain as a CSV download."""
    return chain_response(get_scoped_or_404(Batch, batch_id), "csv", get_locale())


@bp.route("/chain.xlsx")
@login_required
def chain_xlsx(batch_id: int):
    """The batch's whole chain as an XLSX download."""
    return chain_response(get_scoped_or_404(Batch, batch_id), "xlsx", get_locale())
