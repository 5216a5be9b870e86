"""The `--faults` grammar: kind:asset[#channel]@start[+duration]."""

from datetime import timedelta

import pytest

from pdm.simulation import FaultKind, FaultSpecError, parse_faults, parse_span

pytestmark = pytest.mark.unit


def test_the_documented_example_parses() -> None:
    specs = parse_faults("bearing_wear:pump-3@10m+20m,overheat:motor-1@5m")

    assert [(s.kind, s.asset_id, s.start, s.duration, s.channel) for s in specs] == [
        (
            FaultKind.BEARING_WEAR,
            "pump-3",
            timedelta(minutes=10),
            timedelta(minutes=20),
            "vibration_rms",
        ),
        (
            FaultKind.OVERHEAT,
            "motor-1",
            timedelta(minutes=5),
            timedelta(minutes=15),
            "temperature_c",
        ),
    ]


def test_stuck_and_spike_may_name_a_channel() -> None:
    specs = parse_faults(" stuck:pump-1#pressure_bar@1h30m+90s , spike:motor-2@2.5m ")

    assert specs[0].channel == "pressure_bar"
    assert specs[0].start == timedelta(hours=1, minutes=30)
    assert specs[0].duration == timedelta(seconds=90)
    assert specs[1].duration == timedelta(seconds=1) and specs[1].channel == "vibration_rms"


def test_a_spec_prints_back_to_text_that_parses_to_the_same_spec() -> None:
    specs = parse_faults("imbalance:pump-2@1d+2h,spike:motor-1#current_a@1500ms")

    again = parse_faults(",".join(str(s) for s in specs))

    assert again == specs


def test_an_empty_flag_means_no_faults() -> None:
    assert parse_faults("") == [] and parse_faults(" , ") == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("melt:pump-1@5m", "unknown fault kind 'melt'"),
        ("overheat:pump-1", "expected kind:asset"),
        ("overheat:pump-1@5x", "is not a time span"),
        ("overheat:pump-1@5m+0s", "duration must be positive"),
        ("overheat:pump-1#current_a@5m", "always affects temperature_c"),
        ("overheat:pump-1@5m+", "duration '' is not a time span"),
    ],
)
def test_bad_specs_say_which_fault_and_what_is_wrong(text: str, expected: str) -> None:
    with pytest.raises(FaultSpecError) as caught:
        parse_faults(f"spike:pump-1@1m,{text}")

    assert str(caught.value).startswith(f"fault 2 {text!r}")
    assert expected in str(caught.value)


def test_spans_combine_units() -> None:
    assert parse_span("1d2h3m4s5ms") == timedelta(days=1, hours=2, minutes=3, seconds=4, milliseconds=5)
