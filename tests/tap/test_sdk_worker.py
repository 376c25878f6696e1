"""The SDK's own worker served through ``inspector tap``: same results, everything recorded."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from durabletask import client as dt_client

from engine.proto import orchestrator_service_pb2 as pb
from inspector.__main__ import main

from .scenario import EXPECTED_OUTPUTS, Final, drive, sdk_worker, wait_done
from .support import QUIET, TapProcess, free_port, show_every_recorded_file, sidecar, wait_until


def _run(through_tap: bool, tmp_path: Path) -> tuple[Final, TapProcess | None]:
    with sidecar() as (_, port):
        tap = None
        address = f"127.0.0.1:{port}"
        if through_tap:
            tap = TapProcess(
                free_port(), port, "--record", str(tmp_path / "rec"), log=tmp_path / "tap.log"
            )
            address = tap.address
        worker = sdk_worker(address, QUIET)
        client = dt_client.TaskHubGrpcClient(host_address=address, logger=QUIET)
        try:
            worker.start()
            final = drive(client)
            if tap is not None:
                assert tap.terminate() == 0, tap.output()
            return final, tap
        finally:
            client.close()
            worker.stop()
            if tap is not None:
                tap.stop()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Final, Final, TapProcess, Path]:
    folder = tmp_path_factory.mktemp("sdk")
    direct, _ = _run(False, folder)
    tapped, tap = _run(True, folder)
    assert tap is not None
    return direct, tapped, tap, folder / "rec"


def test_same_final_states_with_and_without_the_tap(
    runs: tuple[Final, Final, TapProcess, Path],
) -> None:
    direct, tapped, _, _ = runs
    assert tapped == direct
    for iid, expected in EXPECTED_OUTPUTS.items():
        status, output, failure = tapped[iid]
        assert (status, failure) == ("COMPLETED", None), iid
        assert json.loads(output or "null") == expected, iid


def test_every_work_item_is_logged_and_paired(runs: tuple[Final, Final, TapProcess, Path]) -> None:
    _, _, tap, _ = runs
    lines = tap.lines()
    kinds = [line.split()[1] for line in lines]
    # 6 orchestrations: chain 4 turns, timer 3, event 2, parent 2 (+ wake), child 2, catches 2.
    assert kinds.count("activity") == 3 + 1 + 1 + 1
    assert kinds.count("orchestrator") >= 13
    assert any(
        " catches FAILED" not in line and "fail FAILED builtins.ValueError" in line
        for line in lines
    )
    assert "0 open" in tap.output() and "0 undelivered" in tap.output()
    assert "stopped: " in tap.output()


def test_every_work_item_is_recorded_and_turns_show(
    runs: tuple[Final, Final, TapProcess, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, _, tap, folder = runs
    requests = sorted(p for p in folder.glob("*.b64") if not p.name.endswith(".response.b64"))
    assert len(requests) == len(tap.lines())
    for request in requests:
        response = request.with_name(request.name[: -len(".b64")] + ".response.b64")
        assert response.exists(), request.name
    turns = [p for p in requests if p.name.endswith("-turn.b64")]
    activities = [p for p in requests if "-activity-" in p.name]
    assert len(turns) + len(activities) == len(requests)
    for turn in turns:
        assert main(["show", str(turn)]) == 0, turn.name
        out = capsys.readouterr().out
        assert "executionStarted" in out
        answer = pb.OrchestratorResponse.FromString(
            base64.b64decode(turn.with_name(turn.name[:-4] + ".response.b64").read_bytes())
        )
        assert answer.completionToken
    for activity in activities:
        decoded = pb.ActivityRequest.FromString(base64.b64decode(activity.read_bytes()))
        assert activity.name.endswith(f"-activity-{decoded.name}.b64")
    # and `inspector show` reads every file the tap recorded, requests and responses alike
    kinds = show_every_recorded_file(folder, capsys)
    assert kinds == {
        "orchestratorRequest": len(turns),
        "orchestratorResponse": len(turns),
        "activityRequest": len(activities),
        "activityResponse": len(activities),
    }


def test_sigterm_then_a_new_tap_and_the_worker_reconnects(tmp_path: Path) -> None:
    port = free_port()
    with sidecar() as (_, sidecar_port):
        first = TapProcess(port, sidecar_port, log=tmp_path / "first.log")
        second: TapProcess | None = None
        worker = sdk_worker(first.address, QUIET)
        direct = dt_client.TaskHubGrpcClient(host_address=f"127.0.0.1:{sidecar_port}", logger=QUIET)
        try:
            worker.start()
            timers = [f"t{n}" for n in range(6)]
            for iid in timers:
                direct.schedule_new_orchestration("timer", instance_id=iid)
            # Every orchestration has started its timer: the stop comes with work in the sidecar.
            wait_until(
                "the timers", lambda: first.output().count(" timer 1 action ") >= len(timers)
            )
            assert first.terminate() == 0, first.output()
            assert "0 open" in first.output()
            second = TapProcess(port, sidecar_port, log=tmp_path / "second.log")
            # Scheduled after the first tap is gone: only the reconnected worker can serve these.
            later = [f"later{n}" for n in range(3)]
            for iid in later:
                direct.schedule_new_orchestration("chain", input=["x"], instance_id=iid)
            for iid in timers + later:
                state = wait_done(direct, iid, timeout=120)
                assert state.runtime_status.name == "COMPLETED", iid
            for iid in timers:
                timer_state = direct.get_orchestration_state(iid)
                assert timer_state is not None and timer_state.serialized_output == '"hello timer"'
            wait_until(
                "the second tap's lines",
                lambda: sum(f" {iid} chain COMPLETED " in second.output() for iid in later) == 3,
            )
            both = first.output() + second.output()
            for iid in timers:
                assert both.count(f" {iid} timer COMPLETED ") == 1, iid
        finally:
            direct.close()
            worker.stop()
            first.stop()
            if second is not None:
                second.stop()
