"""`python -m streams` runs the stream worker (what `pdm worker` starts)."""

from pdm.cli.common import service_settings
from streams.app import run_worker

run_worker(service_settings("worker"))
