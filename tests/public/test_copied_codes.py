"""The copied-code rule on the earlier scans of one serialised item's code: pure, no app, no database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from traceability.public.copied_codes import (
    DEVICES_AT_ONCE,
    MANY_DAYS,
    MANY_SCANS,
    CopiedCodeRule,
    ScanMark,
    copied_code_signal,
)

RULE = CopiedCodeRule(max_scans=20, max_days=7, window=timedelta(minutes=10))
START = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam


def marks(*offsets_and_devices: tuple[timedelta, str]) -> list[ScanMark]:
    return [ScanMark(START + offset, device) for offset, device in offsets_and_devices]


def test_a_buyer_scanning_a_few_times_on_one_phone_is_not_a_copy():
    history = marks(
        (timedelta(0), "mobile"),
        (timedelta(minutes=1), "mobile"),
        (timedelta(days=2, hours=3), "mobile"),
    )
    signal = copied_code_signal(history, RULE)
    assert not signal.suspicious and signal.reasons == ()


def test_no_scans_is_not_a_copy():
    assert not copied_code_signal([], RULE).suspicious


def test_many_scans_of_one_code_are_a_copy_from_the_threshold_on():
    nineteen = marks(*((timedelta(minutes=30 * n), "mobile") for n in range(19)))
    assert MANY_SCANS not in copied_code_signal(nineteen, RULE).reasons
    twenty = marks(*((timedelta(minutes=30 * n), "mobile") for n in range(20)))
    assert copied_code_signal(twenty, RULE).reasons == (MANY_SCANS,)


def test_the_total_counts_when_only_the_latest_scans_are_given():
    latest = marks((timedelta(0), "mobile"), (timedelta(minutes=2), "mobile"))
    assert copied_code_signal(latest, RULE, total=250).reasons == (MANY_SCANS,)
    assert not copied_code_signal(latest, RULE, total=2).suspicious


def test_scans_on_many_days_are_a_copy():
    six_days = marks(*((timedelta(days=n), "mobile") for n in range(6)))
    assert not copied_code_signal(six_days, RULE).suspicious
    seven_days = marks(*((timedelta(days=n), "mobile") for n in range(7)))
    assert copied_code_signal(seven_days, RULE).reasons == (MANY_DAYS,)


def test_days_are_counted_in_vietnam_time():
    # 16:30 and 17:30 UTC are 23:30 and 00:30 in Vietnam: two days there, one day in UTC.
    evening = datetime(2026, 11, 2, 16, 30, tzinfo=UTC)
    across_midnight = [
        ScanMark(evening + timedelta(days=n, hours=h), "mobile") for n in range(4) for h in (0, 1)
    ]
    assert len({mark.scanned_at.date() for mark in across_midnight}) == 4
    rule = CopiedCodeRule(max_scans=100, max_days=5, window=timedelta(minutes=10))
    assert copied_code_signal(across_midnight, rule).reasons == (MANY_DAYS,)


@pytest.mark.parametrize(
    ("first", "second", "gap", "suspicious"),
    [
        ("mobile", "desktop", timedelta(minutes=3), True),
        ("tablet", "mobile", timedelta(minutes=9, seconds=59), True),
        ("mobile", "desktop", timedelta(minutes=10), False),  # the window is strict
        ("mobile", "mobile", timedelta(minutes=1), False),  # the same kind of device: one buyer
        ("mobile", "other", timedelta(minutes=1), False),  # "other" says too little
    ],
)
def test_two_kinds_of_device_within_minutes_are_a_copy(first, second, gap, suspicious):
    history = marks((timedelta(0), first), (gap, second))
    assert (DEVICES_AT_ONCE in copied_code_signal(history, RULE).reasons) is suspicious


def test_devices_at_once_are_found_in_any_order_and_among_other_scans():
    history = marks(
        (timedelta(hours=5), "desktop"),
        (timedelta(0), "mobile"),
        (timedelta(hours=1), "mobile"),
        (timedelta(hours=5, minutes=4), "mobile"),
    )
    assert copied_code_signal(history, RULE).reasons == (DEVICES_AT_ONCE,)


def test_every_part_met_is_a_reason():
    history = marks(
        *(
            (timedelta(days=n, minutes=m), device)
            for n in range(10)
            for m, device in ((0, "mobile"), (2, "tablet"))
        )
    )
    assert copied_code_signal(history, RULE).reasons == (MANY_SCANS, MANY_DAYS, DEVICES_AT_ONCE)
