"""``flask epcis reindex``: rebuild the EPCIS query index from the records."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from traceability.batches.epcis_index import indexed_count, reindex_all
from traceability.core.extensions import db
from traceability.models.batches import Batch

epcis_cli = AppGroup("epcis", help="The EPCIS 2.0 repository (/epcis): its query index.")


@epcis_cli.command("reindex")
def reindex_command() -> None:
    """Export every lot again and bring the query index in line with it.

    Run it once after upgrading to the release that added the index, and after changing
    PUBLIC_BASE_URL (the URIs in every event change with it). The app keeps the index at
    every change by itself; this repairs what it could not see. Lots are committed in
    chunks: the command can be stopped and run again.
    """
    lots = db.session.scalar(select(func.count(Batch.id))) or 0
    with click.progressbar(length=lots, label="Indexing lots") as bar:
        written = reindex_all(progress=lambda done, _total: bar.update(done - bar.pos))
    click.echo(f"{written} rows written; the index holds {indexed_count()} events.")
