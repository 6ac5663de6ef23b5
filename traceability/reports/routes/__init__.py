"""The reports' web views under ``/manage``, each area a blueprint of its own under this one.

``dashboard`` (the centre's and the ministry's charts), ``scans`` (scan
analytics), ``yearly`` (the yearly report and the national roll-up),
``centre_work`` (the records behind the yearly report), ``worklists`` (what
waits for the centre) and ``audit_log`` (the audit browser).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint

from traceability.core.vocabulary import label
from traceability.reports.routes import audit_log, centre_work, dashboard, scans, worklists, yearly
from traceability.reports.yearly import CONTRACT_KIND_LABELS, TASK_LEVEL_LABELS, TASK_STATUS_LABELS

bp = Blueprint("reports", __name__, url_prefix="/manage")
bp.register_blueprint(dashboard.bp)
bp.register_blueprint(scans.bp)
bp.register_blueprint(yearly.bp)
bp.register_blueprint(centre_work.bp)
bp.register_blueprint(worklists.bp)
bp.register_blueprint(audit_log.bp)


@bp.context_processor
def _labels() -> dict[str, Any]:
    """The labels of the centre's records, on their pages and in the yearly report."""
    return {
        "contract_kind_label": lambda code: label(CONTRACT_KIND_LABELS, code),
        "task_level_label": lambda code: label(TASK_LEVEL_LABELS, code),
        "task_status_label": lambda code: label(TASK_STATUS_LABELS, code),
    }
