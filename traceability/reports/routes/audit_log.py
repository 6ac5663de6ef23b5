"""The audit browser, under ``/manage/audit``.

Centre staff and auditors read their province's log, the ministry all of it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, render_template, request

from traceability.accounts.scope import get_scoped_or_404, producer_filter_choices
from traceability.core.dates import VIETNAM_OFFSET
from traceability.core.extensions import db
from traceability.http.converters import query_int
from traceability.http.web import roles_required
from traceability.models.audit import AuditEntry
from traceability.reports import audit_log as browse
from traceability.reports.audit_log_forms import AuditFilterForm

bp = Blueprint("audit_log", __name__, url_prefix="/audit")

PER_PAGE = 50
READERS = ("ministry", "centre_admin", "centre_staff", "auditor")


@bp.context_processor
def audit_helpers() -> dict[str, Any]:
    """Labels of actions and record types, and times shown in Vietnam's offset."""
    return {
        "action_label": browse.action_label,
        "object_type_label": browse.object_type_label,
        "audit_time": lambda moment: moment.astimezone(VIETNAM_OFFSET),
    }


def _query_args(filters: dict[str, Any]) -> dict[str, str]:
    return {
        name: value.isoformat() if isinstance(value, date) else str(value) for name, value in filters.items()
    }


@bp.route("")
@roles_required(*READERS)
def index():
    """The audit log of the user's province (all of it for the ministry), filtered and paginated."""
    form = AuditFilterForm(formdata=request.args)
    form.producer_id.choices = producer_filter_choices()
    form.chain.choices = browse.chain_choices()
    filters = form.filters()
    page = db.paginate(
        browse.audit_entries(filters),
        page=request.args.get("page", 1, type=query_int),
        per_page=PER_PAGE,
        error_out=False,
    )
    return render_template(
        "audit/log_list.html",
        page=page,
        form=form,
        filters=_query_args(filters),
        names=browse.names_for(list(page.items)),
    )


@bp.route("/<int:entry_id>")
@roles_required(*READERS)
def detail(entry_id: int):
    """One entry: who, tenant, when, the object, the request, the before/after diff, its chain and hash."""
    entry = get_scoped_or_404(AuditEntry, entry_id)
    return render_template(
        "audit/log_entry.html",
        entry=entry,
        names=browse.names_for([entry]),
        changes=browse.diff(entry),
        hash_matches=browse.hash_matches(entry),
        previous=browse.previous_in_chain(entry),
    )
