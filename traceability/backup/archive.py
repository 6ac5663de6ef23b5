"""Consistent backups of the database and the uploaded files, and their restore.

A backup is one gzip-compressed tar archive (name it ``.tar.gz``) holding:

- ``manifest.json``: the archive format, when it was made, the database kind,
  its Alembic revision and the row count of every table;
- ``database.sqlite3`` (SQLite: a copy made with SQLite's online backup API,
  consistent while the app keeps writing) or ``database.pgdump``
  (PostgreSQL: ``pg_dump -Fc`` of one snapshot, the one the row counts were
  taken in);
- ``uploads/``: every file of the upload folder (documents, images), copied
  after the database, so every file the database names is there.

Restoring refuses a database that holds data, or an upload folder with
files, unless ``force``; it then replaces both, and checks the row counts
against the manifest. Stop the app while restoring.

No Flask here: the commands in ``traceability/cli.py`` pass the engine and the folder.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine, func, select, text
from sqlalchemy.engine import URL, Connection

FORMAT = "traceability-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
UPLOADS = "uploads"


class BackupError(Exception):
    """A backup or restore that cannot be done; the message says why and what to do."""


def backup(engine: Engine, upload_folder: Path, archive: Path) -> dict[str, Any]:
    """Write the database and the upload folder to ``archive``; return the manifest."""
    archive = Path(archive)
    if archive.exists():
        raise BackupError(f"{archive} already exists: choose a new file name.")
    if not archive.parent.is_dir():
        raise BackupError(f"The folder {archive.parent} does not exist.")
    with tempfile.TemporaryDirectory(prefix="traceability-backup-") as work:
        work_dir = Path(work)
        if engine.dialect.name == "sqlite":
            member = SQLITE_MEMBER
            counts = _backup_sqlite(engine, work_dir / member)
        elif engine.dialect.name == "postgresql":
            member = PG_MEMBER
            counts = _backup_postgresql(engine, work_dir / member)
        else:
            raise BackupError(f"Backups of {engine.dialect.name} databases are not supported.")
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": engine.dialect.name,
            "alembic_revision": counts.pop("alembic_version", None),
            "tables": counts,
        }
        # Written beside the target and renamed: a failed backup leaves no half archive.
        partial = archive.with_name(f".{archive.name}.partial")
        try:
            with tarfile.open(partial, "w:gz") as tar:
                tar.add(work_dir / member, arcname=member)
                manifest["uploads"] = _add_folder(tar, Path(upload_folder), UPLOADS)
                (work_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
                tar.add(work_dir / MANIFEST, arcname=MANIFEST)
            partial.replace(archive)
        finally:
            partial.unlink(missing_ok=True)
    return manifest


def _add_folder(tar: tarfile.TarFile, folder: Path, arcname: str) -> int:
    """Add ``folder`` (or an empty folder when there is none) as ``arcname``; return its file count."""
    if not folder.is_dir():
        entry = tarfile.TarInfo(arcname)
        entry.type, entry.mode, entry.mtime = tarfile.DIRTYPE, 0o755, int(time.time())
        tar.addfile(entry)
        return 0
    files = 0

    def count(entry: tarfile.TarInfo) -> tarfile.TarInfo:
        nonlocal files
        files += entry.isfile()
        return entry

    tar.add(folder, arcname=arcname, filter=count)
    return files


def restore(engine: Engine, upload_folder: Path, archive: Path, *, force: bool = False) -> dict[str, Any]:
    """Replace the database and the upload folder with ``archive``'s; return its manifest."""
    archive, upload_folder = Path(archive), Path(upload_folder)
    if not archive.is_file():
        raise BackupError(f"{archive} is not a file.")
    try:
        tar = tarfile.open(archive, "r:gz")  # noqa: SIM115 - closed by the with below
    except (tarfile.TarError, OSError) as error:
        raise BackupError(f"{archive} is not a backup made by the backup command ({error}).") from error
    with tar, tempfile.TemporaryDirectory(prefix="traceability-restore-") as work:
        work_dir = Path(work)
        manifest = _read_manifest(tar, archive)
        if manifest["database"] != engine.dialect.name:
            raise BackupError(
                f"This backup is of a {manifest['database']} database and cannot be restored into "
                f"{engine.dialect.name}."
            )
        if not force:
            _refuse_if_not_empty(engine, upload_folder)
        try:
            # "data" refuses absolute paths, links out of the folder and device files.
            tar.extractall(work_dir, filter="data")
        except (tarfile.TarError, OSError) as error:
            raise BackupError(f"{archive} could not be read ({error}).") from error
        if engine.dialect.name == "sqlite":
            _restore_sqlite(engine, work_dir / SQLITE_MEMBER)
        else:
            _restore_postgresql(engine, work_dir / PG_MEMBER)
        _check_counts(engine, manifest["tables"])
        _replace_folder(work_dir / UPLOADS, upload_folder)
    return manifest


def _read_manifest(tar: tarfile.TarFile, archive: Path) -> dict[str, Any]:
    try:
        member = tar.extractfile(MANIFEST)
        manifest = json.loads(member.read()) if member else None
    except (KeyError, tarfile.TarError, ValueError) as error:
        raise BackupError(f"{archive} has no readable {MANIFEST}: it is not a backup of this app.") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive} is not a backup of this app.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise BackupError(
            f"{archive} is a backup of format {manifest.get('format_version')}; this version reads {FORMAT_VERSION}."
        )
    return manifest


def _row_counts(connection: Connection) -> dict[str, Any]:
    """Rows per table (and the Alembic revision, under "alembic_version") as ``connection`` sees them."""
    metadata = MetaData()
    metadata.reflect(connection)
    counts: dict[str, Any] = {}
    for name, table in sorted(metadata.tables.items()):
        if name == "alembic_version":
            counts[name] = connection.scalar(select(table.c.version_num))
        else:
            counts[name] = connection.scalar(select(func.count()).select_from(table))
    return counts


def _refuse_if_not_empty(engine: Engine, upload_folder: Path) -> None:
    with engine.connect() as connection:
        counts = _row_counts(connection)
    counts.pop("alembic_version", None)
    filled = {name: count for name, count in counts.items() if count}
    if filled:
        raise BackupError(
            f"The database already holds data ({sum(filled.values())} rows in {len(filled)} tables). "
            "Restoring replaces all of it: run again with --force to do so."
        )
    if upload_folder.is_dir() and any(upload_folder.iterdir()):
        raise BackupError(
            f"The upload folder {upload_folder} is not empty. "
            "Restoring replaces its files: run again with --force to do so."
        )


def _check_counts(engine: Engine, expected: dict[str, int]) -> None:
    with engine.connect() as connection:
        counts = _row_counts(connection)
    counts.pop("alembic_version", None)
    wrong = {name: (count, counts.get(name)) for name, count in expected.items() if counts.get(name) != count}
    if wrong:
        details = ", ".join(
            f"{name}: {found} rows, expected {count}" for name, (count, found) in wrong.items()
        )
        raise BackupError(f"The restored database does not match the backup: {details}.")


def _replace_folder(source: Path, target: Path) -> None:
    """Put ``source`` in ``target``'s place; the old files go only once the new ones are there."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{target.name}-restoring-", dir=target.parent))
    try:
        if source.is_dir():
            shutil.copytree(source, staged, dirs_exist_ok=True)
        old = None
        if target.exists():
            old = target.with_name(f".{target.name}-replaced-{os.getpid()}")
            target.rename(old)
        staged.rename(target)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# SQLite ---------------------------------------------------------------------------------------


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:" or engine.url.query.get("mode") == "memory":
        raise BackupError("An in-memory SQLite database cannot be backed up or restored: use a file.")
    return Path(database)


def _backup_sqlite(engine: Engine, target: Path) -> dict[str, Any]:
    source_path = _sqlite_path(engine)
    if not source_path.is_file():
        raise BackupError(f"The database file {source_path} does not exist.")
    source = sqlite3.connect(source_path)
    copy = sqlite3.connect(target)
    try:
        # One step (pages=-1): the whole copy under one read lock, a consistent snapshot.
        source.backup(copy)
    finally:
        copy.close()
        source.close()
    copy_engine = create_engine(f"sqlite:///{target}")
    try:
        with copy_engine.connect() as connection:
            return _row_counts(connection)
    finally:
        copy_engine.dispose()


def _restore_sqlite(engine: Engine, source_path: Path) -> None:
    if not source_path.is_file():
        raise BackupError(f"The backup has no {SQLITE_MEMBER}.")
    target_path = _sqlite_path(engine)
    target_path.parent.mkdir(parents=True, exist_ok=True)
    engine.dispose()  # no pooled connection may keep the old pages
    source = sqlite3.connect(source_path)
    target = sqlite3.connect(target_path)
    try:
        # The backup API replaces the target's every page in one write transaction.
        source.backup(target)
    except sqlite3.Error as error:
        raise BackupError(
            f"The database could not be restored: {error}. Is the app still running?"
        ) from error
    finally:
        target.close()
        source.close()


# PostgreSQL -----------------------------------------------------------------------------------


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found on PATH: install the PostgreSQL client tools "
            "(Debian: apt-get install postgresql-client) of the server's version or newer."
        )
    return path


def _pg_connection(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string for ``url`` and the environment carrying its password."""
    parts = {"host": url.host, "port": url.port, "user": url.username, "dbname": url.database}
    parts.update({key: value for key, value in url.query.items() if isinstance(value, str)})
    conninfo = " ".join(
        f"{key}={_conninfo_value(value)}" for key, value in parts.items() if value not in (None, "")
    )
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password  # not on the command line, where ps would show it
    return conninfo, env


def _conninfo_value(value: object) -> str:
    # libpq's quoting: single quotes, with backslash and quote escaped by a backslash.
    escaped = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - our own arguments, no shell
    if result.returncode != 0:
        raise BackupError(f"{what} failed (exit {result.returncode}): {result.stderr.strip()}")


def _backup_postgresql(engine: Engine, target: Path) -> dict[str, Any]:
    pg_dump = _pg_tool("pg_dump")
    conninfo, env = _pg_connection(engine.url)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as connection:
        # Counted in the snapshot pg_dump then dumps: the manifest describes exactly the dump.
        snapshot = connection.scalar(text("SELECT pg_export_snapshot()"))
        counts = _row_counts(connection)
        _run(
            [
                pg_dump,
                "--format=custom",
                "--no-owner",
                "--no-privileges",
                f"--snapshot={snapshot}",
                f"--file={target}",
                f"--dbname={conninfo}",
            ],
            env,
            "pg_dump",
        )
        connection.rollback()
    return counts


def _partitioned_tables(engine: Engine) -> list[str]:
    """The partitioned tables (``scan``) of the database's current schema."""
    with engine.connect() as connection:
        return list(
            connection.scalars(
                text(
                    "SELECT c.relname FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
                    "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
                    "ORDER BY c.relname"
                )
            )
        )


def _restore_postgresql(engine: Engine, dump: Path) -> None:
    """Replace the database's tables with the dump's, in one transaction, or change nothing.

    pg_restore writes the script (its ``--clean`` drops first, then the
    tables, rows and indexes) and psql runs it in one transaction with the
    database's partitioned tables dropped whole first: pg_restore's own drops
    would take a partition's key apart from its table, which PostgreSQL
    refuses (an inherited constraint).
    """
    if not dump.is_file():
        raise BackupError(f"The backup has no {PG_MEMBER}.")
    pg_restore, psql = _pg_tool("pg_restore"), _pg_tool("psql")
    conninfo, env = _pg_connection(engine.url)
    drops = [
        '--command=DROP TABLE IF EXISTS "{}" CASCADE'.format(name.replace('"', '""'))
        for name in _partitioned_tables(engine)
    ]
    engine.dispose()
    script = subprocess.Popen(  # noqa: S603 - our own arguments, no shell
        [pg_restore, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--file=-", str(dump)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert script.stdout is not None and script.stderr is not None
    try:
        restore = subprocess.run(  # noqa: S603 - our own arguments, no shell
            [
                psql,
                "--no-psqlrc",
                "--quiet",
                "--single-transaction",
                "--set=ON_ERROR_STOP=1",
                *drops,
                "--file=-",
                f"--dbname={conninfo}",
            ],
            stdin=script.stdout,
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
    finally:
        script.stdout.close()
        script_errors = script.stderr.read().decode(errors="replace").strip()
        script.stderr.close()
        script.wait()
    if script.returncode != 0:
        raise BackupError(f"pg_restore failed (exit {script.returncode}): {script_errors}")
    if restore.returncode != 0:
        raise BackupError(
            f"psql failed restoring the dump (exit {restore.returncode}): {restore.stderr.strip()}"
        )
