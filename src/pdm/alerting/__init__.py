"""Alerting queries over the event store: an alert's audit history and resolutions as training labels."""
