"""``replay`` and ``open --app`` refuse an APP without the request's orchestrator, the same way.

``open`` runs as a user would, in a subprocess with no terminal: the check must come before the
TUI starts, so the process ends at once with the one line ``replay`` prints.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine.app_loader import load_app
from engine.errors import OrchestratorNotFound
from engine.load import load_request

ROOT = Path(__file__).resolve().parents[2]
REQUEST = str(ROOT / "samples" / "requests" / "activity_chain-turn1.b64")
EMPTY_APP = "tests/fixtures/empty_app.py"
EXPECTED = (
    f"inspector: orchestrator 'activity_chain' is not defined in {EMPTY_APP}"
    " (functions: unrelated)\n"
)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )


@pytest.mark.parametrize("command", ["replay", "open"])
def test_missing_orchestrator_is_one_line_exit_2(command: str) -> None:
    proc = run_cli(command, REQUEST, "--app", EMPTY_APP)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == EXPECTED
    assert proc.stdout == ""


def test_orchestrator_for_finds_the_named_function() -> None:
    request = load_request(REQUEST)
    app = load_app("samples.orchestrations")
    assert app.orchestrator_for(request) is app.functions["activity_chain"]
    with pytest.raises(OrchestratorNotFound, match="'activity_chain' is not defined"):
        load_app(EMPTY_APP).orchestrator_for(request)


def test_a_request_without_execution_started_names_no_orchestrator(tmp_path: Path) -> None:
    from engine.proto import orchestrator_service_pb2 as pb

    msg = pb.OrchestratorRequest(instanceId="extended")
    msg.newEvents.add(eventId=-1).orchestratorStarted.SetInParent()
    request = load_request(msg.SerializeToString())
    assert load_app(EMPTY_APP).orchestrator_for(request) is None
    path = tmp_path / "no-started.bin"
    path.write_bytes(msg.SerializeToString())
    proc = run_cli("replay", str(path), "--app", EMPTY_APP)
    assert proc.returncode == 2
    assert proc.stderr == f"inspector: {path}: the request has no executionStarted event:" + (
        " nothing to replay\n"
    )
