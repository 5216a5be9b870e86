"""Values an asset holds: sensor channels with their ranges, and maintenance records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from pdm.domain.errors import InvalidChannelError

UNCLASSIFIED = "unclassified"


@dataclass(frozen=True)
class ChannelSpec:
    """One sensor channel; the expected range is what an operator calls normal."""

    unit: str
    low: float | None = None
    high: float | None = None

    def check(self, name: str) -> None:
        if self.low is not None and self.high is not None and not self.low < self.high:
            raise InvalidChannelError(f"channel {name}: low must be below high")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChannelSpec:
        return cls(unit=data["unit"], low=data.get("low"), high=data.get("high"))


@dataclass(frozen=True)
class MaintenanceRecord:
    work_order_id: str
    kind: str
    findings: str
    fault_confirmed: bool
    started_at: datetime
    ended_at: datetime


Channels = Mapping[str, ChannelSpec]


def channels_as_data(channels: Channels) -> dict[str, dict[str, Any]]:
    """Events hold plain JSON data, so a stored event never depends on a value class."""
    for name, spec in channels.items():
        spec.check(name)
    return {name: asdict(spec) for name, spec in channels.items()}
