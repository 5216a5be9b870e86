"""Labelled fault specs and the `--faults` grammar: `kind:asset[#channel]@start[+duration]`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Final


class FaultKind(StrEnum):
    BEARING_WEAR = "bearing_wear"
    OVERHEAT = "overheat"
    IMBALANCE = "imbalance"
    STUCK = "stuck"
    SPIKE = "spike"


class FaultSpecError(ValueError):
    """A `--faults` value that does not follow the grammar; the message says where."""


AFFECTED_CHANNEL: Final = {
    FaultKind.BEARING_WEAR: "vibration_rms",
    FaultKind.OVERHEAT: "temperature_c",
    FaultKind.IMBALANCE: "vibration_rms",
    FaultKind.STUCK: "temperature_c",
    FaultKind.SPIKE: "vibration_rms",
}
CHANNEL_CHOOSABLE: Final = frozenset({FaultKind.STUCK, FaultKind.SPIKE})
DEFAULT_DURATION: Final = {
    FaultKind.BEARING_WEAR: timedelta(minutes=30),
    FaultKind.OVERHEAT: timedelta(minutes=15),
    FaultKind.IMBALANCE: timedelta(minutes=10),
    FaultKind.STUCK: timedelta(minutes=10),
    FaultKind.SPIKE: timedelta(seconds=1),
}
GRAMMAR: Final = "kind:asset[#channel]@start[+duration], e.g. bearing_wear:pump-3@10m+20m"

_FAULT = re.compile(r"(?P<kind>[a-z_]+):(?P<asset>[^@#]+)(?:#(?P<channel>[^@]+))?@(?P<when>.+)")
_SPAN = re.compile(r"(?:(\d+(?:\.\d+)?)(ms|s|m|h|d))")
_UNIT_SECONDS: Final = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


@dataclass(frozen=True, slots=True)
class FaultSpec:
    """One injected fault: from `start` after the simulation start, for `duration`."""

    kind: FaultKind
    asset_id: str
    start: timedelta
    duration: timedelta
    channel: str

    def __str__(self) -> str:
        channel = f"#{self.channel}" if self.kind in CHANNEL_CHOOSABLE else ""
        return (
            f"{self.kind.value}:{self.asset_id}{channel}"
            f"@{format_span(self.start)}+{format_span(self.duration)}"
        )

    @property
    def end(self) -> timedelta:
        return self.start + self.duration


def parse_faults(text: str) -> list[FaultSpec]:
    """Parse a comma-separated list; an empty string means no faults."""
    specs = []
    for number, part in enumerate(p.strip() for p in text.split(",") if p.strip()):
        try:
            specs.append(parse_fault(part))
        except FaultSpecError as exc:
            raise FaultSpecError(f"fault {number + 1} {part!r}: {exc}") from None
    return specs


def parse_fault(text: str) -> FaultSpec:
    match = _FAULT.fullmatch(text.strip())
    if match is None:
        raise FaultSpecError(f"expected {GRAMMAR}")
    kind = _kind(match["kind"])
    start_text, plus, duration_text = match["when"].partition("+")
    start = parse_span(start_text, "start")
    duration = parse_span(duration_text, "duration") if plus else DEFAULT_DURATION[kind]
    if duration <= timedelta(0):
        raise FaultSpecError("duration must be positive")
    return FaultSpec(kind, match["asset"], start, duration, _channel(kind, match["channel"]))


def _kind(text: str) -> FaultKind:
    try:
        return FaultKind(text)
    except ValueError:
        known = ", ".join(k.value for k in FaultKind)
        raise FaultSpecError(f"unknown fault kind {text!r}; use one of {known}") from None


def _channel(kind: FaultKind, channel: str | None) -> str:
    if channel is None:
        return AFFECTED_CHANNEL[kind]
    if kind not in CHANNEL_CHOOSABLE:
        raise FaultSpecError(
            f"{kind.value} always affects {AFFECTED_CHANNEL[kind]}; '#channel' is only for "
            f"{', '.join(sorted(CHANNEL_CHOOSABLE))}"
        )
    return channel


def parse_span(text: str, what: str = "time") -> timedelta:
    """`90s`, `10m`, `1h30m`, `1.5h`, `2d`: one or more number+unit pairs."""
    text = text.strip()
    if not text or _SPAN.sub("", text):
        raise FaultSpecError(
            f"{what} {text!r} is not a time span; write e.g. 90s, 10m, 1h30m (units ms s m h d)"
        )
    seconds = sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _SPAN.findall(text))
    return timedelta(seconds=seconds)


def format_span(span: timedelta) -> str:
    ms = span // timedelta(milliseconds=1)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms and ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"
