"""Configuration from the environment."""

import os
import subprocess
import sys

import pytest

from traceability import create_app
from traceability.core.config import PROJECT_ROOT, Config


def test_production_refuses_to_start_without_a_real_secret_key():
    class Production(Config):
        ENV_NAME = "production"
        SECRET_KEY = "dev-only-insecure-secret"

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(Production)

    class ShortSecret(Production):
        SECRET_KEY = "short"

    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ShortSecret)


def test_production_starts_with_a_long_secret(tmp_path):
    class Production(Config):
        ENV_NAME = "production"
        SECRET_KEY = "x" * 48
        DATABASE_URL = f"sqlite:///{tmp_path / 'prod.sqlite3'}"

    app = create_app(Production)
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_postgres_urls_use_psycopg_3(monkeypatch, tmp_path):
    from traceability.core.config import _database_url

    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/trace")
    assert _database_url(tmp_path) == "postgresql+psycopg://u:p@db/trace"
    monkeypatch.delenv("DATABASE_URL")
    assert _database_url(tmp_path) == f"sqlite:///{tmp_path / 'traceability.sqlite3'}"


def test_public_base_url_comes_from_the_environment_without_a_trailing_slash():
    # Config reads the environment when it is imported: a fresh interpreter, as a server starts.
    environment = {**os.environ, "PUBLIC_BASE_URL": "https://truyxuat.example.vn/"}
    printed = subprocess.run(
        [sys.executable, "-c", "from traceability.core.config import Config; print(Config.PUBLIC_BASE_URL)"],
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_ROOT,
    ).stdout.strip()
    assert printed == "https://truyxuat.example.vn"  # so a printed code never reads "vn//01/..."
