"""Flask commands: ``audit verify`` and ``retention purge``."""

from __future__ import annotations

import re
from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import select

from traceability.audit.chain import keep_checkpoints, verify_chain
from traceability.audit.retention import (
    PurgePlan,
    RetentionConfigError,
    RetentionPolicy,
    plan_purge,
    purge_now,
)
from traceability.audit.service import centre_of_chain, chain_of
from traceability.core.dates import VIETNAM_OFFSET
from traceability.core.extensions import db
from traceability.models.registry import Centre

audit_cli = AppGroup("audit", help="The hash-chained audit log.")
retention_cli = AppGroup("retention", help="The retention policy and the purge of old batches.")

ANCHOR_PATTERN = re.compile(r"^(\d+):([0-9a-f]{64})$")


def _anchors(
    _context: click.Context, _param: click.Parameter, values: tuple[str, ...]
) -> list[tuple[int, str]]:
    anchors = []
    for value in values:
        match = ANCHOR_PATTERN.fullmatch(value.strip().lower())
        if match is None:
            raise click.BadParameter(
                "give the entry id and its hash as ID:HASH (64 hex digits), as verify printed"
            )
        anchors.append((int(match.group(1)), match.group(2)))
    return anchors


def _chains_asked(centre_code: str | None, chain: str | None) -> list[str] | None:
    """The chain keys ``--centre`` or ``--chain`` name (None: every chain)."""
    if centre_code is not None and chain is not None:
        raise click.UsageError(_("Give --centre or --chain, not both."))
    if centre_code is not None:
        centre_id = db.session.scalar(select(Centre.id).where(Centre.province_code == centre_code.strip()))
        if centre_id is None:
            raise click.BadParameter(
                _("No centre has province code %(code)s.", code=centre_code), param_hint="--centre"
            )
        return [chain_of(centre_id)]
    if chain is not None:
        try:
            centre_of_chain(chain)
        except ValueError:
            raise click.BadParameter(
                _("A chain is national or centre:ID (as verify prints it)."), param_hint="--chain"
            ) from None
        return [chain]
    return None


def _vietnam_time(moment: datetime) -> str:
    return moment.astimezone(VIETNAM_OFFSET).strftime("%Y-%m-%d %H:%M:%S +07:00")


@audit_cli.command("verify")
@click.option("--centre", "centre_code", metavar="CODE", help="Only the chain of this province's centre.")
@click.option("--chain", metavar="KEY", help="Only this chain: national or centre:ID.")
@click.option(
    "--full", is_flag=True, help="Walk every chain from its first entry, not from the last verified head."
)
@click.option(
    "--expect",
    callback=_anchors,
    multiple=True,
    metavar="ID:HASH",
    help="An entry and its hash recorded earlier outside the database (as verify prints a head); repeatable.",
)
def verify_command(
    centre_code: str | None, chain: str | None, full: bool, expect: list[tuple[int, str]]
) -> None:
    """Walk the audit chains: exit 0 when intact, 1 naming each chain's first entry altered, removed or reordered.

    Without --full each chain is read from the head the last run found
    intact (its checkpoint): the nightly run. --full reads every entry again
    and also catches a change made before the checkpoint: the monthly run.
    """
    report = verify_chain(_chains_asked(centre_code, chain), full=full, expect=expect)
    for chain_report in report.chains:
        problem = chain_report.problem
        if problem is not None:
            entry = f" entry={problem.entry_id}" if problem.entry_id is not None else ""
            click.echo(
                f"BROKEN chain={problem.chain} position={problem.position}{entry} problem={problem.kind}: "
                f"{problem.message}",
                err=True,
            )
            continue
        since = chain_report.since
        start = (
            f" since={since.position} verified_at={_vietnam_time(since.verified_at)}"
            if since is not None
            else ""
        )
        if chain_report.last_id is None:
            click.echo(f"OK chain={chain_report.chain} entries=0")
        else:
            click.echo(
                f"OK chain={chain_report.chain} entries={chain_report.entries} read={chain_report.rows_read}"
                f"{start} head={chain_report.last_id}:{chain_report.last_hash}"
            )
    if not report.intact:
        raise SystemExit(1)
    keep_checkpoints(report)
    if report.entries == 0:
        click.echo(_("The audit log is empty."))
        return
    click.echo(
        _(
            "The audit chains are intact: %(n)d entries in %(chains)d chains, %(read)d read this time. Keep the "
            "heads above somewhere outside the database and check them later with --expect.",
            n=report.entries,
            chains=len(report.chains),
            read=report.rows_read,
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
