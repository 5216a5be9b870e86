"""Binary COPY rows of archive blocks (asset, channels, ts[], revision[], flags[], vals[][]) in numpy."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
HEADER = 19  # signature (11) + flags (4) + header extension length (4)
PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in Unix microseconds, where timestamptz counts from


class BlockFormatError(ValueError):
    """A COPY row is not the block shape this reader asked the server for."""


@dataclass(frozen=True)
class Block:
    """Readings of one asset with one channel list, in the order the server aggregated them."""

    asset_id: str
    channels: tuple[str, ...]
    ts_ms: np.ndarray
    revision: np.ndarray
    flags: np.ndarray
    values: np.ndarray  # (rows, len(channels))

    def columns(self, wanted: Sequence[str]) -> np.ndarray:
        """Values in `wanted` order; NaN for a channel this block does not carry."""
        out = np.full((len(self.ts_ms), len(wanted)), np.nan)
        index = {name: i for i, name in enumerate(self.channels)}
        for j, name in enumerate(wanted):
            if name in index:
                out[:, j] = self.values[:, index[name]]
        return out


def parse_block(raw: bytes) -> Block | None:
    """One tuple, or None for the end of the stream; the header rides on the first message."""
    offset = HEADER if raw.startswith(SIGNATURE) else 0
    (fields,) = struct.unpack_from(">h", raw, offset)
    if fields == -1:
        return None
    if fields != 6:
        raise BlockFormatError(f"expected 6 fields, got {fields}")
    offset += 2
    parts = []
    for _ in range(fields):
        (length,) = struct.unpack_from(">i", raw, offset)
        parts.append(memoryview(raw)[offset + 4 : offset + 4 + length])
        offset += 4 + length
    asset, channels, ts, revision, flags, vals = parts
    ts_ms = (_array(ts, ">i8")[0].astype(np.int64) + PG_EPOCH_US) // 1000
    names = tuple(bytes(n).decode() for n in _texts(channels))
    values, _ = _array(vals, ">f8")
    return Block(bytes(asset).decode(), names, ts_ms, _array(revision, ">i4")[0].astype(np.int32),
                 _array(flags, ">i2")[0].astype(np.int16),
                 values.astype(np.float64).reshape(len(ts_ms), len(names)) if len(names) else
                 np.empty((len(ts_ms), 0)))


def _array(buf: memoryview, dtype: str) -> tuple[np.ndarray, tuple[int, ...]]:
    """A fixed-size element array; NULL elements (older writers) become NaN on a slow path."""
    ndim, _, _ = struct.unpack_from(">iii", buf, 0)
    dims = struct.unpack_from(f">{2 * ndim}i", buf, 12)[::2]
    start = 12 + 8 * ndim
    size = np.dtype(dtype).itemsize
    count = int(np.prod(dims)) if ndim else 0
    stride = np.dtype([("len", ">i4"), ("v", dtype)])
    if len(buf) - start == count * stride.itemsize:
        cells = np.frombuffer(buf, dtype=stride, count=count, offset=start)
        if (cells["len"] == size).all():
            return cells["v"], tuple(dims)
    return _with_nulls(buf, start, count, dtype), tuple(dims)


def _with_nulls(buf: memoryview, start: int, count: int, dtype: str) -> np.ndarray:
    out = np.full(count, np.nan)
    offset = start
    for i in range(count):
        (length,) = struct.unpack_from(">i", buf, offset)
        offset += 4
        if length >= 0:
            out[i] = np.frombuffer(buf, dtype=dtype, count=1, offset=offset)[0]
            offset += length
    return out


def _texts(buf: memoryview) -> list[memoryview]:
    ndim, _, _ = struct.unpack_from(">iii", buf, 0)
    count = struct.unpack_from(">i", buf, 12)[0] if ndim else 0
    offset, items = 12 + 8 * ndim, []
    for _ in range(count):
        (length,) = struct.unpack_from(">i", buf, offset)
        items.append(buf[offset + 4 : offset + 4 + length])
        offset += 4 + length
    return items
