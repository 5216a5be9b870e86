"""Faust stream worker: readings in; features, scores, anomalies, DLQ and the archive out."""
