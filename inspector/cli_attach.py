"""``inspector attach HOST:PORT [--app APP] [worker options]``: the live TUI on a sidecar.

Without ``--app`` it lists the sidecar's instances and opens any of them in the history-only
stepper. With ``--app`` the embedded worker also serves the sidecar's work items with APP's
functions, and every work item opens in the stepper with APP's code. APP is loaded here first,
so an APP that does not import is one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
from typing import Any

from engine.app_loader import load_app
from inspector.options import connection_options, worker_options


def build_config(args: argparse.Namespace) -> Any:
    """The :class:`~inspector.live.LiveConfig` for the parsed arguments."""
    from inspector.live import LiveConfig

    app_spec = getattr(args, "app", None)
    user_app = load_app(app_spec) if app_spec else None
    return LiveConfig(
        connection=connection_options(args),
        worker_options=worker_options(args, app_spec) if app_spec else None,
        user_app=user_app,
        title=f"attach {args.address}" + (f" --app {app_spec}" if app_spec else ""),
    )


def run(args: argparse.Namespace) -> int:
    """Run the live TUI until the user quits; stop everything it started."""
    config = build_config(args)

    from inspector.live import LiveApp

    app = LiveApp(config)
    try:
        app.run()
    finally:
        app.close()
    return 0
