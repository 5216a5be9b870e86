"""API keys: generation, hashing and the `api_keys` table (only hashes are stored)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pdm.infra.database import connect, named

SCOPES = ("ingest", "read", "operate", "admin")
TOKEN = re.compile(r"^pdm_(?P<key_id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{32,128})$")
COLUMNS = "key_id, name, scopes, secret_hash, created_at, revoked_at"


class UnknownScopeError(ValueError):
    """A scope outside SCOPES was asked for; the message lists the valid ones."""


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    scopes: frozenset[str]
    secret_hash: bytes
    created_at: datetime | None = None
    revoked_at: datetime | None = None

    def matches(self, secret: str) -> bool:
        """Constant time, so response timing says nothing about how much of a secret was right."""
        return hmac.compare_digest(self.secret_hash, hash_secret(secret))


def hash_secret(secret: str) -> bytes:
    """Plain SHA-256 suffices: the secret is 256 random bits, not a password to brute-force."""
    return hashlib.sha256(secret.encode()).digest()


def parse_token(token: str) -> tuple[str, str] | None:
    match = TOKEN.match(token)
    return (match["key_id"], match["secret"]) if match else None


def generate(name: str, scopes: Iterable[str]) -> tuple[str, ApiKey]:
    """A new key and the token that proves it; the token exists only in the return value."""
    wanted = frozenset(scopes)
    if unknown := wanted - set(SCOPES):
        raise UnknownScopeError(f"unknown scope(s) {sorted(unknown)}; use {', '.join(SCOPES)}")
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    return f"pdm_{key_id}_{secret}", ApiKey(key_id, name, wanted, hash_secret(secret))


class ApiKeyStore:
    """The `api_keys` table; each call opens its own short connection (keys change rarely)."""

    def __init__(self, conninfo: str, schema: str) -> None:
        self.conninfo, self.schema = named(conninfo, "pdm-keys"), schema

    def create(self, name: str, scopes: Iterable[str]) -> tuple[str, ApiKey]:
        token, key = generate(name, scopes)
        with connect(self.conninfo, self.schema) as conn:
            conn.execute("INSERT INTO api_keys (key_id, name, scopes, secret_hash) VALUES (%s, %s, %s, %s)",
                         (key.key_id, key.name, sorted(key.scopes), key.secret_hash))
        return token, key

    def list(self, *, include_revoked: bool = False) -> list[ApiKey]:
        where = "" if include_revoked else "WHERE revoked_at IS NULL"
        with connect(self.conninfo, self.schema) as conn:
            rows = conn.execute(f"SELECT {COLUMNS} FROM api_keys {where} ORDER BY created_at").fetchall()
        return [_key(row) for row in rows]

    def active(self) -> dict[str, ApiKey]:
        return {key.key_id: key for key in self.list()}

    def revoke(self, key_id: str) -> bool:
        """Idempotent: revoking a revoked key changes nothing and still answers True."""
        with connect(self.conninfo, self.schema) as conn:
            row = conn.execute("UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) "
                               "WHERE key_id = %s RETURNING key_id", (key_id,)).fetchone()
        return row is not None


def _key(row: Any) -> ApiKey:
    key_id, name, scopes, secret_hash, created_at, revoked_at = row
    return ApiKey(key_id, name, frozenset(scopes), bytes(secret_hash), created_at, revoked_at)
