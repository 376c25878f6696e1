"""``inspector open REQUEST [--app APP]``: load everything, then start the TUI.

Loading happens here, before the app starts, so a bad request, an app that fails to import or
an app without the request's orchestrator is one line on stderr and exit status 2 (the caller
prints the ``InspectorError``).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from typing import Any

from engine import sdk
from engine.app_loader import load_app
from engine.app_options import AppOptions
from engine.errors import InspectorError, LoadError
from engine.load import load_request
from engine.session import ReplaySession

TERMINAL = "/dev/tty"
"""The controlling terminal, whatever stdin was redirected from."""


class NoTerminalError(InspectorError):
    """The request came on stdin and there is no terminal left to read keys from."""


def _open_terminal() -> int:
    return os.open(TERMINAL, os.O_RDWR | os.O_NOCTTY)


def keyboard_from_terminal(
    source: str,
    *,
    stdin_is_tty: Callable[[], bool] | None = None,
    open_terminal: Callable[[], int] | None = None,
    dup2: Callable[[int, int], object] = os.dup2,
    close: Callable[[int], None] = os.close,
) -> bool:
    """Give the TUI a keyboard after the request was read from a pipe.

    With ``REQUEST`` = ``-`` and stdin a pipe, the pipe is used up once the request is read;
    the TUI reads keys from fd 0, so the controlling terminal is put there instead.

    Returns:
        Whether fd 0 was replaced by the terminal.

    Raises:
        NoTerminalError: stdin was a pipe and no terminal can be opened (run from a script,
            cron, CI): ``inspector show`` or ``inspector replay`` suit those.
    """
    is_tty = stdin_is_tty() if stdin_is_tty is not None else os.isatty(0)
    if source != "-" or is_tty:
        return False
    try:
        fd = (open_terminal or _open_terminal)()
    except OSError as exc:
        raise NoTerminalError(
            f"the request came on stdin and there is no terminal for the keyboard "
            f"({TERMINAL}: {exc.strerror or exc}); pass the request as a file, "
            f"or use 'inspector show' or 'inspector replay' without a terminal"
        ) from None
    try:
        dup2(fd, 0)
    finally:
        close(fd)
    return True


def run(args: argparse.Namespace) -> int:
    """Load the request (and the app), then run the stepper until the user quits."""
    source = args.request
    try:
        dialect = getattr(args, "dialect", None)
        if dialect is None and args.app and sdk.is_dapr():  # the app imports Dapr
            dialect = "dapr"
        request = load_request(source, dialect)
    except LoadError:
        from engine.entity_view import load_entity_item  # entities: durabletask's only

        item = None if source == "-" else load_entity_item(source)
        if item is None:
            raise
        return _run_entity_batch(item, args.app)
    app = load_app(args.app) if args.app else None
    if app is not None:
        request = app.resolved(request)
        app.orchestrator_for(request)
    from inspector.options import timer_interval

    interval = timer_interval(args, (app.options if app else AppOptions()).maximum_timer_interval)
    session = ReplaySession(request, app, maximum_timer_interval=interval)
    keyboard_from_terminal(source)

    from inspector.app import InspectorApp

    InspectorApp(session).run()
    return 0


def _run_entity_batch(item: Any, app_spec: str | None) -> int:
    """An entity work item: step its batch with the APP's entities."""
    from engine.entity_view import BatchStepper
    from inspector.screens.entity_batch import EntityBatchApp

    stepper = BatchStepper(item, load_app(app_spec) if app_spec else None)
    EntityBatchApp(stepper).run()
    return 0
