"""The Asset aggregate through the application: registration, sensors, maintenance."""

from __future__ import annotations

import pytest

from pdm.domain.application import PdmApplication
from pdm.domain.assets import Asset, ChannelSpec
from pdm.domain.errors import (
    AssetAlreadyRegisteredError,
    AssetDecommissionedError,
    AssetNotFoundError,
    InvalidChannelError,
    InvalidMaintenanceWindowError,
    InvalidThresholdError,
    WorkOrderConflictError,
)
from tests.unit.domain.conftest import AUDIT, CHANNELS, T0, minutes

pytestmark = pytest.mark.unit


def test_a_registered_asset_keeps_its_channels_units_and_ranges(
    registered: PdmApplication,
) -> None:
    asset = registered.get_asset("pump-7")

    channels = asset.channels

    assert channels["vibration_rms"] == ChannelSpec("g", 0.0, 1.0)
    assert (asset.site, asset.kind, asset.classified) == ("plant-1", "pump", True)


def test_registering_the_same_asset_twice_adds_nothing(registered: PdmApplication) -> None:
    version = registered.get_asset("pump-7").version

    registered.register_asset("pump-7", "plant-1", "pump", CHANNELS, **AUDIT)

    assert registered.get_asset("pump-7").version == version


def test_registering_a_classified_asset_differently_is_refused(
    registered: PdmApplication,
) -> None:
    elsewhere = "plant-9"

    with pytest.raises(AssetAlreadyRegisteredError):
        registered.register_asset("pump-7", elsewhere, "pump", CHANNELS, **AUDIT)


def test_the_asset_id_is_derived_from_its_name() -> None:
    name = "pump-7"

    ids = {Asset.create_id(name) for _ in range(2)}

    assert len(ids) == 1 and Asset.create_id("pump-8") not in ids


def test_a_channel_whose_range_is_upside_down_is_refused(app: PdmApplication) -> None:
    upside_down = {"vibration_rms": ChannelSpec("g", 1.0, 0.0)}

    with pytest.raises(InvalidChannelError):
        app.register_asset("pump-7", "plant-1", "pump", upside_down, **AUDIT)


def test_declaring_sensors_adds_channels(registered: PdmApplication) -> None:
    pressure = {"pressure_bar": ChannelSpec("bar", 0.0, 12.0)}

    registered.declare_sensors("pump-7", pressure, **AUDIT)

    assert set(registered.get_asset("pump-7").channels) == {*CHANNELS, "pressure_bar"}


def test_a_threshold_must_be_positive(registered: PdmApplication) -> None:
    negative = {"vibration": -1.0}

    with pytest.raises(InvalidThresholdError):
        registered.change_thresholds("pump-7", negative, **AUDIT)


def test_a_work_order_recorded_twice_is_recorded_once(registered: PdmApplication) -> None:
    args = ("pump-7", "wo-1", "bearing", "worn race", True, T0, T0 + minutes(90))
    first = registered.record_maintenance(*args, **AUDIT)

    again = registered.record_maintenance(*args, **AUDIT)

    record = registered.get_asset("pump-7").maintenance["wo-1"]
    assert first == again
    assert (record.fault_confirmed, record.ended_at) == (True, T0 + minutes(90))


def test_a_work_order_recorded_again_differently_is_refused(registered: PdmApplication) -> None:
    registered.record_maintenance("pump-7", "wo-1", "bearing", "worn", True, T0, T0 + minutes(90), **AUDIT)

    with pytest.raises(WorkOrderConflictError):
        registered.record_maintenance(
            "pump-7", "wo-1", "bearing", "fine", False, T0, T0 + minutes(90), **AUDIT
        )


def test_maintenance_that_ends_before_it_starts_is_refused(registered: PdmApplication) -> None:
    backwards = (T0 + minutes(10), T0)

    with pytest.raises(InvalidMaintenanceWindowError):
        registered.record_maintenance("pump-7", "wo-1", "x", "", False, *backwards, **AUDIT)


def test_a_decommissioned_asset_refuses_further_changes(registered: PdmApplication) -> None:
    registered.decommission_asset("pump-7", "scrapped", T0, **AUDIT)

    with pytest.raises(AssetDecommissionedError):
        registered.declare_sensors("pump-7", {"x": ChannelSpec("g")}, **AUDIT)


def test_an_unknown_asset_is_not_found(app: PdmApplication) -> None:
    unknown = "pump-404"

    with pytest.raises(AssetNotFoundError) as refused:
        app.declare_sensors(unknown, {}, **AUDIT)

    assert refused.value.name == unknown
