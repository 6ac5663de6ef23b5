"""The centres' data quality page: suspicious records to look at."""

from __future__ import annotations

from flask import Blueprint, render_template

from traceability.batches.quality import quality_report
from traceability.http.web import roles_required

bp = Blueprint("quality", __name__, url_prefix="/quality")

SHOWN_PER_CHECK = 100


@bp.route("")
@roles_required("centre_admin", "centre_staff", "auditor", "ministry")
def index():
    """Each data quality warning with its count and the batches concerned."""
    checks = quality_report()
    return render_template("batches/quality.html", checks=checks, shown=SHOWN_PER_CHECK)
