"""What serves "*", folded from the deployments topic's values as the stream worker takes them."""

from __future__ import annotations

import pytest

from pdm.contracts import DeploymentV1
from pdm.domain.rollout_baseline import ServingModel
from pdm.rollout.serving import serving_from
from pdm.scoring import DEFAULT_VERSION

pytestmark = pytest.mark.unit
BUILT_IN = ServingModel(DEFAULT_VERSION)


def fleet(version: str, step: str = "manual", digest: str = "a" * 64) -> bytes:
    deployment = DeploymentV1(model_version=version, artifact_hash=digest, assets="*", step=step)  # type: ignore[arg-type]
    return deployment.model_dump_json(by_alias=True).encode()


def test_with_nothing_deployed_the_built_in_model_serves() -> None:
    assert serving_from([]) == BUILT_IN


def test_the_latest_deployment_serves_by_version_and_hash() -> None:
    served = serving_from([fleet("pca-1"), fleet("pca-2", "promoted", "b" * 64)])

    assert served == ServingModel("pca-2", "b" * 64)


@pytest.mark.parametrize("last", [None, fleet("pca-1", "rolled_back"), fleet("pca-1", "shadow")],
                         ids=["tombstone", "withdrawn", "shadow"])
def test_a_tombstone_a_withdrawal_or_a_shadow_leaves_the_built_in_model_serving(last: bytes | None) -> None:
    assert serving_from([fleet("pca-1"), last]) == BUILT_IN


def test_a_value_the_worker_refuses_changes_nothing() -> None:
    assert serving_from([fleet("pca-1"), b'{"schema": "deployment.v1"}', b"not json"]) == ServingModel("pca-1", "a" * 64)


def test_a_deployment_of_the_built_in_version_is_the_built_in_model_whatever_its_hash() -> None:
    served = serving_from([fleet("pca-1"), fleet(DEFAULT_VERSION, digest="0" * 64)])

    assert served == BUILT_IN and served.is_model(DEFAULT_VERSION, "f" * 64)
