"""The backup and restore commands: a round trip that gives back every row and every uploaded file."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import delete, select, text
from sqlalchemy.engine import make_url

from tests.databases import scratch_database
from traceability import create_app
from traceability.accounts.service import create_user, issue_token
from traceability.batches.service import new_public_code
from traceability.core.config import TestConfig
from traceability.demo.loader import DEMO_PASSWORD, MINISTRY_EMAIL
from traceability.models.accounts import User
from traceability.models.batches import Batch, Item
from traceability.models.public import ProblemReport, Scan
from traceability.models.registry import Centre


def table_rows(engine: Any, metadata: Any) -> dict[str, list[tuple]]:
    """Every row of every table of the models, in primary-key order."""
    with engine.connect() as connection:
        return {
            table.name: [
                tuple(row) for row in connection.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in metadata.sorted_tables
        }


def folder_files(folder: Path) -> dict[str, str]:
    """Each file's path under ``folder`` and the SHA-256 of its bytes."""
    if not folder.is_dir():
        return {}
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def restore_target(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A second, empty database of the suite's kind, and an upload folder, to restore into."""
    uploads = tmp_path / "restored-uploads"
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}", uploads
        return
    with scratch_database(database_url, f"{make_url(database_url).database}_restore") as url:
        yield url, uploads


def app_for(url: str, uploads: Path) -> Flask:
    class RestoreConfig(TestConfig):
        DATABASE_URL = url
        UPLOAD_FOLDER = str(uploads)

    return create_app(RestoreConfig)


@pytest.fixture
def demo_data(app, db, runner) -> dict[str, Any]:
    """The demo data (every kind of record, documents and photos) plus an API token."""
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    ministry = db.session.scalar(select(User).where(User.email == MINISTRY_EMAIL))
    issue_token(ministry, name="backup test")
    # Records the demo has none of: a serialised item, a consumer's scan and problem report.
    batch = db.session.scalars(select(Batch).order_by(Batch.id)).first()
    item = Item(batch_id=batch.id, serial="SN0001", public_code=new_public_code())
    db.session.add(item)
    db.session.flush()
    db.session.add(Scan(batch_id=batch.id, item_id=item.id, language="en"))
    db.session.add(ProblemReport(batch_id=batch.id, message="Nắp chai bị hở.", contact="0905 000 111"))
    db.session.commit()
    db.session.close()
    return {
        "rows": table_rows(db.engine, db.metadata),
        "files": folder_files(Path(app.config["UPLOAD_FOLDER"])),
    }


def test_round_trip_gives_back_every_row_of_every_table_and_every_file(
    app, db, runner, demo_data, restore_target, tmp_path
):
    archive = tmp_path / "registry.tar.gz"
    result = runner.invoke(args=["backup", str(archive)])
    assert result.exit_code == 0, result.output
    assert f"Backed up to {archive}" in result.output
    filled = [name for name, rows in demo_data["rows"].items() if rows]
    assert len(filled) >= 15, f"the demo data fills too few tables for a meaningful test: {filled}"
    assert demo_data["files"], "the demo data stored no documents or images"

    target_url, target_uploads = restore_target
    target = app_for(target_url, target_uploads)
    with target.app_context():
        result = target.test_cli_runner().invoke(args=["restore", str(archive)])
        assert result.exit_code == 0, result.output
        assert "Restored from" in result.output
        restored = table_rows(db.engine, db.metadata)
        for table, rows in demo_data["rows"].items():
            assert restored[table] == rows, f"table {table} differs after the restore"
        assert folder_files(target_uploads) == demo_data["files"]

        # The restored registry works: its users sign in, and new records get fresh ids.
        client = target.test_client()
        response = client.post("/api/v1/tokens", json={"email": MINISTRY_EMAIL, "password": DEMO_PASSWORD})
        assert response.status_code == 201, response.get_json()
        newcomer = create_user(email="moi@example.vn", password="mot-mat-khau-moi-2026", role="ministry")
        db.session.commit()
        assert newcomer.id > max(row[0] for row in demo_data["rows"]["user"])
        db.session.remove()
        db.engine.dispose()


def test_restore_refuses_a_database_with_data_unless_forced(app, db, runner, demo_data, tmp_path):
    archive = tmp_path / "before.tar.gz"
    assert runner.invoke(args=["backup", str(archive)]).exit_code == 0
    uploads = Path(app.config["UPLOAD_FOLDER"])
    # Changes after the backup: a new centre, a deleted token, a new file.
    db.session.add(Centre(province_code="01", name="Trung tâm Hà Nội (sau sao lưu)"))
    db.session.execute(delete(db.metadata.tables["api_token"]))
    db.session.commit()
    db.session.close()
    (uploads / "after-backup.txt").write_text("not in the backup")
    changed = table_rows(db.engine, db.metadata)

    result = runner.invoke(args=["restore", str(archive)])
    assert result.exit_code == 1
    assert "already holds data" in result.output and "--force" in result.output
    assert table_rows(db.engine, db.metadata) == changed
    assert (uploads / "after-backup.txt").exists()

    result = runner.invoke(args=["restore", "--force", str(archive)])
    assert result.exit_code == 0, result.output
    assert table_rows(db.engine, db.metadata) == demo_data["rows"]
    assert folder_files(uploads) == demo_data["files"]
    if db.engine.dialect.name == "postgresql":  # the scans restored into their monthly partitions
        with db.engine.connect() as connection:
            partitioned = connection.scalar(
                text(
                    "SELECT count(*) FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
                    "WHERE c.relname = 'scan'"
                )
            )
        assert partitioned == 1


def test_backup_never_overwrites_a_file(app, runner, tmp_path):
    archive = tmp_path / "taken.tar.gz"
    archive.write_bytes(b"an older backup")
    result = runner.invoke(args=["backup", str(archive)])
    assert result.exit_code == 1
    assert "already exists" in result.output
    assert archive.read_bytes() == b"an older backup"


def _archive_with(tmp_path: Path, manifest: dict[str, Any] | None) -> Path:
    path = tmp_path / "crafted.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        if manifest is not None:
            data = json.dumps(manifest).encode()
            entry = tarfile.TarInfo("manifest.json")
            entry.size = len(data)
            tar.addfile(entry, io.BytesIO(data))
    return path


@pytest.mark.parametrize(
    ("contents", "message"),
    [
        (b"PK\x03\x04 a zip file, not a backup", "is not a backup made by the backup command"),
        (None, "has no readable manifest.json"),
        ({"format": "something-else"}, "is not a backup of this app"),
        ({"format": "traceability-backup", "format_version": 99, "database": "sqlite"}, "format 99"),
    ],
)
def test_restore_refuses_what_is_not_a_backup(app, db, runner, tmp_path, contents, message):
    if isinstance(contents, bytes):
        path = tmp_path / "not-a-backup.tar.gz"
        path.write_bytes(contents)
    else:
        path = _archive_with(tmp_path, contents)
    result = runner.invoke(args=["restore", "--force", str(path)])
    assert result.exit_code == 1
    assert message in result.output


def test_restore_refuses_a_backup_of_the_other_database_kind(app, db, runner, tmp_path):
    other = "postgresql" if db.engine.dialect.name == "sqlite" else "sqlite"
    manifest = {"format": "traceability-backup", "format_version": 1, "database": other, "tables": {}}
    result = runner.invoke(args=["restore", "--force", str(_archive_with(tmp_path, manifest))])
    assert result.exit_code == 1
    assert f"is of a {other} database and cannot be restored into {db.engine.dialect.name}" in result.output


def test_without_the_postgresql_tools_the_error_says_what_to_install(app, db, runner, tmp_path, monkeypatch):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite backups need no external tool")
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump there
    result = runner.invoke(args=["backup", str(tmp_path / "b.tar.gz")])
    assert result.exit_code == 1
    assert "pg_dump was not found on PATH" in result.output
    assert "postgresql-client" in result.output
    assert not (tmp_path / "b.tar.gz").exists()
