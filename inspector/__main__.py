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
import gc
import importlib
import sys
from collections.abc import Callable
from typing import Any

from inspector import options as opt

Handler = Callable[[argparse.Namespace], int]

SIDECAR_DIALECT = "the sidecar's protocol: durabletask (default) or dapr (a Dapr sidecar)"
REQUEST_DIALECT = "the request's encoding: durabletask or dapr (default: detected)"


COMMANDS = ("open", "show", "replay", "attach", "worker", "tap", "demo")
REQUEST_HELP = "OrchestratorRequest file (base64, binary or JSON), or - for stdin"


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The ``inspector`` argument parser (every command of the contract).

    Args:
        only: Build this command's arguments only; the others get a bare entry (their
            arguments are never read when ``only`` runs, and the top-level help, which lists
            them, is printed only by a full parser). ``None``: build everything.
    """
    parser = opt.Parser(
        prog="inspector",
        description="Debugger and history inspector for Durable Task orchestrations.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        if only is None or name == only:
            _ADDERS[name](sub)
        else:
            sub.add_parser(name)
    return parser


def _add_open(sub: Any) -> None:
    p = sub.add_parser("open", help="the TUI on one request")
    p.add_argument("request", metavar="REQUEST", help=REQUEST_HELP)
    p.add_argument(
        "--app", help="Python file or module with the orchestrator code (APP or APP:WORKER)"
    )
    opt.add_dialect(p, REQUEST_DIALECT)
    opt.add_timer_interval(p)


def _add_show(sub: Any) -> None:
    p = sub.add_parser("show", help="print the decoded history (or any file --record wrote)")
    p.add_argument("request", metavar="REQUEST", help=REQUEST_HELP)
    p.add_argument("--json", action="store_true", help="print a JSON document (docs/show-json.md)")
    opt.add_dialect(p, REQUEST_DIALECT)


def _add_replay(sub: Any) -> None:
    p = sub.add_parser(
        "replay",
        formatter_class=opt.EngineDefaultsHelpFormatter,
        help="replay with APP's code and print the response",
    )
    p.add_argument("request", metavar="REQUEST", help=REQUEST_HELP)
    p.add_argument("--app", required=True, help="Python file or module with the orchestrator")
    p.add_argument("--output", metavar="FILE", help="write the response here (default stdout)")
    p.add_argument("--json", action="store_true", help="protobuf JSON instead of base64")
    opt.add_timer_interval(p)


def _add_attach(sub: Any) -> None:
    p = sub.add_parser(
        "attach",
        parents=[opt.connection_arguments(), opt.worker_arguments()],
        formatter_class=opt.EngineDefaultsHelpFormatter,
        help="the TUI, live, on a Durable Task sidecar",
    )
    p.add_argument("address", metavar="HOST:PORT", type=opt.address, help="the sidecar")
    p.add_argument("--app", help="also serve work items with this file's or module's functions")
    opt.add_dialect(p, SIDECAR_DIALECT)


def _add_worker(sub: Any) -> None:
    p = sub.add_parser(
        "worker",
        parents=[opt.connection_arguments(), opt.worker_arguments()],
        formatter_class=opt.EngineDefaultsHelpFormatter,
        help="the embedded worker, headless",
    )
    p.add_argument("address", metavar="HOST:PORT", type=opt.address, help="the sidecar")
    p.add_argument("--app", required=True, help="Python file or module with the functions")
    opt.add_dialect(p, SIDECAR_DIALECT)


def _add_tap(sub: Any) -> None:
    from inspector.cli_tap import add_parser as add_tap_parser

    add_tap_parser(sub, opt.connection_arguments(), opt.address)


def _add_demo(sub: Any) -> None:
    sub.add_parser("demo", help="an in-process sidecar with the samples, in the TUI")


_ADDERS: dict[str, Callable[[Any], None]] = {
    "open": _add_open,
    "show": _add_show,
    "replay": _add_replay,
    "attach": _add_attach,
    "worker": _add_worker,
    "tap": _add_tap,
    "demo": _add_demo,
}


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
    words = sys.argv[1:] if argv is None else argv
    # The command word first (the usual case): only its arguments need building.
    only = words[0] if words and words[0] in COMMANDS else None
    if only == "replay" and argv is None:  # a process that replays once, then ends
        gc.disable()  # its objects are long-lived, with few cycles (see inspector.cli_replay)
    args = build_parser(only).parse_args(words)
    status = _dispatch(args)
    if only == "replay" and argv is None:
        from inspector.cli_replay import end_process

        end_process(status)  # without the interpreter's teardown (returns if it cannot)
    return status


def _dispatch(args: argparse.Namespace) -> int:
    from engine.errors import InspectorError

    try:
        if getattr(args, "app", None):
            from engine.app_loader import import_app

            import_app(args.app)  # before the engine: the app's imports choose the SDK flavour
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
