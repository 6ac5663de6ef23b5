"""``flask labels ...``: print label sheets from the command line, and run waiting label jobs."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from traceability.batches.label_jobs import purge_expired_files, run_label_job, runnable_job_ids
from traceability.batches.label_sheets import plan_labels, render_sheet, sheet_to_draw
from traceability.batches.serials import MAX_SERIALS_PER_REQUEST, create_serials
from traceability.core.errors import DomainError
from traceability.core.extensions import db
from traceability.labels.sheets import TEMPLATES
from traceability.models.batches import Batch, LabelJob

labels_cli = AppGroup("labels", help="Label sheets: print one, or run the waiting print jobs.")


def _fail(error: DomainError) -> None:
    db.session.rollback()
    details = "; ".join(
        str(message) for message in error.fields.values() if str(message) != str(error.message)
    )
    raise click.ClickException(f"{error.message} {details}".strip())


@labels_cli.command("print")
@click.argument("batch_id", type=int)
@click.option("--template", required=True, type=click.Choice(tuple(TEMPLATES)), help="Label stock.")
@click.option("--ec", default="M", type=click.Choice(("M", "H")), show_default=True, help="Error correction.")
@click.option(
    "--serials",
    type=click.IntRange(1, MAX_SERIALS_PER_REQUEST),
    help="First create this many serialised items, and print their labels only.",
)
@click.option("--copies", type=click.IntRange(1), help="Labels of the batch code (batches without items).")
@click.option(
    "--output", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The PDF to write."
)
def print_command(
    batch_id: int, template: str, ec: str, serials: int | None, copies: int | None, output: Path
) -> None:
    """Write the label sheet of BATCH_ID: one label per item, or copies of the batch code."""
    batch = db.session.get(Batch, batch_id)
    if batch is None:
        raise click.ClickException(f"No batch {batch_id}.")
    options: dict = {"template": template, "ec": ec, "copies": copies}
    try:
        if serials:
            items = create_serials(batch, serials, actor=None)
            db.session.commit()
            click.echo(f"Created {len(items)} serialised items ({items[0].serial} … {items[-1].serial}).")
            options["item_range"] = (items[0].id, items[-1].id, len(items))
        plan = plan_labels(batch, options)
        text, urls = sheet_to_draw(batch, plan)  # kept in the lot's audit log: fixes its lot code
        db.session.commit()
    except DomainError as error:
        _fail(error)
    partial = output.with_name(output.name + ".part")
    try:
        with click.progressbar(length=plan.count, label=f"Printing {plan.count} labels") as bar:
            done = 0

            def advance(count: int) -> None:
                nonlocal done
                bar.update(count - done)
                done = count

            with partial.open("wb") as stream:
                render_sheet(plan, text, urls, stream, progress=advance, parallel=True)
        partial.replace(output)
    except DomainError as error:
        partial.unlink(missing_ok=True)
        _fail(error)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    click.echo(f"Wrote {output} ({plan.count} labels, {template}, error correction {ec}).")


@labels_cli.command("run-jobs")
def run_jobs_command() -> None:
    """Run the waiting label jobs here, and every job whose worker died: for when no job worker runs.

    First removes the files of jobs finished more than LABEL_JOB_KEEP_HOURS ago.
    A job a worker is running meanwhile is left to it (its claim).
    """
    _report_purge(purge_expired_files())
    job_ids = runnable_job_ids()
    if not job_ids:
        click.echo("No label jobs waiting.")
        return
    for job_id in job_ids:
        job = db.session.get_one(LabelJob, job_id)
        count = job.count
        db.session.commit()
        with click.progressbar(length=count, label=f"Label job {job_id}") as bar:
            done = 0

            def advance(labels: int) -> None:
                nonlocal done
                bar.update(labels - done)
                done = labels

            ran = run_label_job(job_id, progress=advance)
        job = db.session.get_one(LabelJob, job_id)
        outcome = "done" if ran else f"not run ({job.status}{': ' + job.error if job.error else ''})"
        click.echo(f"Label job {job_id}: {outcome}")


def _report_purge(removed: int) -> None:
    if removed:
        click.echo(f"Removed {removed} expired label sheet(s).")


@labels_cli.command("purge")
def purge_command() -> None:
    """Remove the files of label jobs finished more than LABEL_JOB_KEEP_HOURS ago."""
    removed = purge_expired_files()
    _report_purge(removed)
    if not removed:
        click.echo("No expired label sheets.")
