"""`pdm bench api`: latency and rate of the query API under open-loop load, beside the same SQL direct."""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from pdm.bench import _api_data, _api_report, _api_store
from pdm.bench._api_server import api_process
from pdm.bench._infra import BenchInfra, bench_infra
from pdm.logs import configure_logging
from pdm.settings import ConfigurationError, load_settings

TARGET_P99_MS = 25.0
WARMUP_S = 2.0
console = Console(highlight=False)
Step = Callable[[str, float], Callable[[float], None]]


def api_bench(
    rate: Annotated[float, typer.Option(min=1, help="Requests per second, fixed arrival rate.")] = 1000,
    duration: Annotated[float, typer.Option(min=1, help="Seconds of the measured query mix.")] = 15,
    assets: Annotated[int, typer.Option(min=10, help="Assets in the read models.")] = 10_000,
    alerts: Annotated[int, typer.Option(min=10, help="Alerts in the read models.")] = 100_000,
    workers: Annotated[int, typer.Option(min=1, max=16, help="uvicorn worker processes of the API.")] = 1,
    json_path: Annotated[Path | None, typer.Option("--json", help="Also write the figures here.")] = None,
) -> None:
    """p50/p99 and requests/s of the main queries through the real API, beside the same SQL run
    directly through psycopg at the same rate, and /healthz as the HTTP floor.

    Loads ASSETS assets and ALERTS alerts (with timelines and score series) into a fresh schema
    with COPY, starts `python -m pdm api` with a read key, and sends the query mix from a separate
    load-generator process at a fixed arrival rate (open loop). Also reports the CPU each request
    cost the API, the embedded PostgreSQL and the load generator. About 60-75 s with the defaults on 2 cores.

    Example: [bold]pdm bench api --rate 1000 --duration 15 --json api.json[/]
    """
    try:
        base = load_settings()
    except ConfigurationError as exc:
        raise typer.BadParameter(str(exc)) from None
    configure_logging("bench", "auto", "warning")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the API, broker and database stop too
    details: dict[str, Any] = {"rate": rate, "duration_s": duration, "assets": assets, "alerts": alerts,
                               "workers": workers, "cores": os.cpu_count(),
                               "python": platform.python_version(), "loadavg_before": os.getloadavg()}
    with _progress() as step, bench_infra(base) as infra:
        details["postgres"] = "embedded" if infra.embedded_postgres else "configured"
        catalog = _prepare(infra, assets, alerts, step, details)
        phases = _measure(infra, catalog, rate, duration, workers, step)
    details["loadavg_after"] = os.getloadavg()
    _report(phases, details, json_path)


def _prepare(infra: BenchInfra, assets: int, alerts: int, step: Step,
             details: dict[str, Any]) -> dict[str, Any]:
    tick = step("building the fleet", 1)
    fleet = _api_data.build_fleet(assets, alerts, _api_data.now_utc())
    tick(1)
    rows = int(alerts * 3.4 + assets * (3 + _api_data.SERIES_MINUTES) + alerts)
    started = time.perf_counter()
    details["rows"] = _api_store.load(infra.postgres, fleet, step("COPY into the read models", rows))
    details["load_s"] = time.perf_counter() - started
    return _api_store.catalog(infra.postgres, fleet)


def _measure(infra: BenchInfra, catalog: dict[str, Any], rate: float, duration: float, workers: int,
             step: Step) -> dict[str, Any]:
    spec = {"rate": rate, "warmup_s": WARMUP_S, "catalog": catalog}
    floor_s, sql_s = max(3.0, duration / 3), max(5.0, duration * 2 / 3)
    phases: dict[str, Any] = {}
    postgres = _postmaster_pid(infra)
    spec["cpu_pids"] = {"PostgreSQL": postgres} if postgres else {}
    with api_process(infra.settings("bench-api."), workers) as api:
        http = spec | {"base_url": api.base_url, "token": api.token,
                       "cpu_pids": spec["cpu_pids"] | {"API": api.pid}}
        phases["healthz"] = _load(infra, http | {"mode": "healthz", "duration_s": floor_s}, step)
        phases["http"] = _load(infra, http | {"mode": "http", "duration_s": duration}, step)
    pg = infra.postgres
    phases["sql"] = _load(infra, spec | {"mode": "sql", "duration_s": sql_s, "conninfo": pg.conninfo(),
                                         "schema": pg.schema_name, "pool_size": pg.pool_max_size}, step)
    return phases


def _postmaster_pid(infra: BenchInfra) -> int | None:
    """The embedded server's postmaster (first line of postmaster.pid); None for a configured one,
    whose CPU this machine may not see."""
    pid_file = infra.scratch / "postgres" / "postmaster.pid"
    return int(pid_file.read_text().split()[0]) if infra.embedded_postgres and pid_file.exists() else None


def _load(infra: BenchInfra, spec: dict[str, Any], step: Step) -> dict[str, Any]:
    """One load-generator process per phase; the bar follows the clock (it reports at the end)."""
    spec_path, out_path = infra.scratch / f"{spec['mode']}-spec.json", infra.scratch / f"{spec['mode']}.json"
    spec_path.write_text(json.dumps(spec))
    total = spec["warmup_s"] + spec["duration_s"]
    tick = step(f"{spec['mode']}: warm-up {spec['warmup_s']:g} s + {spec['duration_s']:g} s", total)
    proc = subprocess.Popen([sys.executable, "-m", "pdm.bench._api_loadgen", str(spec_path), str(out_path)])
    begun = shown = time.monotonic()
    try:
        while proc.poll() is None:
            time.sleep(0.2)
            now = time.monotonic()
            tick(min(now, begun + total) - min(shown, begun + total))
            shown = now
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != 0:
        raise typer.Exit(f"the {spec['mode']} load generator exited with {proc.returncode}")  # type: ignore[arg-type]
    return json.loads(out_path.read_text())  # type: ignore[no-any-return]


def _report(phases: dict[str, Any], details: dict[str, Any], json_path: Path | None) -> None:
    figures = {name: _api_report.summarize(result) for name, result in phases.items()}
    lags = {name: sorted(result["send_lags"]) for name, result in phases.items()}
    title = (f"pdm bench api — {details['assets']:,} assets, {details['alerts']:,} alerts, "
             f"{details['rate']:g} req/s, {details['workers']} worker(s), {details['cores']} cores")
    console.print(_api_report.phase_table(title + " — HTTP query mix", figures["http"]))
    console.print(_api_report.phase_table("Baseline: the same SQL through a psycopg pool", figures["sql"]))
    overall = (_api_report.overall(figures[p]) for p in ("http", "sql", "healthz"))
    console.print(_api_report.comparison_table(*overall, TARGET_P99_MS))
    cpu = {name: _api_report.cpu_per_request(result) for name, result in phases.items()}
    for name, lag in lags.items():
        behind = lag[int(len(lag) * 0.99)] * 1000
        spent = ", ".join(f"{side} {ms:.3f} ms" for side, ms in cpu[name].items())
        console.print(f"  {name}: load generator behind schedule p99 {behind:.1f} ms; "
                      f"CPU per request: {spent}")
    console.print(f"  load average before {_loadavg(details['loadavg_before'])}, "
                  f"after {_loadavg(details['loadavg_after'])}; COPY {sum(details['rows'].values()):,} rows "
                  f"in {details['load_s']:.1f} s; PostgreSQL {details['postgres']}")
    for name, fs in figures.items():
        for f in fs:
            if f.errors:
                console.print(f"  [red]{name} {f.route}: {f.errors} errors, e.g. "
                              f"{phases[name]['routes'].get(f.route, {}).get('examples', [''])[0]}[/]")
    if json_path:
        out = details | {name: [f.as_dict() for f in fs] for name, fs in figures.items()} | {"cpu": cpu}
        json_path.write_text(json.dumps(out, indent=2, default=str))


def _loadavg(values: tuple[float, float, float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


@contextmanager
def _progress() -> Iterator[Step]:
    columns = (TextColumn("{task.description:<40}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        def step(what: str, total: float) -> Callable[[float], None]:
            task = progress.add_task(what, total=total)
            return lambda n: progress.advance(task, n)

        yield step
