"""check_event_time: the accepted window around a clock passed in as an argument."""

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from pdm.contracts import EventTimePolicy, check_event_time, event_time_mask, parse_event_time, to_epoch_ms

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


def test_a_reading_from_just_now_is_accepted() -> None:
    reason = check_event_time(NOW - timedelta(seconds=1), NOW)

    assert reason is None


def test_up_to_five_minutes_of_clock_skew_is_accepted_and_no_more() -> None:
    at_limit = check_event_time(NOW + timedelta(minutes=5), NOW)
    beyond = check_event_time(NOW + timedelta(minutes=5, milliseconds=1), NOW)

    assert at_limit is None
    assert beyond is not None and "future" in beyond


def test_readings_older_than_ten_years_are_rejected_even_as_backfill() -> None:
    reason = check_event_time(NOW - timedelta(days=3654), NOW, backfill=True)

    assert reason is not None and "older" in reason


def test_a_live_age_limit_sends_old_data_to_backfill() -> None:
    policy = EventTimePolicy(max_live_age=timedelta(days=1))
    old = NOW - timedelta(days=2)

    live = check_event_time(old, NOW, policy)
    backfill = check_event_time(old, NOW, policy, backfill=True)

    assert live is not None and "backfill" in live
    assert backfill is None


def test_epoch_milliseconds_and_datetimes_are_judged_alike() -> None:
    ts = NOW + timedelta(hours=1)

    assert check_event_time(ts, NOW) == check_event_time(to_epoch_ms(ts), NOW)


def test_the_vectorised_mask_agrees_with_the_scalar_check() -> None:
    policy = EventTimePolicy(max_future_skew=timedelta(seconds=10), max_age=timedelta(hours=1))
    offsets_s = np.array([-7200, -3600, -1, 0, 10, 11])
    ts_ms = to_epoch_ms(NOW) + offsets_s * 1000

    mask = event_time_mask(ts_ms, NOW, policy)

    expected = [check_event_time(int(t), NOW, policy) is None for t in ts_ms]
    assert mask.tolist() == expected == [False, True, True, True, True, False]


ARABIC_2026 = "\u0662\u0660\u0662\u0666"
FULLWIDTH_123 = "\uff11\uff12\uff13"


@pytest.mark.parametrize("text", [f"{ARABIC_2026}-01-01T00:00:00Z", f"2026-01-01T00:00:00.{FULLWIDTH_123}Z",
                                  "2026-01-01T00:00:00+0\u0661:00"])
def test_event_time_text_takes_only_ascii_digits(text: str) -> None:
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_event_time(text)
