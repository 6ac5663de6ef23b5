"""Background jobs: a queue built from ``JOB_QUEUE_URL``, run by ``flask --app wsgi worker``.

A request never runs long work itself, nor starts a thread or a process pool:
it stores the work's row (a ``LabelJob``, with its state and progress for
whoever started it) and names the job to run once that row is committed,
``enqueue_after_commit("labels.run", job.id)``. A request that fails rolls
back and enqueues nothing. The worker process (``traceability.jobs.commands``)
takes the jobs from the queue and runs each in an application context of its
own, with its own database session; it also runs the periodic jobs. The jobs
and their schedules are listed in one table, ``traceability.jobs.catalogue``.

The queue is Huey's (MIT; README, "Dependencies"). ``JOB_QUEUE_URL`` says
where it lives:

- unset: ``sqlite:///{instance}/jobs.sqlite3``, a SQLite file beside the
  database: no server to run, for one machine (its web workers and its job
  worker share the file);
- ``redis://host:6379/2`` (also ``rediss://``, ``unix://``): Redis, shared
  by app servers and workers on several machines;
- ``sqlite:////path/to/jobs.sqlite3``: another file.

The queue carries only "run job X with these ids"; what the job did is on its
row. A message is taken off the queue when a worker starts it, so a worker
killed mid-job loses it: each feature's own recovery (label jobs:
``labels.recover``, every minute and when a worker starts) queues such work
again, and the row's claim token keeps two workers from running it at once.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey, crontab
from huey.api import Huey, TaskWrapper

from traceability.core.dates import VIETNAM_OFFSET
from traceability.core.transactions import on_commit
from traceability.jobs.catalogue import JOBS, Job

EXTENSION = "jobs"
QUEUE_NAME = "traceability"
REDIS_SCHEMES = ("redis://", "rediss://", "unix://")

log = logging.getLogger(__name__)


def default_queue_url(instance_path: str | Path) -> str:
    """The embedded default: a SQLite file in the instance folder."""
    return f"sqlite:///{Path(instance_path) / 'jobs.sqlite3'}"


def vietnam_crontab(expression: str, *, setting: str = "schedule") -> Callable[[datetime], bool]:
    """A cron expression of five fields (minute hour day month weekday), read in Vietnam time.

    The returned test takes Huey's timestamps (naive UTC). Raises RuntimeError naming
    ``setting`` when the expression is not one cron understands.
    """
    fields = expression.split()
    if len(fields) != 5:
        raise RuntimeError(
            f"{setting} must be a cron expression of five fields (minute hour day month weekday), "
            f"not {expression!r}."
        )
    try:
        matches = crontab(*fields, strict=True)
    except ValueError as error:
        raise RuntimeError(f"{setting}: {error} in {expression!r}.") from None

    def in_vietnam(timestamp: datetime) -> bool:
        moment = timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=UTC)
        return matches(moment.astimezone(VIETNAM_OFFSET))

    return in_vietnam


class JobQueue:
    """One app's queue: its Huey instance (built on first use, again after a fork) and its jobs."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.url = str(app.config.get("JOB_QUEUE_URL") or default_queue_url(app.instance_path))
        if not self.url.startswith(("sqlite:///", *REDIS_SCHEMES)):
            raise RuntimeError(
                f"JOB_QUEUE_URL must be sqlite:///PATH or redis://HOST:PORT/DB, not {self.url!r}."
            )
        # Every schedule is checked now, so a wrong one stops the app from starting, not the worker later.
        self.schedules: dict[str, Callable[[datetime], bool] | None] = {
            job.name: self._schedule(job) for job in JOBS if job.periodic
        }
        self._huey: Huey | None = None
        self._pid: int | None = None
        self._tasks: dict[str, TaskWrapper] = {}

    def _schedule(self, job: Job) -> Callable[[datetime], bool] | None:
        if job.schedule_setting:
            expression = str(self.app.config.get(job.schedule_setting) or "").strip()
            return vietnam_crontab(expression, setting=job.schedule_setting) if expression else None
        return vietnam_crontab(job.schedule or "", setting=f"the schedule of {job.name}")

    @property
    def huey(self) -> Huey:
        """The Huey instance, built on first use in this process (never shared across a fork)."""
        if self._huey is None or self._pid != os.getpid():
            self._huey, self._pid = self._build(), os.getpid()
        return self._huey

    def _build(self) -> Huey:
        if self.url.startswith(REDIS_SCHEMES):
            huey: Huey = RedisHuey(QUEUE_NAME, url=self.url, results=False)
        else:
            path = Path(self.url[len("sqlite:///") :])
            path.parent.mkdir(parents=True, exist_ok=True)
            huey = SqliteHuey(QUEUE_NAME, filename=str(path), results=False)
        self._tasks = {}
        for job in JOBS:
            options = {"retries": job.retries, "retry_delay": job.retry_delay, "name": job.name}
            schedule = self.schedules.get(job.name)
            if schedule is not None:
                self._tasks[job.name] = huey.periodic_task(schedule, **options)(self._runner(job))
            else:  # on demand only (a periodic job whose schedule's setting is empty, too)
                self._tasks[job.name] = huey.task(**options)(self._runner(job))
        return huey

    def _runner(self, job: Job) -> Callable[..., Any]:
        app = self.app

        def run(*args: Any) -> Any:
            from traceability.http import observability

            function = job.load()
            with app.app_context():  # a session of its own; removed when the context ends
                try:
                    return function(*args)
                except Exception as error:  # Huey logs it and retries when the job allows
                    observability.report_error(error)
                    raise

        run.__doc__ = job.summary
        return run

    def scheduled(self, name: str) -> bool:
        """Whether the worker runs job ``name`` on a schedule (a setting may switch one off)."""
        return self.schedules.get(name) is not None

    def enqueue(self, name: str, *args: Any, delay: float | None = None) -> None:
        """Put job ``name`` with ``args`` on the queue now (or ``delay`` seconds from now).

        In a request, use ``enqueue_after_commit``: the job's row must be
        committed before a worker looks for it.
        """
        huey = self.huey
        task = self._tasks.get(name)
        if task is None:
            raise KeyError(f"no job named {name!r} (traceability.jobs.catalogue)")
        if delay:
            task.schedule(args=args, delay=delay)
        else:
            huey.enqueue(task.s(*args))

    def waiting(self, name: str) -> list[tuple[Any, ...]]:
        """The arguments of every ``name`` job on the queue or scheduled (a retry, a delayed check)."""
        huey = self.huey
        return [task.args for task in (*huey.pending(), *huey.scheduled()) if task.name == name]

    def run_pending(self) -> int:
        """Run the jobs on the queue in this thread, as a worker would, until it is empty; how many ran.

        For the command line and the tests; a retry or a delayed job waits for its time on the
        schedule, so this never loops on a job that keeps failing.
        """
        huey, ran = self.huey, 0
        while (task := huey.dequeue()) is not None:
            huey.execute(task)
            ran += 1
        return ran

    def discard_all(self) -> None:
        """Empty the queue and the schedule (the test suite, between tests)."""
        if self._huey is not None:
            self._huey.flush()


def init_app(app: Flask) -> None:
    """Give ``app`` its queue; nothing is opened until a job is queued or a worker starts."""
    app.extensions[EXTENSION] = JobQueue(app)


def job_queue(app: Flask | None = None) -> JobQueue:
    """The queue of ``app`` (default: the current app)."""
    return (app or current_app).extensions[EXTENSION]


def enqueue_after_commit(name: str, *args: Any) -> None:
    """Queue job ``name`` once the current transaction commits; nothing if it rolls back.

    Inside a savepoint (``begin_nested``) the job goes with the savepoint:
    dropped when it rolls back, kept when it is released and the outer
    transaction commits (``traceability.core.transactions``).
    """
    queue = job_queue()
    if name not in {job.name for job in JOBS}:
        raise KeyError(f"no job named {name!r} (traceability.jobs.catalogue)")
    on_commit(partial(_enqueue_committed, queue, name, args))


def _enqueue_committed(queue: JobQueue, name: str, args: tuple[Any, ...]) -> None:
    try:
        queue.enqueue(name, *args)
    except Exception:  # the row is committed: the feature's recovery job queues it again
        log.exception("could not queue job %s%r; its recovery will", name, args)
