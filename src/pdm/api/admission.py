"""Admission limits: how much the API holds at once, refused past a bound instead of queued."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Self

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from pdm.api.errors import ApiError


class Budget:
    """A quantity held at once (bytes of request bodies, open streams), capped at `limit`.

    Never waits: a request the budget cannot cover is refused at once, so load beyond what the
    process can drain turns into quick 503s for clients to retry rather than memory that grows.
    Used from the event loop only, so plain arithmetic needs no lock.
    """

    def __init__(self, limit: int, code: str, what: str, retry_after_s: int = 1) -> None:
        self.limit, self.code, self.what, self.retry_after_s = limit, code, what, retry_after_s
        self.held = 0
        self.peak = 0
        self.refused = 0

    def hold(self) -> Hold:
        return Hold(self)

    def refusal(self, amount: int) -> ApiError:
        self.refused += 1
        return ApiError(503, self.code, f"the API holds too many {self.what} right now; retry later",
                        {"limit": self.limit, "held": self.held, "requested": amount},
                        headers={"Retry-After": str(self.retry_after_s)})


class Hold:
    """What one request took from a budget; `release` (or leaving the `with`) gives it all back."""

    def __init__(self, budget: Budget) -> None:
        self.budget, self.amount = budget, 0

    def take(self, amount: int) -> None:
        budget = self.budget
        if budget.held + amount > budget.limit:
            raise budget.refusal(amount)
        budget.held += amount
        budget.peak = max(budget.peak, budget.held)
        self.amount += amount

    def release(self) -> None:
        self.budget.held -= self.amount
        self.amount = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.release()


class BudgetCollector(Collector):
    """Each budget's limit, what it holds now, its peak and its refusals, read at scrape time
    (`budgets` builds each on first use, so all are listed before any request)."""

    def __init__(self, budgets: Mapping[str, Callable[[], Budget]]) -> None:
        self.budgets = budgets

    def collect(self) -> Iterator[Metric]:
        labels = ["budget"]
        what = "(ingest_bytes: request bodies being handled; live_streams: open streams; " \
               "commands: event-store calls running or queued)"
        limit = GaugeMetricFamily("pdm_api_admission_limit", f"Admission budget's limit {what}",
                                  labels=labels)
        held = GaugeMetricFamily("pdm_api_admission_held", f"Held now {what}", labels=labels)
        peak = GaugeMetricFamily("pdm_api_admission_peak", f"Most held at once since start {what}",
                                 labels=labels)
        refused = CounterMetricFamily("pdm_api_admission_refused", f"Requests refused at once, the budget "
                                      f"full (503 with Retry-After) {what}", labels=labels)
        for name, get in self.budgets.items():
            budget = get()
            limit.add_metric([name], budget.limit)
            held.add_metric([name], budget.held)
            peak.add_metric([name], budget.peak)
            refused.add_metric([name], budget.refused)
        yield from (limit, held, peak, refused)
