"""Keeping the cyclic collector's full passes off the live app's keys.

A full pass walks every object the collector tracks: what start-up made (modules, Textual's
widgets) took 50 ms of it at 10,000 instances, and it fell on whatever key was being handled;
after the stepper (which unfreezes everything when it goes, its garbage with it) a pass took
100 to 200 ms. :class:`CollectorPacer` freezes what start-up made at the first listing (the rows
listed later die as usual: they hold no cycles), turns the collector's own full passes off, and
makes them itself once the keys have been still for a second (or at the latest
:data:`MAX_WAIT_SECONDS` after one fell due), freezing again what survives an unfreeze.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

IDLE_SECONDS = 1.0
"""How long no key was pressed before the pacer makes a full pass that is due."""

MAX_WAIT_SECONDS = 30.0
"""A full pass due waits at most this long for the keys to be still."""

TICK_SECONDS = 0.5
"""How often the app asks the pacer (:meth:`CollectorPacer.tick`)."""

NEVER = 1 << 30
"""The full-pass threshold while the pacer makes them."""


class CollectorPacer:
    """Freezes what lives long; makes the collector's full passes while no key is pressed."""

    def __init__(
        self, idle_seconds: float = IDLE_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.idle_seconds = idle_seconds
        self.clock = clock
        self.last_key = 0.0
        """When the last key was pressed (``clock``)."""
        self.collections = 0
        """How many full passes the pacer made."""
        self._every: int | None = None
        self._due_at: float | None = None

    @property
    def pacing(self) -> bool:
        """Whether the pacer makes the full passes (between :meth:`start` and :meth:`stop`)."""
        return self._every is not None

    def key_pressed(self) -> None:
        """A key came: no full pass for the next :attr:`idle_seconds` (unless one waited long)."""
        self.last_key = self.clock()

    def start(self) -> None:
        """The list is up: freeze what start-up made, and make the full passes from now (once)."""
        if self._every is not None:
            return
        gc.freeze()
        first, second, every = gc.get_threshold()
        self._every = every
        gc.set_threshold(first, second, NEVER)

    def stop(self) -> None:
        """Give the full passes back to the collector, and what it froze (the app is closing)."""
        if self._every is not None:
            first, second, _ = gc.get_threshold()
            gc.set_threshold(first, second, self._every)
            self._every = None
            gc.unfreeze()  # what the app froze must not outlive it

    def due(self) -> bool:
        """Whether a full pass is due: something unfroze, or the collector would have made one."""
        every = self._every  # read once: stop() may clear it from the closing thread
        if every is None:
            return False
        return gc.get_freeze_count() == 0 or gc.get_count()[2] >= every

    def tick(self) -> None:
        """Make the full pass due if the keys are still (or it waited too long), then freeze."""
        if not self.due():
            self._due_at = None
            return
        now = self.clock()
        if self._due_at is None:
            self._due_at = now
        still = now - self.last_key >= self.idle_seconds
        if not still and now - self._due_at < MAX_WAIT_SECONDS:
            return
        unfrozen = gc.get_freeze_count() == 0
        gc.collect()
        if unfrozen:
            gc.freeze()
        self.collections += 1
        self._due_at = None
