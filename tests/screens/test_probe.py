"""The arithmetic behind bench/ui.py's latency figures: which touch led to which screen,
and when that screen was first on the glass."""

from __future__ import annotations

from screens.probe import (
    first_flip_after,
    next_screen_latencies,
    next_screen_latencies_by_screen,
    rss_bytes,
)


def test_a_touch_is_timed_to_the_first_flip_after_the_switch_it_caused() -> None:
    touches = [1.0, 2.0, 3.0]
    switches = [1.02, 3.05]  # the touch at 2.0 typed a digit: no switch before 3.0
    flips = [1.01, 1.016, 1.033, 2.01, 3.01, 3.066]
    latencies = next_screen_latencies(touches, switches, flips)
    assert [round(v, 3) for v in latencies] == [0.033, 0.066]


def test_latencies_are_kept_apart_by_the_move_made() -> None:
    touches = [1.0, 2.0, 3.0]
    switches = [(1.02, "amount"), (2.01, "method"), (3.05, "amount")]
    flips = [1.03, 2.1, 3.06]
    got = next_screen_latencies_by_screen(touches, switches, flips)
    assert {name: [round(v, 2) for v in values] for name, values in got.items()} == {
        "start -> amount": [0.03],
        "amount -> method": [0.1],
        "method -> amount": [0.06],
    }


def test_a_switch_after_the_next_touch_belongs_to_that_touch() -> None:
    assert next_screen_latencies([1.0, 2.0], [2.5], [2.6]) == [0.6000000000000001]


def test_a_switch_never_drawn_is_not_counted() -> None:
    assert next_screen_latencies([1.0], [1.5], [1.2]) == []


def test_the_next_frame_after_each_touch() -> None:
    assert [round(v, 3) for v in first_flip_after([1.0, 2.0], [1.016, 2.004])] == [0.016, 0.004]
    assert first_flip_after([5.0], [1.0]) == []


def test_memory_is_read_from_proc() -> None:
    assert rss_bytes() > 10 * 2**20  # this interpreter with pytest loaded
