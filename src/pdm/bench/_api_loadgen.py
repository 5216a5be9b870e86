"""The load generator of `pdm bench api`, run in its own process: open-loop requests at a fixed rate.

Run-book: `python -m pdm.bench._api_loadgen SPEC.json OUT.json`, where SPEC names the mode
(`http`: the mix against the API; `healthz`: the HTTP floor; `sql`: the same queries through
psycopg without HTTP), the rate, the duration and the catalog; OUT gets every latency by route.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import psutil
import uvloop

from pdm.bench import _api_mix as mix

Send = Callable[[mix.Query], Awaitable[str | None]]  # None when answered well, else what went wrong
MAX_CONNECTIONS = 256
TIMEOUT_S = 10.0


async def open_loop(queries: Sequence[mix.Query], offsets: Sequence[float], send: Send) -> dict[str, Any]:
    """Each request leaves at its scheduled time, whatever the earlier ones are doing; latency is
    counted from that scheduled time, so a client falling behind shows up as latency, not hidden."""
    clock = time.perf_counter  # uvloop's loop.time() only ticks in milliseconds
    samples: dict[str, dict[str, Any]] = {}
    lags: list[float] = []
    start = clock() + 0.05

    async def one(query: mix.Query, due: float) -> None:
        lags.append(clock() - due)
        try:
            error = await send(query)
        except Exception as exc:  # a refused or timed-out request is a figure, not a crash
            error = f"{type(exc).__name__}: {exc}"[:200]
        route = samples.setdefault(query.route, {"latencies": [], "errors": 0, "examples": []})
        if error is None:
            route["latencies"].append(clock() - due)
        else:
            route["errors"] += 1
            if len(route["examples"]) < 3:
                route["examples"].append(error)

    tasks = []
    for query, offset in zip(queries, offsets, strict=True):
        if (delay := start + offset - clock()) > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(query, start + offset)))
    await asyncio.gather(*tasks)
    return {"routes": samples, "seconds": clock() - start, "send_lags": lags}


async def _http(spec: dict[str, Any], queries: list[mix.Query], warmup: list[mix.Query]) -> dict[str, Any]:
    """aiohttp, not httpx: measured here, httpx's pool spent ~3 ms of CPU a request at a few
    hundred in flight and fell seconds behind schedule, so it measured itself, not the API."""
    headers = {"Authorization": f"Bearer {spec['token']}"}
    connector = aiohttp.TCPConnector(limit=MAX_CONNECTIONS)
    timeout = aiohttp.ClientTimeout(total=TIMEOUT_S)
    async with aiohttp.ClientSession(spec["base_url"], headers=headers, connector=connector,
                                     timeout=timeout) as client:
        async def send(query: mix.Query) -> str | None:
            async with client.get(query.url) as response:
                body = await response.read()
            return None if response.status == 200 else f"{response.status}: {body[:150]!r}"

        return await _measure(spec, queries, warmup, send)


async def _sql(spec: dict[str, Any], queries: list[mix.Query], warmup: list[mix.Query]) -> dict[str, Any]:
    """The API's own ReadPool class and query functions, so only HTTP and FastAPI are left out."""
    from pdm.api.routers._reads import ReadPool
    from pdm.readmodels import queries as sql
    from pdm.settings import PostgresSettings, Settings

    pg = PostgresSettings(url=spec["conninfo"], schema_name=spec["schema"],  # type: ignore[arg-type]
                          pool_max_size=spec["pool_size"])
    pool = ReadPool(Settings(postgres=pg))

    async def send(query: mix.Query) -> str | None:
        async with pool.connection() as conn:
            await getattr(sql, query.sql)(conn, *query.args)
        return None

    try:
        return await _measure(spec, queries, warmup, send)
    finally:
        await pool.close()


async def _measure(spec: dict[str, Any], queries: list[mix.Query], warmup: list[mix.Query],
                   send: Send) -> dict[str, Any]:
    """Also the CPU seconds that this process and each server process tree (`cpu_pids`: the API,
    PostgreSQL) spent on the measured part: unlike latency, CPU per request barely moves when
    other work shares the cores, so it says what a rate costs even on a loaded machine."""
    if warmup:
        await open_loop(warmup, mix.schedule(spec["rate"], spec["warmup_s"]), send)
    pids: dict[str, int] = spec.get("cpu_pids", {})
    before = {"load generator": time.process_time()} | {name: tree_cpu(pid) for name, pid in pids.items()}
    result = await open_loop(queries, mix.schedule(spec["rate"], spec["duration_s"]), send)
    after = {"load generator": time.process_time()} | {name: tree_cpu(pid) for name, pid in pids.items()}
    return result | {"cpu_s": {name: after[name] - before[name] for name in before}}


def tree_cpu(pid: int) -> float:
    """User + system seconds of a process and its children (uvicorn workers, PostgreSQL backends);
    a child that exits in between takes its seconds with it, so the figure is a floor."""
    root = psutil.Process(pid)
    return sum(sum(p.cpu_times()[:2]) for p in (root, *root.children(recursive=True)))


def plan(spec: dict[str, Any]) -> tuple[list[mix.Query], list[mix.Query]]:
    """The measured queries and the warm-up ones (another seed: caches are not pre-filled
    with exactly the rows the measured run asks for)."""
    count, warm = round(spec["rate"] * spec["duration_s"]), round(spec["rate"] * spec["warmup_s"])
    if spec["mode"] == "healthz":
        return mix.healthz(count), mix.healthz(warm)
    return mix.build_mix(spec["catalog"], count, seed=1), mix.build_mix(spec["catalog"], warm, seed=2)


def main(spec_path: str, out_path: str) -> None:
    spec = json.loads(Path(spec_path).read_text())
    queries, warmup = plan(spec)
    runner = _sql if spec["mode"] == "sql" else _http
    result = uvloop.run(runner(spec, queries, warmup))
    Path(out_path).write_text(json.dumps(result))


if __name__ == "__main__":
    main(*sys.argv[1:3])
