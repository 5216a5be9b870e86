"""A NUL character in any path or query parameter is a 422 naming the field, never a 500."""

from __future__ import annotations

import pytest

from pdm.domain.application import PdmApplication
from tests.integration.security.conftest import Client, Prober, fill

pytestmark = pytest.mark.integration


async def test_a_nul_in_any_get_parameter_is_refused_with_the_field_named(prober: Prober) -> None:
    answers: list[tuple[str, str, int, str]] = []

    for path, operation in prober.gets:
        names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        for name in names:
            response = await prober.api.get(fill(path, "pump-7"), params={name: "pump\x007"},
                                            headers=prober.headers)
            answers.append((path, f"query.{name}", response.status_code, str(response.json().get("details"))))
        if "{" in path:
            response = await prober.api.get(fill(path, "pump%007"), headers=prober.headers)
            answers.append((path, "path", response.status_code, str(response.json().get("details"))))

    assert len(answers) > 20
    assert [a for a in answers if a[2] != 422 or a[1] not in a[3]] == []


async def test_without_a_key_a_nul_still_gets_401_first(client: Client, domain: PdmApplication) -> None:
    response = await client().get("/v1/alerts", params={"site": "\x00"})

    assert response.status_code == 401
