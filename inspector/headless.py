"""What the headless long-running commands (``worker``, ``tap``) share: log lines and signals."""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any, Protocol

_print_lock = threading.Lock()


def emit(text: str) -> None:
    """Write one log line to stderr, whole, from any thread (a closed stderr is ignored)."""
    with _print_lock:
        try:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


class BatchedLines:
    """Log lines gathered from any thread and written by :func:`emit` in one go on
    :meth:`flush` (a burst of work items costs one write, not one per line)."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._lock = threading.Lock()

    def add(self, text: str) -> None:
        """Keep one line for the next :meth:`flush`."""
        with self._lock:
            self._lines.append(text)

    def flush(self) -> None:
        """Write the lines kept so far, in order."""
        with self._lock:
            lines, self._lines = self._lines, []
            if lines:
                emit("\n".join(lines))


class Service(Protocol):
    """Something that runs until asked to stop (the worker, the tap)."""

    def run(self) -> Any: ...

    def request_stop(self) -> None: ...


def serve_until_signal(service: Service) -> int:
    """Run ``service`` until SIGINT or SIGTERM asks it to stop; exit status 0."""

    def on_signal(signum: int, frame: Any) -> None:
        service.request_stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        service.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
