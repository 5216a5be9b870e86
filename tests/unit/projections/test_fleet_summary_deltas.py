"""The fleet summary moves by each batch's changes: one asset leaves a count, another gains it."""

from __future__ import annotations

from projections.fleet_summary import summary_deltas


def row(site: str, status: str, open_alerts: int = 0) -> dict[str, object]:
    return {"site": site, "status": status, "open_alerts": open_alerts}


def test_a_registered_asset_counts_once_where_it_now_stands() -> None:
    deltas = summary_deltas([(None, row("plant-1", "ok"))])

    assert deltas == {("plant-1", "ok"): (1, 0)}


def test_an_asset_raising_an_alert_moves_from_ok_to_its_severity() -> None:
    deltas = summary_deltas([(row("plant-1", "ok"), row("plant-1", "critical", 1))])

    assert deltas == {("plant-1", "ok"): (-1, 0), ("plant-1", "critical"): (1, 1)}


def test_a_change_that_keeps_site_status_and_open_alerts_writes_nothing() -> None:
    unchanged = (row("plant-1", "warning", 2), row("plant-1", "warning", 2))
    swapped = [(row("a", "ok"), row("b", "ok")), (row("b", "ok"), row("a", "ok"))]

    assert summary_deltas([unchanged]) == {}
    assert summary_deltas(swapped) == {}


def test_a_second_alert_on_the_same_status_moves_only_the_open_alert_count() -> None:
    deltas = summary_deltas([(row("plant-2", "warning", 1), row("plant-2", "warning", 2))])

    assert deltas == {("plant-2", "warning"): (0, 1)}
