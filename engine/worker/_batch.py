"""Activity results of one orchestration sent close together.

A sidecar hands an orchestration out for a new turn as soon as one of its activity results
arrives; results that arrive one by one make one turn each. So when the orchestration's code
waits on a ``when_all`` (the turn's replay says which activities it still needs), an activity
result it needs is held while the other needed ones are still running, and all of them go out
together when the last one is done, or :data:`HOLD_SECONDS` after the first was held, whichever
comes first: a slow sibling (or one another worker took) delays the others by that much at
most. A result nothing waits for with others (a chain, a ``when_any``) is never held.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

HOLD_SECONDS = 0.02
"""The longest an activity result waits for its siblings."""

Send = Callable[[], None]


class ResultBatch:
    """Holds sends by group (the orchestration instance) until the group's last one.

    Args:
        hold: Seconds a group is held at most.
    """

    def __init__(self, hold: float = HOLD_SECONDS) -> None:
        self._hold = hold
        self._cond = threading.Condition()
        self._held: dict[str, tuple[float, list[Send]]] = {}
        self._thread: threading.Thread | None = None
        self._open = True

    def add(self, group: str, send: Send, last: bool) -> None:
        """Send now with the group's held sends (``last``), or hold until then."""
        with self._cond:
            if not last and self._open:
                entry = self._held.get(group)
                if entry is not None:
                    entry[1].append(send)
                    return
                self._held[group] = (time.monotonic() + self._hold, [send])
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._expire, name="worker-batch", daemon=True
                    )
                    self._thread.start()
                elif len(self._held) == 1:
                    self._cond.notify()
                return
            entry = self._held.pop(group, None)
        for held in entry[1] if entry is not None else ():
            held()
        send()

    def held(self, group: str) -> int:
        """How many sends of ``group`` are held right now."""
        with self._cond:
            entry = self._held.get(group)
            return 0 if entry is None else len(entry[1])

    def flush(self) -> None:
        """Send everything held now, and hold nothing from now on."""
        with self._cond:
            self._open = False
            sends = [send for _, group in self._held.values() for send in group]
            self._held.clear()
            self._cond.notify()
        for send in sends:
            send()

    def _expire(self) -> None:
        while True:
            with self._cond:
                while self._open and not self._held:
                    self._cond.wait()
                if not self._held:
                    return
                now = time.monotonic()
                due: list[Send] = []
                for group, (deadline, sends) in list(self._held.items()):
                    if deadline > now:
                        break
                    del self._held[group]
                    due += sends
                if not due:
                    first = next(iter(self._held.values()))[0]
                    self._cond.wait(first - now)
                    continue
            for send in due:
                send()
