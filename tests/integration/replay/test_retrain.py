"""Retraining over the real archive and event store: reproducible hashes, lineage, labels left out."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pdm.eventstore import open_application
from pdm.replay.archive import ArchiveRange, watermark_of
from pdm.settings import Settings
from pdm.simulation import Simulator
from pdm.training.job import exclusions, labels_from_store, record, stored_spec, train
from pdm.training.spec import TrainingSpec
from tests.integration.replay.conftest import START, simulated_rows, write_rows

pytestmark = pytest.mark.integration
END = START + timedelta(hours=2)
FAULT_AT = START + timedelta(minutes=100)


def seeded(settings: Settings) -> tuple[str, ...]:
    sim = Simulator(2, rate_hz=1.0, seed=21, start=START, faults="bearing_wear:pump-1@100m+15m")
    write_rows(settings, simulated_rows(sim, END - START))
    return tuple(sorted(a.asset_id for a in sim.assets))


def label_fault(settings: Settings, asset_id: str) -> None:
    """An alert during the fault, resolved as a confirmed fault: the label retraining reads."""
    app = open_application(settings.postgres)
    result = app.apply_anomaly("a-1", asset_id, "anomalous_score", 2.0, 1.0, "novelty-v1", FAULT_AT,
                               actor="test", correlation_id="test")
    app.resolve_alert(result.alert_id, "tech", "bearing replaced", True, actor="test", correlation_id="test")
    app.close()


def spec_for(settings: Settings, assets: tuple[str, ...], seed: int = 7) -> tuple[TrainingSpec, list]:  # type: ignore[type-arg]
    app = open_application(settings.postgres)
    labels = labels_from_store(app, assets)
    app.close()
    pg = settings.postgres
    watermark = watermark_of(pg.conninfo(), pg.schema_name, ArchiveRange(START, END, assets))
    assert watermark is not None
    spec = TrainingSpec("isolation_forest", seed, START, END, END - timedelta(minutes=30), assets, watermark,
                        exclusions(labels, []), detector={"n_estimators": 20})
    return spec, labels


def test_retraining_twice_with_the_same_inputs_gives_the_same_artifact_hash(archive: Settings) -> None:
    assets = seeded(archive)
    spec, labels = spec_for(archive, assets)

    first = train(archive, spec, labels)
    second = train(archive, spec, labels)

    assert first.fitted.artifact_hash == second.fitted.artifact_hash
    assert first.fitted.artifact == second.fitted.artifact
    assert first.metrics["training_windows"] > 0


def test_a_recorded_model_retrained_from_its_lineage_matches_its_hash(archive: Settings) -> None:
    assets = seeded(archive)
    label_fault(archive, "pump-1")
    spec, labels = spec_for(archive, assets)
    result = train(archive, spec, labels)
    app = open_application(archive.postgres)
    record(archive, app, result)
    write_rows(archive, simulated_rows(Simulator(2, rate_hz=1.0, seed=99, start=START), timedelta(minutes=3)))

    again_spec, _ = stored_spec(app, result.fitted.artifact_hash)
    again = train(archive, again_spec, labels)
    app.close()

    assert again_spec == spec
    assert again.fitted.artifact_hash == result.fitted.artifact_hash
    assert spec.exclusions and spec.exclusions[0].asset_id == "pump-1"
    assert result.metrics["labelled_faults"] == 1.0
