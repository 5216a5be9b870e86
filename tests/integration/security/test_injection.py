"""SQL-injection strings in every filter and path parameter of every GET route never give a 5xx."""

from __future__ import annotations

from typing import Any

import pytest

from pdm.infra.api_keys import ApiKeyStore
from tests.integration.security.conftest import Prober, fill

pytestmark = pytest.mark.integration
INJECTIONS = ("' OR '1'='1", "1; DROP TABLE api_keys; --", "\" OR 1=1 --", "') UNION SELECT null--",
              "%27%20OR%201%3D1", "1' AND pg_sleep(5)--", "\\x00", "*", "NaN", "-1e309")


def queries(operation: dict[str, Any], value: str) -> list[dict[str, str]]:
    """One request per query parameter, that parameter poisoned, so each filter is tried alone."""
    names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    return [{name: value} for name in names] or [{}]


async def test_injection_strings_in_every_get_filter_are_refused_or_harmless(
    prober: Prober, keys: ApiKeyStore
) -> None:
    failures, tried = [], 0
    for path, operation in prober.gets:
        for value in INJECTIONS:
            for params in queries(operation, value):
                response = await prober.api.get(fill(path, value), params=params, headers=prober.headers)
                tried += 1
                if response.status_code >= 500:
                    failures.append((path, params, response.status_code, response.text[:200]))

    assert len(prober.gets) >= 5 and tried > 50
    assert failures == []
    assert len(keys.list()) == 1  # the api_keys table is still there
