"""``flask --app wsgi worker``: the process that runs the background jobs."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from traceability.jobs import job_queue
from traceability.jobs.catalogue import JOBS

# How long an idle worker waits between two looks at a SQLite queue (Redis wakes it at once).
POLL_SECONDS = 1.0


@click.command("worker")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="Jobs run at the same time (default: JOB_WORKERS). A label sheet also uses one process per core.",
)
@click.option(
    "--worker-type",
    type=click.Choice(("thread", "process")),
    default="thread",
    show_default=True,
    help="Run the jobs in threads of this process, or in forked processes.",
)
@click.option(
    "--periodic/--no-periodic",
    default=True,
    show_default=True,
    help="Also run the periodic jobs. With several workers on one queue, leave them to one.",
)
@with_appcontext
def worker_command(workers: int | None, worker_type: str, periodic: bool) -> None:
    """Run the background jobs (label sheets) and the periodic ones, until Ctrl-C or SIGTERM.

    Ctrl-C (SIGINT) lets the running jobs finish first; SIGTERM stops at once,
    and a label job cut short is taken up again by the next worker.
    """
    from traceability.core.extensions import db
    from traceability.http import observability

    queue = job_queue()
    huey = queue.huey
    count = workers or current_app.config["JOB_WORKERS"]
    if worker_type == "process":

        @huey.on_startup()
        def fresh_connections() -> None:  # a forked worker must not share its parent's connections
            db.engine.dispose(close=False)

    consumer = huey.create_consumer(
        workers=count, worker_type=worker_type, periodic=periodic, max_delay=POLL_SECONDS
    )
    for job in JOBS:
        if job.at_worker_start is not None:
            queue.enqueue(job.name, *job.at_worker_start)
    db.session.remove()  # the consumer's workers open their own
    click.echo(f"Job worker: {count} {worker_type}(s), queue {_shown(queue.url)}. Stop with Ctrl-C.")
    try:
        consumer.run()
    finally:
        observability.flush_error_tracker()


def _shown(url: str) -> str:
    """The queue's URL without a password."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if at and ":" in credentials:
        return f"{scheme}{sep}{credentials.split(':', 1)[0]}:***@{host}"
    return url
