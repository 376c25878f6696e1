"""``inspector worker HOST:PORT --app APP``: the embedded worker, headless.

One line per work item on standard error (time, kind, instance, name, result, duration), plus
notices about the connection. SIGINT and SIGTERM stop it gracefully (exit status 0); an APP
that does not load is exit status 2. Header values are never printed.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from engine.worker import Worker, WorkItemEvent
from inspector.options import connection_options, worker_options

_print_lock = threading.Lock()


def _emit(text: str) -> None:
    with _print_lock:
        try:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


def build_worker(args: argparse.Namespace) -> Worker:
    """The worker the parsed ``worker`` (or ``attach``) arguments describe."""
    connection = connection_options(args)
    options = worker_options(args)

    def on_event(event: WorkItemEvent) -> None:
        _emit(event.line())

    return Worker(connection, options, on_event=on_event, log=lambda text: _emit(f"worker: {text}"))


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; return the exit status."""
    worker = build_worker(args)

    def on_signal(signum: int, frame: Any) -> None:
        worker.request_stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        worker.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
