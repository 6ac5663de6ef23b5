"""Label sheets of a batch: which codes go on them, and the checks before printing.

DESIGN.md: one label per serialised item when the batch has items, else
``copies`` labels of the batch's own code. The drawing is
``traceability.labels.sheets``; this module turns batches into its input and
its refusals into messages users can act on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import islice, tee
from typing import Any, BinaryIO

from flask import current_app, has_request_context
from flask_babel import force_locale, format_number, gettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from traceability.accounts.scope import approval_refusal
from traceability.batches.lots import note_labels_printed
from traceability.batches.service import public_url
from traceability.core.dates import vietnam_today
from traceability.core.errors import Conflict, Forbidden, InvalidInput
from traceability.core.extensions import db
from traceability.gs1 import item_uri
from traceability.http.i18n import request_language
from traceability.labels.sheets import (
    TEMPLATES,
    LabelSizeError,
    LabelText,
    check_fits,
    default_workers,
    render_labels,
)
from traceability.models.batches import Batch, Item

ERROR_CORRECTION_LEVELS = ("M", "H")
MAX_COPIES = 10_000
# A web request draws at most this many labels itself, in its own process; more go to a job (label_jobs).
DIRECT_LABEL_LIMIT = 500
# Items read per query while a sheet is drawn: the URLs of a big lot are never all in memory.
URL_CHUNK = 1000


@dataclass(frozen=True)
class LabelPlan:
    """What a sheet prints: the template, error correction, and the items or copies."""

    template: str
    error_correction: str
    count: int
    first_item_id: int | None = None  # with last_item_id: one label per item in the range
    last_item_id: int | None = None


def label_text(batch: Batch) -> LabelText:
    """What every label of ``batch`` says besides its code."""
    return LabelText(
        product_name=batch.product.name,
        lot_code=batch.lot_code,
        production_date=batch.production_date,
        expiry_date=batch.expiry_date,
        # Only a verified rating in force today: a label outlives the day it is printed on.
        ocop_stars=batch.product.ocop_stars if batch.product.ocop_valid_on(vietnam_today()) else None,
        # In the current language: the asker's (sheet_to_draw), or the job's recorded one (the worker).
        serial_caption=gettext("Serial number"),
    )


def sheet_to_draw(batch: Batch, plan: LabelPlan, *, actor: Any = None) -> tuple[LabelText, Iterable[str]]:
    """A sheet drawn at once, not as a job (web, API, command line): its words and its URLs.

    It is kept in the lot's audit log, which fixes its lot code
    (``lots.labels_printed``) whichever way it was printed; its words are in
    the language of whoever asked for it (``request_language``).
    """
    note_labels_printed(batch, actor=actor, template=plan.template, count=plan.count)
    with force_locale(request_language(actor)):
        text = label_text(batch)
    return text, label_urls(batch, plan)


class ItemUrls:
    """The URLs of a plan's items in print order, with each item's serial number beside it (``serials``).

    Both read the same chunked query once (``iter_item_urls``); the drawing
    takes one serial per label, so only the few URLs it reads ahead are held.
    """

    def __init__(self, rows: Iterator[tuple[str, str]]) -> None:
        for_urls, for_serials = tee(rows)
        self._urls = (url for url, _serial in for_urls)
        self.serials: Iterator[str] = (serial for _url, serial in for_serials)

    def __iter__(self) -> Iterator[str]:
        return self._urls


def _item_range(batch: Batch) -> tuple[int, int, int] | None:
    row = db.session.execute(
        select(func.min(Item.id), func.max(Item.id), func.count(Item.id)).where(Item.batch_id == batch.id)
    ).one()
    return (row[0], row[1], row[2]) if row[2] else None


def plan_labels(batch: Batch, options: dict[str, Any], *, actor: Any = None) -> LabelPlan:
    """Check ``template``, ``ec`` and ``copies`` of a print request; InvalidInput naming what to fix.

    A batch with serialised items prints one label per item (``copies`` is
    ignored); one without prints ``copies`` labels of its code, a full sheet
    by default. A code too small to scan on the template, or more labels
    than ``MAX_LABELS_PER_JOB``, is refused here, before any job starts. Only
    an approved producer's labels are printed: codes on packages are what
    consumers trust.
    """
    refusal = approval_refusal(batch.product.producer, actor)
    if refusal is not None:
        raise Forbidden(refusal)
    if batch.status == "recalled":
        raise Conflict(
            _l("This batch is recalled: its products must not reach consumers, so no labels are printed.")
        )
    errors: dict[str, Any] = {}
    template = options.get("template") or ""
    if template not in TEMPLATES:
        errors["template"] = _l("Choose one of the label templates: %(names)s.", names=", ".join(TEMPLATES))
    error_correction = (options.get("ec") or "M").upper()
    if error_correction not in ERROR_CORRECTION_LEVELS:
        errors["ec"] = _l("Error correction must be M or H.")
    copies = options.get("copies")
    if copies is not None and (
        isinstance(copies, bool) or not isinstance(copies, int) or not 1 <= copies <= MAX_COPIES
    ):
        errors["copies"] = _l("Enter a number of copies from 1 to %(max)s.", max=format_number(MAX_COPIES))
    if errors:
        raise InvalidInput(_l("The labels could not be printed."), errors)
    items = options.get("item_range") or _item_range(batch)
    if items is not None:
        first, last, count = items
        plan = LabelPlan(template, error_correction, count, first, last)
    else:
        plan = LabelPlan(template, error_correction, copies or TEMPLATES[template].per_page)
    limit = current_app.config["MAX_LABELS_PER_JOB"]
    if plan.count > limit:
        raise InvalidInput(
            _l(
                "This sheet would have %(count)s labels; a print job holds at most %(max)s. "
                "Ask the registry's administrator to raise the limit.",
                count=format_number(plan.count),
                max=format_number(limit),
            )
        )
    urls = label_urls(batch, plan, limit=1)
    try:
        check_fits(template, max(urls, key=len), error_correction)
    except LabelSizeError as error:
        raise size_refusal(error) from error
    return plan


def size_refusal(error: LabelSizeError) -> InvalidInput:
    """The refusal of a template too small for the code, saying what would work."""
    message = _l(
        "On %(template)s labels the QR code's modules would be %(size)s mm wide, smaller than the "
        "%(min)s mm phone cameras read reliably.",
        template=error.template,
        size=f"{error.module_mm:.2f}",
        min="0.3",
    )
    advice = []
    if error.bigger_templates:
        advice.append(_l("Choose a bigger template: %(names)s.", names=", ".join(error.bigger_templates)))
    if error.fits_with_m:
        advice.append(_l("Or choose error correction M, which makes a smaller code."))
    if not advice:
        advice.append(_l("Use a shorter public address or lot code."))
    text = " ".join(str(part) for part in (message, *advice))
    return InvalidInput(text, {"template": text})


def label_urls(batch: Batch, plan: LabelPlan, *, limit: int | None = None) -> Iterable[str]:
    """The URLs the plan's labels encode, in print order (``limit``: the first few, for checks).

    Copies of the batch code are a list (one string, repeated); items are
    read ``URL_CHUNK`` at a time as the sheet is drawn (``iter_item_urls``).
    """
    base_url = current_app.config["PUBLIC_BASE_URL"]
    if plan.first_item_id is None:
        return [public_url(base_url, batch)] * (plan.count if limit is None else min(limit, plan.count))
    if limit is not None:  # a check within a request: in its transaction, which may still roll back
        rows = iter_item_urls(batch, plan, chunk=min(limit, URL_CHUNK), end_transactions=False)
        return [url for url, _serial in islice(rows, limit)]
    return ItemUrls(iter_item_urls(batch, plan, chunk=URL_CHUNK))


def iter_item_urls(
    batch: Batch, plan: LabelPlan, *, chunk: int = URL_CHUNK, end_transactions: bool = True
) -> Iterator[tuple[str, str]]:
    """The URLs and serials of the plan's items in id order, one short query per ``chunk`` (keyset pagination).

    Each query's transaction ends at once, so a sheet drawn for minutes holds
    no lock and no snapshot meanwhile (SQLite's write lock least of all):
    call it with nothing pending in the session. ``end_transactions=False``
    leaves the caller's transaction alone (a request's check of a few URLs).
    """
    base_url = current_app.config["PUBLIC_BASE_URL"]
    batch_id, gtin, lot_code = batch.id, batch.product.gtin, batch.lot_code  # read now, not after a commit
    prefix = f"{base_url.rstrip('/')}/t/"
    first, last = plan.first_item_id or 0, plan.last_item_id

    def urls() -> Iterator[tuple[str, str]]:
        after = first - 1
        while True:
            rows = db.session.execute(
                select(Item.id, Item.serial, Item.public_code)
                .where(Item.batch_id == batch_id, Item.id > after, Item.id <= last)
                .order_by(Item.id)
                .limit(chunk)
            ).all()
            if end_transactions:
                db.session.commit()
            for _id, serial, code in rows:
                yield (item_uri(base_url, gtin, lot_code, serial) if gtin else prefix + code), serial
            if len(rows) < chunk:
                return
            after = rows[-1][0]

    return urls()


def item_range_count(batch: Batch, plan: LabelPlan) -> int:
    """How many labels the plan prints today (items of its range may have been deleted or slipped in)."""
    if plan.first_item_id is None:
        return plan.count
    return (
        db.session.scalar(
            select(func.count(Item.id)).where(
                Item.batch_id == batch.id, Item.id.between(plan.first_item_id, plan.last_item_id)
            )
        )
        or 0
    )


def render_sheet(
    plan: LabelPlan,
    text: LabelText,
    urls: Iterable[str],
    output: BinaryIO,
    *,
    count: int | None = None,
    progress: Callable[[int], None] | None = None,
    parallel: bool = False,
) -> int:
    """Write the label sheet of ``urls`` (from ``label_urls``) as PDF to ``output``; the number of labels.

    ``count``: how many URLs ``urls`` yields (default: the plan's count). Page
    by page to ``output``, with memory flat in the number of labels.

    ``parallel``: encode the codes in the process's encoder pool
    (``labels.encoders``), for the job worker and the command line. A request
    draws in its own process and starts nothing (STYLE rule 17): asked for
    within one, it is refused.
    """
    count = plan.count if count is None else count
    if not count:
        raise InvalidInput(_l("The items to print no longer exist."))
    if parallel and has_request_context():
        raise RuntimeError("a request never starts a process pool: draw in the request, or queue a label job")
    try:
        render_labels(
            output,
            plan.template,
            text,
            urls,
            serials=urls.serials if isinstance(urls, ItemUrls) else None,
            count=count,
            error_correction=plan.error_correction,
            progress=progress,
            workers=default_workers(count) if parallel else 1,
        )
    except LabelSizeError as error:
        raise size_refusal(error) from error
    return count


def download_name(batch: Batch, template: str) -> str:
    """A safe file name for the sheet: nhan-{lot}-{template}.pdf."""
    lot = "".join(
        char if char.isascii() and (char.isalnum() or char in "-_") else "_" for char in batch.lot_code
    )
    return f"nhan-{lot}-{template}.pdf"
