"""Every route but health needs a key with the right scope; revoked and unknown keys are refused."""

from __future__ import annotations

import pytest

from pdm.domain.application import PdmApplication
from pdm.domain.assets import Asset
from pdm.infra.api_keys import SCOPES, ApiKeyStore
from pdm.settings import Settings
from tests.integration.security.conftest import Client, app_for, bearer, fill, spec_operations

pytestmark = pytest.mark.integration


async def test_every_v1_route_in_the_spec_refuses_a_request_without_a_key(
    client: Client, settings: Settings, domain: PdmApplication
) -> None:
    operations = [(m, p) for m, p, _ in spec_operations(app_for(settings, domain)) if p.startswith("/v1/")]
    api = client()

    answers = {(m, p): await api.request(m, fill(p, "x")) for m, p in operations}
    forged = {(m, p): await api.request(m, fill(p, "x"), headers=bearer("pdm_0123456789ab_" + "A" * 43))
              for m, p in operations}

    assert len(operations) >= 10
    assert {k: r.status_code for k, r in answers.items()} == dict.fromkeys(operations, 401)
    assert {k: r.status_code for k, r in forged.items()} == dict.fromkeys(operations, 401)
    assert {r.json()["code"] for r in answers.values()} == {"unauthenticated"}
    assert all(r.headers["www-authenticate"] == "Bearer" for r in answers.values())


async def test_a_key_without_the_needed_scope_is_forbidden_naming_the_scope(
    client: Client, keys: ApiKeyStore
) -> None:
    reader, _ = keys.create("dashboard", ["read"])
    api = client()

    post = await api.post("/v1/alerts/00000000-0000-0000-0000-000000000001/acknowledge",
                          json={"by": "x"}, headers=bearer(reader))
    ingest = await api.post("/v1/readings", json=[], headers=bearer(reader))
    listed = await api.get("/v1/alerts", headers=bearer(reader))

    assert post.status_code == 403 and post.json()["code"] == "forbidden"
    assert post.json()["details"]["required_scope"] == "operate"
    assert ingest.status_code == 403 and ingest.json()["details"]["required_scope"] == "ingest"
    assert listed.status_code == 200


async def test_a_revoked_key_is_refused_and_x_api_key_works_like_bearer(
    client: Client, keys: ApiKeyStore
) -> None:
    token, key = keys.create("temp", ["read"])
    api = client()
    before = await api.get("/v1/alerts", headers={"X-API-Key": token})

    keys.revoke(key.key_id)
    after = await api.get("/v1/alerts", headers={"X-API-Key": token})

    assert before.status_code == 200
    assert after.status_code == 401 and after.json()["code"] == "unauthenticated"


async def test_health_readiness_metrics_and_the_spec_are_open(client: Client) -> None:
    api = client()

    answers = {path: await api.get(path) for path in ("/healthz", "/readyz", "/metrics", "/openapi.json")}

    assert {p: r.status_code for p, r in answers.items()} == {
        "/healthz": 200, "/readyz": 200, "/metrics": 200, "/openapi.json": 200}
    assert "pdm_http_requests_total" in answers["/metrics"].text
    assert "securitySchemes" in answers["/openapi.json"].json()["components"]


async def test_a_key_over_its_rate_is_answered_429_with_retry_after(client: Client, keys: ApiKeyStore) -> None:
    token, _ = keys.create("greedy", ["read"])
    other, _ = keys.create("patient", ["read"])
    api = client(rate_limits={"read": 1.0}, rate_burst_s=2.0)

    answers = [await api.get("/v1/alerts", headers=bearer(token)) for _ in range(3)]
    unaffected = await api.get("/v1/alerts", headers=bearer(other))

    assert [r.status_code for r in answers] == [200, 200, 429]
    assert answers[2].json()["code"] == "rate_limited" and int(answers[2].headers["retry-after"]) >= 1
    assert unaffected.status_code == 200


async def test_the_key_name_is_the_actor_recorded_by_a_command(
    client: Client, keys: ApiKeyStore, domain: PdmApplication
) -> None:
    token, _ = keys.create("ops-console", list(SCOPES))
    api = client()

    response = await api.post("/v1/assets", headers={**bearer(token), "X-Actor": "someone-else"},
                              json={"asset_id": "pump-9", "site": "plant-1", "kind": "pump", "channels": {}})

    assert response.status_code == 200, response.text
    events = list(domain.events.get(Asset.create_id("pump-9")))
    assert {e.actor for e in events} == {"ops-console"}


async def test_cors_is_closed_by_default_and_open_to_listed_origins(client: Client, keys: ApiKeyStore) -> None:
    preflight = {"Origin": "https://ops.example", "Access-Control-Request-Method": "GET"}

    closed = await client().options("/v1/alerts", headers=preflight)
    opened = await client(cors_origins="https://ops.example").options("/v1/alerts", headers=preflight)

    assert "access-control-allow-origin" not in closed.headers
    assert opened.status_code == 200
    assert opened.headers["access-control-allow-origin"] == "https://ops.example"


async def test_metrics_count_requests_by_route_template_not_raw_path(client: Client, keys: ApiKeyStore) -> None:
    token, _ = keys.create("reader", ["read"])
    api = client()
    for n in range(3):
        await api.get(f"/v1/alerts/00000000-0000-0000-0000-00000000000{n}", headers=bearer(token))

    text = (await api.get("/metrics")).text

    assert 'route="/v1/alerts/{alert_id}",status="404"} 3.0' in text
    assert "00000000-0000" not in text
