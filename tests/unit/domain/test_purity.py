"""The domain stays pure: no I/O frameworks, no settings, no clock reads."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pdm.domain

pytestmark = pytest.mark.unit

FORBIDDEN = ("faust", "aiokafka", "psycopg", "fastapi", "structlog", "pdm.settings")
CLOCK_READS = ("now", "utcnow", "today", "time", "monotonic", "perf_counter")
SOURCES = sorted(Path(pdm.domain.__file__).parent.glob("*.py"))


def imported_modules(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_domain_module_imports_no_io_framework(source: Path) -> None:
    tree = ast.parse(source.read_text())

    modules = imported_modules(tree)

    assert not {m for m in modules for f in FORBIDDEN if m == f or m.startswith(f + ".")}


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_domain_module_reads_no_clock(source: Path) -> None:
    tree = ast.parse(source.read_text())

    calls = [
        n.func.attr for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
    ]

    assert not set(calls) & set(CLOCK_READS)
