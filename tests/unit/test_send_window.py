"""The marketing window: open/closed, next opening, DST, validation."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from airflow_provider_tencent_sms.send_window import SendWindow

SHANGHAI = ZoneInfo("Asia/Shanghai")
BEIJING_DEFAULT = SendWindow.parse(("08:00", "22:00"), "Asia/Shanghai")


def bj(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("moment", "is_open"),
    [
        (bj(2026, 11, 25, 7, 59, 59), False),
        (bj(2026, 11, 25, 8, 0, 0), True),
        (bj(2026, 11, 25, 21, 59, 59), True),
        (bj(2026, 11, 25, 22, 0, 0), False),
        (bj(2026, 11, 25, 3, 0, 0), False),
    ],
)
def test_is_open(moment, is_open):
    assert BEIJING_DEFAULT.is_open(moment) is is_open


def test_before_opening_waits_until_eight_the_same_day():
    opening = BEIJING_DEFAULT.next_opening(bj(2026, 11, 25, 7, 59, 55))
    assert opening == bj(2026, 11, 25, 8, 0)
    assert opening - bj(2026, 11, 25, 7, 59, 55) == timedelta(seconds=5)


def test_after_closing_waits_until_eight_the_next_day():
    assert BEIJING_DEFAULT.next_opening(bj(2026, 11, 25, 22, 0, 1)) == bj(2026, 11, 26, 8, 0)


def test_input_in_utc_is_read_in_the_window_zone():
    # 23:30 UTC is 07:30 the next day in Beijing.
    now = datetime(2026, 11, 24, 23, 30, tzinfo=timezone.utc)
    assert not BEIJING_DEFAULT.is_open(now)
    assert BEIJING_DEFAULT.next_opening(now) == datetime(2026, 11, 25, 0, 0, tzinfo=timezone.utc)


def test_closing_and_opening_of_the_day():
    now = bj(2026, 11, 25, 21, 59, 58)
    assert BEIJING_DEFAULT.closing(now) == bj(2026, 11, 25, 22, 0)
    assert BEIJING_DEFAULT.opening(now) == bj(2026, 11, 25, 8, 0)


def test_dst_zone_on_its_change_day_opens_at_local_eight():
    window = SendWindow.parse(("08:00", "22:00"), "America/New_York")
    # 2026-03-08: clocks jump from 02:00 to 03:00 in New York. At 01:00 EST the next opening is 08:00 EDT.
    before = datetime(2026, 3, 8, 6, 0, tzinfo=timezone.utc)  # 01:00 EST
    opening = window.next_opening(before)
    assert opening.astimezone(timezone.utc) == datetime(2026, 3, 8, 12, 0, tzinfo=timezone.utc)  # 08:00 EDT
    assert opening - before == timedelta(hours=6)  # not 7: an hour of that night does not exist
    # Autumn: 2026-11-01, 01:00-02:00 happens twice; 08:00 EST is 13:00 UTC.
    autumn = window.next_opening(datetime(2026, 11, 1, 4, 0, tzinfo=timezone.utc))
    assert autumn.astimezone(timezone.utc) == datetime(2026, 11, 1, 13, 0, tzinfo=timezone.utc)


def test_opening_inside_a_dst_gap_moves_forward():
    window = SendWindow.parse(("02:30", "22:00"), "America/New_York")
    opening = window.next_opening(datetime(2026, 3, 8, 5, 0, tzinfo=timezone.utc))
    assert opening.astimezone(timezone.utc) == datetime(2026, 3, 8, 7, 30, tzinfo=timezone.utc)  # 03:30 EDT


@pytest.mark.parametrize(
    ("window", "zone", "message"),
    [
        (("8:00", "22:00"), "Asia/Shanghai", "HH:MM"),
        (("08:00", "24:00"), "Asia/Shanghai", "HH:MM"),
        (("22:00", "08:00"), "Asia/Shanghai", "empty"),
        (("08:00", "08:00"), "Asia/Shanghai", "empty"),
        (("08:00",), "Asia/Shanghai", "pair"),
        ("08:00-22:00", "Asia/Shanghai", "pair"),
        (("08:00", "22:00"), "Mars/Olympus", "time zone"),
        (("08:00", "22:00"), "", "time zone"),
    ],
)
def test_bad_windows_say_what_is_wrong(window, zone, message):
    with pytest.raises(ValueError, match=message):
        SendWindow.parse(window, zone)


def test_describe_gives_local_and_utc():
    text = BEIJING_DEFAULT.describe(bj(2026, 11, 26, 8, 0))
    assert "2026-11-26 08:00:00 CST (Asia/Shanghai)" in text
    assert "2026-11-26 00:00:00 UTC" in text
