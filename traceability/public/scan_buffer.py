"""Scans written in batches behind the response, none lost on a graceful shutdown.

Counting a scan must not slow the consumer page, the hottest path of the
service. ``ScanBuffer.add`` only appends a row to an in-memory queue; a
background thread writes the queue in one statement every ``interval``
seconds, or sooner when ``batch_size`` rows are waiting: a COPY on
PostgreSQL (a fraction of the server's and the driver's work of a multi-row
INSERT, which on the 2-core bench machine shares the cores with the pages),
a multi-row INSERT on SQLite. The
thread uses its own connection from the engine's pool, so a slow insert
never holds a request. That engine is the primary's (``db.engine``), also
when the public pages read from a replica (``traceability.core.replica``).

On a graceful shutdown (gunicorn's SIGTERM, Ctrl-C, the interpreter exiting)
``close`` stops the thread and writes what is left: gunicorn's ``worker_exit``
hook (``gunicorn.conf.py``) and ``atexit`` both call it, and calling it twice
is harmless. What a SIGKILL interrupts is lost, at most ``interval`` seconds
of scans of that one worker; the scans are analytics, the registry's records
never go through this buffer.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

from flask import Flask
from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError

from traceability.core.dates import utcnow
from traceability.models.public import Scan
from traceability.public.scan_rollups import add_to_daily_counts

log = logging.getLogger(__name__)

COPY_COLUMNS = ("batch_id", "item_id", "scanned_at", "language", "device_class")


def init_app(app: Flask) -> None:
    """Give the app its buffer, ``app.extensions["scan_buffer"]`` (one per worker process)."""
    from traceability.core.extensions import db

    with app.app_context():
        engine = db.engine
    app.extensions["scan_buffer"] = ScanBuffer(engine, interval=float(app.config["SCAN_WRITE_INTERVAL"]))


class ScanBuffer:
    """A queue of scan rows and the thread that writes them."""

    def __init__(
        self, engine: Engine, *, interval: float = 0.5, batch_size: int = 500, max_pending: int = 100_000
    ) -> None:
        self.engine = engine
        self.interval = interval
        self.batch_size = batch_size
        self.max_pending = max_pending  # while the database is away: memory stays bounded
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()
        self.written = 0  # rows inserted by this process, for tests and the health page
        atexit.register(self.close)

    def add(self, row: Mapping[str, Any]) -> None:
        """Queue one scan (the columns of ``Scan``); it is written within ``interval`` seconds."""
        self._ensure_thread()
        with self._lock:
            self._rows.append(dict(row))
            full = len(self._rows) >= self.batch_size
            dropped = len(self._rows) - self.max_pending
            if dropped > 0:
                del self._rows[:dropped]
        if dropped > 0:
            log.error("scan buffer full: %d oldest scans dropped", dropped)
        if self._closed:  # shutting down: nobody will come back for it
            self.flush()
        elif full:
            self._wake.set()

    def pending(self) -> int:
        with self._lock:
            return len(self._rows)

    def flush(self) -> int:
        """Write every queued scan now; the number written."""
        with self._lock:
            rows, self._rows = self._rows, []
        if not rows:
            return 0
        try:
            self.insert_rows(rows)
        except IntegrityError:
            # A row whose batch or item was deleted meanwhile (retention) would fail
            # every retry: write the others one by one and drop that one.
            written = self._write_one_by_one(rows)
        except Exception:
            # Keep them for the next attempt (a restarting database); never raise into the caller.
            log.exception("could not write %d scans; will retry", len(rows))
            with self._lock:
                self._rows[:0] = rows
            return 0
        else:
            written = len(rows)
        self.written += written
        return written

    def insert_rows(self, rows: list[dict[str, Any]]) -> None:
        """Insert the rows in one transaction; IntegrityError when one names a batch or item gone."""
        with self.engine.begin() as connection:
            add_to_daily_counts(connection, rows)  # the dashboards' daily counts, in the same transaction
            if connection.dialect.name != "postgresql":
                connection.execute(insert(Scan), rows)
                return
            dbapi, driver_connection = connection.dialect.dbapi, connection.connection.driver_connection
            assert dbapi is not None and driver_connection is not None  # psycopg, connected
            cursor = driver_connection.cursor()
            try:
                with cursor.copy(f"COPY scan ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(
                            (
                                row["batch_id"],
                                row.get("item_id"),
                                row.get("scanned_at") or utcnow(),
                                row.get("language") or "vi",
                                row.get("device_class") or "other",
                            )
                        )
            except dbapi.IntegrityError as error:  # the driver's own, outside SQLAlchemy's wrapping
                raise IntegrityError("COPY scan", None, error) from error
            finally:
                cursor.close()

    def _write_one_by_one(self, rows: list[dict[str, Any]]) -> int:
        written = 0
        for index, row in enumerate(rows):
            try:
                self.insert_rows([row])
            except IntegrityError:
                log.warning(
                    "scan of batch %s dropped: its batch or item no longer exists", row.get("batch_id")
                )
            except Exception:
                log.exception("could not write %d scans; will retry", len(rows) - index)
                with self._lock:
                    self._rows[:0] = rows[index:]
                break
            else:
                written += 1
        return written

    def close(self) -> None:
        """Stop the writer thread and write what is left (graceful shutdown)."""
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        thread = self._thread
        if thread is not None and thread.is_alive() and thread is not threading.current_thread():
            thread.join(timeout=10)
        for _attempt in range(3):
            self.flush()
            if not self.pending():
                break
        if self.pending():
            log.error("%d scans could not be written at shutdown", self.pending())

    def _ensure_thread(self) -> None:
        # A forked worker (gunicorn --preload) inherits the object but not the thread.
        if self._pid != os.getpid():
            self._pid, self._thread, self._closed = os.getpid(), None, False
            self._lock = threading.Lock()
            self._wake = threading.Event()
            atexit.register(self.close)
        if self._thread is not None and self._thread.is_alive():
            return
        if self._closed:
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="scan-writer", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self.interval)
            self._wake.clear()
            self.flush()
