"""Prometheus metrics shared by pdm's services: registries, collectors and exposition."""
