"""Query routes encode rows with orjson; clients must see the bytes FastAPI's pydantic path gave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter

from pdm.api.responses import RowsResponse

ROW = {
    "alert_id": UUID("6f1c2a51-8a0e-4d7b-9a55-0c3f1f0e9b1d"),
    "raised_at": datetime(2026, 11, 21, 10, 0, 0, 123000, tzinfo=UTC),
    "recorded_at": datetime(2026, 11, 21, 10, 0, tzinfo=ZoneInfo("Etc/UTC")),  # psycopg's session zone
    "local": datetime(2026, 11, 21, 12, 0, 0, 5, tzinfo=timezone(timedelta(hours=2))),
    "peak_score": 0.1 + 0.2, "threshold": 1e-7, "window_count": 3, "fault_confirmed": None,
    "classified": True, "note": "Lüfter vibriert \"stark\"\n", "nan": float("nan"),
    "details": {"values": [1.5, 2, None], "by": {"name": "ops"}},
}


def test_rows_encode_to_the_same_bytes_as_fastapis_response_model_serialisation() -> None:
    content = {"items": [ROW, ROW | {"note": None}], "next_cursor": "WyIyMDI2Il0", "assets": 10_000}

    body = RowsResponse(content).body

    assert body == TypeAdapter(dict[str, Any]).dump_json(content)
