"""The ``inspector`` command line: the parser, and a lazy dispatch to ``inspector.cli_<name>``.

Each subcommand is handled by ``inspector.cli_<name>:run(args) -> int``, imported only when
that command runs (``inspector --help`` imports nothing of the engine). The parsed ``args``
they receive carry:

- ``open``: ``request`` (str, a path or ``-``), ``app`` (str or None).
- ``show``: ``request``, ``json`` (bool).
- ``replay``: ``request``, ``app`` (str), ``output`` (str or None), ``json`` (bool),
  ``max_timer_interval`` (float seconds or None).
- ``attach``: ``address`` (str, ``HOST:PORT``), ``app`` (str or None), the connection and
  worker arguments of :mod:`inspector.options`.
- ``worker``: ``address``, ``app`` (str), the connection and worker arguments.
- ``tap``: ``listen`` and ``sidecar`` (``HOST:PORT``), ``record`` (str or None), ``grace``
  (float seconds), ``ui`` (bool: the live TUI instead of log lines), ``app`` (str or None,
  only with ``ui``), ``listen_cert`` and ``listen_key`` (str or None: TLS towards the
  workers) and the connection arguments (for the sidecar side); its arguments are defined
  in ``cli_tap``.
- ``demo``: nothing.

Connection and worker arguments are ``None`` when not given (the engine's default holds);
:func:`inspector.options.connection_options` and :func:`inspector.options.worker_options`
turn them into the engine's options.

Every :class:`~engine.errors.InspectorError` becomes one line ``inspector: <message>`` on
stderr and exit status 2; usage errors exit 2 as well.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable

from inspector import options as opt

Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """The full ``inspector`` argument parser (every command of the contract)."""
    parser = opt.Parser(
        prog="inspector",
        description="Debugger and history inspector for Durable Task orchestrations.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    connection = opt.connection_arguments()
    worker = opt.worker_arguments()
    formatter = opt.EngineDefaultsHelpFormatter
    request_help = "OrchestratorRequest file (base64, binary or JSON), or - for stdin"

    p = sub.add_parser("open", help="the TUI on one request")
    p.add_argument("request", metavar="REQUEST", help=request_help)
    p.add_argument(
        "--app", help="Python file or module with the orchestrator code (APP or APP:WORKER)"
    )
    opt.add_timer_interval(p)

    p = sub.add_parser("show", help="print the decoded history (or any file --record wrote)")
    p.add_argument("request", metavar="REQUEST", help=request_help)
    p.add_argument("--json", action="store_true", help="print a JSON document (docs/show-json.md)")

    p = sub.add_parser(
        "replay", formatter_class=formatter, help="replay with APP's code and print the response"
    )
    p.add_argument("request", metavar="REQUEST", help=request_help)
    p.add_argument("--app", required=True, help="Python file or module with the orchestrator")
    p.add_argument("--output", metavar="FILE", help="write the response here (default stdout)")
    p.add_argument("--json", action="store_true", help="protobuf JSON instead of base64")
    opt.add_timer_interval(p)

    p = sub.add_parser(
        "attach",
        parents=[connection, worker],
        formatter_class=formatter,
        help="the TUI, live, on a Durable Task sidecar",
    )
    p.add_argument("address", metavar="HOST:PORT", type=opt.address, help="the sidecar")
    p.add_argument("--app", help="also serve work items with this file's or module's functions")

    p = sub.add_parser(
        "worker",
        parents=[connection, worker],
        formatter_class=formatter,
        help="the embedded worker, headless",
    )
    p.add_argument("address", metavar="HOST:PORT", type=opt.address, help="the sidecar")
    p.add_argument("--app", required=True, help="Python file or module with the functions")

    from inspector.cli_tap import add_parser as add_tap_parser

    add_tap_parser(sub, connection, opt.address)

    sub.add_parser("demo", help="an in-process sidecar with the samples, in the TUI")
    return parser


def _lazy_handler(command: str) -> Handler | None:
    module_name = f"inspector.cli_{command}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name:
            return None
        raise
    handler: Handler = module.run
    return handler


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    from engine.errors import InspectorError

    try:
        handler = _lazy_handler(args.command)
        if handler is None:
            print(f"inspector: {args.command!r} is not available yet", file=sys.stderr)
            return 2
        return handler(args)
    except InspectorError as exc:
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"inspector: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
