"""`pdm up`'s development key: created once with every scope, private, reused across restarts."""

from __future__ import annotations

import pytest

from pdm.infra.api_keys import SCOPES, ApiKeyStore
from pdm.runtime.up import ensure_dev_key
from pdm.settings import Settings

pytestmark = pytest.mark.integration


def test_the_development_key_is_reused_until_it_is_revoked(settings: Settings, keys: ApiKeyStore) -> None:
    conninfo = settings.postgres.conninfo()

    first = ensure_dev_key(settings, conninfo).read_text()
    again = ensure_dev_key(settings, conninfo).read_text()
    keys.revoke(first.split("_")[1])
    renewed = ensure_dev_key(settings, conninfo)

    assert first == again and renewed.read_text() != first
    assert renewed.stat().st_mode & 0o077 == 0
    assert [k.scopes for k in keys.list()] == [frozenset(SCOPES)]
