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

from engine.worker import ConnectionOptions, Worker, WorkerOptions, WorkItemEvent

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
    connection = ConnectionOptions(
        address=args.address,
        tls=bool(args.tls),
        ca_file=args.ca,
        headers=tuple(args.header or ()),
    )
    limits: dict[str, Any] = {}
    if args.max_orchestrations is not None:
        limits["max_orchestrations"] = args.max_orchestrations
    if args.max_activities is not None:
        limits["max_activities"] = args.max_activities
    options = WorkerOptions(
        app=args.app,
        turn_timeout=args.turn_timeout,
        activity_timeout=args.activity_timeout,
        max_timeouts=args.max_timeouts,
        grace=args.grace,
        record_dir=args.record,
        **limits,
    )

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
