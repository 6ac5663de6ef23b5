"""The ``backup PATH`` and ``restore PATH`` commands (the work is in ``traceability.backup.archive``)."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from traceability.backup.archive import BackupError, backup, restore
from traceability.core.extensions import db


def _summary(manifest: dict) -> str:
    rows = sum(manifest["tables"].values())
    return (
        f"{manifest['database']} database, {len(manifest['tables'])} tables, {rows} rows, "
        f"{manifest.get('uploads', '?')} uploaded files, schema revision {manifest['alembic_revision'] or '?'}"
    )


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write a consistent backup of the database and the uploaded files to PATH (a .tar.gz).

    SQLite is copied with its online backup API, PostgreSQL with pg_dump (found
    on PATH); the app may keep running meanwhile.
    """
    try:
        manifest = backup(db.engine, Path(current_app.config["UPLOAD_FOLDER"]), path)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Backed up to {path}: {_summary(manifest)}.")


@click.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that holds data and the uploaded files.")
@with_appcontext
def restore_command(path: Path, force: bool) -> None:
    """Restore the database and the uploaded files from a backup made by the backup command.

    Stop the app first. A database that holds data, or an upload folder with
    files, is only replaced with --force. PostgreSQL needs pg_restore on PATH.
    """
    db.session.remove()
    try:
        manifest = restore(db.engine, Path(current_app.config["UPLOAD_FOLDER"]), path, force=force)
    except BackupError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Restored from {path} (made {manifest['created_at']}): {_summary(manifest)}.")
    click.echo("If this code is newer than the backup, run `flask --app wsgi db upgrade` now.")
