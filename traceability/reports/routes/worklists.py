"""The centre staff's work list (``/manage/worklist``)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from traceability.core.dates import vietnam_today
from traceability.http.web import roles_required
from traceability.inspections import queries as inspections
from traceability.public.forms import CloseReportForm
from traceability.public.problem_reports import CLOSING_ROLES, open_reports
from traceability.registry import worklists
from traceability.registry.certifications import certification_state, subject_name, type_label

bp = Blueprint("worklists", __name__, url_prefix="/worklist")


@bp.route("")
@roles_required("centre_admin", "centre_staff", "auditor", "ministry")
def index():
    """What waits for the centre: approvals, verifications, renewals, gaps, nonconformities, consumer reports."""
    today = vietnam_today()
    return render_template(
        "registry/worklists/index.html",
        today=today,
        window_days=worklists.EXPIRY_WINDOW_DAYS,
        pending_producers=worklists.pending_producers(current_user),
        gtin_disputes=worklists.gtin_disputes(current_user),
        certifications_to_verify=worklists.certifications_to_verify(current_user),
        expiring_certifications=worklists.expiring_certifications(current_user, today=today),
        expiring_ocop_products=worklists.expiring_ocop_products(current_user, today=today),
        incomplete_products=worklists.incomplete_products(current_user),
        problem_reports=open_reports(current_user),
        close_report_form=CloseReportForm(),
        can_close_reports=current_user.role in CLOSING_ROLES,
        **inspections.worklist_context(current_user, today=today),
        missing_labels=worklists.MISSING_LABELS,
        certification_type_label=type_label,
        certification_subject=subject_name,
        certification_state=certification_state,
        show_province=current_user.role == "ministry",
    )
