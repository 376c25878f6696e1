"""``inspector replay REQUEST --app APP [--output FILE] [--json]``.

The headless twin of .NET's ``GrpcOrchestrationRunner.LoadAndRun``: replay the request with
the user's orchestrator and write the base64 ``OrchestratorResponse`` (or its protobuf JSON).
Exit 0 when a response was produced (a failure in user code is still a response), 3 when
code and history disagree (the response is still written), 2 for bad input or usage.
"""

from __future__ import annotations

import argparse
import atexit
import base64
import gc
import os
import sys
from typing import Any

from engine import sdk
from engine.app_loader import load_app
from engine.collector import collector_held
from engine.errors import InspectorError
from engine.headless import replay_request
from engine.load import load_request
from inspector.options import timer_interval

EXIT_NONDETERMINISM = 3


def run(args: argparse.Namespace) -> int:
    """Replay and write the response; return the exit status.

    The cyclic GC is off while it runs (the replay makes many long-lived objects and few
    cycles: collections would only walk them again and again), and at the interpreter's exit
    what is still alive is frozen, so the exit does not walk it either.
    """
    atexit.register(_freeze_at_exit)
    with collector_held():
        return _run(args)


def end_process(status: int) -> None:
    """End a replay process with ``status`` once its output is flushed and its exit handlers
    have run, skipping the interpreter's teardown (which frees, one by one, every object the
    replay made: the process is ending). Returns instead (the usual exit follows) when a
    flush fails or another thread still runs, whose end the usual exit waits for."""
    threading = sys.modules.get("threading")
    if threading is not None and threading.active_count() > 1:
        return
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # a closed or broken stream: the usual exit reports it
        return
    atexit._run_exitfuncs()
    os._exit(status)


def _freeze_at_exit() -> None:
    gc.disable()
    gc.freeze()


def _run(args: argparse.Namespace) -> int:
    dapr = sdk.is_dapr()  # the app imports Dapr: its requests and responses are Dapr's
    request = load_request(args.request, "dapr" if dapr else None)
    app = load_app(args.app)
    request = app.resolved(request)
    if app.orchestrator_for(request) is None:
        raise InspectorError(
            f"{args.request}: the request has no executionStarted event: nothing to replay"
        )
    interval = timer_interval(args, app.options.maximum_timer_interval)
    outcome = replay_request(request, app, maximum_timer_interval=interval)
    response: Any = outcome.response
    if dapr:
        from engine.dapr_turn import dapr_response

        response = dapr_response(outcome)
    if args.json:
        from google.protobuf import json_format

        text = json_format.MessageToJson(response, indent=2) + "\n"
    else:
        text = base64.b64encode(response.SerializeToString()).decode("ascii") + "\n"
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as exc:
            raise InspectorError(f"cannot write {args.output}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    nd = outcome.nondeterminism
    if nd is not None:
        where = f" (asked at {nd.location})" if nd.location is not None else ""
        print(
            f"inspector: non-determinism at event {nd.event_index}: history has {nd.recorded}, "
            f"code asked for {nd.asked}{where}",
            file=sys.stderr,
        )
        return EXIT_NONDETERMINISM
    return 0
