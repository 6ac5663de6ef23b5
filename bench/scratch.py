"""A scratch schema on a PostgreSQL server, for the benchmarks that need one.

``bench/audit.py``, ``bench/scans.py`` and ``bench/scan_rows.py`` each run
the app on a schema of their own in the database they are given (created,
migrated as ``flask db upgrade`` does, dropped afterwards), so a benchmark
never touches the tables of a database that holds data.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


def postgresql_url(given: str | None) -> str | None:
    """The PostgreSQL URL to use (``given``, else ``BENCH_DATABASE_URL``, ``TEST_DATABASE_URL``) for psycopg."""
    url = given or os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not url or not url.startswith(("postgres://", "postgresql")):
        return None
    return url.replace("postgres://", "postgresql://", 1).replace("postgresql://", "postgresql+psycopg://", 1)


def make_app(url: str, uploads: str) -> Any:
    """The app on ``url``, with no page cache and its uploads in ``uploads``."""
    from traceability import create_app
    from traceability.core.config import Config

    class BenchConfig(Config):
        DATABASE_URL = url
        SECRET_KEY = "bench-only"
        PAGE_CACHE_URL = "null"
        UPLOAD_FOLDER = uploads

    return create_app(BenchConfig)


@contextmanager
def scratch_app(url: str, name: str) -> Iterator[Any]:
    """The app, in its context, on a new migrated schema ``bench_{name}_{pid}`` of ``url``; dropped after."""
    schema = f"bench_{name}_{os.getpid()}"
    admin = create_engine(url)
    with admin.begin() as connection:
        version = connection.scalar(text("SHOW server_version"))
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    scoped = make_url(url).update_query_dict({"options": f"-c search_path={schema}"})
    try:
        from flask_migrate import upgrade

        from traceability.core.extensions import db

        with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as uploads:
            app = make_app(scoped.render_as_string(hide_password=False), uploads)
            with app.app_context():
                print(f"bench/{name}.py: PostgreSQL {version}, scratch schema {schema}", flush=True)
                upgrade()  # the schema as `flask db upgrade` makes it
                try:
                    yield app
                finally:
                    db.session.remove()
                    db.engine.dispose()
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
