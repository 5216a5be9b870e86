"""Deterministic synthetic pump and motor data with labelled, injected faults."""

from pdm.simulation.assets import CHANNELS, UNITS, AssetKind, AssetSpec, default_roster
from pdm.simulation.datasets import DatasetFiles, write_csv_dataset
from pdm.simulation.faults import (
    FaultKind,
    FaultSpec,
    FaultSpecError,
    format_span,
    parse_fault,
    parse_faults,
    parse_span,
)
from pdm.simulation.labels import LabelWindow
from pdm.simulation.simulator import SimSlice, Simulator

__all__ = [
    "CHANNELS",
    "UNITS",
    "AssetKind",
    "AssetSpec",
    "DatasetFiles",
    "FaultKind",
    "FaultSpec",
    "FaultSpecError",
    "LabelWindow",
    "SimSlice",
    "Simulator",
    "default_roster",
    "format_span",
    "parse_fault",
    "parse_faults",
    "parse_span",
    "write_csv_dataset",
]
