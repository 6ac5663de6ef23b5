"""Producers' sign-up, profiles and the centre's approval decisions."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("producers", __name__)
