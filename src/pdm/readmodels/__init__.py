"""The read side: pure folds of events into read-model rows, and queries over the tables."""
