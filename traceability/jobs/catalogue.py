"""Every background job, with its retries and, for a periodic one, its schedule (Vietnam time).

A job is a plain function of its feature (it reads and writes through that
feature's services); the worker calls it inside an application context of
its own. Named here by import path, so this table imports no feature.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import Any


@dataclass(frozen=True)
class Job:
    """A job: ``name`` is what ``enqueue_after_commit`` takes; ``target`` is ``module:function``.

    ``retries`` and ``retry_delay`` (seconds): how often and how late Huey runs
    it again when it raises. A periodic job runs on ``schedule`` (cron, five
    fields, Vietnam time), or on the cron expression in the setting
    ``schedule_setting``, switched off while that setting is empty.
    ``at_worker_start``: the arguments it is queued with whenever a worker
    starts (None: not queued then).
    """

    name: str
    target: str
    summary: str
    retries: int = 0
    retry_delay: int = 0
    schedule: str | None = None
    schedule_setting: str | None = None
    at_worker_start: tuple[Any, ...] | None = None

    @property
    def periodic(self) -> bool:
        return bool(self.schedule or self.schedule_setting)

    def load(self) -> Any:
        module, _sep, function = self.target.partition(":")
        return getattr(import_module(module), function)


JOBS: tuple[Job, ...] = (
    Job(
        "labels.run",
        "traceability.batches.label_jobs:run_label_job",
        "Print a label sheet queued from the web page or the API.",
        # Raised only when its bookkeeping fails (the database away); a sheet that cannot be
        # made marks its job failed instead. A worker that dies mid-sheet: labels.recover.
        retries=3,
        retry_delay=30,
    ),
    Job(
        "labels.recover",
        "traceability.batches.label_jobs:recover_label_jobs",
        "Queue label jobs again whose worker died or whose message was lost; fail those past their time.",
        schedule="* * * * *",
        at_worker_start=(True,),
    ),
    Job(
        "labels.purge_files",
        "traceability.batches.label_jobs:purge_expired_files",
        "Remove the files of label jobs finished more than LABEL_JOB_KEEP_HOURS ago.",
        schedule="5 * * * *",
    ),
    Job(
        "page_cache.sweep",
        "traceability.public.page_cache:sweep_expired_pages",
        "Remove expired pages from the page cache folder of the worker's machine (Redis expires its own).",
        schedule="17 * * * *",
    ),
    Job(
        "uploads.purge_kept",
        "traceability.core.kept_uploads:purge_kept",
        "Remove the files kept from refused forms (a certificate's document) after a day.",
        schedule="29 * * * *",
    ),
    Job(
        "idempotency.purge",
        "traceability.idempotency.store:purge_expired",
        "Remove the Idempotency-Key answers kept longer than IDEMPOTENCY_KEEP_HOURS.",
        schedule="41 * * * *",
    ),
    Job(
        "retention.purge",
        "traceability.audit.retention:scheduled_purge",
        "Remove the batches past their retention period (audited), as `retention purge --apply`.",
        schedule_setting="RETENTION_PURGE_SCHEDULE",
    ),
    Job(
        "scans.partitions",
        "traceability.public.scan_retention:make_partitions",
        "Make this month's and the next two months' partitions of the scans (PostgreSQL).",
        schedule="11 1 * * *",
        at_worker_start=(),
    ),
    Job(
        "scans.purge",
        "traceability.public.scan_retention:scheduled_scan_purge",
        "Drop the months of scans older than SCAN_RETENTION_MONTHS (audited); nothing while it is 0.",
        schedule="23 2 * * *",
    ),
    Job(
        "notifications.deliver",
        "traceability.notifications.delivery:deliver_notifications",
        "Email the notifications a committed change queued (each row keeps its own retries).",
    ),
    Job(
        "notifications.sweep",
        "traceability.notifications.delivery:sweep_outbox",
        "Email the notifications due again: retries after a failure, lost jobs, workers that died.",
        schedule="* * * * *",
        at_worker_start=(),
    ),
    Job(
        "notifications.expiring",
        "traceability.notifications.expiry:notify_expiring",
        "Tell producers of their certificates and OCOP ratings that end within 30 days, once each.",
        schedule="0 7 * * *",
    ),
    Job(
        "notifications.purge",
        "traceability.notifications.delivery:purge_old_notifications",
        "Remove notifications older than NOTIFICATION_KEEP_DAYS whose email is settled.",
        schedule="50 3 * * *",
    ),
)
