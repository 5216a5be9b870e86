"""Admission limits: how much the API holds at once, refused past a bound instead of queued."""

from __future__ import annotations

from typing import Self

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
