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
from datetime import UTC, datetime, timedelta

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


# --- the same rule kept as scans come: one row per code (``ItemScan``) ---------------------------


def epoch_ms(moment: datetime) -> int:
    """An aware datetime as whole milliseconds since the epoch (the tally's time unit)."""
    return int(moment.timestamp() * 1000)


def vietnam_day(moment: datetime) -> int:
    """The day number (proleptic ordinal) of ``moment``'s date in Vietnam's time."""
    return moment.astimezone(VIETNAM_OFFSET).date().toordinal()


@dataclass(frozen=True)
class ScanTally:
    """What the rule needs of a code's scans, folded one scan at a time, and the latest scan apart.

    ``add`` folds the latest scan into the tally and keeps the new one as the
    latest, so the tally is always that of the scans *before* the latest: the
    page of a scan shows its earlier scans. ``public.item_scans`` runs the
    same fold as one SQL UPDATE; the tests hold both to ``copied_code_signal``.
    The days counted are the days each scan opened later than every earlier
    one, which is every distinct day when scans come in time order.
    """

    count: int = 0
    first_ms: int | None = None
    days: int = 0
    last_day: int | None = None
    mobile_ms: int | None = None
    tablet_ms: int | None = None
    desktop_ms: int | None = None
    devices_at_once: bool = False
    latest: ScanMark | None = None

    def add(self, mark: ScanMark, window: timedelta) -> ScanTally:
        """The tally once ``mark`` is the latest scan (the previous latest folded in)."""
        return _replace_latest(self.folded(window), mark)

    def folded(self, window: timedelta) -> ScanTally:
        """The tally of every scan, the latest included (what a page that is not a scan shows)."""
        if self.latest is None:
            return self
        at, day = epoch_ms(self.latest.scanned_at), vietnam_day(self.latest.scanned_at)
        device = self.latest.device_class
        seen = {"mobile": self.mobile_ms, "tablet": self.tablet_ms, "desktop": self.desktop_ms}
        window_ms = window / timedelta(milliseconds=1)
        at_once = device in KNOWN_DEVICES and any(
            other != device and other_ms is not None and abs(at - other_ms) < window_ms
            for other, other_ms in seen.items()
        )
        if device in KNOWN_DEVICES:
            seen[device] = at
        new_day = self.last_day is None or day > self.last_day
        return ScanTally(
            count=self.count + 1,
            first_ms=at if self.first_ms is None or at < self.first_ms else self.first_ms,
            days=self.days + (1 if new_day else 0),
            last_day=day if new_day else self.last_day,
            mobile_ms=seen["mobile"],
            tablet_ms=seen["tablet"],
            desktop_ms=seen["desktop"],
            devices_at_once=self.devices_at_once or at_once,
            latest=None,
        )

    @property
    def first_at(self) -> datetime | None:
        """The first of the tallied scans, an aware UTC datetime."""
        if self.first_ms is None:
            return None
        return datetime.fromtimestamp(self.first_ms / 1000, tz=UTC)

    def signal(self, rule: CopiedCodeRule) -> CopiedCodeSignal:
        """The parts of the rule the tallied scans meet (``copied_code_signal`` on the same scans)."""
        reasons = []
        if self.count >= rule.max_scans:
            reasons.append(MANY_SCANS)
        if self.days >= rule.max_days:
            reasons.append(MANY_DAYS)
        if self.devices_at_once:
            reasons.append(DEVICES_AT_ONCE)
        return CopiedCodeSignal(tuple(reasons))


def _replace_latest(tally: ScanTally, mark: ScanMark) -> ScanTally:
    return ScanTally(**{**tally.__dict__, "latest": mark})


def tally_of(marks: Iterable[ScanMark], window: timedelta) -> ScanTally:
    """The tally of ``marks`` (any order), the last of them in time kept as the latest."""
    tally = ScanTally()
    for mark in sorted(marks, key=lambda mark: mark.scanned_at):
        tally = tally.add(mark, window)
    return tally
