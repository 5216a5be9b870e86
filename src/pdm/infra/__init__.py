"""Adapters to the real infrastructure: the Kafka-protocol broker and PostgreSQL."""
