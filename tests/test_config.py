"""Configuration from the environment."""

import pytest

from traceability import create_app
from traceability.config import Config, TestConfig


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
    from traceability.config import _database_url

    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db/trace")
    assert _database_url(tmp_path) == "postgresql+psycopg://u:p@db/trace"
    monkeypatch.delenv("DATABASE_URL")
    assert _database_url(tmp_path) == f"sqlite:///{tmp_path / 'traceability.sqlite3'}"


def test_public_base_url_is_what_qr_codes_print(app):
    assert app.config["PUBLIC_BASE_URL"] == TestConfig.PUBLIC_BASE_URL
