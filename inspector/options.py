"""Command-line arguments shared by commands, checked at the door, and the options they make.

Every argument type rejects a bad value with one line naming it (argparse turns that into
exit status 2). Connection and worker arguments default to ``None``, meaning "the engine's
default": the defaults live only in :class:`engine.worker.ConnectionOptions` and
:class:`engine.worker.WorkerOptions`, and the help text reads them from there when help is
printed (so ``inspector --help`` never imports the engine).
"""

from __future__ import annotations

import argparse
import math
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from engine.worker import ConnectionOptions, WorkerOptions

# Command-line destination -> the engine option field it sets.
CONNECTION_FIELDS = {"tls": "tls", "ca": "ca_file", "header": "headers", "dialect": "dialect"}
WORKER_FIELDS = {
    "turn_timeout": "turn_timeout",
    "activity_timeout": "activity_timeout",
    "max_timeouts": "max_timeouts",
    "grace": "grace",
    "max_orchestrations": "max_orchestrations",
    "max_activities": "max_activities",
    "record": "record_dir",
}


# --- argument types --------------------------------------------------------------------------


def address(text: str) -> str:
    """``HOST:PORT`` with a port from 1 to 65535."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return text


def header(text: str) -> tuple[str, str]:
    """``key=value``; the key lower-cased, as gRPC metadata requires."""
    from engine.channel import header_problem

    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    key = key.strip().lower()
    problem = header_problem(key, value)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return key, value


def seconds(text: str) -> float:
    """A duration in seconds: finite, above zero, and short enough for the platform's waits."""
    from engine.channel import LONGEST_WAIT

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    if value > LONGEST_WAIT:
        raise argparse.ArgumentTypeError(
            f"{text} seconds is too long (at most {int(LONGEST_WAIT)}, about 24.8 days)"
        )
    return value


def interval(text: str) -> float:
    """:func:`seconds` that a ``timedelta`` can hold without rounding it to zero."""
    value = seconds(text)
    if value < 1e-6:
        raise argparse.ArgumentTypeError(f"{text} seconds is shorter than a microsecond")
    return value


def positive_int(text: str) -> int:
    """A whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors are one line on stderr (exit status 2)."""

    def error(self, message: str) -> NoReturn:
        """Print ``<prog>: <message>`` and a pointer to the help, then exit 2."""
        line = " ".join(message.split())
        self.exit(2, f"{self.prog}: {line} (see '{self.prog} --help')\n")

    _checking = False

    def add_argument(self, *args: Any, **kwargs: Any) -> Any:
        """As argparse's, whose check of the metavar needs no terminal width (asking for one
        imports shutil, and with it the compression modules, on every run: only help that is
        printed asks)."""
        self._checking = True
        try:
            return super().add_argument(*args, **kwargs)
        finally:
            self._checking = False

    def add_subparsers(self, **kwargs: Any) -> Any:
        """As argparse's, which formats its prog (the usage of no argument) at any width."""
        self._checking = True
        try:
            return super().add_subparsers(**kwargs)
        finally:
            self._checking = False

    def _get_formatter(self) -> argparse.HelpFormatter:
        if self._checking:
            make: Any = self.formatter_class
            return make(prog=self.prog, width=80)  # type: ignore[no-any-return]
        return super()._get_formatter()


# --- argument groups -------------------------------------------------------------------------


def add_timer_interval(parser: Any) -> None:
    """``--max-timer-interval SECONDS`` (not given: the app's worker's own, else the SDK's)."""
    parser.add_argument(
        "--max-timer-interval",
        type=interval,
        metavar="SECONDS",
        help="the worker's maximum timer interval (longer timers are split; "
        "not given: the one APP:ATTR's worker sets)",
    )


def timer_interval(args: argparse.Namespace, app_interval: Any) -> Any:
    """The ``timedelta`` of ``--max-timer-interval``, or ``app_interval`` when not given."""
    from datetime import timedelta

    given = getattr(args, "max_timer_interval", None)
    return app_interval if given is None else timedelta(seconds=given)


def dialect(text: str) -> str:
    """A protocol dialect: ``durabletask`` or ``dapr``."""
    from engine.defaults import DIALECTS

    if text not in DIALECTS:
        raise argparse.ArgumentTypeError(f"expected {' or '.join(DIALECTS)}, got {text!r}")
    return text


def add_dialect(parser: Any, what: str) -> None:
    """``--dialect {durabletask,dapr}`` (default: ``what`` says)."""
    parser.add_argument("--dialect", type=dialect, metavar="DIALECT", help=what)


def connection_arguments() -> Parser:
    """A parent parser with ``--tls``, ``--ca`` and ``--header``."""
    parent = Parser(add_help=False)
    group = parent.add_argument_group("connection")
    group.add_argument("--tls", action="store_true", default=None, help="connect with TLS")
    group.add_argument("--ca", metavar="FILE", help="CA certificate (PEM) to trust for TLS")
    group.add_argument(
        "--header",
        metavar="KEY=VALUE",
        type=header,
        action="append",
        help="metadata header sent with every call (repeatable)",
    )
    return parent


def worker_arguments() -> Parser:
    """A parent parser with the embedded worker's options."""
    parent = Parser(add_help=False)
    group = parent.add_argument_group("worker")
    group.add_argument(
        "--turn-timeout",
        type=seconds,
        metavar="SECONDS",
        help="stop an orchestrator turn that runs longer",
    )
    group.add_argument(
        "--activity-timeout",
        type=seconds,
        metavar="SECONDS",
        help="fail an activity that runs longer",
    )
    group.add_argument(
        "--max-timeouts",
        type=positive_int,
        metavar="N",
        help="fail an orchestration after N timed-out turns",
    )
    group.add_argument(
        "--grace",
        type=seconds,
        metavar="SECONDS",
        help="on SIGINT/SIGTERM, time to finish work before abandoning it",
    )
    group.add_argument(
        "--max-orchestrations",
        type=positive_int,
        metavar="N",
        help="orchestrator work items served at once",
    )
    group.add_argument(
        "--max-activities", type=positive_int, metavar="N", help="activities run at once"
    )
    add_timer_interval(group)
    group.add_argument(
        "--record", metavar="DIR", help="save every work item's request and response in DIR"
    )
    return parent


# --- arguments -> engine options -------------------------------------------------------------


def _given(args: argparse.Namespace, fields: dict[str, str]) -> dict[str, Any]:
    """The engine fields the user set (``None``: not given, the engine's default holds)."""
    values = {field: getattr(args, dest, None) for dest, field in fields.items()}
    return {field: value for field, value in values.items() if value is not None}


def connection_options(args: argparse.Namespace, address: str | None = None) -> ConnectionOptions:
    """The connection the parsed ``attach`` or ``worker`` arguments describe.

    ``address`` overrides ``args.address`` (``tap`` names its sidecar with ``--sidecar``).
    """
    from engine.worker import ConnectionOptions

    given = _given(args, CONNECTION_FIELDS)
    if "headers" in given:
        given["headers"] = tuple(given["headers"])
    return ConnectionOptions(address=address or args.address, **given)


def worker_options(args: argparse.Namespace, app: str | None = None) -> WorkerOptions:
    """The embedded worker's options from the parsed arguments (``app`` overrides ``--app``)."""
    from engine.worker import WorkerOptions

    given = _given(args, WORKER_FIELDS)
    if getattr(args, "max_timer_interval", None) is not None:
        given["maximum_timer_interval"] = timer_interval(args, None)
    return WorkerOptions(app=app or args.app, **given)


# --- help ------------------------------------------------------------------------------------


def _field_default(cls: type, name: str) -> Any:
    from dataclasses import MISSING, fields

    field = next(f for f in fields(cls) if f.name == name)
    if field.default_factory is not MISSING:
        return field.default_factory()
    return field.default


def _engine_default(dest: str) -> Any:
    """The default the engine applies when the option ``dest`` is not given (None: none)."""
    if dest == "max_timer_interval":
        from engine.defaults import DEFAULT_MAXIMUM_TIMER_INTERVAL

        seconds = DEFAULT_MAXIMUM_TIMER_INTERVAL.total_seconds()
        return f"{seconds:g} = {seconds / 86400:g} days"
    from engine.worker import ConnectionOptions, WorkerOptions

    if dest in WORKER_FIELDS:
        return _field_default(WorkerOptions, WORKER_FIELDS[dest])
    return _field_default(ConnectionOptions, CONNECTION_FIELDS[dest])


_DOCUMENTED = {*WORKER_FIELDS, *CONNECTION_FIELDS, "max_timer_interval"}


class EngineDefaultsHelpFormatter(argparse.HelpFormatter):
    """Appends the engine's default to an option's help, read when help is printed."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help
        if action.dest not in _DOCUMENTED or text is None:
            return text
        value = _engine_default(action.dest)
        if value is None or isinstance(value, (bool, tuple)):
            return text
        shown = f"{value:g}" if isinstance(value, float) else str(value)
        return f"{text} (default {shown})"
