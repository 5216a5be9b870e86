"""Metrics registries and collectors that read counters services already keep, at scrape time."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_LATEST


def new_registry() -> CollectorRegistry:
    """A registry per service instance, with process metrics: tests can build many apps in one
    process without the global registry refusing duplicate names."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    return registry


def render(registry: CollectorRegistry) -> bytes:
    return generate_latest(registry)


class StatsCollector(Collector):
    """Exposes a stats object's numeric fields as counters (gauges where named), read at scrape
    time: the hot path keeps incrementing plain ints and pays nothing for metrics."""

    def __init__(self, prefix: str, read: Callable[[], Mapping[str, Any]], doc: str,
                 gauges: frozenset[str] = frozenset()) -> None:
        self.prefix, self.read, self.doc, self.gauges = prefix, read, doc, gauges

    def collect(self) -> Iterator[Metric]:
        for field, value in self.read().items():
            name = f"{self.prefix}_{field}"
            if isinstance(value, Mapping):
                yield _labelled(name, self.doc, value)
            elif isinstance(value, int | float) and not isinstance(value, bool):
                family = GaugeMetricFamily if field in self.gauges else CounterMetricFamily
                yield family(name, f"{self.doc}: {field}", value=value)


def _labelled(name: str, doc: str, values: Mapping[str, Any]) -> Metric:
    """A dict of counts (e.g. outcome -> n) is one counter with a bounded `kind` label."""
    family = CounterMetricFamily(name, f"{doc}: {name}", labels=["kind"])
    for kind, count in values.items():
        family.add_metric([str(kind)], count)
    return family
