"""pdm.scoring stays pure: importing it loads no I/O framework and no settings."""

import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit

FORBIDDEN = ("faust", "aiokafka", "psycopg", "fastapi", "structlog", "pdm.settings")


def test_importing_the_scoring_core_loads_no_io_framework() -> None:
    probe = "import sys, pdm.scoring, pdm.scoring.deployments; print(' '.join(sorted(sys.modules)))"

    loaded = set(subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True,
                                text=True).stdout.split())

    assert not {m for m in loaded for f in FORBIDDEN if m == f or m.startswith(f + ".")}
