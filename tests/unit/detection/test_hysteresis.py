"""The alert hysteresis state machine."""

import numpy as np
import pytest

from pdm.detection import Hysteresis, HysteresisState, Transition
from pdm.detection.hysteresis import run, step

pytestmark = pytest.mark.unit

RULE = Hysteresis(raise_after=3, clear_after=2)


def test_alert_raises_only_after_k_consecutive_anomalous_windows() -> None:
    windows = np.array([1, 1, 0, 1, 1, 1, 1], bool)

    active, transitions, _ = run(RULE, HysteresisState(), windows)

    assert active.tolist() == [False, False, False, False, False, True, True]
    assert transitions.count(Transition.RAISED) == 1


def test_alert_clears_only_after_m_consecutive_normal_windows() -> None:
    windows = np.array([0, 1, 0, 0, 1], bool)

    active, transitions, state = run(RULE, HysteresisState(active=True), windows)

    assert active.tolist() == [True, True, True, False, False]
    assert transitions[3] is Transition.CLEARED
    assert state == HysteresisState(False, 1)


def test_batches_give_the_same_flags_as_one_pass() -> None:
    rng = np.random.default_rng(0)
    windows = rng.random(200) < 0.4
    whole, _, _ = run(RULE, HysteresisState(), windows)

    state, parts = HysteresisState(), []
    for part in np.array_split(windows, 13):
        flags, _, state = run(RULE, HysteresisState.from_dict(state.as_dict()), part)
        parts.append(flags)

    assert np.array_equal(np.concatenate(parts), whole)


def test_one_normal_window_resets_the_count_towards_raising() -> None:
    state = HysteresisState()
    for flag in (True, True, False, True, True):
        state, transition = step(RULE, state, flag)

    assert not state.active and state.run == 2
    assert transition is Transition.NONE
