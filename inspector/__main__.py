"""The ``inspector`` command line: ``show`` lives here, the other commands dispatch lazily.

Each subcommand other than ``show`` is handled by ``inspector.cli_<name>:run(args) -> int``,
imported only when that command runs. The parsed ``args`` they receive carry:

- ``open``: ``request`` (str, a path or ``-``), ``app`` (str or None).
- ``replay``: ``request``, ``app`` (str), ``output`` (str or None), ``json`` (bool).
- ``attach``: ``address`` (str, ``HOST:PORT``), ``app`` (str or None), the connection options
  and the worker options below.
- ``worker``: ``address``, ``app`` (str), the connection options and the worker options.
- ``tap``: ``listen`` and ``sidecar`` (``HOST:PORT``), ``record``, ``grace`` and the
  connection options (for the sidecar side); its arguments are defined in ``cli_tap``.
- ``demo``: nothing.

Connection options: ``tls`` (bool), ``ca`` (str or None), ``header`` (list of ``(key, value)``
tuples, keys lower-cased as gRPC metadata requires). Worker options: ``turn_timeout``
(float, 30), ``activity_timeout`` (float, 300), ``max_timeouts`` (int, 3), ``grace``
(float, 10), ``max_orchestrations`` and ``max_activities`` (int or None), ``record`` (str or
None).

Every :class:`~engine.errors.InspectorError` becomes one line ``inspector: <message>`` on
stderr and exit status 2; usage errors exit 2 as well.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from engine.errors import InspectorError
from engine.frames import Frame
from engine.history import (
    ExecutionCompleted,
    FailureDetails,
    OrchestrationRequest,
    status_name,
)
from engine.load import load_request
from engine.session import ReplaySession
from inspector.text import short_text

SHOW_JSON_FORMAT = "durable-inspector/show/1"
PAYLOAD_WIDTH = 60
NAME_WIDTH = 40

Handler = Callable[[argparse.Namespace], int]


# --- argument types --------------------------------------------------------------------------


def _address(text: str) -> str:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return text


def _header(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    return key.strip().lower(), value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


# --- parser ----------------------------------------------------------------------------------


def _connection_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("connection")
    group.add_argument("--tls", action="store_true", help="connect with TLS")
    group.add_argument("--ca", metavar="FILE", help="CA certificate (PEM) to trust for TLS")
    group.add_argument(
        "--header",
        metavar="KEY=VALUE",
        type=_header,
        action="append",
        default=[],
        help="metadata header sent with every call (repeatable)",
    )
    return parent


def _worker_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("worker")
    group.add_argument(
        "--turn-timeout",
        type=_positive_float,
        default=30.0,
        metavar="SECONDS",
        help="stop an orchestrator turn that runs longer (default 30)",
    )
    group.add_argument(
        "--activity-timeout",
        type=_positive_float,
        default=300.0,
        metavar="SECONDS",
        help="stop an activity that runs longer (default 300)",
    )
    group.add_argument(
        "--max-timeouts",
        type=_positive_int,
        default=3,
        metavar="N",
        help="fail an orchestration after N timed-out turns (default 3)",
    )
    group.add_argument(
        "--grace",
        type=_positive_float,
        default=10.0,
        metavar="SECONDS",
        help="on SIGINT/SIGTERM, time to finish work before abandoning it (default 10)",
    )
    group.add_argument(
        "--max-orchestrations",
        type=_positive_int,
        metavar="N",
        help="orchestrator work items served at once",
    )
    group.add_argument(
        "--max-activities", type=_positive_int, metavar="N", help="activities run at once"
    )
    group.add_argument(
        "--record", metavar="DIR", help="save every work item's request and response in DIR"
    )
    return parent


def build_parser() -> argparse.ArgumentParser:
    """The full ``inspector`` argument parser (every command of the contract)."""
    parser = argparse.ArgumentParser(
        prog="inspector",
        description="Debugger and history inspector for Durable Task orchestrations.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    connection = _connection_options()
    worker = _worker_options()
    request_help = "OrchestratorRequest file (base64, binary or JSON), or - for stdin"

    p = sub.add_parser("open", help="the TUI on one request")
    p.add_argument("request", metavar="REQUEST", help=request_help)
    p.add_argument("--app", help="Python file or module with the orchestrator code")

    p = sub.add_parser("show", help="print the decoded history")
    p.add_argument("request", metavar="REQUEST", help=request_help)
    p.add_argument("--json", action="store_true", help=f"print a {SHOW_JSON_FORMAT} JSON document")

    p = sub.add_parser("replay", help="replay with APP's code and print the response")
    p.add_argument("request", metavar="REQUEST", help=request_help)
    p.add_argument("--app", required=True, help="Python file or module with the orchestrator")
    p.add_argument("--output", metavar="FILE", help="write the response here (default stdout)")
    p.add_argument("--json", action="store_true", help="protobuf JSON instead of base64")
    p.add_argument(
        "--max-timer-interval",
        type=float,
        metavar="SECONDS",
        help="the worker's maximum timer interval (longer timers are split; default 3 days)",
    )

    p = sub.add_parser(
        "attach", parents=[connection, worker], help="the TUI, live, on a Durable Task sidecar"
    )
    p.add_argument("address", metavar="HOST:PORT", type=_address, help="the sidecar")
    p.add_argument("--app", help="also serve work items with this file's or module's functions")

    p = sub.add_parser("worker", parents=[connection, worker], help="the embedded worker, headless")
    p.add_argument("address", metavar="HOST:PORT", type=_address, help="the sidecar")
    p.add_argument("--app", required=True, help="Python file or module with the functions")

    from inspector.cli_tap import add_parser as add_tap_parser

    add_tap_parser(sub, connection, _address)

    sub.add_parser("demo", help="an in-process sidecar with the samples, in the TUI")
    return parser


# --- dispatch --------------------------------------------------------------------------------


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
    try:
        if args.command == "show":
            return run_show(args)
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


# --- show ------------------------------------------------------------------------------------


def run_show(args: argparse.Namespace) -> int:
    """``inspector show REQUEST [--json]``."""
    request = load_request(args.request)
    text = show_json(request) if args.json else show_text(request)
    return _write_stdout(text)


def _write_stdout(text: str) -> int:
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`inspector show x | head`): silence the final flush too.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return 0


class _Stamp:
    """ISO-8601 UTC text with millisecond precision, cached per datetime (events share them)."""

    def __init__(self) -> None:
        self._cache: dict[datetime, str] = {}

    def __call__(self, value: datetime | None) -> str | None:
        if value is None:
            return None
        text = self._cache.get(value)
        if text is None:
            text = f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond // 1000:03d}Z"
            self._cache[value] = text
        return text


def final_state(request: OrchestrationRequest) -> Frame:
    """The history-only replay's frame after the last event (the state the history implies)."""
    return ReplaySession(request).run_to_end()


def _state_document(frame: Frame) -> dict[str, Any]:
    return {
        "status": frame.status,
        "suspended": frame.suspended,
        "clock": _plain(frame.current_utc_datetime),
        "openTasks": [
            {"id": t.id, "kind": t.kind, "name": t.name, "openedAt": t.opened_at}
            for t in frame.open_tasks
        ],
        "bufferedEvents": [
            {"name": b.name, "data": b.data, "receivedAt": b.received_at}
            for b in frame.buffered_events
        ],
        "customStatus": frame.custom_status,
        "failure": _plain(frame.failure),
    }


def _state_lines(frame: Frame) -> list[str]:
    out = [f"status:        {frame.status} (from the history alone)"]
    if frame.current_utc_datetime is not None:
        out.append(f"clock:         {_plain(frame.current_utc_datetime)}")
    if frame.failure is not None:
        out.append(f"failure:       {frame.failure.error_type}: {frame.failure.message}")
    out.append(f"open tasks:    {len(frame.open_tasks) or '-'}")
    for t in frame.open_tasks[:20]:
        out.append(f"  #{t.id} {t.kind} {t.name} (opened at event {t.opened_at})")
    if len(frame.open_tasks) > 20:
        out.append(f"  ... {len(frame.open_tasks) - 20} more")
    out.append(f"buffered:      {len(frame.buffered_events) or '-'}")
    for b in frame.buffered_events[:20]:
        out.append(f"  {b.name} {short_text(b.data, PAYLOAD_WIDTH)} (event {b.received_at})")
    out.append("custom status: - (not recorded in history; replay with --app to see it)")
    return out


def show_text(request: OrchestrationRequest) -> str:
    """The listing: one aligned line per event, then a summary."""
    events = request.events
    n_past = len(request.past_events)
    stamp = _Stamp()
    rows = [
        (
            str(ev.event_id),
            stamp(ev.timestamp) or "-",
            ev.kind,
            short_text(ev.name, NAME_WIDTH) or "-",
            short_text(ev.payload, PAYLOAD_WIDTH),
        )
        for ev in events
    ]
    w_index = max(len("#"), len(str(len(events) - 1)))
    w_id = max([len("eventId")] + [len(r[0]) for r in rows])
    w_time = max([len("timestamp")] + [len(r[1]) for r in rows])
    w_kind = max([len("kind")] + [len(r[2]) for r in rows])
    w_name = max([len("name")] + [len(r[3]) for r in rows])
    header = (
        f"{'#':>{w_index}}  lane  {'eventId':>{w_id}}  {'timestamp':<{w_time}}  "
        f"{'kind':<{w_kind}}  {'name':<{w_name}}  payload"
    )
    lines = [header]
    append = lines.append
    for index, (eid, ts, kind, name, payload) in enumerate(rows):
        lane = "past" if index < n_past else "new "
        append(
            f"{index:>{w_index}}  {lane}  {eid:>{w_id}}  {ts:<{w_time}}  "
            f"{kind:<{w_kind}}  {name:<{w_name}}  {payload}".rstrip()
        )
    lines.append("")
    lines.extend(_summary_lines(request))
    return "\n".join(lines) + "\n"


def _summary_lines(request: OrchestrationRequest) -> list[str]:
    started = request.started()
    counts = Counter(ev.kind for ev in request.events)
    out = [f"instance:      {request.instance_id or '-'}"]
    if request.execution_id:
        out.append(f"execution:     {request.execution_id}")
    if started is not None:
        version = f" (version {started.version})" if started.version else ""
        out.append(f"orchestration: {started.orchestration_name}{version}")
        out.append(f"input:         {short_text(started.input, PAYLOAD_WIDTH * 2) or '-'}")
    else:
        out.append("orchestration: - (no executionStarted event)")
    out.extend(_state_lines(final_state(request)))
    out.append(
        f"events:        {len(request.events)}"
        f" ({len(request.past_events)} past, {len(request.new_events)} new)"
    )
    width = max((len(kind) for kind in counts), default=0)
    for kind, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        out.append(f"  {kind:<{width}}  {count}")
    return out


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


_ISO_CACHE: dict[datetime, str] = {}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float)):
        return value
    if isinstance(value, datetime):
        text = _ISO_CACHE.get(value)
        if text is None:
            if len(_ISO_CACHE) > 200_000:
                _ISO_CACHE.clear()
            text = _ISO_CACHE[value] = value.isoformat().replace("+00:00", "Z")
        return text
    if not value:
        return [] if isinstance(value, (tuple, list)) else ({} if isinstance(value, dict) else "")
    if isinstance(value, FailureDetails):
        return {name: _plain(getattr(value, name)) for name in _names(type(value))}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def _names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        from dataclasses import fields

        names = tuple(f.name for f in fields(cls))
        _FIELD_NAMES[cls] = names
    return names


def show_document(request: OrchestrationRequest) -> dict[str, Any]:
    """The ``durable-inspector/show/1`` document (see docs/show-json.md)."""
    started = request.started()
    stamp = _Stamp()
    n_past = len(request.past_events)
    events_out: list[dict[str, Any]] = []
    append = events_out.append
    for index, ev in enumerate(request.events):
        details = {name: _plain(getattr(ev, name)) for name in _names(type(ev))}
        if isinstance(ev, ExecutionCompleted):
            details["status_name"] = status_name(ev.status)
        append(
            {
                "index": index,
                "lane": "past" if index < n_past else "new",
                "eventId": ev.event_id,
                "timestamp": stamp(ev.timestamp),
                "kind": ev.kind,
                "name": ev.name,
                "payload": ev.payload,
                "details": details,
            }
        )
    by_kind = Counter(ev.kind for ev in request.events)
    state = _state_document(final_state(request))
    return {
        "format": SHOW_JSON_FORMAT,
        "instanceId": request.instance_id,
        "executionId": request.execution_id,
        "orchestration": {
            "name": started.orchestration_name if started else None,
            "version": started.version if started else None,
            "input": started.input if started else None,
        },
        "status": state["status"],
        "state": state,
        "counts": {
            "total": len(request.events),
            "past": n_past,
            "new": len(request.new_events),
            "byKind": dict(sorted(by_kind.items())),
        },
        "events": events_out,
    }


def show_json(request: OrchestrationRequest) -> str:
    """The ``--json`` output: the document on one line (the C encoder is fast on 100k events)."""
    return json.dumps(show_document(request), ensure_ascii=False) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
