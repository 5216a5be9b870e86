"""The retrain job's I/O: replayed features in, labels from the event store, artifact and lineage out."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from eventsourcing.utils import get_topic

import pdm
from pdm.alerting.labels import resolved_alert_labels
from pdm.domain.application import PdmApplication
from pdm.domain.assets import Asset
from pdm.domain.model_versions import Lineage
from pdm.infra.model_store import save_artifact
from pdm.replay.archive import Progress
from pdm.replay.history import FlagPolicy
from pdm.replay.run import replay_features
from pdm.replay.source import ReplaySource
from pdm.scoring import DEFAULT_FEATURE_SET, trained_model
from pdm.settings import Settings
from pdm.training.backtest import Label, backtest
from pdm.training.fit import Fitted, fit
from pdm.training.spec import Period, TrainingSpec, _ms, excluded_rows

CODE_VERSION = f"pdm {pdm.__version__}"
ACTOR = "pdm-retrain"


@dataclass(frozen=True)
class TrainingResult:
    spec: TrainingSpec
    fitted: Fitted
    metrics: dict[str, float]
    readings: int


def labels_from_store(app: PdmApplication, assets: Sequence[str]) -> list[Label]:
    """Resolutions with a known answer; `fault_confirmed=None` (asked before it existed) is no label."""
    wanted = set(assets)
    return [Label(Period(lb.asset_id, lb.raised_at, lb.last_seen, _reason(lb.fault_confirmed)),
                  bool(lb.fault_confirmed))
            for lb in resolved_alert_labels(app, known_only=True) if not wanted or lb.asset_id in wanted]


def _reason(fault_confirmed: bool | None) -> str:
    return "fault" if fault_confirmed else "no_fault"


def maintenance_periods(app: PdmApplication, assets: Sequence[str]) -> list[Period]:
    topic, wanted, periods, start = get_topic(Asset.MaintenanceRecorded), set(assets), [], 1
    while True:
        page = app.recorder.select_notifications(start, 500, topics=[topic])
        for notification in page:
            event = app.mapper.to_domain_event(notification)
            asset: Asset = app.repository.get(event.originator_id, version=event.originator_version)
            if not wanted or asset.asset_id in wanted:
                periods.append(Period(asset.asset_id, event.started_at, event.ended_at, "maintenance"))
        if len(page) < 500:
            return periods
        start = page[-1].id + 1


def exclusions(labels: Sequence[Label], maintenance: Sequence[Period]) -> tuple[Period, ...]:
    """Confirmed faults (and maintenance when asked), sorted so the spec is canonical."""
    found = [lb.period for lb in labels if lb.fault_confirmed] + list(maintenance)
    return tuple(sorted(set(found), key=lambda p: (p.asset_id, p.start, p.end, p.reason)))


def train(settings: Settings, spec: TrainingSpec, labels: Sequence[Label],
          progress: Callable[[str], Progress | None] = lambda _: None) -> TrainingResult:
    """Features of [data_from, data_to) as of the watermark; train before `holdout_from`, test after."""
    fs = DEFAULT_FEATURE_SET
    source = ReplaySource(settings, spec.data_from, spec.data_to, spec.assets, "archive",
                          FlagPolicy(include_late=spec.include_late), spec.watermark)
    table, _ = replay_features(fs, source.histories(fs.channels, progress("replaying")))
    holdout = table.ts_ms >= _ms(spec.holdout_from)
    dropped = excluded_rows(table.asset_ids, table.ts_ms, fs.window.size // 1_000_000, spec.exclusions)
    fitted = fit(table.select(~holdout & ~dropped), spec.algorithm, spec.seed, dict(spec.detector or {}))
    model = trained_model(f"trained-{fitted.artifact_hash[:12]}", fitted.artifact)
    metrics = backtest(model, table.select(holdout), (_ms(spec.holdout_from), _ms(spec.data_to)), labels)
    metrics |= {"training_windows": float(fitted.rows), "excluded_windows": float((~holdout & dropped).sum()),
                "readings": float(table.readings)}
    return TrainingResult(spec, fitted, metrics, table.readings)


def record(settings: Settings, app: PdmApplication, result: TrainingResult) -> int:
    """The artifact first (content-addressed, idempotent), then the event that names it."""
    pg, spec = settings.postgres, result.spec
    save_artifact(pg.conninfo(), pg.schema_name, result.fitted.artifact)
    lineage = Lineage(spec.data_from, spec.data_to, spec.assets, spec.watermark, spec.seed, CODE_VERSION)
    return app.record_model_trained(
        result.fitted.artifact_hash, spec.algorithm, spec.parameters(), spec.data_from, spec.data_to,
        DEFAULT_FEATURE_SET.tag, result.metrics, lineage, actor=ACTOR,
        correlation_id=f"retrain:{result.fitted.artifact_hash[:16]}",
    )


def stored_spec(app: PdmApplication, artifact_hash: str) -> tuple[TrainingSpec, str]:
    """A recorded model version's inputs and the code version that trained it."""
    model = app.get_model_version(artifact_hash.removeprefix("sha256:"))
    rec = model.record
    lineage = rec.lineage.as_data()
    return TrainingSpec.from_record(rec.algorithm, rec.parameters, lineage), rec.lineage.code_version


