"""The collector pacer: full passes only while the keys are still, what survives frozen."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from inspector.live.collector import MAX_WAIT_SECONDS, NEVER, CollectorPacer


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def pacer() -> Iterator[tuple[CollectorPacer, Clock]]:
    threshold = gc.get_threshold()
    clock = Clock()
    pacer = CollectorPacer(idle_seconds=1.0, clock=clock)
    try:
        yield pacer, clock
    finally:
        pacer.stop()
        gc.set_threshold(*threshold)


def test_start_freezes_and_takes_the_full_passes(pacer: tuple[CollectorPacer, Clock]) -> None:
    p, _ = pacer
    every = gc.get_threshold()[2]
    p.start()
    assert p.pacing and gc.get_freeze_count() > 0
    assert gc.get_threshold()[2] == NEVER
    p.start()  # once
    p.stop()
    assert not p.pacing and gc.get_threshold()[2] == every
    assert gc.get_freeze_count() == 0  # what it froze goes back with the passes


def test_an_unfreeze_is_collected_once_the_keys_are_still(
    pacer: tuple[CollectorPacer, Clock],
) -> None:
    p, clock = pacer
    p.start()
    p.tick()
    assert p.collections == 0  # nothing due
    gc.unfreeze()  # as the stepper does when it goes
    assert p.due()
    p.key_pressed()
    clock.now += 0.5
    p.tick()
    assert p.collections == 0 and gc.get_freeze_count() == 0  # a key half a second ago
    clock.now += 0.6
    p.tick()
    assert p.collections == 1 and gc.get_freeze_count() > 0 and not p.due()


def test_a_pass_due_waits_for_the_keys_at_most_so_long(
    pacer: tuple[CollectorPacer, Clock],
) -> None:
    p, clock = pacer
    p.start()
    gc.unfreeze()
    for _ in range(int(MAX_WAIT_SECONDS * 2) + 2):
        p.key_pressed()
        p.tick()
        if p.collections:
            break
        clock.now += 0.5
    assert p.collections == 1
    assert clock.now - 100.0 >= MAX_WAIT_SECONDS


def test_nothing_is_paced_before_start(pacer: tuple[CollectorPacer, Clock]) -> None:
    p, clock = pacer
    clock.now += 10
    assert not p.due()
    p.tick()
    assert p.collections == 0 and gc.get_threshold()[2] != NEVER
