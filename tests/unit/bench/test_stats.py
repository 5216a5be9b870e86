"""The bench's pure figures: percentiles, rates, ratios and the result table."""

import os
import time

import pytest
from rich.console import Console

from pdm.bench._stats import Figure, format_rate, format_ratio, percentile, rate, ratio, results_table
from pdm.bench._stream_worker import CpuMeter, Reports, Run
from pdm.bench.stream import ceiling

pytestmark = pytest.mark.unit


def test_percentile_interpolates_between_closest_ranks_like_numpy() -> None:
    values = [4.0, 1.0, 3.0, 2.0]

    assert percentile(values, 50) == 2.5
    assert percentile(values, 0) == 1.0 and percentile(values, 100) == 4.0
    assert percentile(values, 99) == pytest.approx(3.97)


def test_percentile_of_one_value_is_that_value() -> None:
    assert percentile([0.25], 99) == 0.25


def test_percentile_refuses_no_values_and_out_of_range_q() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_rate_is_items_per_second_and_refuses_zero_time() -> None:
    assert rate(50_000, 0.5) == 100_000
    with pytest.raises(ValueError):
        rate(1, 0.0)


def test_ratio_against_a_zero_baseline_is_unknown_not_infinite() -> None:
    assert ratio(1.0, 4.0) == 0.25
    assert ratio(1.0, 0.0) is None
    assert format_ratio(None) == "n/a"


def test_rates_and_ratios_are_formatted_for_reading_at_a_glance() -> None:
    assert format_rate(123_456.7) == "123,457/s"
    assert format_ratio(0.5749) == "57%"


def test_result_table_shows_rate_baseline_ratio_and_target_per_path() -> None:
    figure = Figure("HTTP → Kafka", 60_000, "raw producer", 240_000, "≥ 50,000/s")
    console = Console(width=120, record=True)

    console.print(results_table("ingest", [figure]))
    text = console.export_text()

    assert figure.ratio == 0.25
    assert all(cell in text for cell in ("HTTP → Kafka", "60,000/s", "240,000/s", "25%", "≥ 50,000/s"))


def test_stream_ceiling_adds_the_counting_agent_time_to_the_numpy_time() -> None:
    row = ceiling(4_000_000.0, 1_000_000.0)  # 0.25 µs + 1 µs a reading
    assert row.rate == pytest.approx(800_000.0)
    assert row.ratio == pytest.approx(0.2)
    assert ceiling(4_000_000.0, 4_000_000.0).ratio == pytest.approx(0.5)
    assert ceiling(0.0, 1.0).ratio is None


def test_a_worker_phase_sums_rates_over_the_common_span_and_shares_over_each_worker_s_own() -> None:
    reports = Reports(None, {}, {  # type: ignore[arg-type]
        "0": {"messages": 300, "batches": 4, "first": 10.0, "last": 13.0, "busy_s": 2.4, "sending_s": 0.3},
        "1": {"messages": 100, "batches": 1, "first": 11.0, "last": 12.0, "busy_s": 0.6, "sending_s": 0.1},
    })

    run = reports.combined()

    assert run.rate == pytest.approx(400 / 3.0)
    assert (run.busy, run.sending) == (pytest.approx(3.0 / 4.0), pytest.approx(0.4 / 4.0))
    assert run.per_batch == pytest.approx(80.0)
    assert run.note().startswith("scorer busy 75% of the time, awaiting output acks 10%, 80 messages a batch; ")


def test_the_cpu_meter_counts_a_busy_process_in_cores() -> None:
    meter = CpuMeter([os.getpid()], None)
    deadline = time.monotonic() + 0.3
    while time.monotonic() < deadline:
        pass

    workers, broker = meter.cores()

    assert 0.05 < workers <= 1.05 and broker == 0.0  # a busy loop on one core, on a shared machine
    run = Run(1.0, 0.5, 0.1, cores=(1.0, 0.75))
    assert run.cpu() == f"CPU: workers 1.00, broker 0.75 of {os.cpu_count()} cores"


def test_the_counting_agent_reports_no_scorer_time() -> None:
    run = Reports(None, {}, {"0": {"messages": 50, "batches": 2, "first": 0.0, "last": 2.0}}).combined()  # type: ignore[arg-type]

    assert (run.rate, run.busy, run.sending, run.per_batch) == (25.0, 0.0, 0.0, 25.0)
