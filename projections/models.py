"""The models projection: every model version with its training record and verdicts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from pdm.domain.model_versions import ModelVersion
from pdm.readmodels.rows import fold_model
from projections.runner import Projected
from projections.tables import TableProjection, load, topics_of, upsert

COLUMNS = ("artifact_hash", "model_id", "algorithm", "state", "feature_set_version", "training_from",
           "training_to", "metrics", "backtest_metrics", "verdict_reason", "trained_at", "updated_at",
           "position")


class ModelsProjection(TableProjection):
    name = "models"
    tables = ("rm_models",)
    topics = topics_of(ModelVersion)

    def project(self, cursor: psycopg.Cursor[Any], events: Sequence[Projected]) -> None:
        ids = list({p.event.originator_id for p in events})
        rows = load(cursor, self.t("rm_models"), "model_id", ids, COLUMNS)
        for p in events:
            rows[p.event.originator_id] = fold_model(rows.get(p.event.originator_id), p.event, p.position)
        upsert(cursor, self.t("rm_models"), "artifact_hash", COLUMNS, rows.values())
