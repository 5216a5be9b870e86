"""Which model serves an asset: a named deployment beats "*", a later one beats an earlier one."""

from dataclasses import replace

import pytest

from pdm.contracts import DeploymentV1
from pdm.scoring import DEFAULT_MODEL
from pdm.scoring.deployments import DeploymentBook

pytestmark = pytest.mark.unit
HASH = "0" * 64


def deployment(version: str, assets, step: str = "manual") -> DeploymentV1:
    return DeploymentV1(model_version=version, artifact_hash=HASH, assets=assets, step=step)


def model(version: str):
    return replace(DEFAULT_MODEL, version=version)


def test_an_asset_named_by_a_deployment_gets_that_model_and_others_the_wildcard() -> None:
    book = DeploymentBook()

    book.apply("canary", deployment("pca-2", ["pump-1"]), model("pca-2"))
    book.apply("all", deployment("pca-1", "*"), model("pca-1"))

    assert book.model_for("pump-1").version == "pca-2"
    assert book.model_for("pump-9").version == "pca-1"


def test_a_tombstone_or_rollback_returns_the_asset_to_the_default_model() -> None:
    book = DeploymentBook()
    book.apply("canary", deployment("pca-2", ["pump-1"]), model("pca-2"))
    assert book.model_for("pump-1").version == "pca-2"

    book.apply("canary", deployment("pca-2", ["pump-1"], step="rolled_back"), model("pca-2"))

    assert book.model_for("pump-1") is DEFAULT_MODEL
