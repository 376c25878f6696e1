"""``inspector worker HOST:PORT --app APP``: the embedded worker, headless.

One line per work item on standard error (time, kind, instance, name, result, duration), plus
notices about the connection. SIGINT and SIGTERM stop it gracefully (exit status 0); an APP
that does not load is exit status 2. Header values are never printed.
"""

from __future__ import annotations

import argparse

from engine.worker import Worker, WorkItemEvent
from inspector.headless import emit, serve_until_signal
from inspector.options import connection_options, worker_options


def build_worker(args: argparse.Namespace) -> Worker:
    """The worker the parsed ``worker`` (or ``attach``) arguments describe."""
    connection = connection_options(args)
    options = worker_options(args)

    def on_event(event: WorkItemEvent) -> None:
        emit(event.line())

    return Worker(connection, options, on_event=on_event, log=lambda text: emit(f"worker: {text}"))


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; return the exit status."""
    worker = build_worker(args)

    return serve_until_signal(worker)
