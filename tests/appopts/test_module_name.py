"""``--app FILE.py`` keeps the module's own name, so failure types equal the SDK's.

The SDK's worker serves the app imported as its users import it (``import custom_error_app``);
``inspector worker`` and ``inspector replay`` are given the file's path. Failure types, and so
the responses, must be the same.
"""

from __future__ import annotations

import base64
import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from appopts_support import (
    QUIET,
    ROOT,
    WorkerProcess,
    drive,
    free_port,
    keep_sys_path,  # noqa: F401 - autouse: restores sys.path after each test
    run_cli,
)
from durabletask import worker as dt_worker
from durabletask.testing import InMemoryOrchestrationBackend
from replay_compare import normalized, parse_response

from engine.app_loader import load_app
from samples.record import RecordingBackend

FIXTURES = Path(__file__).resolve().parent / "fixtures"
APP_FILE = str((FIXTURES / "custom_error_app.py").relative_to(ROOT))
STARTS: dict[str, tuple[str, Any]] = {"checkout-1": ("checkout", "gold")}


@pytest.fixture(scope="module")
def sdk_run() -> Iterator[tuple[dict[str, Any], RecordingBackend]]:
    sys.path.insert(0, str(FIXTURES))
    try:
        module = importlib.import_module("custom_error_app")
    finally:
        sys.path.remove(str(FIXTURES))
    port = free_port()
    backend = RecordingBackend(port)
    backend.start()
    w = dt_worker.TaskHubGrpcWorker(host_address=f"127.0.0.1:{port}", logger=QUIET)
    w.add_orchestrator(module.checkout)
    w.add_activity(module.reserve)
    try:
        w.start()
        yield drive(port, STARTS), backend
    finally:
        w.stop()
        backend.stop(grace=0)


def test_a_file_app_is_imported_under_its_own_name() -> None:
    app = load_app(APP_FILE)
    assert app.module.__name__ == "custom_error_app"
    assert app.functions["reserve"].__module__ == "custom_error_app"


def test_a_file_named_like_another_module_keeps_apart(tmp_path: Path) -> None:
    shadow = tmp_path / "json.py"
    shadow.write_text("def json_orchestrator(ctx, _):\n    return 1\n")
    app = load_app(str(shadow))
    assert app.module.__name__ != "json"
    import json

    assert hasattr(json, "dumps")  # the standard library's module is untouched


def test_the_worker_ends_as_the_sdk_worker(
    sdk_run: tuple[dict[str, Any], RecordingBackend], tmp_path: Path
) -> None:
    theirs, _ = sdk_run
    status, _, _, failure = theirs["checkout-1"]
    assert status == "FAILED" and failure[0] == "custom_error_app.OutOfStock"
    port = free_port()
    backend = InMemoryOrchestrationBackend(port=port)
    backend.start()
    worker = WorkerProcess(f"127.0.0.1:{port}", APP_FILE, log=tmp_path / "worker.log")
    try:
        ours = drive(port, STARTS)
    finally:
        worker.stop()
        backend.stop(grace=0)
    assert ours == theirs


def test_replay_of_each_turn_gives_the_sdk_response(
    sdk_run: tuple[dict[str, Any], RecordingBackend], tmp_path: Path
) -> None:
    _, backend = sdk_run
    assert backend.turns
    for n, turn in enumerate(backend.turns):
        path = tmp_path / f"turn-{n}.b64"
        path.write_bytes(base64.b64encode(turn.request))
        done = run_cli("replay", str(path), "--app", APP_FILE)
        assert done.returncode == 0, done.stderr
        ours = parse_response(base64.b64decode(done.stdout))
        assert normalized(ours) == normalized(parse_response(turn.response))
