"""A serialised item's page from its lot's shared item page: the per-code facts filled in, no template.

Every item of a lot shows the same page but for its serial, its ``/t/``
code (in its URLs and report link) and its scans. So the page is rendered
once per lot and language for a stand-in item whose serial and code are
random markers and whose facts are two marker comments, and kept in the
page cache with the lot's scopes (a recall, a new event or an item's change
makes it stale, like the lot's own page). Serving an item is then string
work: its two fact fragments (``item_facts``, built here in Python, the
same ones a full render shows) and its serial and code in place of the
markers.

The markers are letters and digits, unchanged by every escaping the page
applies (HTML, JSON-LD, percent-encoding, a query string), so a real value
made of the same characters (``SAFE_VALUE``, which every serial
``create_serials`` makes and every ``/t/`` code is) stands in for them
exactly; an item whose serial holds other GS1 characters (``&``, ``<``,
``%``...) gets a full render, as before.
"""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass
from typing import Any

from flask_babel import format_datetime, get_translations
from markupsafe import Markup

from traceability.models.batches import Batch
from traceability.public.copied_codes import DEVICES_AT_ONCE, MANY_DAYS, MANY_SCANS, CopiedCodeRule, ScanTally

SAFE_VALUE = re.compile(r"^[A-Za-z0-9._-]{1,32}$")


@dataclass(frozen=True)
class ItemFacts:
    """The two fragments of an item's page that are its own: the copied-code warning and its scans."""

    warning: Markup
    section: Markup


@dataclass(frozen=True)
class StandIn:
    """The item of a lot's shared item page: its serial and code are the markers of ``nonce``."""

    batch: Batch
    serial: str
    public_code: str
    id: None = None


def new_nonce() -> str:
    return secrets.token_hex(8)


def serial_marker(nonce: str) -> str:
    return f"Zs{nonce}"


def code_marker(nonce: str) -> str:
    return f"ZC{nonce.upper()}"


@functools.lru_cache(maxsize=4096)  # one per shared page in use; bounded
def marker_facts(nonce: str) -> ItemFacts:
    return ItemFacts(
        Markup("<!--item-warning-{}-->").format(nonce), Markup("<!--item-scans-{}-->").format(nonce)
    )


def stand_in(batch: Batch, nonce: str) -> StandIn:
    return StandIn(batch, serial_marker(nonce), code_marker(nonce))


def fills_exactly(serial: str, public_code: str) -> bool:
    """Whether this item's values can replace the markers (the same under every escaping)."""
    return bool(SAFE_VALUE.match(serial) and SAFE_VALUE.match(public_code))


def fill(html: str, nonce: str, serial: str, public_code: str, facts: ItemFacts) -> str:
    """The shared item page of ``nonce`` as the item's own: its facts first (they hold the code's marker)."""
    if nonce not in html and nonce.upper() not in html:  # a header without markers
        return html
    markers = marker_facts(nonce)
    return (
        html.replace(markers.warning, facts.warning)
        .replace(markers.section, facts.section)
        .replace(serial_marker(nonce), serial)
        .replace(code_marker(nonce), public_code)
    )


def item_facts(tally: ScanTally, rule: CopiedCodeRule, report_url: str) -> ItemFacts:
    """The item's copied-code warning (empty without) and its scans section, escaped, in the current language.

    ``tally`` holds the scans before this one; the first scan in Vietnam's time.
    The language's catalogue is looked up once (the fast path fills an item's
    page per scan; each of Flask-Babel's own calls looks it up again).
    """
    translations = get_translations()

    def _(message: str) -> str:
        return translations.ugettext(message)

    def ngettext(singular: str, plural: str, num: int, **variables: Any) -> str:
        return translations.ungettext(singular, plural, num) % {"num": num, **variables}

    signal = tally.signal(rule)
    warning = Markup("")
    if signal.suspicious:
        reasons = {
            MANY_SCANS: lambda: ngettext(
                "It has been scanned %(num)d time.", "It has been scanned %(num)d times.", tally.count
            ),
            MANY_DAYS: lambda: _("It has been scanned on many different days."),
            DEVICES_AT_ONCE: lambda: _("It was scanned on different kinds of device within a few minutes."),
        }
        items = Markup("").join(Markup("<li>{}</li>").format(reasons[reason]()) for reason in signal.reasons)
        warning = Markup(
            '<section class="alert alert-warning copied-code-warning" role="alert" id="copied-code">\n'
            "    <h2>{title}</h2>\n    <ul>{items}</ul>\n"
            '    <p>{advice} <a href="{report_url}" rel="nofollow">{report}</a></p>\n  </section>'
        ).format(
            title=_("Warning: this code may have been copied"),
            items=items,
            advice=_(
                "Each package has its own code, scanned by its buyer. This one may be a copy: "
                "check the package and tell the centre."
            ),
            report_url=report_url,
            report=_("Report a problem"),
        )
    if tally.count and tally.first_at is not None:
        # Shown in Vietnam's time (BABEL_DEFAULT_TIMEZONE), as every time on the page.
        first = format_datetime(tally.first_at, "dd/MM/yyyy HH:mm")
        body: Any = Markup('<p class="scan-count">{count}</p>\n      <p class="muted">{advice}</p>').format(
            count=ngettext(
                "This code was scanned %(num)d time before, first on %(first)s.",
                "This code was scanned %(num)d times before, first on %(first)s.",
                tally.count,
                first=first,
            ),
            advice=_(
                "Each package has its own code. If you did not scan it before, it may be a copy: "
                "check the package and report a problem to the producer's centre."
            ),
        )
    else:
        body = Markup('<p class="scan-count">{}</p>').format(_("This is the first scan of this code."))
    section = Markup(
        '<section class="consumer-section scan-history" id="scans">\n    <h2>{title}</h2>\n      {body}\n  </section>'
    ).format(title=_("Scans of this code"), body=body)
    return ItemFacts(warning, section)
