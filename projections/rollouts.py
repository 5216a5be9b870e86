"""The rollouts projection: every rollout's state, step metrics and pending compensations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg

from pdm.domain.rollouts import Rollout
from pdm.rollout.rows import COLUMNS, fold_rollout
from projections.runner import Projected
from projections.tables import TableProjection, load, topics_of, upsert


class RolloutsProjection(TableProjection):
    name = "rollouts"
    tables = ("rm_rollouts",)
    topics = topics_of(Rollout)

    def project(self, cursor: psycopg.Cursor[Any], events: Sequence[Projected]) -> None:
        ids = list({p.event.originator_id for p in events})
        rows = load(cursor, self.t("rm_rollouts"), "rollout_id", ids, COLUMNS)
        for p in events:
            rows[p.event.originator_id] = fold_rollout(rows.get(p.event.originator_id), p.event, p.position)
        upsert(cursor, self.t("rm_rollouts"), "rollout_id", COLUMNS, rows.values())
