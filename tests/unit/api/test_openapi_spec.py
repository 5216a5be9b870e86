"""The spec says what the routes really take and answer, for clients and the schema fuzzer."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pdm.api.app import create_app
from pdm.contracts import ReadingV1
from pdm.settings import Settings

pytestmark = pytest.mark.unit
READ_YOUR_WRITES_ROUTES = {"/v1/alerts", "/v1/alerts/{alert_id}/timeline", "/v1/assets",
                           "/v1/assets/{asset_id}/health", "/v1/fleet/summary", "/v1/models", "/v1/rollouts"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return create_app(Settings()).openapi()


def test_posting_readings_declares_a_json_or_ndjson_body_of_reading_contracts(spec: dict[str, Any]) -> None:
    body = spec["paths"]["/v1/readings"]["post"]["requestBody"]

    content = body["content"]

    assert body["required"] is True
    assert set(content) == {"application/json", "application/x-ndjson"}
    reading = {"$ref": "#/components/schemas/ReadingV1"}
    assert content["application/json"]["schema"]["oneOf"][0] == reading
    assert content["application/json"]["schema"]["oneOf"][1]["items"] == reading
    assert content["application/x-ndjson"]["schema"]["items"] == reading
    assert spec["components"]["schemas"]["ReadingV1"] == ReadingV1.model_json_schema()


def test_every_route_taking_after_documents_a_never_issued_position_and_a_lagging_projection(
    spec: dict[str, Any],
) -> None:
    taking_after = {path for path, operations in spec["paths"].items()
                    for operation in operations.values()
                    if any(p["name"] == "after" for p in operation.get("parameters", []))}

    responses = [spec["paths"][path]["get"]["responses"] for path in taking_after]

    assert taking_after == READ_YOUR_WRITES_ROUTES
    assert all("`position_not_issued`" in r["400"]["description"] for r in responses)
    assert all("`projection_lagging`" in r["503"]["description"] for r in responses)
    assert all("`database_unavailable`" in r["503"]["description"] for r in responses)


def test_asking_for_the_spec_again_documents_nothing_twice() -> None:
    app = create_app(Settings())
    first = json.dumps(app.openapi())

    again = json.dumps(app.openapi())

    assert again == first
