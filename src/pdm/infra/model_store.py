"""Model artifacts in PostgreSQL by content hash: saved once, loaded and re-verified by any node."""

from __future__ import annotations

import hashlib

from pdm.infra.database import connect


class ArtifactNotFoundError(LookupError):
    """No artifact with this hash was saved (or its bytes no longer match the hash)."""


def artifact_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def save_artifact(conninfo: str, schema: str, body: bytes) -> str:
    """Idempotent: the hash is the key, so saving the same bytes twice is a no-op."""
    digest = artifact_hash(body)
    with connect(conninfo, schema) as conn:
        conn.execute(
            "INSERT INTO model_artifacts (artifact_hash, body) VALUES (%s, %s) ON CONFLICT DO NOTHING",
            (digest, body),
        )
        conn.commit()
    return digest


def load_artifact(conninfo: str, schema: str, digest: str) -> bytes:
    """The bytes are hashed again: a corrupted or tampered row is refused, never scored."""
    digest = digest.removeprefix("sha256:")
    with connect(conninfo, schema) as conn:
        row = conn.execute("SELECT body FROM model_artifacts WHERE artifact_hash = %s", (digest,)).fetchone()
    if row is None or artifact_hash(bytes(row[0])) != digest:
        raise ArtifactNotFoundError(digest)
    return bytes(row[0])
