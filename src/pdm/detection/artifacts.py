"""Model artifacts: canonical bytes (JSON header + raw little-endian arrays), no pickle.

Canonical means the same model always serialises to the same bytes, so the sha256 of the
bytes is a content hash that a ModelVersion event can carry and any node can re-verify.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAGIC = b"PDMART1\n"


class ArtifactFormatError(ValueError):
    """The bytes are not a pdm model artifact, or were altered."""


@dataclass(frozen=True)
class ModelArtifact:
    algorithm: str
    params: dict[str, Any]
    feature_set: str
    feature_names: tuple[str, ...]
    training_window: tuple[str, str]
    """ISO-8601 event times of the first and last training reading."""
    threshold: float | None
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def header(self) -> dict[str, Any]:
        manifest = []
        for name in sorted(self.arrays):
            array = np.asarray(self.arrays[name])
            dtype = array.dtype.newbyteorder("<") if array.dtype.byteorder != "|" else array.dtype
            manifest.append({"name": name, "dtype": dtype.str, "shape": list(array.shape)})
        return {
            "algorithm": self.algorithm,
            "params": self.params,
            "feature_set": self.feature_set,
            "feature_names": list(self.feature_names),
            "training_window": list(self.training_window),
            "threshold": self.threshold,
            "arrays": manifest,
        }

    def to_bytes(self) -> bytes:
        header = json.dumps(self.header(), sort_keys=True, separators=(",", ":")).encode()
        payload = b"".join(
            np.ascontiguousarray(self.arrays[entry["name"]], dtype=np.dtype(entry["dtype"])).tobytes()
            for entry in self.header()["arrays"]
        )
        return MAGIC + struct.pack("<Q", len(header)) + header + payload

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.to_bytes()).hexdigest()

    @classmethod
    def from_bytes(cls, raw: bytes) -> ModelArtifact:
        if not raw.startswith(MAGIC):
            raise ArtifactFormatError("not a pdm model artifact")
        (length,) = struct.unpack_from("<Q", raw, len(MAGIC))
        start = len(MAGIC) + 8
        header = json.loads(raw[start : start + length])
        arrays, offset = {}, start + length
        for entry in header["arrays"]:
            dtype = np.dtype(entry["dtype"])
            count = int(np.prod(entry["shape"], dtype=np.int64))
            chunk = raw[offset : offset + count * dtype.itemsize]
            if len(chunk) != count * dtype.itemsize:
                raise ArtifactFormatError(f"array {entry['name']} is truncated")
            arrays[entry["name"]] = np.frombuffer(chunk, dtype=dtype).reshape(entry["shape"]).copy()
            offset += count * dtype.itemsize
        if offset != len(raw):
            raise ArtifactFormatError("trailing bytes after the last array")
        return cls(
            header["algorithm"],
            header["params"],
            header["feature_set"],
            tuple(header["feature_names"]),
            (header["training_window"][0], header["training_window"][1]),
            header["threshold"],
            arrays,
        )
