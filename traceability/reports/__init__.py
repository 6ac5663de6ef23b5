"""Dashboards for centres and the ministry, and the centres' yearly report with its records.

The web views are in ``routes``: one blueprint per area under ``reports``.
"""
