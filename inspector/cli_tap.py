"""``inspector tap LISTEN_HOST:PORT --sidecar HOST:PORT [--ui [--app APP]]``: the transparent
proxy (``--listen-cert`` / ``--listen-key``: TLS towards the workers).

Headless: one line per work item on standard error, as ``inspector worker`` writes them,
followed by the peer of the worker that served it; notices start with ``tap:``. SIGINT and
SIGTERM stop it after what is in flight is forwarded (exit status 0). With ``--ui``: the live
TUI of ``attach`` on the sidecar, its work-item list fed by the tap, turns held before their
completion is forwarded; ``--app`` opens turns in the stepper with APP's code. Header values
are never printed.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from inspector.headless import BatchedLines, serve_until_signal
from inspector.options import connection_options, seconds

if TYPE_CHECKING:
    from engine.tap import TapOptions


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
        help="a transparent proxy between any worker and its sidecar (--ui: live TUI)",
        description="Forward every call from workers and clients to the sidecar, and log "
        "and record the work items and their completions; with --ui, show them live in "
        "the TUI of attach instead (--app: open turns with that code). --tls, --ca and "
        "--header apply to the connection to the sidecar; --listen-cert and --listen-key "
        "serve TLS to the workers.",
    )
    p.add_argument("listen", metavar="LISTEN_HOST:PORT", type=address, help="where to listen")
    p.add_argument(
        "--sidecar", metavar="HOST:PORT", type=address, required=True, help="the sidecar"
    )
    p.add_argument(
        "--record", metavar="DIR", help="save every work item's request and response in DIR"
    )
    p.add_argument(
        "--listen-cert",
        metavar="FILE",
        help="serve TLS to the workers with this PEM certificate (with --listen-key)",
    )
    p.add_argument("--listen-key", metavar="FILE", help="the PEM private key of --listen-cert")
    p.add_argument(
        "--grace",
        type=seconds,
        default=10.0,
        metavar="SECONDS",
        help="on SIGINT/SIGTERM, time for the work items in flight to complete (default 10)",
    )
    p.add_argument(
        "--ui", action="store_true", help="the live TUI of the captured work items (as attach)"
    )
    p.add_argument(
        "--app", help="with --ui: open turns in the stepper with this file's or module's code"
    )


def _check(args: argparse.Namespace) -> str | None:
    """What is wrong with the options, before anything starts (None: nothing)."""
    if args.ca and not args.tls:
        return "--ca needs --tls"
    if args.app and not args.ui:
        return "--app needs --ui (headless, the tap runs no code)"
    if bool(args.listen_cert) != bool(args.listen_key):
        return "--listen-cert and --listen-key go together"
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


def tap_options(args: argparse.Namespace) -> TapOptions:
    """The tap the parsed arguments describe (the CA file is checked: exit 2 if unreadable).

    Raises:
        ConnectionConfigError: the CA file cannot be read or holds no certificate.
        TapError: the listener's certificate or key cannot be read.
    """
    from engine.channel import Dialer
    from engine.tap import TapOptions, read_listen_tls

    sidecar = connection_options(args, address=args.sidecar)
    Dialer(sidecar)  # reads and checks the CA file, as every command does
    options = TapOptions(
        listen=args.listen,
        sidecar=sidecar,
        record_dir=args.record,
        grace=args.grace,
        listen_cert=args.listen_cert,
        listen_key=args.listen_key,
    )
    read_listen_tls(options)  # at the door: one line and exit 2 if unreadable
    return options


def run(args: argparse.Namespace) -> int:
    """Forward until SIGINT or SIGTERM (or, with ``--ui``, until the user quits)."""
    problem = _check(args)
    if problem is not None:
        print(f"inspector: {problem}", file=sys.stderr)
        return 2
    options = tap_options(args)
    if args.ui:
        return _run_ui(args, options)
    from engine.tap import Tap

    lines = BatchedLines()  # written each time the capture has caught up

    def notice(text: str) -> None:
        lines.add(f"tap: {text}")
        lines.flush()

    tap = Tap(
        options, on_event=lambda event: lines.add(event.line()), log=notice, on_idle=lines.flush
    )

    return serve_until_signal(tap)


def _run_ui(args: argparse.Namespace, options: TapOptions) -> int:
    """The live TUI on the sidecar, fed by the tap; the tap stops when the user quits."""
    from engine.app_loader import load_app
    from engine.tap import check_listen
    from inspector.live import LiveConfig
    from inspector.live.tap_source import TapLiveApp

    check_listen(options.listen)
    config = LiveConfig(
        connection=options.sidecar,
        tap_options=options,
        user_app=load_app(args.app) if args.app else None,
        title=f"tap {args.listen} → {args.sidecar}" + (f" --app {args.app}" if args.app else ""),
    )
    app = TapLiveApp(config)
    try:
        app.run()
    finally:
        app.close()
    return 0
