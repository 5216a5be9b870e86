"""Replay of archived or logged history through the stream's own feature and scoring code."""
