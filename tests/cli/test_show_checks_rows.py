"""``inspector show`` loads without scanning the history: its rows check every event instead.

Loaded with ``scan=False``, a request holding a value a datetime or JSON cannot hold must fail
in the listing and in ``--json`` with the very message loading's scan gives, and the command
line must print that one line.
"""

from __future__ import annotations

import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.errors import LoadError
from engine.event_rows import OutOfRange
from engine.history import OrchestrationRequest
from engine.load import load_recording
from engine.proto import orchestrator_service_pb2 as pb
from inspector.cli_show import show_json, show_text

ROOT = Path(__file__).resolve().parents[2]


def _request() -> pb.OrchestratorRequest:
    req = pb.OrchestratorRequest(instanceId="checked")
    for lane, count in ((req.pastEvents, 6), (req.newEvents, 3)):
        for i in range(count):
            ev = lane.add(eventId=i)
            ev.timestamp.seconds = 1_700_000_000 + i // 2
            if i % 3 == 0:
                ev.orchestratorStarted.SetInParent()
            elif i % 3 == 1:
                ev.taskScheduled.name = "step"
            else:
                ev.taskCompleted.taskScheduledId = i - 1
    return req


def _far(req: pb.OrchestratorRequest) -> None:
    req.newEvents[1].timestamp.seconds = 2**60


def _bad_nanos(req: pb.OrchestratorRequest) -> None:
    req.pastEvents[3].timestamp.nanos = 1_000_000_000
    req.newEvents[0].timestamp.seconds = -(2**40)  # a later problem: the first one is named


def _nan_failure(req: pb.OrchestratorRequest) -> None:
    ev = req.newEvents.add(eventId=-1)
    ev.timestamp.seconds = 1_700_000_100
    ev.executionCompleted.failureDetails.properties["k"].number_value = math.nan


def _inf_task_failure(req: pb.OrchestratorRequest) -> None:
    ev = req.pastEvents.add(eventId=-1)
    ev.timestamp.seconds = 1_700_000_100
    ev.taskFailed.failureDetails.properties["k"].number_value = math.inf


def _bad_state(req: pb.OrchestratorRequest) -> None:
    ev = req.pastEvents.add(eventId=-1)
    ev.historyState.orchestrationState.createdTimestamp.seconds = 2**40


def _properties_and_history(req: pb.OrchestratorRequest) -> None:
    req.properties["p"].number_value = math.nan  # the history's problem is named first
    _far(req)


CASES: dict[str, Callable[[pb.OrchestratorRequest], None]] = {
    "far timestamp": _far,
    "bad nanos, then a far one": _bad_nanos,
    "NaN in a completion's failure": _nan_failure,
    "infinity in a task's failure": _inf_task_failure,
    "historyState time": _bad_state,
    "properties and a far timestamp": _properties_and_history,
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_rows_fail_as_loading_does(case: str, tmp_path: Path) -> None:
    req = _request()
    CASES[case](req)
    path = tmp_path / "bad.bin"
    path.write_bytes(req.SerializeToString())
    with pytest.raises(LoadError) as scanned:
        load_recording(str(path))
    expected = str(scanned.value)
    if case == "properties and a far timestamp":  # the bad properties fail loading itself
        with pytest.raises(LoadError) as unscanned:
            load_recording(str(path), scan=False)
        assert str(unscanned.value) == expected
    else:
        loaded = load_recording(str(path), scan=False)
        assert isinstance(loaded, OrchestrationRequest)
        for show in (show_text, show_json):
            with pytest.raises(OutOfRange) as raised:
                show(loaded)
            assert f"{path}: {raised.value}" == expected
    proc = subprocess.run(
        [sys.executable, "-m", "inspector", "show", str(path)],
        capture_output=True,
        cwd=ROOT,
        text=True,
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr == f"inspector: {' '.join(expected.split())}\n"


def test_a_good_request_loads_the_same_either_way(tmp_path: Path) -> None:
    path = tmp_path / "good.bin"
    path.write_bytes(_request().SerializeToString())
    scanned, unscanned = load_recording(str(path)), load_recording(str(path), scan=False)
    assert isinstance(scanned, OrchestrationRequest)
    assert isinstance(unscanned, OrchestrationRequest)
    assert show_text(unscanned) == show_text(scanned)
    assert show_json(unscanned) == show_json(scanned)
