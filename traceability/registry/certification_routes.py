"""Certifications: upload, verification by the centre, documents."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("certifications", __name__)
