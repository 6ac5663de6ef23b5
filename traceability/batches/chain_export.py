"""The chain spreadsheet: a batch's whole chain, upstream and downstream, one row per event.

The columns are the key data elements of FSMA 204 (DESIGN.md): traceability
lot code, product description, quantity and unit, location, date, reference
document type and number, and the lot code's source, plus what an auditor
sorts and filters on (the event, the batch's place in the chain, its status).
The same rows make the CSV and the XLSX, so the two never disagree. Like the
chain page, they hold at most ``CHAIN_MAX_LOTS`` lots in each direction, the
nearest; a download cut there carries the header ``X-Chain-Truncated: true``.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from typing import Any

from babel import Locale
from flask import Response
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from sqlalchemy import select

from traceability.batches.service import current_events, event_party, local_time, person_label
from traceability.batches.trace import trace
from traceability.core.dates import VIETNAM_OFFSET
from traceability.core.extensions import db
from traceability.core.spreadsheets import csv_bytes, csv_cell
from traceability.core.vocabulary import EVENT_TYPE_LABELS, STATUS_LABELS, UNIT_SYMBOLS
from traceability.models.batches import Batch, TraceEvent
from traceability.models.registry import Location

CSV_MEDIA_TYPE = "text/csv"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# A spreadsheet runs a cell that starts with one of these as a formula: text a
# producer typed (a note, a lot code) must never become one.
MAX_COLUMN_WIDTH = 50


@dataclass(frozen=True)
class Column:
    """A spreadsheet column: its key in a row, its header and what kind of value it holds.

    ``kind`` is ``text`` (typed by a user, guarded against formulas), ``code``
    (written by the system), ``datetime``, ``date``, ``number`` or ``integer``.
    """

    key: str
    label: Any
    kind: str = "text"


COLUMNS = (
    Column("lot_code", _l("Traceability lot code")),
    Column("product", _l("Product description")),
    Column("gtin", _l("GTIN"), "code"),
    Column("event", _l("Event"), "code"),
    Column("biz_step", _l("Business step (CBV)"), "code"),
    Column("time", _l("Date and time"), "datetime"),
    Column("offset", _l("UTC offset"), "code"),
    Column("quantity", _l("Quantity"), "number"),
    Column("unit", _l("Unit"), "code"),
    Column("location", _l("Location")),
    Column("location_code", _l("Location trace code")),
    Column("reference_type", _l("Reference document type")),
    Column("reference_number", _l("Reference document number")),
    Column("counterparty", _l("Recipient or source")),
    Column("note", _l("Note")),
    # Who did the work (the producer, or the operator of the place), and the account that recorded it.
    Column("done_by", _l("Done by")),
    Column("recorded_by", _l("Recorded by")),
    Column("lot_code_source", _l("Traceability lot code source")),
    Column("lot_code_source_location", _l("Lot code source location")),
    Column("producer", _l("Producer")),
    Column("production_date", _l("Production date"), "date"),
    Column("expiry_date", _l("Expiry date"), "date"),
    Column("relation", _l("Place in the chain"), "code"),
    Column("depth", _l("Steps from this batch"), "integer"),
    Column("status", _l("Batch status"), "code"),
    Column("event_id", _l("Event ID"), "integer"),
    Column("corrects", _l("Corrects event"), "integer"),
)

RELATION_LABELS = {
    "self": _l("This batch"),
    "upstream": _l("Upstream (an input)"),
    "downstream": _l("Downstream (made from it)"),
}


def chain_header(locale: str | Locale) -> list[str]:
    """The header row in ``locale``."""
    with force_locale(locale):
        return [str(column.label) for column in COLUMNS]


def _chain_batches(batch: Batch) -> tuple[list[tuple[Batch, str, int]], bool]:
    """Every batch of the chain, each once, with its relation to ``batch`` and its depth; True when it was cut."""
    upstream = trace(batch, "upstream")
    downstream = trace(batch, "downstream")
    chain = [(batch, "self", 0)]
    for result in (upstream, downstream):
        chain += [
            (node, result.direction, result.depths[node.id]) for node in result.nodes if node.id != batch.id
        ]
    return chain, upstream.truncated or downstream.truncated


def _locations(chain: list[tuple[Batch, str, int]]) -> dict[int, Location]:
    """The locations the chain's batches and events name, in one query."""
    ids = {node.origin_location_id for node, _, _ in chain if node.origin_location_id}
    ids |= {event.location_id for node, _, _ in chain for event in node.events if event.location_id}
    if not ids:
        return {}
    return {
        location.id: location for location in db.session.scalars(select(Location).where(Location.id.in_(ids)))
    }


def _place(location: Location | None) -> str | None:
    return f"{location.name} ({location.trace_code})" if location else None


@dataclass(frozen=True)
class _Lookups:
    """What every row looks up: locations, corrections and labels translated once, not per row."""

    locations: dict[int, Location]
    events: dict[str, str]
    statuses: dict[str, str]
    relations: dict[str, str]
    units: dict[str, str]

    def unit(self, code: str | None) -> str | None:
        """A unit by its name in the sheet's language (``kg``, ``cái``), as on every page; an unknown code as it is."""
        return self.units.get(code, code) if code else None


def _lookups(chain: list[tuple[Batch, str, int]], locale: str | Locale) -> _Lookups:
    with force_locale(locale):
        return _Lookups(
            _locations(chain),
            {code: str(text) for code, text in EVENT_TYPE_LABELS.items()},
            {code: str(text) for code, text in STATUS_LABELS.items()},
            {code: str(text) for code, text in RELATION_LABELS.items()},
            {code: str(text) for code, text in UNIT_SYMBOLS.items()},
        )


def _batch_values(node: Batch, relation: str, depth: int, lookups: _Lookups) -> dict[str, Any]:
    producer = node.product.producer
    return {
        "lot_code": node.lot_code,
        "product": node.product.name,
        "gtin": node.product.gtin,
        "lot_code_source": ", ".join(part for part in (producer.name, producer.address_line) if part),
        "lot_code_source_location": _place(lookups.locations.get(node.origin_location_id or 0)),
        "producer": producer.name,
        "production_date": node.production_date,
        "expiry_date": node.expiry_date,
        "relation": lookups.relations[relation],
        "depth": depth,
        "status": lookups.statuses.get(node.status, node.status),
    }


def _event_values(event: TraceEvent, node: Batch, lookups: _Lookups) -> dict[str, Any]:
    location = lookups.locations.get(event.location_id or 0)
    has_quantity = event.quantity is not None
    return {
        "event": lookups.events.get(event.type, event.type),
        "biz_step": event.biz_step,
        "time": local_time(event),
        "offset": event.time_zone_offset,
        # The event's own quantity when it has one, else the batch's.
        "quantity": event.quantity if has_quantity else node.quantity,
        "unit": lookups.unit((event.unit or node.unit) if has_quantity else node.unit),
        "location": location.name if location else None,
        "location_code": location.trace_code if location else None,
        "reference_type": event.reference_type,
        "reference_number": event.reference_number,
        "counterparty": event.counterparty,
        "note": event.note or None,
        "done_by": event_party(event).name,
        "recorded_by": person_label(event.actor) if event.actor else None,
        "event_id": event.id,
        "corrects": event.voids_event_id,
    }


def _no_event(node: Batch, lookups: _Lookups) -> dict[str, Any]:
    """The event values of the one row of a batch without any event: only its quantity."""
    values = dict.fromkeys(column.key for column in COLUMNS)
    return values | {"quantity": node.quantity, "unit": lookups.unit(node.unit)}


@dataclass(frozen=True)
class ChainSheet:
    """The spreadsheet's rows, and whether the chain had more lots than ``CHAIN_MAX_LOTS`` in a direction."""

    rows: list[dict[str, Any]]
    truncated: bool


def chain_rows(batch: Batch, locale: str | Locale) -> list[dict[str, Any]]:
    """The rows of the chain spreadsheet of ``batch`` (see ``chain_sheet``)."""
    return chain_sheet(batch, locale).rows


def chain_sheet(batch: Batch, locale: str | Locale) -> ChainSheet:
    """The whole chain of ``batch``, upstream and downstream, one row per event, sorted by time then lot.

    The events are those that stand: a corrected event shows as its correction
    (which names the event it corrects), a retracted one not at all; the
    history stays on the batch's page and in the audit log. A batch without
    any event still has one row, so no batch of the chain is missing. Values keep their types (aware local datetimes, dates, Decimals);
    translated ones (event, status, place in the chain, the unit's name) are in ``locale``;
    missing ones are None.
    """
    chain, truncated = _chain_batches(batch)
    lookups = _lookups(chain, locale)
    rows = []
    for node, relation, depth in chain:
        common = _batch_values(node, relation, depth, lookups)
        events = current_events(node.events)
        if not events:
            rows.append(_no_event(node, lookups) | common)
        for event in events:
            rows.append(common | _event_values(event, node, lookups))
    midnight = time(0, tzinfo=VIETNAM_OFFSET)
    rows.sort(
        key=lambda row: (
            row["time"] or datetime.combine(row["production_date"], midnight),
            row["lot_code"],
            row["event_id"] or 0,
        ),
    )
    return ChainSheet(rows, truncated)


def _csv_value(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if column.kind == "datetime":
        return value.isoformat(timespec="seconds")
    if column.kind == "date":
        return value.isoformat()
    if column.kind == "number":
        return format(Decimal(value).normalize(), "f")
    text = str(value)
    return csv_cell(text) if column.kind == "text" else text  # formula-like text shown as typed, never run


def chain_csv(batch: Batch, locale: str | Locale) -> bytes:
    """The chain spreadsheet as CSV: UTF-8 with a BOM, so Excel reads Vietnamese correctly."""
    return _csv_bytes(chain_rows(batch, locale), locale)


def _csv_bytes(rows: list[dict[str, Any]], locale: str | Locale) -> bytes:
    cells = ([_csv_value(column, row[column.key]) for column in COLUMNS] for row in rows)
    return csv_bytes(chain_header(locale), cells, guard=False)


def _xlsx_value(column: Column, value: Any) -> Any:
    if column.kind == "datetime" and value is not None:
        return value.replace(tzinfo=None)  # Excel has no time zones: local time, its offset beside it
    if column.kind == "number" and value is not None:
        return Decimal(value).normalize()
    return value


def _width(column: Column, header: str, rows: list[dict[str, Any]]) -> float:
    if column.kind == "datetime":
        longest = 19
    elif column.kind == "date":
        longest = 10
    else:
        longest = max((len(str(row[column.key])) for row in rows if row[column.key] is not None), default=0)
    return min(max(longest, len(header)) + 2, MAX_COLUMN_WIDTH)


def chain_xlsx(batch: Batch, locale: str | Locale) -> bytes:
    """The chain spreadsheet as XLSX: a bold frozen header, filters on every column, real date cells."""
    return _xlsx_bytes(chain_rows(batch, locale), locale)


def _xlsx_bytes(rows: list[dict[str, Any]], locale: str | Locale) -> bytes:
    header = chain_header(locale)
    workbook = Workbook(write_only=True)
    with force_locale(locale):
        sheet = workbook.create_sheet(str(_l("Traceability chain"))[:31])
    for index, (column, title) in enumerate(zip(COLUMNS, header, strict=True), start=1):
        sheet.column_dimensions[get_column_letter(index)].width = _width(column, title, rows)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{len(rows) + 1}"
    bold = Font(bold=True)
    header_cells = []
    for title in header:
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        values = []
        for column in COLUMNS:
            value = _xlsx_value(column, row[column.key])
            if isinstance(value, str) and value.startswith("="):
                cell = WriteOnlyCell(sheet, value=value)
                cell.data_type = "s"  # a note that looks like a formula stays text
                value = cell
            values.append(value)
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def chain_filename(batch: Batch, extension: str) -> str:
    """A safe ASCII file name: ``chain-<lot>.<extension>``, diacritics folded away."""
    plain = unicodedata.normalize("NFKD", batch.lot_code.replace("đ", "d").replace("Đ", "D"))
    lot = plain.encode("ascii", "ignore").decode()
    lot = re.sub(r"[^A-Za-z0-9._-]+", "_", lot).strip("._") or str(batch.id)
    return f"chain-{lot}.{extension}"


def chain_response(batch: Batch, extension: str, locale: str | Locale) -> Response:
    """The chain spreadsheet of ``batch`` as a download: ``csv`` or ``xlsx``."""
    sheet = chain_sheet(batch, locale)
    if extension == "csv":
        body, media_type = _csv_bytes(sheet.rows, locale), CSV_MEDIA_TYPE  # Flask adds charset=utf-8
    else:
        body, media_type = _xlsx_bytes(sheet.rows, locale), XLSX_MEDIA_TYPE
    response = Response(body, mimetype=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{chain_filename(batch, extension)}"'
    if sheet.truncated:
        response.headers["X-Chain-Truncated"] = "true"
    return response
