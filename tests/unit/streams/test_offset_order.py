"""Events past a partition's next offset are held back and the partition seeked back to it."""

from __future__ import annotations

import pytest
from faust.types import TP

from streams.offsets import GIVE_UP_S, GIVE_UP_SEEKS, OffsetOrder

pytestmark = pytest.mark.unit
A, B = TP("readings", 0), TP("readings", 1)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def order(committed: dict[TP, int] | None = None, clock: Clock | None = None) -> tuple[OffsetOrder, list[int]]:
    epoch = [0]
    known = committed or {}
    return OffsetOrder(known.get, lambda: epoch[0], clock or Clock()), epoch


def test_in_order_events_all_go_through_without_seeks() -> None:
    o, _ = order({A: 10})
    admitted = o.admit([(A, 10), (B, 3), (A, 11), (B, 4)])
    assert admitted.keep == [0, 1, 2, 3] and admitted.seeks == {}
    assert o.admit([(A, 12), (B, 5)]).keep == [0, 1]


def test_an_event_past_the_committed_offset_is_held_back_and_the_partition_seeked_back() -> None:
    """The rebalance case: a pre-rebalance fetch delivers 11 while 10, the committed offset, is next."""
    o, _ = order({A: 10})
    admitted = o.admit([(A, 11), (B, 0), (A, 12)])
    assert admitted.keep == [1] and admitted.seeks == {A: 10}
    assert o.stats.held_back == 2
    again = o.admit([(A, 10), (A, 11), (A, 12)])  # the consumer fetched from 10 again
    assert again.keep == [0, 1, 2] and again.seeks == {}


def test_a_skip_in_the_middle_of_a_partition_is_caught_in_the_same_batch() -> None:
    o, _ = order({A: 0})
    admitted = o.admit([(A, 0), (A, 1), (A, 3), (A, 4)])
    assert admitted.keep == [0, 1] and admitted.seeks == {A: 2}


def test_redeliveries_below_the_next_offset_go_through_and_do_not_move_it_back() -> None:
    o, _ = order({A: 5})
    assert o.admit([(A, 5), (A, 6), (A, 7)]).keep == [0, 1, 2]
    admitted = o.admit([(A, 5), (A, 6), (A, 8)])
    assert admitted.keep == [0, 1, 2] and admitted.seeks == {}


def test_a_rebalance_restarts_every_partition_from_its_committed_offset() -> None:
    committed = {A: 20}
    o, epoch = order(committed)
    assert o.admit([(A, 20), (A, 21)]).keep == [0, 1]
    committed[A] = 40  # the partition was another worker's for a while and comes back
    epoch[0] += 1
    assert o.admit([(A, 40)]).keep == [0]
    epoch[0] += 1
    assert o.admit([(A, 42)]).seeks == {A: 40}


def test_without_a_committed_offset_the_first_event_sets_the_start() -> None:
    o, _ = order()
    assert o.admit([(A, 7), (A, 8)]).keep == [0, 1]
    assert o.admit([(A, 10)]).seeks == {A: 9}


def test_a_real_hole_in_the_log_is_accepted_only_after_repeated_seeks_over_time() -> None:
    clock = Clock()
    o, _ = order({A: 3}, clock)
    for _ in range(GIVE_UP_SEEKS):
        assert o.admit([(A, 5)]).seeks == {A: 3}
        clock.now += GIVE_UP_S / GIVE_UP_SEEKS
    clock.now += 0.01
    admitted = o.admit([(A, 5), (A, 6)])
    assert admitted.keep == [0, 1] and admitted.seeks == {}
    assert o.stats.holes_accepted == 1


def test_many_quick_seeks_alone_do_not_accept_a_hole() -> None:
    """Leftovers of an old fetch can arrive many times in a row right after a seek."""
    clock = Clock()
    o, _ = order({A: 3}, clock)
    for _ in range(5 * GIVE_UP_SEEKS):
        assert o.admit([(A, 9)]).seeks == {A: 3}
    assert o.stats.holes_accepted == 0
