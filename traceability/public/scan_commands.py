"""Flask commands: ``scans partitions``, ``scans purge`` and ``scans rebuild-daily``."""

from __future__ import annotations

from datetime import datetime

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from traceability.core.extensions import db
from traceability.public.scan_retention import make_partitions, purge_scans
from traceability.public.scan_rollups import rebuild_daily_counts

scans_cli = AppGroup("scans", help="Consumers' scans: monthly partitions, retention, daily counts.")


@scans_cli.command("partitions")
def partitions_command() -> None:
    """Make this month's and the next months' partitions of the scans now (PostgreSQL)."""
    made = make_partitions()
    click.echo(_("Partitions made: %(names)s", names=", ".join(made)) if made else _("No partition to make."))


@scans_cli.command("purge")
@click.option("--apply", "apply_changes", is_flag=True, help="Remove the scans; without it, only count them.")
def purge_command(apply_changes: bool) -> None:
    """Count the scans older than SCAN_RETENTION_MONTHS; drop them (whole months, audited) with --apply."""
    try:
        plan = purge_scans(apply=apply_changes)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if plan.cutoff is None:
        click.echo(_("SCAN_RETENTION_MONTHS is 0: every scan is kept."))
        return
    total = plan.rows + plan.partition_rows
    if not plan.removes_anything:
        click.echo(_("No scans before %(day)s: nothing to remove.", day=plan.cutoff.isoformat()))
        return
    message = (
        _("Removed %(n)d scans before %(day)s.", n=total, day=plan.cutoff.isoformat())
        if apply_changes
        else _(
            "Would remove %(n)d scans before %(day)s. Run again with --apply.",
            n=total,
            day=plan.cutoff.isoformat(),
        )
    )
    click.echo(message)
    for name in plan.partitions:
        click.echo(f"  {name}")


@scans_cli.command("rebuild-daily")
@click.option(
    "--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="The first day to rebuild (Vietnam time)."
)
def rebuild_daily_command(since: datetime | None) -> None:
    """Compute the daily scan counts again from the raw scans (from --since on, else from the oldest scan)."""
    rebuilt = rebuild_daily_counts(since.date() if since is not None else None)
    db.session.commit()
    if rebuilt.since is None:
        click.echo(_("No scans: nothing to rebuild."))
        return
    click.echo(
        _(
            "Daily counts rebuilt from %(day)s: %(rows)d rows, %(scans)d scans.",
            day=rebuilt.since.isoformat(),
            rows=rebuilt.rows,
            scans=rebuilt.scans,
        )
    )
