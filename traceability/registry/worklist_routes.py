"""The centre staff's work lists."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("worklists", __name__)
