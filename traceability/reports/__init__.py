"""Dashboards for centres and the ministry, and the centres' yearly report with its records.

The blueprint's views live in ``routes`` (dashboards, reports) and
``work_routes`` (the centre's contracts, processes and S&T tasks).
"""

from flask import Blueprint

bp = Blueprint("reports", __name__)
