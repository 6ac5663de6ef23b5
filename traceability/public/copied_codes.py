"""Whether the scans of one serialised item's code suggest the code was copied: pure Python, no Flask.

Each package of a serialised batch carries its own code, so one genuine code
is scanned by one buyer, a few times, on one phone. A code printed on many
packages (a copied label) is scanned by many people. A scan stores no IP
address and no location (``Scan``): only its time, the page's language and a
coarse device class. So "far apart" can't be measured in kilometres; what the
rule reads instead is *who* scanned, as far as the stored data shows it.

The rule, each part with its setting (``COPIED_CODE_*``):

- **many scans**: the code was scanned at least ``max_scans`` times (20);
- **many days**: it was scanned on at least ``max_days`` different days (7),
  counted in Vietnam's time: one buyer scans a package around the purchase,
  copies on a market's shelves are scanned week after week;
- **two devices at once**: two scans less than ``window`` apart (10 minutes)
  came from different kinds of device (a phone and a tablet or a computer):
  two packages with the same code in two hands at the same time. Only the
  known kinds count (``mobile``, ``tablet``, ``desktop``); ``other`` says too
  little. The page's language is deliberately not used: switching the page
  to English reloads it, and that reload is a scan of the same person in
  another language a few seconds later.

Any one part is enough for the warning; the reasons say which, so the page
can explain it. The scans given are the code's earlier scans (not the one
being answered), any order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from traceability.core.dates import VIETNAM_OFFSET

KNOWN_DEVICES = ("mobile", "tablet", "desktop")

MANY_SCANS = "many_scans"
MANY_DAYS = "many_days"
DEVICES_AT_ONCE = "devices_at_once"


@dataclass(frozen=True)
class ScanMark:
    """What is stored of one scan: when (aware datetime) and the kind of device."""

    scanned_at: datetime
    device_class: str


@dataclass(frozen=True)
class CopiedCodeRule:
    """The thresholds of the rule (see the module docstring)."""

    max_scans: int = 20
    max_days: int = 7
    window: timedelta = timedelta(minutes=10)


@dataclass(frozen=True)
class CopiedCodeSignal:
    """The parts of the rule the scans met; none means no warning."""

    reasons: tuple[str, ...] = ()

    @property
    def suspicious(self) -> bool:
        return bool(self.reasons)


def copied_code_signal(
    scans: Iterable[ScanMark], rule: CopiedCodeRule, *, total: int | None = None
) -> CopiedCodeSignal:
    """Which parts of the copied-code rule the earlier scans of one code meet.

    ``total`` is the number of scans when ``scans`` holds only the latest of
    them (a long history is not loaded whole); by default, ``len(scans)``.
    """
    marks = sorted(scans, key=lambda mark: mark.scanned_at)
    count = len(marks) if total is None else max(total, len(marks))
    reasons = []
    if count >= rule.max_scans:
        reasons.append(MANY_SCANS)
    days = {mark.scanned_at.astimezone(VIETNAM_OFFSET).date() for mark in marks}
    if len(days) >= rule.max_days:
        reasons.append(MANY_DAYS)
    if _devices_at_once(marks, rule.window):
        reasons.append(DEVICES_AT_ONCE)
    return CopiedCodeSignal(tuple(reasons))


def _devices_at_once(marks: list[ScanMark], window: timedelta) -> bool:
    """Two scans (in time order) from different known kinds of device less than ``window`` apart."""
    last_seen: dict[str, datetime] = {}
    for mark in marks:
        if mark.device_class not in KNOWN_DEVICES:
            continue
        for device, seen_at in last_seen.items():
            if device != mark.device_class and mark.scanned_at - seen_at < window:
                return True
        last_seen[mark.device_class] = mark.scanned_at
    return False
