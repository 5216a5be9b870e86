"""Replay output files: Parquet when pyarrow is installed, else NPZ; metadata travels in the file."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

METADATA_KEY = "pdm"


class OutputFormatError(ValueError):
    """The file name asks for a format this installation cannot write."""


def parquet_available() -> bool:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        return False
    return True


def default_suffix() -> str:
    return ".parquet" if parquet_available() else ".npz"


def write_columns(path: Path, columns: Mapping[str, np.ndarray], metadata: Mapping[str, Any]) -> Path:
    """Columns of equal length; `metadata` (feature-set version, range, watermark…) as JSON."""
    if path.suffix == ".parquet":
        if not parquet_available():
            raise OutputFormatError("Parquet needs pyarrow (pip install 'pdm-maintenance[parquet]'); "
                                    "or name the output *.npz")
        _write_parquet(path, columns, metadata)
    elif path.suffix == ".npz":
        _write_npz(path, columns, metadata)
    else:
        raise OutputFormatError(f"unknown output format {path.suffix!r}: use .parquet or .npz")
    return path


def read_columns(path: Path) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        table = pq.read_table(path)
        meta = json.loads((table.schema.metadata or {}).get(METADATA_KEY.encode(), b"{}"))
        return {name: table.column(name).to_numpy() for name in table.column_names}, meta
    with np.load(path, allow_pickle=False) as data:
        meta = json.loads(str(data["__metadata__"]))
        return {k: data[k] for k in data.files if k != "__metadata__"}, meta


def _write_parquet(path: Path, columns: Mapping[str, np.ndarray], metadata: Mapping[str, Any]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrays = {}
    for name, values in columns.items():
        if values.dtype == object:
            arrays[name] = pa.array(values.tolist(), pa.string())
        elif name == "ts":
            arrays[name] = pa.array(values.astype("datetime64[ms]"), pa.timestamp("ms", tz="UTC"))
        else:
            arrays[name] = pa.array(values)
    table = pa.table(arrays).replace_schema_metadata({METADATA_KEY: json.dumps(metadata, sort_keys=True)})
    pq.write_table(table, path)


def _write_npz(path: Path, columns: Mapping[str, np.ndarray], metadata: Mapping[str, Any]) -> None:
    """Strings as fixed-width unicode: NPZ then loads without pickle."""
    plain = {name: v.astype(str) if v.dtype == object else v for name, v in columns.items()}
    np.savez(path, __metadata__=np.array(json.dumps(metadata, sort_keys=True)), **plain)
