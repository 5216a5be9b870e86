"""Opaque page cursors: the sort key of the last row a page returned, base64url-encoded JSON."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any
from uuid import UUID


class InvalidCursorError(ValueError):
    """The cursor was not made by this API (or was edited): refused, never guessed at."""


def encode_cursor(raised_at: datetime, alert_id: UUID) -> str:
    raw = json.dumps([raised_at.isoformat(), str(alert_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, UUID]:
    """The sort key is (raised_at, alert_id): unique and never amended, so pages never overlap."""
    try:
        raw: Any = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        at, alert_id = datetime.fromisoformat(raw[0]), UUID(raw[1])
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise InvalidCursorError(f"invalid cursor: {cursor[:40]!r}") from exc
    if at.tzinfo is None:
        raise InvalidCursorError("invalid cursor: naive time")
    return at, alert_id
