"""`pdm bench …`: throughput and latency benchmarks, each printed beside a baseline of the same run."""

from __future__ import annotations

import typer

from pdm.bench.api import api_bench
from pdm.bench.events import events
from pdm.bench.ingest import ingest
from pdm.bench.projections import projections
from pdm.bench.replay import replay_bench
from pdm.bench.stream import stream

app = typer.Typer(
    no_args_is_help=True,
    help="Benchmarks: pdm's figure beside a raw baseline measured in the same run, and the ratio.",
)
app.command("ingest")(ingest)
app.command("events")(events)
app.command("replay")(replay_bench)
app.command("stream")(stream)
app.command("projections")(projections)
app.command("api")(api_bench)
