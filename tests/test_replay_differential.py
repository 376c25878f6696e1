"""Differential tests: our replay gives the durabletask SDK executor's response, field by field.

Requests are recorded fresh from real SDK runs (the SDK's in-memory sidecar, its worker and its
client) and the committed recordings in ``samples/requests`` are replayed through the real CLI.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from replay_compare import normalized, parse_response

from engine import DEFAULT_MAXIMUM_TIMER_INTERVAL, load_app, load_request, replay_request
from engine.history import OrchestrationRequest
from engine.proto import orchestrator_service_pb2 as pb
from inspector.__main__ import main
from samples.record import Recording, record_all

ROOT = Path(__file__).resolve().parent.parent
REQUESTS = ROOT / "samples" / "requests"
INDEX = json.loads((REQUESTS / "INDEX.json").read_text())
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _interval(seconds: float | None) -> timedelta:
    return DEFAULT_MAXIMUM_TIMER_INTERVAL if seconds is None else timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def fresh_recordings() -> list[Recording]:
    return record_all()


def test_fresh_sdk_runs_replay_to_the_sdk_responses(fresh_recordings: list[Recording]) -> None:
    app = load_app("samples.orchestrations")
    orchestrators = {r.orchestrator for r in fresh_recordings}
    assert len(fresh_recordings) >= 40
    assert len(orchestrators) >= 12
    mismatches = []
    for rec in fresh_recordings:
        msg = pb.OrchestratorRequest()
        msg.ParseFromString(rec.request)
        request = OrchestrationRequest.from_proto(msg)
        outcome = replay_request(
            request, app, maximum_timer_interval=_interval(rec.maximum_timer_interval_seconds)
        )
        ours, theirs = normalized(outcome.response), normalized(parse_response(rec.response))
        if ours != theirs:
            mismatches.append((rec.stem, ours, theirs))
        assert outcome.nondeterminism is None, rec.stem
    assert not mismatches, mismatches[:3]


def test_responses_carry_real_work(fresh_recordings: list[Recording]) -> None:
    """The comparison above is not vacuous: the turns hold every kind of action."""
    kinds = set()
    for rec in fresh_recordings:
        for action in parse_response(rec.response).actions:
            kinds.add(action.WhichOneof("orchestratorActionType"))
    assert {"scheduleTask", "createTimer", "createSubOrchestration", "sendEvent"} <= kinds
    assert "completeOrchestration" in kinds


def test_comparison_detects_a_changed_field(fresh_recordings: list[Recording]) -> None:
    rec = next(r for r in fresh_recordings if parse_response(r.response).actions)
    changed = parse_response(rec.response)
    changed.actions[0].id += 100
    assert normalized(changed) != normalized(parse_response(rec.response))


@pytest.mark.parametrize("entry", INDEX["recordings"], ids=lambda e: e["request"])
def test_committed_recordings_replay_in_process(
    entry: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["replay", str(REQUESTS / str(entry["request"])), "--app", "samples.orchestrations"]
    if entry.get("maximum_timer_interval_seconds"):
        args += ["--max-timer-interval", str(entry["maximum_timer_interval_seconds"])]
    assert main(args) == 0
    produced = parse_response(base64.b64decode(capsys.readouterr().out))
    expected = parse_response(base64.b64decode((REQUESTS / str(entry["response"])).read_text()))
    assert normalized(produced) == normalized(expected)


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "inspector", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def test_cli_replay_writes_base64_and_json(tmp_path: Path) -> None:
    request = REQUESTS / "activity_chain-turn3.b64"
    out = tmp_path / "response.b64"
    done = _run_cli(
        "replay", str(request), "--app", "samples/orchestrations.py", "--output", str(out)
    )
    assert done.returncode == 0, done.stderr
    produced = parse_response(base64.b64decode(out.read_text()))
    expected = parse_response(
        base64.b64decode((REQUESTS / "activity_chain-turn3.response.b64").read_text())
    )
    assert normalized(produced) == normalized(expected)
    done = _run_cli("replay", str(request), "--app", "samples/orchestrations.py", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["actions"][0]["scheduleTask"]["name"] == "say_hello"


def test_changed_code_exits_3_naming_event_and_line() -> None:
    request = REQUESTS / "activity_chain-turn3.b64"
    done = _run_cli("replay", str(request), "--app", str(FIXTURES / "changed_orchestrations.py"))
    assert done.returncode == 3, done.stderr
    line = next(
        i
        for i, text in enumerate(
            (FIXTURES / "changed_orchestrations.py").read_text().splitlines(), 1
        )
        if "# CHANGED" in text
    )
    assert f"changed_orchestrations.py:{line}" in done.stderr
    req = load_request(request)
    index = next(
        i for i, e in enumerate(req.events) if e.kind == "taskScheduled" and e.event_id == 2
    )
    assert f"event {index}" in done.stderr
    assert "say_hello" in done.stderr and "square" in done.stderr
    response = parse_response(base64.b64decode(done.stdout))
    complete = response.actions[-1].completeOrchestration
    assert complete.orchestrationStatus == pb.ORCHESTRATION_STATUS_FAILED
    assert complete.failureDetails.errorType == "durabletask.task.NonDeterminismError"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (
            ["replay", "samples/requests/activity_chain-turn1.b64", "--app", "no_such_module_xyz"],
            "no_such_module_xyz",
        ),
        (
            [
                "replay",
                "samples/requests/activity_chain-turn1.b64",
                "--app",
                "tests/fixtures/broken_app.py",
            ],
            "broken_app.py:3",
        ),
        (
            [
                "replay",
                "samples/requests/activity_chain-turn1.b64",
                "--app",
                "tests/fixtures/empty_app.py",
            ],
            "activity_chain",
        ),
        (["replay", "no/such/file.b64", "--app", "samples.orchestrations"], "no/such/file.b64"),
        (["replay", "samples/requests/activity_chain-turn1.b64"], "--app"),
    ],
)
def test_replay_usage_and_input_errors_exit_2(args: list[str], fragment: str) -> None:
    done = _run_cli(*args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr
    assert fragment in done.stderr
    if args[-1] != "samples/requests/activity_chain-turn1.b64":
        assert len(lines) == 1, done.stderr
