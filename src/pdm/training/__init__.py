"""Training sets from replayed history, reproducible fits, backtests and lineage (pure; I/O in `job`)."""
