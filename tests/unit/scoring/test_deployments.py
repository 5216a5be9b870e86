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


def test_a_shadow_deployment_never_serves_but_shadows_every_asset_it_covers() -> None:
    book = DeploymentBook()
    book.apply("*", deployment("pca-1", "*", step="promoted"), model("pca-1"))

    book.apply("rollout/r/shadow", deployment("pca-2", "*", step="shadow"), model("pca-2"))

    assert book.model_for("pump-1").version == "pca-1"
    assert [m.version for m in book.shadows_for("pump-1")] == ["pca-2"]
    assert book.versions() == {"*": "pca-1", "rollout/r/shadow": "pca-2"}


def test_a_shadow_naming_assets_never_beats_the_wildcard() -> None:
    book = DeploymentBook()

    book.apply("rollout/r/shadow", deployment("pca-2", ["pump-1"], step="shadow"), model("pca-2"))

    assert book.model_for("pump-1") is DEFAULT_MODEL
    assert [m.version for m in book.shadows_for("pump-1")] == ["pca-2"]
    assert book.shadows_for("pump-2") == ()


def test_a_candidate_already_serving_a_canary_asset_is_not_also_its_shadow() -> None:
    book = DeploymentBook()
    book.apply("rollout/r/shadow", deployment("pca-2", "*", step="shadow"), model("pca-2"))

    book.apply("rollout/r/canary", deployment("pca-2", ["pump-1"], step="canary"), model("pca-2"))

    assert book.model_for("pump-1").version == "pca-2"
    assert book.shadows_for("pump-1") == ()
    assert [m.version for m in book.shadows_for("pump-2")] == ["pca-2"]


@pytest.mark.parametrize("removal", ["rolled_back", "tombstone"])
def test_a_rollback_or_tombstone_drops_the_shadow(removal: str) -> None:
    book = DeploymentBook()
    book.apply("rollout/r/shadow", deployment("pca-2", "*", step="shadow"), model("pca-2"))

    if removal == "tombstone":
        book.apply("rollout/r/shadow", None, None)
    else:
        book.apply("rollout/r/shadow", deployment(DEFAULT_MODEL.version, "*", step="rolled_back"), DEFAULT_MODEL)

    assert book.shadows_for("pump-1") == ()
    assert book.model_for("pump-1") is DEFAULT_MODEL
    assert book.versions() == {}


def test_a_repeated_identical_deployment_is_a_no_op() -> None:
    book = DeploymentBook()
    first, second = model("pca-1"), model("pca-2")
    book.apply("a", deployment("pca-1", "*"), first)
    book.apply("b", deployment("pca-2", "*"), second)
    assert book.model_for("pump-1") is second
    assert book.is_current("a", deployment("pca-1", "*"))
    assert not book.is_current("a", deployment("pca-1", "*", step="promoted"))

    book.apply("a", deployment("pca-1", "*"), model("pca-1"))

    assert book.model_for("pump-1") is second, "a re-sent older deployment must not become the later one"
    book.apply("a", deployment("pca-1", "*", step="promoted"), first)
    assert book.model_for("pump-1") is first, "a changed deployment is applied"


def test_a_repeated_shadow_keeps_the_loaded_candidate_object() -> None:
    book = DeploymentBook()
    candidate = model("pca-2")
    book.apply("rollout/r/shadow", deployment("pca-2", "*", step="shadow"), candidate)

    book.apply("rollout/r/shadow", deployment("pca-2", "*", step="shadow"), model("pca-2"))

    assert book.shadows_for("pump-1")[0] is candidate
