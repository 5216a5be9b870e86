"""The pure parts of `pdm bench api`: the open-loop schedule, the query mix and the figures."""

import math
from datetime import UTC, datetime

import pytest

from pdm.bench import _api_data, _api_mix, _api_report

pytestmark = pytest.mark.unit

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
CATALOG = {
    "now": NOW.isoformat(), "sites": ["a", "b"], "statuses": ["ok", "critical"],
    "asset_ids": ["asset-00001", "asset-00002"], "noisy_asset_ids": ["asset-00001"],
    "alert_ids": ["6f1c6a52-4c1e-4f5e-9d0a-2b7f3e1c9a10"],
    "alert_pages": [{"state": ["open"], "severity": None, "site": "a", "cursor": None},
                    {"state": None, "severity": None, "site": None, "cursor": "abc"}],
    "asset_pages": [{"site": "a", "cursor": "asset-00001"}], "series_minutes": 120,
}


def test_schedule_sends_at_a_fixed_rate_for_the_duration() -> None:
    offsets = _api_mix.schedule(1000, 2)

    assert len(offsets) == 2000
    assert offsets[0] == 0 and offsets[1] == pytest.approx(0.001)
    assert offsets[-1] == pytest.approx(1.999)


def test_schedule_refuses_a_rate_of_zero() -> None:
    with pytest.raises(ValueError):
        _api_mix.schedule(0, 5)


def test_mix_follows_the_route_weights_and_is_reproducible() -> None:
    mix = _api_mix.build_mix(CATALOG, 10_000, seed=3)

    shares = {route: sum(q.route == route for q in mix) / len(mix) for route in _api_mix.WEIGHTS}
    assert mix == _api_mix.build_mix(CATALOG, 10_000, seed=3)
    for route, weight in _api_mix.WEIGHTS.items():
        assert shares[route] == pytest.approx(weight / sum(_api_mix.WEIGHTS.values()), abs=0.02)


def test_each_query_asks_the_api_and_the_baseline_the_same_thing() -> None:
    mix = _api_mix.build_mix(CATALOG, 500, seed=4)

    pages = [q for q in mix if q.route == _api_mix.ALERTS and "cursor=abc" in q.url]
    scores = [q for q in mix if q.route == _api_mix.SCORES]
    assert pages and all(q.sql == "list_alerts" and q.args[2] == "abc" for q in pages)
    assert all(f"step={q.args[3]}" in q.url and q.url.startswith(f"/v1/assets/{q.args[0]}/") for q in scores)


def test_route_figure_gives_rate_and_percentiles_of_good_answers() -> None:
    figure = _api_report.route_figure("/x", [i / 1000 for i in range(1, 101)], errors=2, seconds=10)

    assert (figure.answered, figure.errors, figure.rate) == (100, 2, 10.0)
    assert figure.p50 == pytest.approx(0.0505)
    assert figure.p99 == pytest.approx(0.09901)


def test_a_route_with_no_good_answer_has_no_percentiles() -> None:
    figure = _api_report.route_figure("/x", [], errors=5, seconds=1)

    assert figure.rate == 0 and math.isnan(figure.p99)


def test_summary_ends_with_all_routes_together() -> None:
    result = {"seconds": 2.0, "routes": {"/a": {"latencies": [0.001, 0.003], "errors": 0},
                                         "/b": {"latencies": [0.002], "errors": 1}}}

    figures = _api_report.summarize(result)

    assert [f.route for f in figures] == ["/a", "/b", "all"]
    assert (figures[-1].answered, figures[-1].errors, figures[-1].p50) == (3, 1, 0.002)


def test_fleet_status_is_the_worst_severity_of_unresolved_alerts() -> None:
    fleet = _api_data.build_fleet(50, 2000, NOW)

    for asset in fleet.assets:
        mine = [a for a in fleet.alerts if a["asset_id"] == asset["asset_id"] and a["state"] in _api_data.UNRESOLVED]
        assert asset["open_alerts"] == len(mine)
        assert asset["status"] != "ok" or not mine
    assert len({a["alert_id"] for a in fleet.alerts}) == 2000


def test_cpu_per_request_counts_every_request_sent_including_the_ones_that_failed() -> None:
    result = {"routes": {"/a": {"latencies": [0.1] * 300, "errors": 100}, "/b": {"latencies": [0.1] * 600,
                                                                                 "errors": 0}},
              "cpu_s": {"API": 1.0, "load generator": 0.25}}

    cpu = _api_report.cpu_per_request(result)

    assert cpu == {"API": pytest.approx(1.0), "load generator": pytest.approx(0.25)}
