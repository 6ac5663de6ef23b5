"""A short run of bench/faults.py: gunicorn under load loses a worker to SIGKILL, then gets SIGTERM.

The bench seeds its own database (a SQLite file; on the PostgreSQL pass a
scratch database created next to TEST_DATABASE_URL's and dropped after),
starts real gunicorn processes and drives them over HTTP on 127.0.0.1. Its
checks are the test's: every acknowledged write stored with its audit entry,
scans lost only from the killed worker's memory, failures only in flight at
the kill or the SIGTERM, requests answered after the kill and after a restart,
the database's integrity, the mass balance and the audit chain. The full run
(30 s of load, three workers) is by hand: ``.venv/bin/python bench/faults.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import database_kind
from tests.databases import scratch_database

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def scratch_database_url(database_url: str) -> Iterator[str | None]:
    """None on SQLite (the bench makes its own file); on PostgreSQL a fresh database, dropped after."""
    if database_kind() != "postgresql":
        yield None
        return
    with scratch_database(database_url, f"faults_{uuid.uuid4().hex[:12]}") as url:
        yield url


def test_a_killed_worker_and_a_shutdown_lose_nothing_acknowledged(scratch_database_url, tmp_path):
    report_path = tmp_path / "faults.json"
    command = [
        sys.executable,
        str(ROOT / "bench" / "faults.py"),
        "--seconds=6",
        "--workers=2",
        "--clients=6",
        "--batches=6",
        f"--json={report_path}",
    ]
    if scratch_database_url:
        command.append(f"--database-url={scratch_database_url}")
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    result = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=600, check=False
    )
    assert report_path.exists(), result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(report_path.read_text())

    failed_checks = [name for name, passed in report["checks"].items() if not passed]
    assert not failed_checks, result.stdout[-3000:]
    assert result.returncode == 0
    # What a person would notice, spelled out: nothing acknowledged went missing.
    writes = report["writes"]
    assert writes["event_acknowledged"] > 0 and writes["event_missing"] == 0
    assert writes["serials_missing"] == 0 and writes["batch_missing"] == 0
    assert report["scans"]["served"] > 0
    assert report["scans"]["missing"] <= report["scans"]["loss_bound"]
    assert report["audit_verify"]["status"] == 0
    assert report["requests_after_restart"] == 30 and "after the restart" not in report["failed"]
