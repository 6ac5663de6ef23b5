"""Fixtures of the inspection tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def english(client):
    """Pages and API messages in English, so the tests read what a user reads."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"


@pytest.fixture
def photos_folder(app) -> Path:
    return Path(app.config["UPLOAD_FOLDER"]) / "inspections"
