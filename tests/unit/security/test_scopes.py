"""The scope a request needs follows from its method and path alone, so new routes are covered."""

import pytest

from pdm.api.auth import required_scope, token_from

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("method", "path", "scope"), [
    ("POST", "/v1/readings", "ingest"),
    ("GET", "/v1/alerts", "read"),
    ("GET", "/v1/some-route-added-next-year/42", "read"),
    ("HEAD", "/v1/assets/pump-7", "read"),
    ("POST", "/v1/alerts/1/acknowledge", "operate"),
    ("DELETE", "/v1/silences/1", "operate"),
    ("PUT", "/v1/assets/pump-7", "operate"),
    ("GET", "/v1/keys", "admin"),
    ("POST", "/v1/keys/abc/revoke", "admin"),
    ("GET", "/v1/readings", "read"),
])
def test_every_request_needs_the_scope_its_method_and_path_imply(method: str, path: str, scope: str) -> None:
    assert required_scope(method, path) == scope


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs",
                                  "/dashboard", "/dashboard/", "/dashboard/app.js"])
def test_health_metrics_the_spec_and_the_dashboards_static_files_need_no_key(path: str) -> None:
    assert required_scope("GET", path) is None


def test_a_path_that_only_starts_like_a_public_one_is_not_public() -> None:
    assert required_scope("GET", "/healthz/../v1/alerts") == "read"
    assert required_scope("GET", "/v1/keysmith") == "read"


def test_bearer_and_x_api_key_headers_both_carry_a_key() -> None:
    assert token_from([(b"authorization", b"Bearer pdm_abc_def")]) == "pdm_abc_def"
    assert token_from([(b"authorization", b"bearer  pdm_x ")]) == "pdm_x"
    assert token_from([(b"x-api-key", b"pdm_y")]) == "pdm_y"
    assert token_from([(b"authorization", b"Basic dTpw")]) is None
    assert token_from([]) is None
