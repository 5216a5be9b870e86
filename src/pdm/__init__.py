"""pdm: an event-sourced predictive-maintenance backend."""

__version__ = "0.1.0"
