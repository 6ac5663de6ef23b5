"""Scratch PostgreSQL databases beside the suite's own, for tests that need an empty one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url


@contextmanager
def scratch_database(url: str, name: str) -> Iterator[str]:
    """A new, empty database ``name`` on the server of ``url``; its URL, and it is dropped after.

    One left over from an interrupted run is dropped first. ``url``'s role
    needs the right to create databases.
    """
    server = make_url(url)
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
