"""``--app MODULE:ATTR`` on the command line: bad ATTRs are one line and exit 2; flags win."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from appopts_support import (
    keep_sys_path,  # noqa: F401 - autouse: restores sys.path after each test
    run_cli,
)
from replay_compare import parse_response

from engine.proto import orchestrator_service_pb2 as pb
from samples.configured_worker import nap


@pytest.mark.parametrize(
    ("attr", "words"),
    [
        ("missing", "defines no 'missing'"),
        ("OutOfStock", "is the class OutOfStock, not a durabletask.worker.TaskHubGrpcWorker"),
        ("reserve", "'reserve' takes arguments"),
        ("restock", "'restock' takes arguments"),
    ],
)
@pytest.mark.parametrize("command", ["replay", "worker"])
def test_a_bad_attr_is_one_line_and_exit_2(
    command: str, attr: str, words: str, tmp_path: Path
) -> None:
    request = tmp_path / "r.b64"
    request.write_text(_nap_request())
    first = [str(request)] if command == "replay" else ["127.0.0.1:1"]
    done = run_cli(command, *first, "--app", f"samples.configured_worker:{attr}")
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], done.stderr
    assert "Traceback" not in done.stderr


def _nap_request() -> str:
    """The first turn of ``nap``: executionStarted at a fixed clock."""
    msg = pb.OrchestratorRequest(instanceId="nap-1")
    started = msg.newEvents.add(eventId=-1)
    started.timestamp.FromSeconds(1_700_000_000)
    started.orchestratorStarted.SetInParent()
    ev = msg.newEvents.add(eventId=-1)
    ev.timestamp.FromSeconds(1_700_000_000)
    ev.executionStarted.name = nap.__name__
    ev.executionStarted.orchestrationInstance.instanceId = "nap-1"
    return base64.b64encode(msg.SerializeToString()).decode()


def _timer_seconds(stdout: str) -> int:
    response = parse_response(base64.b64decode(stdout))
    (action,) = response.actions
    return action.createTimer.fireAt.seconds - 1_700_000_000


def test_replay_takes_the_apps_timer_interval_and_the_flag_wins(tmp_path: Path) -> None:
    request = tmp_path / "nap.b64"
    request.write_text(_nap_request())
    app = "samples.configured_worker:worker"
    configured = run_cli("replay", str(request), "--app", app)
    assert configured.returncode == 0, configured.stderr
    assert _timer_seconds(configured.stdout) == 1  # the worker's 1-second interval
    flagged = run_cli("replay", str(request), "--app", app, "--max-timer-interval", "2")
    assert _timer_seconds(flagged.stdout) == 2
    plain = run_cli("replay", str(request), "--app", "samples.configured_worker")
    assert _timer_seconds(plain.stdout) == 3  # the SDK's default: no split


def test_the_worker_help_lists_the_timer_interval() -> None:
    done = run_cli("worker", "--help")
    assert "--max-timer-interval" in done.stdout
