"""CQRS projections: read models built from the event store and the scores topic."""
