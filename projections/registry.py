"""The read-model projections the projector runs, by name (what `pdm projections` accepts)."""

from __future__ import annotations

from projections.alert_timeline import AlertTimelineProjection
from projections.alerts import AlertsProjection
from projections.asset_health import AssetHealthProjection
from projections.fleet_summary import FleetSummaryProjection
from projections.models import ModelsProjection
from projections.rollouts import RolloutsProjection
from projections.tables import TableProjection

READ_MODELS: dict[str, type[TableProjection]] = {
    cls.name: cls
    for cls in (AlertsProjection, AlertTimelineProjection, AssetHealthProjection, FleetSummaryProjection,
                ModelsProjection, RolloutsProjection)
}


def read_models(suffix: str = "") -> list[TableProjection]:
    return [cls(suffix) for cls in READ_MODELS.values()]
