"""``inspector tap LISTEN_HOST:PORT --sidecar HOST:PORT``: the transparent proxy, headless.

One line per work item on standard error, as ``inspector worker`` writes them, followed by
the peer of the worker that served it; notices start with ``tap:``. SIGINT and SIGTERM stop
it after what is in flight is forwarded (exit status 0). Header values are never printed.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from inspector.options import seconds

_print_lock = threading.Lock()


def add_parser(
    sub: Any, connection: argparse.ArgumentParser, address: Callable[[str], str]
) -> None:
    """Register ``tap`` on the ``inspector`` subparsers.

    Args:
        sub: The subparsers action of the ``inspector`` parser.
        connection: The parent parser with ``--tls``, ``--ca`` and ``--header`` (here they
            apply to the sidecar side).
        address: The ``HOST:PORT`` argument type.
    """
    p = sub.add_parser(
        "tap",
        parents=[connection],
        help="a transparent proxy between any worker and its sidecar",
        description="Forward every call from workers and clients to the sidecar, and log "
        "and record the work items and their completions. --tls, --ca and --header apply "
        "to the connection to the sidecar.",
    )
    p.add_argument("listen", metavar="LISTEN_HOST:PORT", type=address, help="where to listen")
    p.add_argument(
        "--sidecar", metavar="HOST:PORT", type=address, required=True, help="the sidecar"
    )
    p.add_argument(
        "--record", metavar="DIR", help="save every work item's request and response in DIR"
    )
    p.add_argument(
        "--grace",
        type=seconds,
        default=10.0,
        metavar="SECONDS",
        help="on SIGINT/SIGTERM, time for the work items in flight to complete (default 10)",
    )


def _emit(text: str) -> None:
    with _print_lock:
        try:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()
        except (OSError, ValueError):
            pass


def _check(args: argparse.Namespace) -> str | None:
    """What is wrong with the options, before anything starts (None: nothing)."""
    if args.ca and not args.tls:
        return "--ca needs --tls"
    if args.ca and not os.access(args.ca, os.R_OK):
        return f"--ca: cannot read {args.ca}"
    if args.record:
        if os.path.exists(args.record) and not os.path.isdir(args.record):
            return f"--record: {args.record} is not a directory"
        try:
            os.makedirs(args.record, exist_ok=True)
        except OSError as exc:
            return f"--record: cannot create {args.record}: {exc.strerror}"
        if not os.access(args.record, os.W_OK):
            return f"--record: cannot write into {args.record}"
    return None


def run(args: argparse.Namespace) -> int:
    """Forward until SIGINT or SIGTERM; return the exit status."""
    problem = _check(args)
    if problem is not None:
        print(f"inspector: {problem}", file=sys.stderr)
        return 2
    from engine.tap import Tap, TapEvent, TapOptions

    options = TapOptions(
        listen=args.listen,
        sidecar=args.sidecar,
        tls=bool(args.tls),
        ca_file=args.ca,
        headers=tuple(args.header or ()),
        record_dir=args.record,
        grace=args.grace,
    )

    def on_event(event: TapEvent) -> None:
        _emit(event.line())

    tap = Tap(options, on_event=on_event, log=lambda text: _emit(f"tap: {text}"))

    def on_signal(signum: int, frame: Any) -> None:
        tap.request_stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        tap.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
