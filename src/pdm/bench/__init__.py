"""Benchmarks behind `pdm bench`: each measures pdm beside a raw baseline in the same run."""
