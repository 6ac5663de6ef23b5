"""Flask commands: ``audit verify`` and ``retention purge``."""

from __future__ import annotations

import re

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _

from traceability.audit.chain import verify_chain
from traceability.audit.retention import (
    PurgePlan,
    RetentionConfigError,
    RetentionPolicy,
    plan_purge,
    purge_now,
)
from traceability.core.extensions import db

audit_cli = AppGroup("audit", help="The hash-chained audit log.")
retention_cli = AppGroup("retention", help="The retention policy and the purge of old batches.")

ANCHOR_PATTERN = re.compile(r"^(\d+):([0-9a-f]{64})$")


def _anchor(_context: click.Context, _param: click.Parameter, value: str | None) -> tuple[int, str] | None:
    if value is None:
        return None
    match = ANCHOR_PATTERN.fullmatch(value.strip().lower())
    if match is None:
        raise click.BadParameter(
            "give the entry id and its hash as ID:HASH (64 hex digits), as verify printed"
        )
    return int(match.group(1)), match.group(2)


@audit_cli.command("verify")
@click.option(
    "--expect",
    callback=_anchor,
    metavar="ID:HASH",
    help="An entry and its hash recorded earlier outside the database (as verify prints the head).",
)
def verify_command(expect: tuple[int, str] | None) -> None:
    """Walk the audit chain: exit 0 when intact, 1 naming the first entry altered, removed or reordered."""
    report = verify_chain(expect=expect)
    if report.problem is not None:
        problem = report.problem
        click.echo(f"BROKEN entry={problem.entry_id} problem={problem.kind}: {problem.message}", err=True)
        raise SystemExit(1)
    if report.last_id is None:
        click.echo(_("The audit log is empty."))
        return
    click.echo(f"OK entries={report.entries} head={report.last_id}:{report.last_hash}")
    click.echo(
        _(
            "The audit chain is intact: %(n)d entries. Keep the head above somewhere outside the database "
            "and check it later with --expect.",
            n=report.entries,
        )
    )


def _describe(plan: PurgePlan, applied: bool) -> None:
    policy = plan.policy
    click.echo(
        _(
            "Retention: %(after)d months after the expiry date, %(without)d months without one; today is "
            "%(today)s.",
            after=policy.months_after_expiry,
            without=policy.months_without_expiry,
            today=plan.today.isoformat(),
        )
    )
    if plan.removals:
        click.echo(
            _("Removed %(n)d batches:", n=len(plan.removals))
            if applied
            else _("Would remove %(n)d batches:", n=len(plan.removals))
        )
    for removal in plan.removals:
        counts = removal.counts
        click.echo(
            f"  #{removal.batch_id} {removal.lot_code} · {removal.product_name} · "
            + _(
                "kept until %(day)s; %(events)d events, %(items)d items, %(scans)d scans, %(reports)d reports, "
                "%(inputs)d lineage links, %(recalls)d recalls",
                day=removal.retention_ended_on.isoformat(),
                **counts,
            )
        )
    if plan.kept:
        click.echo(_("Past their period but kept:"))
    for kept in plan.kept:
        if kept.reason == "lineage":
            why = _(
                "linked to batches still in their period: %(ids)s",
                ids=", ".join(f"#{i}" for i in kept.detail["linked_batch_ids"]),
            )
        elif kept.reason == "open_recall":
            why = _("recall #%(id)d is open", id=kept.detail["recall_id"])
        else:
            why = _("still referred to by %(table)s", table=kept.detail["table"])
        click.echo(f"  #{kept.batch_id} {kept.lot_code} · {why}")
    if not plan.removals:
        click.echo(_("Nothing to remove."))
    elif not applied:
        click.echo(_("Dry run: nothing was removed. Run again with --apply to remove these batches."))


@retention_cli.command("purge")
@click.option(
    "--apply", "apply_changes", is_flag=True, help="Remove the batches; without it, only list them."
)
def purge_command(apply_changes: bool) -> None:
    """List the batches past their retention period; remove them (audited) with --apply."""
    try:
        policy = RetentionPolicy.from_config(current_app.config)
    except RetentionConfigError as error:
        raise click.ClickException(str(error)) from None
    if not apply_changes:
        plan = plan_purge(policy)
        db.session.rollback()
        _describe(plan, applied=False)
        return
    _describe(purge_now(policy), applied=True)
