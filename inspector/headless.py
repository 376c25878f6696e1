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
