"""The worker's life cycle: one state that only moves forward, and a way to wait for it."""

from __future__ import annotations

import enum
import threading


class State(enum.IntEnum):
    """Where the worker is in its life, in order."""

    NEW = 0
    """Made, not started."""
    SERVING = 1
    """User processes up, the stream read, work items served."""
    STOP_REQUESTED = 2
    """:meth:`~engine.worker.Worker.request_stop` was called; :meth:`run` is about to stop."""
    DRAINING = 3
    """Stopping: no new turn starts (turns that arrive are parked), what runs finishes."""
    CLOSING = 4
    """The stream is closed: nothing more is read; the last work items end."""
    STOPPED = 5
    """Everything ended; the counters are final."""


class LifeCycle:
    """The current :class:`State`, safe to advance from any thread and from a signal handler."""

    def __init__(self) -> None:
        # Re-entrant: a signal handler may advance the state while the main thread waits.
        self._cond = threading.Condition(threading.RLock())
        self._state = State.NEW

    @property
    def state(self) -> State:
        """The current state."""
        return self._state

    def reached(self, state: State) -> bool:
        """Whether the life cycle is at ``state`` or past it."""
        return self._state >= state

    def advance(self, state: State) -> bool:
        """Move to ``state`` unless already there or past it; True if it moved."""
        with self._cond:
            if self._state >= state:
                return False
            self._state = state
            self._cond.notify_all()
            return True

    def wait_for(self, state: State, timeout: float | None = None) -> bool:
        """Block until ``state`` is reached or ``timeout`` seconds passed; True if reached."""
        with self._cond:
            return self._cond.wait_for(lambda: self._state >= state, timeout)
