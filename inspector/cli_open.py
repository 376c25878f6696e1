"""``inspector open REQUEST [--app APP]``: load everything, then start the TUI.

Loading happens here, before the app starts, so a bad request or an app that fails to import
is one line on stderr and exit status 2 (the caller prints the ``InspectorError``).
"""

from __future__ import annotations

import argparse

from engine.app_loader import load_app
from engine.load import load_request_proto, to_request
from engine.session import ReplaySession


def run(args: argparse.Namespace) -> int:
    """Load the request (and the app), then run the stepper until the user quits."""
    source = args.request
    msg = load_request_proto(source)
    request = to_request(msg, "<stdin>" if source == "-" else source)
    app = load_app(args.app) if args.app else None
    session = ReplaySession(request, app)

    from inspector.app import InspectorApp

    InspectorApp(session, msg).run()
    return 0
